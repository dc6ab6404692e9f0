"""`vary` over the year's state: one claim from two states that differ in one accumulator.

The policy (tests/vary/admissions-year.pol) reads three accumulators; its own properties are true and
proved. The false ones are added here, one per test, and must be refuted by a counterexample that starts
the two sides from two different states, replayed through both evaluators and shown in every format.
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from policylang import report
from policylang.backends.interpreter import Interpreter
from policylang.backends.python import compile_policy
from policylang.check import check_policy
from policylang.pipeline import load_policy
from policylang.publish.status import check_status

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "tests" / "vary" / "admissions-year.pol"
SOURCE = POLICY.read_text(encoding="utf-8")


def checked(tmp_path, extra: str = "", source: str = SOURCE):
    path = tmp_path / "policy.pol"
    path.write_text(source + "\n" + extra, encoding="utf-8")
    policy = load_policy(path)
    return policy, check_policy(policy, 10.0)


def result(rep, name: str):
    return next(r for r in rep.results if r.name == name)


def test_the_policys_properties_over_the_year_are_proved():
    policy = load_policy(POLICY)
    varied = {p.name: p.vary for p in policy.properties if p.vary is not None}
    assert {v.input for v in varied.values()} == {"住院次数", "年度个人负担", "年度统筹支付"}
    assert all(v.accumulator for v in varied.values())
    rep = check_policy(policy, 10.0)
    assert not rep.findings, report.text([rep])
    for name in varied:
        assert result(rep, name).status == "proved"


def test_a_false_property_over_the_year_is_refuted_from_two_states(tmp_path):
    policy, rep = checked(tmp_path, """
property "再次住院起付线更高（错）" {
  vary 住院次数: 0 vs 1..
  holds right.起付线 >= left.起付线
}
""")
    r = result(rep, "再次住院起付线更高（错）")
    assert r.status == "violated", r.message
    ce = r.counterexample
    left, right = ce.states
    assert left["住院次数"] == 0 and right["住院次数"] >= 1
    assert right["住院次数"] == right["住院次数"].to_integral_value()  # a whole count on each side
    assert {k: v for k, v in left.items() if k != "住院次数"} == {k: v for k, v in right.items() if k != "住院次数"}
    assert ce.claims[0] == ce.claims[1]  # one claim: every input shared
    assert ce.state == left
    # replayed: each side from its own state, the compiled evaluator and the interpreter agree
    compiled, interpreter = compile_policy(policy), Interpreter(policy)
    for claim, state, shown in zip(ce.claims, ce.states, ce.outcomes):
        assert compiled(claim, state) == interpreter.evaluate(claim, state) == shown
    assert ce.outcomes[1].outputs["起付线"] < ce.outcomes[0].outputs["起付线"]
    assert "住院次数 = 0 vs 1" in ce.detail


def test_the_two_states_are_shown_in_text_json_and_sarif(tmp_path):
    _, rep = checked(tmp_path, """
property "个人负担越多，比例越低（错）" {
  vary 年度个人负担 when left.年度个人负担 < right.年度个人负担
  holds left.报销比例 >= right.报销比例
}
""")
    r = result(rep, "个人负担越多，比例越低（错）")
    assert r.status == "violated"
    left, right = r.counterexample.states
    assert left["年度个人负担"] < Decimal(10000) <= right["年度个人负担"]
    text = report.text([rep])
    assert "one claim from two states" in text
    state_lines = [line for line in text.splitlines() if line.strip().startswith("state {")]
    assert len(state_lines) == 2 and state_lines[0].endswith("# left") and state_lines[1].endswith("# right")
    as_json = [line for line in text.splitlines() if '"state": {' in line and "年度个人负担" in line]
    assert len(as_json) == 2 and as_json[0] != as_json[1]

    data = json.loads(report.as_json([rep]))
    item = next(i for i in data[0]["results"] if i["name"] == "个人负担越多，比例越低（错）")
    ce = item["counterexample"]
    assert [c["state"]["年度个人负担"] for c in ce["claims"]] == [s["年度个人负担"] for s in ce["states"]]
    assert ce["states"][0] != ce["states"][1] and ce["state"] == ce["states"][0]

    sarif = json.loads(report.sarif([rep]))
    message = next(x["message"]["text"] for x in sarif["runs"][0]["results"] if "比例越低" in x["message"]["text"])
    assert "left: state {" in message and "right: state {" in message


def test_the_docs_page_shows_each_sides_own_state(tmp_path):
    policy, rep = checked(tmp_path, """
