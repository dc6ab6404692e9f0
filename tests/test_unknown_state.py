"""An update that cannot be settled makes its year-to-date unknown; it never passes for 'nothing was paid'.

The issue: a registered chronic patient's 普通门诊 claim without 其他门诊应付 left 统筹支付 not applicable,
the update was skipped, and the next claim of the year was paid against an untouched 1200 元 limit.
tests/policies/unknown-year-to-date.pol keeps that shape (绍兴 itself now refuses such a claim).
"""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest

from policylang.check import check_policy
from policylang.claims import Claim, ClaimReader, result_record
from policylang.evaluators import BACKENDS, run_claims
from policylang.explain import explain_events
from policylang.pipeline import load_policy
from policylang.runtime import NotApplicable

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "tests" / "policies" / "unknown-year-to-date.pol"


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY)


def visit(day: str, kind: str = "门诊慢特病", cost: str = "1000", **more) -> dict:
    claim = {"人员编号": "p1", "就诊日期": datetime.date.fromisoformat(day), "险种": "城乡居民", "就诊类型": kind,
             "机构级别": "基层", "人员类别": "居民成年", "病种": "高血压", "政策范围内费用": Decimal(cost),
             "计入次数": True}
    claim.update(more)
    return claim


def run(policy, claims, backend="compiled", state=None, explain=False):
    batch = [Claim(f"#{i}", c, (state or {}) if i == 0 else {}, {}) for i, c in enumerate(claims)]
    return run_claims(policy, batch, backend, explain=explain)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_missing_amount_makes_the_limit_unknown_not_untouched(policy, backend):
    first, missing, later = run(policy, [visit("2024-03-01"), visit("2024-04-01", "普通门诊", "300"),
                                         visit("2024-05-01")], backend)
    assert first.outcome.state["净报销"] == Decimal("650")
    after = missing.outcome.state["净报销"]
    assert isinstance(after, NotApplicable)
    assert after.reason == ("累计值 `净报销` 未知：2024-04-01 的就诊无法计算本次累加的金额（缺少输入 `其他门诊应付`）")
    paid = later.outcome.outputs["统筹支付"]
    assert isinstance(paid, NotApplicable), "the later claim must not be paid against the untouched limit"
    assert paid.reason == after.reason


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_condition_that_is_not_applicable_makes_the_count_unknown(policy, backend):
    no_flag = visit("2024-03-01")
    del no_flag["计入次数"]
    first, later = run(policy, [no_flag, visit("2024-04-01")], backend)
    assert first.outcome.state["次数"] == NotApplicable(
        "累计值 `次数` 未知：2024-03-01 的就诊无法判断本次是否累加（缺少输入 `计入次数`）")
    assert isinstance(later.outcome.outputs["本次前次数"], NotApplicable)
    assert later.outcome.outputs["统筹支付"] == Decimal("550")  # the other accumulator is still known


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_lasts_the_year_and_the_next_year_starts_fresh(policy, backend):
    results = run(policy, [visit("2024-04-01", "普通门诊", "300"), visit("2024-06-01", cost="10"),
                           visit("2024-12-31", cost="10"), visit("2025-01-02", cost="100")], backend)
    assert all(isinstance(r.outcome.state["净报销"], NotApplicable) for r in results[:3])
    assert "2024-04-01" in results[2].outcome.state["净报销"].reason  # still the claim that broke the chain
    assert results[3].outcome.outputs["统筹支付"] == Decimal("65")
    assert results[3].outcome.state["净报销"] == Decimal("65")


def test_an_out_of_scope_claim_does_not_touch_the_year(policy):
    results = run(policy, [visit("2024-03-01", "普通住院"), visit("2024-04-01")])
    assert not results[0].outcome.applicable
    assert results[1].outcome.outputs["统筹支付"] == Decimal("650")


