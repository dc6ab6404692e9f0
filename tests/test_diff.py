"""policylang diff: nobody worse off proved, or a claim that is; the largest change per output."""
import datetime
from decimal import Decimal
from pathlib import Path

from policylang.diff import Differ
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "tests" / "composition"


def test_a_reform_that_only_raises_ratios_leaves_nobody_worse_off():
    report = Differ(load_policy(HERE / "base.pol"), load_policy(HERE / "reform.pol")).run()
    assert report.worse_status == "proved" and report.worse_off is None
    change = next(c for c in report.changes if c.output == "统筹支付")
    assert change.largest_decrease is None
    amount, claim, _, old, new = change.largest_increase
    assert amount > 0 and new.outputs["统筹支付"] - old.outputs["统筹支付"] == amount


def test_a_rate_cut_shows_a_claim_that_is_worse_off_with_both_results():
    report = Differ(load_policy(HERE / "base.pol"), load_policy(HERE / "rate-cut.pol")).run()
    assert report.worse_status == "violated"
    claim, state, old, new = report.worse_off
    assert new.outputs["统筹支付"] < old.outputs["统筹支付"]
    assert claim["政策范围内费用"] % 100 == 0  # a small round claim a reviewer believes


def test_two_versions_inside_one_policy_by_effective_date():
    policy = load_policy(ROOT / "tests" / "policies" / "constructs.pol")
    report = Differ(policy, policy, old_date=datetime.date(2023, 12, 31), new_date=datetime.date(2024, 1, 1)).run()
    change = next(c for c in report.changes if c.output == "基本统筹")
    amount, claim, _, old, new = change.largest_increase
    assert amount > 0  # 起付标准 fell from 800元 to 600元 (400元 for retirees) on 2024-01-01
    assert amount <= Decimal("400") * Decimal("0.93")


def test_an_assumption_that_moves_claims_in_opposite_directions():
    from policylang.diff import direction

    policy = load_policy(HERE / "split.pol")
    result = direction(policy, "基层比例")
    assert result.status == "opposite"
    (low, high), shown = result.claims
    gains = [after.outputs["统筹支付"] - before.outputs["统筹支付"] for _, _, before, after in shown]
    assert gains[0] > 0 > gains[1]


def test_raising_a_baseline_moves_everyone_the_same_way():
    from policylang.diff import direction

    assert direction(load_policy(HERE / "base.pol"), "普通门诊基础比例").status == "same-way"
