"""The simulation report page, HTML and Markdown, through the publish/ templates and escaping.

`write_report(doc, out)` writes simulate.json, report.html (the charts inline), report.md and the two
charts as SVG files the Markdown links to. Every file is written under a temporary name and renamed, so a
failed run leaves no page that looks complete.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from markupsafe import Markup

from policylang.publish.render import environment
from policylang.simulate.charts import change_chart, stages_chart
from policylang.simulate.text import SIDE

CHARTS = {"stages": "report-stages.svg", "change": "report-change.svg"}


def context(doc: dict) -> dict:
    wl = doc["winners_losers"]
    return {"doc": doc, "side": SIDE, "wl": wl, "charts": CHARTS,
            "stages_svg": Markup(stages_chart(doc["spend"])), "change_svg": Markup(change_chart(doc["histogram"]))}


def render(doc: dict, kind: str, templates: Path | None = None) -> str:
    return environment(kind, templates).get_template(f"simulate.{kind}").render(**context(doc))


def _write(path: Path, text: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def write_report(doc: dict, out: Path, templates: Path | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"simulate.json": json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
             CHARTS["stages"]: stages_chart(doc["spend"]), CHARTS["change"]: change_chart(doc["histogram"]),
             "report.md": render(doc, "md", templates), "report.html": render(doc, "html", templates)}
    for name, text in files.items():
        _write(out / name, text)
    return [out / name for name in files]
