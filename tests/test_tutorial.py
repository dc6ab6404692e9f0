"""docs/tutorial.md, kept true: tests/tutorial/ holds baseline.pol and reform.pol as a reader has them at
the end of the tutorial (its `pol` blocks, appended in order), and the verdicts the tutorial shows hold."""
from pathlib import Path

from policylang.check import check_policy
from policylang.diff import Differ, direction
from policylang.pipeline import load_policy
from policylang.testing import run_examples

HERE = Path(__file__).resolve().parent / "tutorial"


def test_the_examples_pass_and_check_finds_nothing():
    reform = load_policy(HERE / "reform.pol")
    assert all(r.passed for r in run_examples(reform)) and len(reform.examples) == 5
    report = check_policy(reform)
    assert not report.findings, [(r.rule, r.name, r.status) for r in report.findings]


def test_nobody_is_worse_off_and_a_higher_baseline_makes_the_raise_a_cut():
    report = Differ(load_policy(HERE / "baseline.pol"), load_policy(HERE / "reform.pol")).run()
    assert report.worse_status == "proved" and report.exit_code == 0  # the tutorial shows exit 0: all decided
    assert [(c.output, c.increase.status, c.decrease.status) for c in report.changes] == [
        ("报销比例", "exact", "none"), ("统筹支付", "exact", "none")]
    assume = {"慢病基层比例": "68%"}
    report = Differ(load_policy(HERE / "baseline.pol", assume), load_policy(HERE / "reform.pol", assume)).run()
    shown = report.worse_off
    assert shown.claim["病种"] != "肺结核" and shown.claim["政策范围内费用"] == 100
    assert shown.old.outputs["报销比例"] * 100 == 68 and shown.new.outputs["报销比例"] * 100 == 65


def test_a_narrow_old_gap_breaks_jiceng_at_least_erji():
    report = check_policy(load_policy(HERE / "reform.pol", {"普通门诊二级比例": "58%"}))
    assert sorted((r.rule, r.status) for r in report.findings) == [("PL001", "violated"), ("PL401", "violated")]


def test_raising_the_erji_baseline_moves_every_claim_the_same_way():
    assert direction(load_policy(HERE / "reform.pol"), "普通门诊二级比例").status == "same-way"
