"""Row amendments: `amend T(key) OP v`, `amend T add cells -> v`, `amend T remove (key)`.

Composition happens before the IR, so every back end sees the amended table: the examples run under the
interpreter and the compiled evaluator, `check` proves or refutes over the amended rows, `diff` finds
exactly the claims of the amended row changed, and the 变化对照表 shows rows, not whole tables.
"""
from datetime import date
from decimal import Decimal
from itertools import product
from pathlib import Path

import pytest

from policylang.check import check_policy
from policylang.diagnostics import DiagnosticError
from policylang.diff import Differ
from policylang.evaluators import evaluator
from policylang.pipeline import load_policy, load_text
from policylang.publish.changes import changes, load_base
from policylang.testing import run_examples

HERE = Path(__file__).parent / "composition"
LEVELS = ("基层", "一级", "二级", "三级", "未定级", "定点零售药店")
PLACES = ("辖区内", "省内", "跨省")


def _rows(policy, name="住院比例", version=0):
    v = policy.tables[name].versions[version]
    return [(tuple(c.values for c in r.cells), r.output.value if hasattr(r.output, "value") else None)
            for r in v.rows]


def test_a_one_row_reform_changes_that_row_only():
    policy = load_policy(HERE / "rows-reform.pol")
    rows = _rows(policy)
    assert rows[2] == ((("二级",), ("辖区内",)), Decimal("0.77"))
    assert [r for i, r in enumerate(rows) if i != 2] == [r for i, r in enumerate(_rows(load_policy(HERE / "rows-base.pol"))) if i != 2]
    (a,) = policy.amendments
    assert (a.target, a.op, [c.action for c in a.rows]) == ("住院比例", "+", ["change"])
    results = run_examples(policy)  # the interpreter answers; the compiled evaluator must agree
    assert len(results) == 3 and all(r.passed for r in results)


def test_both_back_ends_change_exactly_the_claims_of_the_row():
    base, reform = load_policy(HERE / "rows-base.pol"), load_policy(HERE / "rows-reform.pol")
    state = {}
    for backend in ("interpreter", "compiled"):
        old, new = evaluator(base, backend), evaluator(reform, backend)
        changed = set()
        for level, place in product(LEVELS, PLACES):
            claim = {"就诊日期": date(2024, 3, 1), "机构级别": level, "就医地": place,
                     "政策范围内费用": Decimal("1000")}
            before, after = old(claim, state), new(claim, state)
            if before.outputs != after.outputs:
                changed.add((level, place))
                assert after.outputs["统筹支付"] - before.outputs["统筹支付"] == Decimal("20")
        assert changed == {("二级", "辖区内")}, backend


def test_diff_finds_the_one_row_raised_and_nobody_worse_off():
    report = Differ(load_policy(HERE / "rows-base.pol"), load_policy(HERE / "rows-reform.pol")).run()
    assert report.worse_status == "proved" and report.worse_off is None
    change = next(c for c in report.changes if c.output == "统筹支付")
    assert change.decrease.status == "none"
    shown = change.increase.shown
    assert (shown.claim["机构级别"], shown.claim["就医地"]) == ("二级", "辖区内")
    assert shown.new.outputs["统筹支付"] - shown.old.outputs["统筹支付"] == change.increase.amount > 0


def test_check_sees_the_amended_row():
    assert not check_policy(load_policy(HERE / "rows-reform.pol")).findings
    report = check_policy(load_policy(HERE / "rows-break-property.pol"))
    finding = next(r for r in report.findings if r.name == "辖区内不低于跨省")
    assert finding.status == "violated"
    assert {c["机构级别"] for c in finding.counterexample.claims} == {"二级"}


def test_add_replace_and_remove_rows():
    policy = load_policy(HERE / "rows-reshape.pol")
    assert _rows(policy) == [
        ((("基层",), ()), Decimal("0.90")),
        ((("二级",), ("辖区内",)), Decimal("0.75")),
        ((("二级",), ("省内",)), Decimal("0.65")),
        ((("二级",), ("跨省",)), Decimal("0.52")),
        ((("三级",), ("辖区内",)), Decimal("0.60")),
        ((("三级",), ("省内",)), Decimal("0.55")),  # before `三级, _`, the first row that contains it
        ((("三级",), ()), Decimal("0.50")),
        ((("一级",), ()), Decimal("0.70")),  # nothing contains it: last, before the default
    ]
    assert all(r.passed for r in run_examples(policy))


def test_the_changes_table_shows_rows_not_tables():
    policy = load_policy(HERE / "rows-reform.pol")
    (change,) = changes(policy, load_base(policy, load_policy))
    assert (change.item, change.kind, change.before, change.after) == ("住院比例：二级 · 辖区内", "调整", "75%", "77%")
    assert change.clause == "（二）" and change.who == "机构级别为二级且就医地为辖区内"
    reshaped = load_policy(HERE / "rows-reshape.pol")
    shown = [(c.item, c.kind, c.before, c.after) for c in changes(reshaped, load_base(reshaped, load_policy))]
    assert shown == [
        ("住院比例：三级 · 省内", "新增", "—", "55%"),
        ("住院比例：二级 · 跨省", "调整", "50%", "52%"),
        ("住院比例：一级 · 任意", "删除", "85%", "—"),
        ("住院比例：一级 · 任意", "新增", "—", "70%"),
    ]


