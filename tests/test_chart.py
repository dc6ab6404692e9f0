"""The payment chart (policylang/publish/chart.py): right numbers, right series, real CJK glyphs.

Every drawn point is checked against the reference interpreter (the chart uses the compiled
evaluator), the SVG must parse and hold one fund line and one patient line per level drawn, and
every Chinese character must be drawn with its own glyph outline, never the font's empty box
(tofu). The glyph check is shown to fail on an SVG drawn with a font that has no CJK glyphs.

Without the CJK font (Debian's fonts-wqy-microhei, `make system-deps`) these tests skip, unless
POLICYLANG_REQUIRE_SYSTEM_DEPS is set (CI sets it): then they fail.
"""
from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from policylang.backends.interpreter import Interpreter
from policylang.pipeline import load_policy, load_text, policy_files
from policylang.platform import OUTPUT_NAMES
from policylang.publish import chart
from policylang.runtime import NotApplicable

ROOT = Path(__file__).resolve().parent.parent
POLICIES = policy_files([ROOT / "policies"])
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def _font_or_skip():
    try:
        return chart.cjk_font_path()
    except chart.FontMissing as exc:
        if os.environ.get("POLICYLANG_REQUIRE_SYSTEM_DEPS"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def charts():
    _font_or_skip()
    cache = {}

    def get(path):
        if path not in cache:
            policy = load_policy(path)
            cache[path] = (policy, chart.payment_chart(policy))
        return cache[path]

    return get


# ---- the glyph check ---------------------------------------------------------------------------
def is_cjk(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" or "\u3000" <= c <= "\u303f"


def drawn_glyphs(svg: str) -> dict:
    """character -> the outline (path d) it was drawn with, from matplotlib's text-as-paths SVG.

    Each text line is a comment holding the text, then a group of <use> elements, one per
    character (a space too), pointing at a glyph <path> in <defs>.
    """
    root = ET.fromstring(svg.encode("utf-8"), parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    outlines = {p.get("id"): p.get("d") or "" for p in root.iter(f"{SVG}path") if p.get("id")}
    glyphs: dict = {}
    for parent in root.iter():
        children = list(parent)
        for comment, group in zip(children, children[1:]):
            if comment.tag is not ET.Comment or group.tag != f"{SVG}g":
                continue
            text = comment.text.strip()
            uses = [u.get(XLINK)[1:] for u in group.iter(f"{SVG}use")]
            assert len(uses) == len(text), f"{text!r}: {len(uses)} glyphs for {len(text)} characters"
            for c, ref in zip(text, uses):
                outline = outlines[ref]
                assert glyphs.setdefault(c, outline) == outline, f"{c!r} drawn with two outlines"
    return glyphs


def tofu(svg: str) -> list[str]:
    """The CJK characters drawn without a glyph of their own: empty, or the same outline as another."""
    glyphs = {c: d for c, d in drawn_glyphs(svg).items() if is_cjk(c)}
    assert glyphs, "no CJK text in the SVG"
    by_outline: dict = {}
    for c, d in glyphs.items():
        by_outline.setdefault(d, []).append(c)
    bad = [c for c, d in glyphs.items() if not d.strip() or len(by_outline[d]) > 1]
    return sorted(bad)


def test_glyph_check_finds_tofu_from_a_font_without_cjk():
    """The check can fail: Chinese drawn with DejaVu Sans (no CJK glyphs) is reported."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    with matplotlib.rc_context({"svg.fonttype": "path"}):
        fig = Figure()
        FigureCanvasSVG(fig)
        fig.text(0.1, 0.5, "统筹基金支付 abc", fontproperties=font_manager.FontProperties(fname=str(dejavu)))
        out = io.StringIO()
        with pytest.warns(UserWarning, match="missing from font"):
            fig.savefig(out, format="svg")
    assert tofu(out.getvalue()) == sorted("统筹基金支付")


# ---- every policy -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_chart_of_every_policy(path, charts):
    policy, result = charts(path)
    assert result is not None, f"{path.name}: no chart"
    root = ET.fromstring(result.svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    assert float(root.get("width").removesuffix("pt")) > 0 and float(root.get("height").removesuffix("pt")) > 0
    assert len(result.levels) >= 2

    # One fund line and one patient line per level drawn; levels with the same curve share a line.
    lines = {g.get("id"): g for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("pl-")}
    members = policy.enums[policy.inputs[result.level_input].type.enum].member_names()
    for kind in ("fund", "patient"):
        drawn = [m for gid in lines if gid.startswith(f"pl-{kind}-")
                 for m in (members[int(i)] for i in gid.split("-")[2:])]
        assert sorted(drawn) == sorted(result.levels), kind
    assert len(lines) == len(result.series)
    for s in result.series:
        gid = f"pl-{s.kind}-" + "-".join(str(members.index(m)) for m in s.levels)
        path_d = lines[gid].find(f"{SVG}path").get("d")
        vertices = re.findall(r"[ML] ", path_d)
        assert len(vertices) == len(s.points) >= 2
        xs = [x for x, _ in s.points]
        assert xs == sorted(xs) and xs[0] == 0 and xs[-1] == result.x_max

    # Every point is the interpreter's answer for that claim, exact to the fen.
    interpreter = Interpreter(policy)
    fund_outputs = [r.name for r in policy.outputs if r.platform and OUTPUT_NAMES[r.platform][1] == "fund"]
    fund_name = next(r.name for r in policy.outputs if r.platform == "hifp_pay")
    amount = next(i.name for i in policy.inputs.values() if i.field == "inscp_scp_amt")
    for s in result.series:
        for level in s.levels:
            for x, y in s.points:
                claim = {**result.claim, result.level_input: level, amount: x}
                outcome = interpreter.evaluate(claim, {})
                assert outcome.applicable, (level, x, outcome.reason)
                outputs = outcome.outputs
                if s.kind == "fund":
                    expected = outputs[fund_name]
                else:
                    expected = x - sum((outputs[n] for n in fund_outputs), Decimal(0))
                assert isinstance(y, Decimal) and y == expected, (s.kind, level, x, y, expected)

    # The levels left out are exactly those where the fund's output is not given for this claim.
    for level in members:
        claim = {**result.claim, result.level_input: level, amount: result.x_max}
        outcome = interpreter.evaluate(claim, {})
        paid = outcome.applicable and not isinstance(outcome.outputs[fund_name], NotApplicable)
        assert paid == (level in result.levels), level
        assert paid != (level in result.omitted), level


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_chinese_is_drawn_with_real_glyphs(path, charts):
    _, result = charts(path)
    glyphs = drawn_glyphs(result.svg)
    for text in (result.title, "统筹基金支付", "个人负担", "政策范围内费用（元）", *result.levels):
        for c in text:
            assert c in glyphs, f"{c!r} of {text!r} not drawn as a glyph"
    assert tofu(result.svg) == []


def test_same_svg_every_time_and_no_date(charts):
    policy, result = charts(POLICIES[0])
    again = chart.payment_chart_svg(load_policy(POLICIES[0]))
    assert again == result.svg
    assert "<dc:date>" not in result.svg and "Matplotlib v" not in result.svg


def test_shaoxing_shows_the_annual_limit(charts):
    """绍兴: 1200 元 a year at most; the range reaches the cap at 15% (8000 元) and goes past it."""
    path = ROOT / "policies" / "shaoxing-2024.pol"
    if not path.exists():
        pytest.skip("shaoxing-2024.pol is not in policies/")
    _, result = charts(path)
    assert result.x_max > Decimal(8000)
    for s in result.series:
        if s.kind == "fund":
            assert s.points[-1][1] == Decimal("1200.00")


# ---- policies without the structure, and a missing font -----------------------------------------
HEADER = 'policy "测试" { in force from 2024-01-01 }\nuse prelude\n'
TABLE = 'table 级别比例 (机构级别) -> rate first {\n  基层 -> 60%\n  二级 -> 55%\n  _ -> 50%\n}\n'


def test_a_small_policy_has_a_chart(charts):
    policy = load_text(HEADER + TABLE + "output 统筹支付: money as hifp_pay = 政策范围内费用 × 级别比例\n")
    result = chart.payment_chart(policy)
    assert result is not None
    fund = {s.levels: s.points[-1] for s in result.series if s.kind == "fund"}
    assert fund[("基层",)] == (Decimal(10000), Decimal("6000.00"))
    assert fund[("二级",)] == (Decimal(10000), Decimal("5500.00"))
    assert fund[("一级", "三级", "未定级", "定点零售药店")] == (Decimal(10000), Decimal("5000.00"))


@pytest.mark.parametrize("body", [
    TABLE + "output 统筹支付: money = 政策范围内费用 × 级别比例\n",  # no output `as hifp_pay`
    "output 统筹支付: money as hifp_pay = 政策范围内费用 × 50%\n",  # no facility level
    TABLE + "input 金额: money \"金额\"\noutput 统筹支付: money as hifp_pay = 金额 × 级别比例\n",  # no inscp_scp_amt
], ids=["no-hifp_pay", "no-level", "no-inscp_scp_amt"])
def test_no_chart_without_the_structure(body):
    assert chart.payment_chart_svg(load_text(HEADER + body)) is None


def test_missing_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(chart.FONT_ENV, str(tmp_path / "nowhere.ttc"))
    policy = load_text(HEADER + TABLE + "output 统筹支付: money as hifp_pay = 政策范围内费用 × 级别比例\n")
    with pytest.raises(chart.FontMissing, match="nowhere.ttc"):
        chart.payment_chart_svg(policy)


def test_a_font_without_chinese_is_refused(monkeypatch):
    import matplotlib

    monkeypatch.setenv(chart.FONT_ENV, str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"))
    policy = load_text(HEADER + TABLE + "output 统筹支付: money as hifp_pay = 政策范围内费用 × 级别比例\n")
    with pytest.raises(chart.FontMissing, match="no glyph"):
        chart.payment_chart_svg(policy)


def test_default_font_search_fails_clearly_when_nothing_is_installed(monkeypatch):
    monkeypatch.delenv(chart.FONT_ENV, raising=False)
    monkeypatch.setattr(chart, "FONT_CANDIDATES", ("/nonexistent/a.ttc",))
    with pytest.raises(chart.FontMissing, match="fonts-wqy-microhei"):
        chart.cjk_font_path()


def test_hostile_title_stays_text(charts):
    """The policy's title reaches the SVG's <title>, aria-label and a comment: escaped everywhere."""
    policy = load_text('policy "x --><script>alert(1)</script>\\" <b>" { in force from 2024-01-01 }\nuse prelude\n'
                       + TABLE + "output 统筹支付: money as hifp_pay = 政策范围内费用 × 级别比例\n")
    svg = chart.payment_chart_svg(policy)
    assert "<script" not in svg and "<b>" not in svg
    assert ET.fromstring(svg.encode("utf-8")).find(f"{SVG}title").text.startswith("x --><script>")
