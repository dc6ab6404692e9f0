"""One fuzz input through every command: load → compile → eval → test → check → docs.

An input passes when each step either works or stops at a diagnostic (DiagnosticError, a ClaimError
for the claim built from the policy, a SiteError): those reach the user as exit 2. Anything else is an
internal error (exit 70) and is returned as a `Failure` with a signature (exception type and the
innermost policylang frame), which the minimiser keeps while it shrinks the input.
"""
from __future__ import annotations

import dataclasses
import datetime
import re
import shutil
import tempfile
import traceback
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from policylang import ir
from policylang.claims import ClaimReader
from policylang.diagnostics import DiagnosticError, SourceCache, render_all
from policylang.pipeline import load_policy

CHECK_TIMEOUT, CHECK_BUDGET = 0.1, 0.5  # seconds of the calibrated resource count: a small budget


@dataclasses.dataclass(frozen=True)
class Input:
    """A policy file: its name (hostile names included) and its bytes."""

    name: str
    data: bytes


@dataclasses.dataclass(frozen=True)
class Failure:
    step: str
    signature: str  # exception type and the innermost policylang frame: kept while minimising
    message: str
    trace: str


def run(case: Input, charts: bool = False) -> Failure | None:
    """None if every step worked or stopped at a diagnostic; else the first internal error."""
    return outcome(case, charts)[1]


def outcome(case: Input, charts: bool = False) -> tuple:
    """(how far the input got: "diagnostic" or "docs", or the step that failed; the Failure or None)."""
    work = Path(tempfile.mkdtemp(prefix="policylang-fuzz-"))
    try:
        (work / ".git").mkdir()  # the work directory is the root `extends` / `conforms to` may reach
        path = work / case.name
        try:
            path.write_bytes(case.data)
        except OSError:  # a name the file system refuses is no input to the tools
            return "unwritable name", None
        return _steps(path, work, charts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _steps(path: Path, work: Path, charts: bool) -> tuple:
    step = "load"
    try:
        try:
            policy = load_policy(path)
        except DiagnosticError as exc:
            step = "render"
            render_all(exc.diagnostics, SourceCache())
            return "diagnostic", None
        for step, action in (("compile", _compile), ("eval", _eval), ("test", _test), ("check", _check)):
            action(policy)
        step = "docs"
        _docs(policy, work, charts)
    except Exception as exc:  # noqa: BLE001 - the point: anything but a diagnostic is a finding
        return step, _failure(step, exc)
    return "docs", None


def _failure(step: str, exc: BaseException) -> Failure:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/policylang/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"
    return Failure(step, f"{step} {type(exc).__name__} at {where}", f"{type(exc).__name__}: {exc}"[:500],
                   "".join(traceback.format_exception(exc))[-6000:])


def _compile(policy) -> None:
    from policylang.backends.python import compile_policy, generate_source

    compile(generate_source(policy), "<fuzz>", "exec")
    compile_policy(policy)


def _eval(policy) -> None:
    """A claim that gives every input a plain value, through both back ends: they must agree."""
    from policylang.evaluators import run_claims

    claim, errors = ClaimReader(policy).read(_record(policy), "fuzz")
    if errors or claim is None:
        return
    results = [run_claims(policy, [claim], backend)[0].outcome for backend in ("interpreter", "compiled")]
    if repr(results[0]) != repr(results[1]):
        raise AssertionError(f"the back ends disagree: {results[0]!r} != {results[1]!r}")


def _record(policy) -> dict:
    record = {}
    for name, spec in policy.inputs.items():
        value = _value(policy, spec)
        if value is not None:
            record[name] = value
    return record


def _value(policy, spec: ir.Input):
    kind = spec.type.name
    if kind == "enum":
        members = policy.enums[spec.type.enum].members
        return members[0].name if members else None
    if kind == "money":  # the bill's parts must add up (医疗费总额 = 政策范围内费用 + …): the rest are 0
        return "1000.00" if spec.name in ("政策范围内费用", "医疗费总额") else "0.00"
    low = spec.domain[0] if spec.domain else None
    plain = {"money": "1000.00", "rate": "50%", "points": "5pp", "number": "1", "bool": True,
             "date": datetime.date(2024, 6, 1).isoformat(), "text": "x"}.get(kind)
    if low is not None and kind in ("money", "number") and isinstance(low, Decimal) and low > 1:
        return str(low)
    return plain


def _test(policy) -> None:
    from policylang.testing import coverage, run_examples

    run_examples(policy)
    coverage(policy)


def _check(policy) -> None:
    from policylang import report as render
    from policylang.check import check_policy

    report = check_policy(policy, CHECK_TIMEOUT, CHECK_BUDGET)
    for form in (render.text, render.as_json, render.sarif):
        form([report])


def _docs(policy, work: Path, charts: bool) -> None:
    from policylang.pipeline import load_policy as load
    from policylang.publish.site import SiteError, build_pages, write_site

    try:
        site = build_pages([policy], check=True, timeout=CHECK_TIMEOUT, charts=charts, load=load,
                           budget=CHECK_BUDGET)
        written = write_site(site, work / "site")
    except SiteError:
        return
    for page in written:
        _safe_page(page)


_HREF = re.compile(r'(?:href|src)="([^"]*)"')


def _safe_page(page: Path) -> None:
    """No link with a scheme (javascript:), and no template braces a static-site generator would run."""
    text = page.read_text(encoding="utf-8")
    for href in _HREF.findall(text):
        if urlsplit(href).scheme:
            raise AssertionError(f"{page.name}: a link with a scheme: {href[:80]}")
    if page.suffix in (".html", ".md", ".svg"):
        outside_style = re.sub(r"<style[^>]*>.*?</style>", "", text, flags=re.S)
        for braces in ("{{", "{%", "}}", "%}"):
            if braces in outside_style:
                raise AssertionError(f"{page.name}: unescaped {braces}")
