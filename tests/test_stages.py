"""A fund stage the claim carries (an earlier stage this policy does not compute) counts in the sums.

A policy that encodes only 大病保险 reads the basic fund's payment from the claim
(`input 基本医保支付: money field hifp_pay`); setlinfo reports it and adds it to fund_pay_sumamt, so
psn_part_amt is what the patient really pays. An input and an output may not share a settlement name.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from policylang.claims import ClaimReader, result_record
from policylang.diagnostics import DiagnosticError
from policylang.evaluators import run_claims
from policylang.pipeline import load_policy, load_text
from policylang.publish.worked import worked_examples

ROOT = Path(__file__).resolve().parent.parent
DABING = ROOT / "tests" / "policies" / "dabing-stage.pol"
ISSUE_CLAIM = {"begntime": "2024-05-01", "insutype": "390", "med_type": "21", "inscp_scp_amt": "20000",
               "fulamt_ownpay_amt": "1000", "medfee_sumamt": "21000", "hifp_pay": "8000",
               "state": {"大病累计负担": "8253.42"}}


def settle(policy, record: dict) -> dict:
    claim, errors = ClaimReader(policy).read(record, "test")
    assert not errors, errors
    result = run_claims(policy, [claim])[0]
    return result_record(policy, claim, result.state_before, result.outcome)


def test_a_stage_read_from_the_claim_counts_in_the_sums():
    record = settle(load_policy(DABING), ISSUE_CLAIM)
    info = record["setlinfo"]
    assert info["hifp_pay"] == "8000.00"  # the claim's, reported under its platform name
    assert info["hifmi_pay"] == "3152.05"
    assert info["fund_pay_sumamt"] == "11152.05"
    assert info["psn_part_amt"] == "9847.95"  # 21000 − 8000 − 3152.05, not 21000 − 3152.05
    assert "not_applicable" not in record


def test_the_worked_example_uses_the_same_totals():
    policy = load_policy(DABING)
    step = worked_examples(policy)[0].steps[0]
    totals = dict(step.totals)
    assert totals["基金支付合计"] == "11,152.05元"
    assert totals["个人负担"] == "9,847.95元"
    assert totals["统筹基金支出（hifp_pay，结算单已给）"] == "8,000.00元"


OPTIONAL_STAGE = """policy "医疗救助单独阶段" {
  document "d"
  in force from 2024-01-01
}

use prelude

input 基本医保支付: money field hifp_pay "基本医保统筹基金支出"
input 大病支付: money field hifmi_pay optional "居民大病保险支付（未进入大病的就诊可以不给）"

output 医疗救助: money as maf_pay = 政策范围内费用 × 10%
"""


def test_an_absent_optional_stage_is_not_applicable_never_zero():
    policy = load_text(OPTIONAL_STAGE, "optional-stage.pol")
    record = settle(policy, {"begntime": "2024-05-01", "inscp_scp_amt": "1000", "hifp_pay": "500"})
    info = record["setlinfo"]
    assert info["hifp_pay"] == "500.00" and info["maf_pay"] == "100.00"
    assert info["hifmi_pay"] is None
    assert info["fund_pay_sumamt"] is None and info["psn_part_amt"] is None
    assert record["not_applicable"]["hifmi_pay"] == "缺少输入 `大病支付`"
    assert record["not_applicable"]["psn_part_amt"] == "hifmi_pay 不适用"

    given = settle(policy, {"begntime": "2024-05-01", "inscp_scp_amt": "1000", "hifp_pay": "500",
                            "hifmi_pay": "0"})["setlinfo"]
    assert given["fund_pay_sumamt"] == "600.00" and given["psn_part_amt"] == "400.00"


def codes(text: str) -> list:
    with pytest.raises(DiagnosticError) as info:
        load_text(text, "bad.pol")
    return [(d.code, d.span.line, d.message) for d in info.value.diagnostics]


HEADER = 'policy "p" {\n  document "d"\n  in force from 2024-01-01\n}\n\nuse prelude\n\n'


def test_an_input_and_an_output_with_one_platform_name_are_refused():
    found = codes(HEADER + "input 基本医保支付: money field hifp_pay\n"
                           "output 统筹支付: money as hifp_pay = 政策范围内费用 × 50% - 基本医保支付\n")
    assert [(c, line) for c, line, _ in found] == [("E0424", 8)]
    assert "`hifp_pay` is both the field of input `基本医保支付` and the `as` of output `统筹支付` (bad.pol:9:1)" \
        in found[0][2]


def test_a_stage_input_has_the_platform_type():
    found = codes(HEADER + "input 基本医保支付: rate field hifp_pay\noutput x: money = 政策范围内费用\n")
    assert [(c, line) for c, line, _ in found] == [("E0312", 8)]
    assert "input `基本医保支付` read from `hifp_pay` (统筹基金支出) cannot be a rate" in found[0][2]


def test_one_field_fills_one_input():
    """Two inputs read from one claim field: the claim would fill one, and setlinfo count the stage twice."""
    found = codes(HEADER + "input 基本医保支付: money field hifp_pay\ninput 统筹已付: money field hifp_pay\n"
                           "output 大病: money as hifmi_pay = (政策范围内费用 - 基本医保支付) × 50%\n")
    assert [(c, line) for c, line, _ in found] == [("E0425", 9)]
    assert "field `hifp_pay` is given to both input `基本医保支付` (bad.pol:8:1) and input `统筹已付`" in found[0][2]
