"""A reform written as reforms are: "二级医疗机构辖区内住院报销比例提高 2 个百分点" as a one-row amendment of
tests/policies/inpatient-cap.pol's ratio table (tests/policies/inpatient-cap-reform.pol). `diff` proves nobody
is worse off and finds the largest increase exactly, at a 二级 · 辖区内 claim; the 变化对照表 shows the one row.
"""
from decimal import Decimal
from pathlib import Path

from policylang.diff import Differ
from policylang.pipeline import load_policy
from policylang.publish.changes import changes
from policylang.testing import run_examples

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "policies" / "inpatient-cap.pol"
REFORM = ROOT / "tests" / "policies" / "inpatient-cap-reform.pol"


def test_the_reform_changes_one_row_and_its_examples_pass():
    base, reform = load_policy(BASE), load_policy(REFORM)
    assert all(r.passed for r in run_examples(reform))
    [amendment] = reform.amendments
    assert len(amendment.rows) == 1
    [row] = [c for c in changes(reform, base) if c.item.startswith("基本比例")]
    assert (row.item, row.kind, row.before, row.after) == ("基本比例：二级 · 辖区内", "调整", "75%", "77%")


def test_diff_proves_nobody_worse_off_and_finds_the_largest_increase_at_erji():
    # The cap makes the largest 统筹支付 increase a nonlinear question: decided at --timeout 40, as the
    # docs show (at the default 10 it is a proved lower bound, exit 1).
    report = Differ(load_policy(BASE), load_policy(REFORM), timeout=40).run()
    assert report.worse_status == "proved" and report.exit_code == 0
    by_output = {c.output: c for c in report.changes}
    ratio, pay = by_output["报销比例"], by_output["统筹支付"]
    assert (ratio.increase.status, ratio.increase.amount, ratio.decrease.status) == ("exact", Decimal("0.02"), "none")
    # 2% of the most a 二级 claim can bear under the 8 万元 cap: 80000 / 77% × 2% = 2077.92
    assert (pay.increase.status, pay.increase.amount, pay.decrease.status) == ("exact", Decimal("2077.92"), "none")
    for largest in (ratio.increase, pay.increase):
        claim = largest.shown.claim
        assert (claim["机构级别"], claim["就医地"]) == ("二级", "辖区内")