property "统筹已付越多，本次多付（错）" {
  vary 年度统筹支付 when left.年度统筹支付 < right.年度统筹支付
  holds left.统筹支付 < right.统筹支付
}
""")
    row = next(r for r in check_status(policy, rep).properties if r.name == "统筹已付越多，本次多付（错）")
    assert row.status == "violated" and "同一笔就诊在只有就诊前年度统筹支付不同" in row.words
    (_, left, _), (_, right, _) = row.counterexample.claims
    assert left[0][0] == right[0][0] == "就诊前年度统筹支付" and left[0][1] != right[0][1]
    assert "年度统筹支付" not in dict(row.counterexample.state)  # not shown as if both shared it


def test_each_state_is_reachable(tmp_path):
    """What the checker assumes of one state (proved invariants, accumulators ≥ 0, whole counts) it assumes of
    each side: the right state is not free to be one the year never reaches."""
    bounded = """
property "剩余限额不为负（两种状态）" {
  vary 年度统筹支付: 0元 vs _
  holds right.剩余限额 >= 0元
}
property "个人负担不为负（两种状态）" {
  vary 年度个人负担: 0元 vs _
  holds right.年度个人负担 >= 0元
}
"""
    _, rep = checked(tmp_path, bounded)
    assert result(rep, "剩余限额不为负（两种状态）").status == "proved"
    assert result(rep, "个人负担不为负（两种状态）").status == "proved"
    # without the invariant, the right state may exceed the annual limit, and the proof fails there
    unbounded = SOURCE.replace('property "年度统筹支付不超过 10 万元" {\n  holds 年度统筹支付 <= 100000元\n}\n', "")
    assert unbounded != SOURCE
    _, rep = checked(tmp_path, bounded, unbounded)
    r = result(rep, "剩余限额不为负（两种状态）")
    assert r.status == "violated" and r.counterexample.states[1]["年度统筹支付"] > 100000
    # a count is whole on each side: no state has half an admission, so this premise admits nothing
    _, rep = checked(tmp_path, """
property "半次住院（空）" {
  vary 住院次数: 0 vs > 0
  when right.住院次数 < 1
  holds right.起付线 <= left.起付线
}
""")
    assert result(rep, "半次住院（空）").rule == "PL403"
    assert result(rep, "半次住院（空）").status == "vacuous"


def test_branches_the_compared_states_never_reach_are_noted(tmp_path):
    _, rep = checked(tmp_path, """
property "负担较少时比例不降" {
  vary 年度个人负担 when left.年度个人负担 < right.年度个人负担 and right.年度个人负担 < 5000元
  holds left.报销比例 <= right.报销比例
}
""")
    r = result(rep, "负担较少时比例不降")
    assert r.status == "proved"
    assert any("`报销比例`" in n and "then branch" in n for n in r.notes), r.notes
    assert not result(rep, "个人负担越多，比例不降").notes  # the unrestricted one compares both branches


@pytest.mark.parametrize("vary", ["vary 政策范围内费用 when left.政策范围内费用 <= right.政策范围内费用",
                                  "vary 政策范围内费用: _ vs _ when left.政策范围内费用 <= right.政策范围内费用"])
def test_an_input_can_be_varied_without_cells_too(tmp_path, vary):
    policy, rep = checked(tmp_path, f"""
property "多花不会少报" {{
  {vary}
  holds left.统筹支付 <= right.统筹支付
}}
""")
    prop = next(p for p in policy.properties if p.name == "多花不会少报")
    assert not prop.vary.accumulator and prop.vary.left.kind == prop.vary.right.kind == "any"
    assert result(rep, "多花不会少报").status == "proved"


def test_a_when_that_relates_the_two_sides_does_not_break_the_branch_notes(tmp_path):
    """`when left.X … right.X` says nothing of one claim: the branch notes' single claim used to evaluate it
    with no sides and crashed the check (KeyError 'left', exit 70)."""
    shaoxing = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    shaoxing = shaoxing.replace('conforms to "../guidelines/national-2023.pol"', "")
    _, rep = checked(tmp_path, """
property "基层不低于二级（在 when 中比较两边）" {
  vary 机构级别: _ vs _
  when left.机构级别 == 基层 and right.机构级别 == 二级 and 就诊类型 == 门诊慢特病
  holds left.报销比例 >= right.报销比例
}
""", shaoxing)
    assert result(rep, "基层不低于二级（在 when 中比较两边）").status == "proved"