VERSIONED = """policy "分期" { in force from 2024-01-01 }
use prelude
table 比例 (机构级别) -> rate first until 2024-06-30 {
  二级 -> 70%
  _ -> 60%
}
table 比例 (机构级别) -> rate first from 2024-07-01 {
  二级 -> 72%
  三级 -> 65%
  _ -> 60%
}
output 支付: money = 政策范围内费用 × 比例
"""


def test_a_row_amendment_changes_every_version_whose_rows_lie_within_the_key():
    policy = load_text(VERSIONED + "amend 比例(二级) += 2pp\namend 比例(三级) *= 50%\n", "versioned.pol")
    assert [r[1] for r in _rows(policy, "比例", 0)] == [Decimal("0.72"), Decimal("0.60")]
    assert [r[1] for r in _rows(policy, "比例", 1)] == [Decimal("0.74"), Decimal("0.325"), Decimal("0.60")]
    # 三级 has a row in the second version only: the first version keeps its rows. A key with a row in no
    # version is refused, naming the row its claims reach
    with pytest.raises(DiagnosticError) as info:
        load_text(VERSIONED + "amend 比例(一级) += 2pp\n", "versioned.pol")
    assert [d.code for d in info.value.diagnostics] == ["E0434"]


def test_a_key_of_sets_names_several_rows():
    policy = load_policy(HERE / "rows-base.pol")  # sanity: the base itself loads
    assert policy.amendments == ()
    text = (HERE / "rows-base.pol").read_text(encoding="utf-8").split("property")[0]
    amended = load_text(text + "amend 住院比例({二级, 三级}, 辖区内) += 2pp\n", str(HERE / "sets.pol"))
    assert [r[1] for r in _rows(amended)][2] == Decimal("0.77")
    assert [r[1] for r in _rows(amended)][5] == Decimal("0.62")
    assert [r[1] for r in _rows(amended)][3] == Decimal("0.65")


@pytest.mark.parametrize("line, code", [
    ("amend 住院比例(二级) += 2pp", "E0431"),
    ("amend 住院比例(一级, 辖区内) += 2pp", "E0434"),  # `一级, _` also serves 省内 and 跨省
    ("amend 住院比例(三级, 跨省) += 2pp", "E0434"),  # `三级, _` also serves 省内
    ("amend 住院比例(未定级, _) += 2pp", "E0430"),  # only the default (not applicable) serves them
    ("amend 统筹支付(二级, _) += 2pp", "E0432"),
    ("amend 住院比例 add 二级, 辖区内 -> 80%", "E0435"),
    ("amend 住院比例 add _, 省内 -> 80%", "E0437"),
    ("amend 住院比例 remove (未定级, _)", "E0430"),
])
def test_row_amendment_errors(line, code):
    text = (HERE / "rows-base.pol").read_text(encoding="utf-8").split("property")[0]
    with pytest.raises(DiagnosticError) as info:
        load_text(text + line + "\n", str(HERE / "errors.pol"))
    assert [d.code for d in info.value.diagnostics] == [code]


def test_the_whole_table_amendment_still_changes_every_row():
    policy = load_policy(HERE / "reform.pol")
    (a, _) = policy.amendments
    assert a.rows == () and a.key is None


def test_the_page_shows_the_row_change():
    from policylang.publish.site import build_pages, render_page

    reform = load_policy(HERE / "rows-reform.pol")
    (page,) = build_pages([reform], check=False, charts=False, load=load_policy).pages
    markdown = render_page(page, "md")
    assert ("| 住院比例：二级 · 辖区内<br>二级医疗机构辖区内住院报销比例提高 2 个百分点 | 调整 | 75% | 77% | "
            "机构级别为二级且就医地为辖区内 | （二） |") in markdown
    assert "html" in render_page(page, "html")


def test_a_parenthesised_cell_in_add_is_not_mistaken_for_a_key():
    """`add (…)` gets E0122 only where the parentheses hold several cells, not for another mistake later."""
    from policylang.syntax.parser import parse_text

    with pytest.raises(DiagnosticError) as info:
        parse_text('amend 比例 add (1000元), 二级 -> 50% clase "x"\n', "x.pol")
    assert [d.code for d in info.value.diagnostics] == ["E0102"]
    with pytest.raises(DiagnosticError) as info:
        parse_text("amend 比例 add (二级, 省内) -> 50%\n", "x.pol")
    assert [d.code for d in info.value.diagnostics] == ["E0122"]
