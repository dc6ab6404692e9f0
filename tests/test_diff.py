"""policylang diff: nobody worse off proved, or a claim that is; the largest change per output."""
import datetime
from decimal import Decimal
from pathlib import Path

from policylang.diff import Differ, diff_text
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "tests" / "composition"


def test_a_reform_that_only_raises_ratios_leaves_nobody_worse_off():
    report = Differ(load_policy(HERE / "base.pol"), load_policy(HERE / "reform.pol")).run()
    assert report.worse_status == "proved" and report.worse_off is None
    change = next(c for c in report.changes if c.output == "统筹支付")
    assert change.largest_decrease is None
    amount, claim, _, old, new, _ = change.largest_increase
    assert amount > 0 and new.outputs["统筹支付"] - old.outputs["统筹支付"] == amount


def test_a_rate_cut_shows_a_claim_that_is_worse_off_with_both_results():
    report = Differ(load_policy(HERE / "base.pol"), load_policy(HERE / "rate-cut.pol")).run()
    assert report.worse_status == "violated"
    claim, state, old, new, _ = report.worse_off
    assert new.outputs["统筹支付"] < old.outputs["统筹支付"]
    assert claim["政策范围内费用"] % 100 == 0  # a small round claim a reviewer believes


def test_two_versions_inside_one_policy_by_effective_date():
    policy = load_policy(ROOT / "tests" / "policies" / "constructs.pol")
    report = Differ(policy, policy, old_date=datetime.date(2023, 12, 31), new_date=datetime.date(2024, 1, 1)).run()
    change = next(c for c in report.changes if c.output == "基本统筹")
    amount, claim, _, old, new, _ = change.largest_increase
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


def test_zhoushan_reform_against_its_declared_baseline():
    """The real reform (policies/zhoushan-2023.pol) over the baseline it extends: nobody's fund
    payment falls; the 基层 deductible is gone; ratios rise by at most the document's points."""
    policies = ROOT / "policies"
    report = Differ(load_policy(policies / "zhoushan-2023-baseline.pol"), load_policy(policies / "zhoushan-2023.pol")).run()
    assert report.worse_status == "proved" and report.worse_off is None
    changes = {c.output: c for c in report.changes}
    dedc = changes["起付线"]
    assert dedc.largest_increase is None
    amount, claim, _, old, new, _ = dedc.largest_decrease
    assert claim["机构级别"] == "基层" and new.outputs["起付线"] == 0 and amount == -old.outputs["起付线"] < 0
    ratio = changes["报销比例"]
    assert ratio.largest_decrease is None
    amount, claim, _, old, new, new_day = ratio.largest_increase
    # each side's claim falls in its own policy's period, and the report says so
    assert claim["就诊日期"] == datetime.date(2023, 1, 1) and new_day == datetime.date(2023, 10, 1)
    assert "# new side: 就诊日期 = 2023-10-01" in diff_text(report)
    # the most any ratio rises: 慢性病门诊 at 基层, 65% set by the reform plus the 签约 +3 points that now
    # apply at every in-city 基层 facility, over the baseline's assumed 60%
    assert amount == Decimal("0.08") and claim["机构级别"] == "基层" and claim["家庭医生签约"] is True
    assert changes["统筹支付"].largest_decrease is None
