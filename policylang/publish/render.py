"""The Jinja environments and the escaping of everything a policy wrote.

Templates are files in `templates/` (package data); a directory given with `--templates` is searched
first, so a file there replaces the package template of the same name. HTML templates autoescape;
Markdown templates escape through `finalize`, so every `{{ value }}` is escaped in both unless it is
`Markup` (only the chart's SVG is). Braces are escaped too, so a page served by a static-site
generator that reads `{{ … }}` (Jekyll's Liquid) cannot be made to run a policy's text.
"""
from __future__ import annotations

import re
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).with_name("templates")
_MD_INLINE = {c: "\\" + c for c in "\\`*_[]|~"}
_MD_INLINE.update({"<": "&lt;", ">": "&gt;", "&": "&amp;", "{": "&#123;", "}": "&#125;", "\r": " ", "\n": " "})
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=]+|\d{1,9}[.)])(?=\s|$)")


def md_escape(text: str) -> str:
    """Text that Markdown (and the HTML inside it) shows as written: no emphasis, code, links, table
    cells, tags, or a heading or list item at the start; newlines become spaces."""
    out = "".join(_MD_INLINE.get(c, c) for c in text)
    return _MD_LINE_START.sub(_escape_marker, out)


def _escape_marker(m: re.Match) -> str:
    marker = m.group(2)
    if marker[0].isdigit():
        return f"{m.group(1)}{marker[:-1]}\\{marker[-1]}"  # 1\. is not a list item
    return f"{m.group(1)}\\{marker}"


def html_escape(text: str) -> Markup:
    return Markup(escape_braces(str(escape(text))))


def escape_braces(text: str) -> str:
    """`{` and `}` as character references: what html_escape adds to HTML escaping, alone for text that is
    already markup (the comments of the chart's SVG)."""
    return text.replace("{", "&#123;").replace("}", "&#125;")


def _html_finalize(value):
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return html_escape(str(value))


def _md_finalize(value):
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    return md_escape(str(value))


def environment(kind: str, templates: Path | None = None) -> Environment:
    """The environment for `html` or `md` templates; `templates` overrides package templates by name."""
    loaders = [FileSystemLoader(str(templates))] if templates is not None else []
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=kind == "html", undefined=StrictUndefined,
                      finalize=_html_finalize if kind == "html" else _md_finalize, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = _md_cell if kind == "md" else _html_finalize
    return env


def _md_cell(value) -> Markup:
    """A Markdown table cell: escaped, never empty (an empty cell can shift a row in some renderers)."""
    text = md_escape(str(value)) if value not in (None, "") else " "
    return Markup(text)
