"""An example's claim must be one `eval` accepts: constraints hold, amounts are not negative and add up.

Before, `policylang test` passed an example whose claim `eval` refuses, so an example could show a
settlement that can never happen.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from policylang.check import check_policy
from policylang.cli import main
from policylang.pipeline import load_text
from policylang.publish.worked import worked_examples
from policylang.testing import run_examples

POLICY = """policy "p" {
  document "d"
  in force from 2024-01-01
}

use prelude

input 其他门诊应付: money optional "普通门诊按当地规则计算的统筹支付"
constraint 其他门诊应付 <= 政策范围内费用 else "其他门诊应付不能超过政策范围内费用"

output 统筹支付: money as hifp_pay = min(其他门诊应付, 政策范围内费用)

example "EXAMPLE" {
  CLAIMS
}
"""
GOOD = "claim { 就诊日期 = 2024-03-01, 政策范围内费用 = 500元, 其他门诊应付 = 250元 }\n  expect { 统筹支付 = 250元 }"
SWAPPED = "claim { 就诊日期 = 2024-03-01, 政策范围内费用 = 250元, 其他门诊应付 = 500元 }\n  expect { 统筹支付 = 250元 }"


def policy_with(*claims: str, name: str = "金额"):
    return load_text(POLICY.replace("EXAMPLE", name).replace("CLAIMS", "\n  ".join(claims)), "p.pol")


def test_a_claim_that_breaks_a_constraint_fails_with_its_message():
    [result] = run_examples(policy_with(SWAPPED))
    assert not result.passed
    [step] = result.steps
    assert step.outcome is None and not step.mismatches  # refused, not evaluated
    assert [str(p) for p in step.invalid] == ["invalid claim: 其他门诊应付不能超过政策范围内费用 (constraint at p.pol:9:1)"]


def test_the_example_stops_at_the_refused_claim():
    [result] = run_examples(policy_with(GOOD, SWAPPED, GOOD))
    assert [s.passed for s in result.steps] == [True, False]


@pytest.mark.parametrize("claim, message", [
    ("claim { 就诊日期 = 2024-03-01, 政策范围内费用 = -5元 }\n  expect { 统筹支付 = not applicable \"缺少\" }",
     "invalid claim: negative amount -5 (field `政策范围内费用`)"),
    ("claim { 就诊日期 = 2024-03-01, 政策范围内费用 = 100元, 医疗费总额 = 50元, 其他门诊应付 = 1元 }\n"
     "  expect { 统筹支付 = 1元 }",
     "invalid claim: 医疗费总额 50 ≠ 政策范围内费用 100 + 全自费 + 超限价 + 先行自付 (100) (field `medfee_sumamt`)"),
])
def test_the_claim_rules_of_eval_apply_too(claim, message):
    [result] = run_examples(policy_with(claim))
    assert [str(p) for s in result.steps for p in s.invalid] == [message]


def test_policylang_test_fails_and_prints_the_message(tmp_path, capsys):
    path = tmp_path / "p.pol"
    path.write_text(POLICY.replace("EXAMPLE", "金额").replace("CLAIMS", SWAPPED), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["test", str(path)])
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "FAIL 金额" in out and "invalid claim: 其他门诊应付不能超过政策范围内费用" in out


def test_check_reports_pl002():
    report = check_policy(policy_with(GOOD, SWAPPED))
    [finding] = [r for r in report.results if r.status == "violated"]
    assert (finding.rule, finding.name) == ("PL002", "金额")
    assert finding.message.startswith("claim 2: invalid claim: 其他门诊应付不能超过政策范围内费用")


def test_the_worked_example_does_not_work_out_a_refused_claim():
    [worked] = worked_examples(policy_with(SWAPPED))
    assert not worked.passed
    [step] = worked.steps
    assert not step.applicable and "其他门诊应付不能超过政策范围内费用" in step.reason