def test_the_result_prints_unknown_with_its_reason_and_reads_it_back(policy):
    missing, later = run(policy, [visit("2024-04-01", "普通门诊", "300"), visit("2024-05-01")])
    record = result_record(policy, missing.claim, missing.state_before, missing.outcome)
    reason = "累计值 `净报销` 未知：2024-04-01 的就诊无法计算本次累加的金额（缺少输入 `其他门诊应付`）"
    assert record["state"]["净报销"] == {"before": "0.00", "after": {"unknown": reason}}
    later_record = result_record(policy, later.claim, later.state_before, later.outcome)
    assert later_record["state"]["净报销"] == {"before": {"unknown": reason}, "after": {"unknown": reason}}
    assert later_record["outputs"]["统筹支付"] is None and later_record["not_applicable"]["统筹支付"] == reason

    # The printed `after`, passed back in as the next claim's `state`, gives the same result.
    raw = {"psn_no": "p1", "begntime": "2024-05-01", "insutype": "390", "med_type": "14", "dedc_hosp_lv": "基层",
           "psn_type": "居民成年", "dise_codg": "I10", "inscp_scp_amt": "1000", "计入次数": True,
           "state": json.loads(json.dumps({n: s["after"] for n, s in record["state"].items()}))}
    claim, errors = ClaimReader(policy).read(raw, "claim")
    assert not errors, errors
    assert claim.state["净报销"] == NotApplicable(reason)
    again = run_claims(policy, [claim])[0]
    assert again.outcome == later.outcome
    assert result_record(policy, claim, again.state_before, again.outcome)["state"] == later_record["state"]


def test_a_state_object_that_is_not_unknown_is_refused(policy):
    raw = {"begntime": "2024-05-01", "insutype": "390", "med_type": "14", "dedc_hosp_lv": "基层", "psn_type": "居民成年",
           "dise_codg": "I10", "inscp_scp_amt": "1000", "state": {"净报销": {"value": "0"}}}
    claim, errors = ClaimReader(policy).read(raw, "claim")
    assert claim is None and [e.field for e in errors] == ["state.净报销"]
    assert '{"unknown": "why"}' in str(errors[0])


def test_explain_shows_the_update_that_broke_the_chain(policy):
    missing, = run(policy, [visit("2024-04-01", "普通门诊", "300")], explain=True)
    updates = [e for e in explain_events(policy, missing.trace) if "update" in e]
    assert updates[0]["update"] == "净报销" and updates[0]["before"] == "0.00"
    assert updates[0]["after"] == {"unknown": missing.outcome.state["净报销"].reason}


def test_the_checker_flags_updates_that_can_add_a_not_applicable_amount(policy):
    results = [r for r in check_policy(policy, timeout=20).results if r.rule == "PL105"]
    assert [(r.name, r.status) for r in results] == [
        ("update 1 of `净报销` always has an amount", "violated"),
        ("update 2 of `次数` always has an amount", "violated")]
    for r in results:
        after = r.counterexample.outcomes[0].state
        assert any(isinstance(v, NotApplicable) for v in after.values())
        assert "未知" in r.message


def test_shaoxing_refuses_the_claim_instead(policy):
    """绍兴 (the issue's policy) now needs 其他门诊应付 to settle a registered patient's 普通门诊 claim."""
    shaoxing = load_policy(ROOT / "policies" / "shaoxing-2024.pol")
    claim = {"人员编号": "p1", "就诊日期": datetime.date(2024, 3, 1), "险种": "城乡居民", "就诊类型": "普通门诊",
             "机构级别": "基层", "病种": "其他病种", "就医地": "市内", "已备案慢病": True,
             "政策范围内费用": Decimal("100")}
    first, = run_claims(shaoxing, [Claim("#1", claim, {}, {})])
    assert not first.outcome.applicable and "其他门诊应付" in first.outcome.reason
    assert [r.rule for r in check_policy(shaoxing, timeout=20).findings] == []
