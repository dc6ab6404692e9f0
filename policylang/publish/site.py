"""`policylang docs`: a static site of policies, one HTML and one Markdown page each, an index and a
comparison page. Pages are self-contained (CSS inline, no script, no fetch), so the directory can be
opened from disk, served anywhere, or printed.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from jinja2 import TemplateError

from policylang import ir
from policylang.publish.compare import comparison
from policylang.publish.model import PolicyPage, file_key, policy_page
from policylang.publish.render import environment

PAGES = ("index", "compare")
_UNSAFE = re.compile(r"[^\w.-]")


class SiteError(Exception):
    """A problem the user can fix (a template that does not render, an unwritable directory)."""


@dataclass
class Site:
    pages: list  # PolicyPage
    written: list = field(default_factory=list)  # paths
    warnings: list = field(default_factory=list)


def slugs_for(policies: list) -> dict:
    """policy file → a unique page name from its file name (shaoxing-2024), safe as a link.

    A file may be named anything (`javascript:alert(1).pol`): characters other than letters, digits,
    `-`, `_` and `.` become `-`, and what is left is percent-encoded, so a slug is ASCII, has no
    scheme and no path, and is the same text in an href and in Markdown. Files are written under
    `file_name(slug)`, which the browser's decoding of the link arrives at."""
    slugs, taken = {}, set()
    for p in policies:
        base = quote(_UNSAFE.sub("-", Path(p.file).stem).lstrip(".-") or "policy", safe="-_.")
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs[file_key(p.file)] = slug
    return slugs


def file_name(slug: str) -> str:
    """The file a slug links to (绍兴 for %E7%BB%8D%E5%85%B4)."""
    return unquote(slug)


def build_pages(policies: list, check: bool = True, timeout: float = 10.0, charts: bool = True,
                load=None, budget: float | None = None) -> Site:
    """Every policy's page data: checker run (unless `check` is false), chart drawn (if available).

    The policies are checked side by side as `check` does (workers.check_all): the same verdicts, since a
    policy's verdicts depend only on its file and the budgets."""
    from policylang.check import DEFAULT_BUDGET
    from policylang.workers import check_all

    slugs = slugs_for(policies)
    site = Site([])
    reports = check_all(policies, timeout, budget or DEFAULT_BUDGET) if check else [None] * len(policies)
    for policy, report in zip(policies, reports):
        svg = None
        if charts:
            svg, warning = chart_svg(policy)
            if warning:
                site.warnings.append(warning)
        site.pages.append(policy_page(policy, slugs[file_key(policy.file)], report, load, svg, slugs,
                                      timeout, budget or DEFAULT_BUDGET))
    return site


def chart_svg(policy: ir.Policy) -> tuple:
    """(SVG or None, warning or None). The chart module is optional: without it there is no chart."""
    try:
        chart = importlib.import_module("policylang.publish.chart")
    except ModuleNotFoundError as exc:
        if exc.name == "policylang.publish.chart":
            return None, None
        return None, f"{policy.file}: 支付图未生成：{exc}"
    try:
        svg = chart.payment_chart_svg(policy)
    except Exception as exc:  # noqa: BLE001 - a missing font or library must not stop the pages
        return None, f"{policy.file}: 支付图未生成：{exc}"
    return (inline_svg(svg) if svg else None), None


def inline_svg(svg: str) -> str:
    """An SVG document as an element inside HTML: without the XML declaration, DOCTYPE or comments
    before the <svg> tag (HTML has no processing instructions)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def render_page(page: PolicyPage, kind: str, templates: Path | None = None) -> str:
    return _render(environment(kind, templates), f"policy.{kind}", page=page, chart_file=_chart_file(page))


def render_index(pages: list, kind: str, templates: Path | None = None) -> str:
    return _render(environment(kind, templates), f"index.{kind}", pages=pages, comparison=comparison(pages))


def render_compare(pages: list, kind: str, templates: Path | None = None) -> str:
    return _render(environment(kind, templates), f"compare.{kind}", pages=pages, comparison=comparison(pages))


def _render(env, name: str, **context) -> str:
    try:
        return env.get_template(name).render(**context)
    except TemplateError as exc:
        where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise SiteError(f"template {getattr(exc, 'name', None) or name}{where}: {exc.message or exc}") from None


def _chart_file(page: PolicyPage) -> str | None:
    return f"{page.slug}-chart.svg" if page.chart_svg else None


def write_site(site: Site, out: Path, templates: Path | None = None) -> list:
    """Write every page (HTML and Markdown), the charts, the index and the comparison; return the paths."""
    files: dict = {}
    for page in site.pages:
        for kind in ("html", "md"):
            files[f"{file_name(page.slug)}.{kind}"] = render_page(page, kind, templates)
        if page.chart_svg:
            files[file_name(_chart_file(page))] = page.chart_svg
    for kind in ("html", "md"):
        files[f"index.{kind}"] = render_index(site.pages, kind, templates)
        files[f"compare.{kind}"] = render_compare(site.pages, kind, templates)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SiteError(f"cannot write {out}: {exc.strerror or exc}") from None
    site.written = [out / name for name in files]
    return site.written
