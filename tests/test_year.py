"""The 医保年度 (`year by … from MM-DD`), accumulators kept per keys, and updates counted once per an input:
each through the interpreter, the compiled evaluator and the claim edges (state in and out)."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest

from policylang import ir
from policylang.claims import Claim, ClaimReader, result_record
from policylang.diagnostics import DiagnosticError
from policylang.evaluators import BACKENDS, run_claims
from policylang.pipeline import load_policy, load_text
from policylang.runtime import NotApplicable
from policylang.year import Ledger, year_label

ROOT = Path(__file__).resolve().parent.parent
D = datetime.date

HEADER = 'policy "年度测试" { in force from 2024-01-01 }\nuse prelude\n'
# 住院次数 kept per 机构级别, counted once per 就诊ID; 起付线 halved from the second admission at a level.
KEYED = HEADER + """
accumulator 住院次数: number per person per 医保年度 per 机构级别 = 0
table 起付标准 (机构级别) -> money first {
  二级 -> 600元
  _ -> 1000元
}
output 起付线: money = if 住院次数 >= 1 then 起付标准 × 50% else 起付标准
output 本次前次数: number = 住院次数
update 住院次数 += 1 once per 就诊ID when 就诊类型 == 普通住院
"""


def claim(policy, position, begin, end=None, level="二级", mdtrt="M1", person="p1", kind="普通住院", state=None):
    values = {"人员编号": person, "就诊日期": begin, "险种": "城乡居民", "就诊类型": kind, "机构级别": level,
              "政策范围内费用": Decimal("1000"), "就诊ID": mdtrt}
    if end is not None:
        values["出院日期"] = end
    values = {k: v for k, v in values.items() if k in policy.inputs}
    return Claim(position, values, state or {}, {})


def outputs(policy, claims, backend):
    return [(r.year, r.outcome.outputs) for r in run_claims(policy, claims, backend)]


# ---- the year -------------------------------------------------------------------------------------
def test_the_default_year_is_the_calendar_year_of_the_service_date():
    policy = load_text(KEYED)
    assert policy.year == ir.Year()
    assert year_label(policy.year, D(2024, 12, 31)) == "2024"


def test_a_year_from_07_01_is_labelled_with_its_days():
    year = ir.Year("出院日期", 7, 1)
    assert year_label(year, D(2024, 7, 1)) == "2024-07-01..2025-06-30"
    assert year_label(year, D(2025, 6, 30)) == "2024-07-01..2025-06-30"
    assert year_label(year, D(2024, 6, 30)) == "2023-07-01..2024-06-30"


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_admission_over_new_year_counts_where_it_is_discharged(backend):
    """12-28 → 01-05 under `year by 出院日期`: the 2025 year's first admission (not the 2024 year's second)."""
    policy = load_text(KEYED + "year by 出院日期\n")
    claims = [claim(policy, "#1", D(2024, 12, 1), D(2024, 12, 5), mdtrt="A"),
              claim(policy, "#2", D(2024, 12, 28), D(2025, 1, 5), mdtrt="B"),
              claim(policy, "#3", D(2025, 2, 1), D(2025, 2, 3), mdtrt="C")]
    got = outputs(policy, claims, backend)
    assert [(y, o["本次前次数"], o["起付线"]) for y, o in got] == [
        ("2024", 0, Decimal("600")), ("2025", 0, Decimal("600")), ("2025", 1, Decimal("300"))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_under_the_service_date_the_same_admission_stays_in_the_old_year(backend):
    policy = load_text(KEYED)
    claims = [claim(policy, "#1", D(2024, 12, 1), mdtrt="A"), claim(policy, "#2", D(2024, 12, 28), mdtrt="B")]
    assert [o["本次前次数"] for _, o in outputs(policy, claims, backend)] == [0, 1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_year_from_07_01_resets_on_07_01(backend):
    policy = load_text(KEYED + "year by 出院日期 from 07-01\n")
    claims = [claim(policy, "#1", D(2024, 3, 1), D(2024, 3, 5), mdtrt="A"),
              claim(policy, "#2", D(2024, 6, 20), D(2024, 6, 30), mdtrt="B"),
              claim(policy, "#3", D(2024, 6, 25), D(2024, 7, 2), mdtrt="C")]
    got = outputs(policy, claims, backend)
    assert [(y, o["本次前次数"]) for y, o in got] == [
        ("2023-07-01..2024-06-30", 0), ("2023-07-01..2024-06-30", 1), ("2024-07-01..2025-06-30", 0)]


def test_claims_of_a_year_run_in_the_order_of_the_date_that_places_them():
    """Settled in discharge order: the admission discharged first is the year's first, whatever its start."""
    policy = load_text(KEYED + "year by 出院日期\n")
    claims = [claim(policy, "#1", D(2024, 3, 1), D(2024, 3, 30), mdtrt="A"),
              claim(policy, "#2", D(2024, 3, 10), D(2024, 3, 12), mdtrt="B")]
    assert [o["本次前次数"] for _, o in outputs(policy, claims, "compiled")] == [1, 0]


def test_a_claim_without_the_year_date_is_refused_at_the_edge():
    policy = load_text(KEYED + "year by 出院日期\n")
    record = {"psn_no": "p1", "begntime": "2024-03-01", "insutype": "390", "med_type": "21", "dedc_hosp_lv": "2",
              "inscp_scp_amt": "100", "mdtrt_id": "M1"}
    got, errors = ClaimReader(policy).read(record, "#1")
    assert got is None
    assert [str(e) for e in errors] == [
        "#1: field `出院日期 / enddate`: missing required field (it places the claim in its 医保年度 (`year by 出院日期`))"]
    got, errors = ClaimReader(policy).read({**record, "enddate": "2024-03-05"}, "#1")
    assert errors == [] and got.values["出院日期"] == D(2024, 3, 5)
    assert got.values["就诊ID"] == "M1" and got.extra["mdtrt_id"] == "M1"  # read, and still echoed


# ---- keys and counting once -----------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_keyed_accumulator_counts_each_level_apart(backend):
    policy = load_text(KEYED)
    claims = [claim(policy, "#1", D(2024, 1, 1), level="二级", mdtrt="A"),
              claim(policy, "#2", D(2024, 2, 1), level="三级", mdtrt="B"),
              claim(policy, "#3", D(2024, 3, 1), level="二级", mdtrt="C"),
              claim(policy, "#4", D(2024, 4, 1), level="三级", mdtrt="D")]
    assert [(o["本次前次数"], o["起付线"]) for _, o in outputs(policy, claims, backend)] == [
        (0, Decimal("600")), (0, Decimal("1000")), (1, Decimal("300")), (1, Decimal("500"))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_mid_stay_settlement_counts_once_and_does_not_see_itself(backend):
    """中途结算: the second part of admission A reads the admissions other than A (0), and A counts once."""
    policy = load_text(KEYED)
    claims = [claim(policy, "#1", D(2024, 1, 1), mdtrt="A"), claim(policy, "#2", D(2024, 1, 20), mdtrt="A"),
              claim(policy, "#3", D(2024, 3, 1), mdtrt="B"), claim(policy, "#4", D(2024, 3, 9), mdtrt="A")]
    results = run_claims(policy, claims, backend)
    assert [r.outcome.outputs["本次前次数"] for r in results] == [0, 0, 1, 1]
    last = results[-1].totals_after["住院次数"]
    assert last.values == {("二级",): Decimal(2)} and last.counted == {("二级",): ["A", "B"]}


def test_explain_says_a_counted_admission_is_not_counted_again():
    policy = load_text(KEYED)
    claims = [claim(policy, "#1", D(2024, 1, 1), mdtrt="A"), claim(policy, "#2", D(2024, 1, 20), mdtrt="A")]
    second = run_claims(policy, claims, explain=True)[1]
    assert ("update", "住院次数", None, "already counted for this 就诊ID") in second.trace.events


def test_the_state_out_reads_back_in_per_key_with_the_ids_counted():
    """A year's totals as results print them are a claim's `state`: the next claim continues the year."""
    policy = load_text(KEYED)
    claims = [claim(policy, "#1", D(2024, 1, 1), level="二级", mdtrt="A"),
              claim(policy, "#2", D(2024, 2, 1), level="三级", mdtrt="B")]
    results = run_claims(policy, claims)
    record = result_record(policy, results[1].claim, results[1].state_before, results[1].outcome, results[1].year,
                           (results[1].totals_before, results[1].totals_after))
    assert record["year"] == "2024"
    after = record["state"]["住院次数"]["after"]
    assert after == {"二级": {"value": "1", "counted": ["A"]}, "三级": {"value": "1", "counted": ["B"]}}
    raw = {"psn_no": "p2", "begntime": "2024-05-01", "insutype": "390", "med_type": "21", "dedc_hosp_lv": "2",
           "inscp_scp_amt": "100", "mdtrt_id": "A", "state": json.loads(json.dumps({"住院次数": after}))}
    continued, errors = ClaimReader(policy).read(raw, "#3")
    assert errors == []
    again = run_claims(policy, [continued])[0].outcome.outputs
    assert again["本次前次数"] == 0  # a later part of A: the other admissions at 二级 so far (none)
    continued, _ = ClaimReader(policy).read({**raw, "mdtrt_id": "C"}, "#3")
    assert run_claims(policy, [continued])[0].outcome.outputs["本次前次数"] == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unknown_year_to_date_is_unknown_for_its_key_only(backend):
    policy = load_text(KEYED)
    raw = {"psn_no": "p1", "begntime": "2024-05-01", "insutype": "390", "med_type": "21", "dedc_hosp_lv": "2",
           "inscp_scp_amt": "100", "mdtrt_id": "X",
           "state": {"住院次数": {"二级": {"unknown": "迁入前的住院次数未知"}, "三级": {"value": "2", "counted": []}}}}
    reader = ClaimReader(policy)
    second, errors = reader.read(raw, "#1")
    third, _ = reader.read({k: v for k, v in raw.items() if k != "state"} | {"dedc_hosp_lv": "3"}, "#2")
    assert errors == []
    first, other = run_claims(policy, [second, third], backend)
    assert first.outcome.outputs["本次前次数"] == NotApplicable("迁入前的住院次数未知")
    assert other.outcome.outputs["本次前次数"] == 2


@pytest.mark.parametrize("raw, field, message", [
    ({"住院次数": {"四级": "1"}}, "state.住院次数.四级", "unknown 机构级别 '四级'"),
    ({"住院次数": "1"}, "state.住院次数", "expected an object of `机构级别` values"),
    ({"住院次数": {"二级": {"value": "1", "counted": "A"}}}, "state.住院次数.二级.counted", "must be a list"),
    ({"住院次数": {"二级": {"howmany": "1"}}}, "state.住院次数.二级", "an object here must be"),
])
def test_a_bad_keyed_state_is_refused_with_where(raw, field, message):
    policy = load_text(KEYED)
    record = {"psn_no": "p1", "begntime": "2024-05-01", "insutype": "390", "med_type": "21", "dedc_hosp_lv": "2",
              "inscp_scp_amt": "100", "mdtrt_id": "X", "state": raw}
    _, errors = ClaimReader(policy).read(record, "#1")
    assert len(errors) == 1 and errors[0].field == field and message in errors[0].message


def test_the_example_state_block_gives_every_key_its_value():
    policy = load_text(KEYED)
    ledger = Ledger(policy)
    ledger.seed({"住院次数": Decimal(3)})
    assert ledger.view({"机构级别": "二级", "就诊ID": "A"})["住院次数"] == 3
    assert ledger.view({"机构级别": "三级", "就诊ID": "A"})["住院次数"] == 3


def test_the_inpatient_policy_passes_its_examples_and_is_fully_covered():
    from policylang.testing import coverage, run_examples

    policy = load_policy(ROOT / "tests" / "policies" / "inpatient-cap.pol")
    assert all(r.passed for r in run_examples(policy))
    assert coverage(policy) == []


# ---- what the resolver refuses ---------------------------------------------------------------------
@pytest.mark.parametrize("text, code, hint", [
    ("accumulator 次数: number per person per 医保年度 per 政策范围内费用 = 0\n", "E0480", "enumeration member or text"),
    ("accumulator 次数: number per person per 医保年度 per 机构 = 0\n", "E0480", "such as 机构级别"),
    ("accumulator 次数: number per person per 医保年度 per 医疗费总额 = 0\n", "E0480", ""),
    ("year by 就诊类型\n", "E0481", "year by 出院日期"),
    ("year by 出院日 from 07-01\n", "E0481", ""),
    ("year by 出院日期 from 02-29\n", "E0482", "07-01"),
    ("year by 出院日期\nyear by 结算日期\n", "E0483", "first `year` declaration"),
    ("accumulator 次数: number per person per 医保年度 = 0\nupdate 次数 += 1 once per 政策范围内费用\n", "E0484", "就诊ID"),
    ("accumulator 费用: money per person per 医保年度 = 0元\nupdate 费用 += 政策范围内费用 once per 就诊ID\n", "E0485",
     "constant"),
    ("accumulator 次数: number per person per 医保年度 = 0\nupdate 次数 += 1 once per 就诊ID\nupdate 次数 += 1\n",
     "E0486", "`or`"),
    ("accumulator 甲: number per person per 医保年度 per 机构级别 = 0\naccumulator 乙: number per person per 医保年度 = 0\n"
     "update 甲 += 1\nupdate 乙 += 1\nproperty \"甲不超过乙\" { holds 甲 <= 乙 }\n", "E0487", "same keys"),
])
def test_the_resolver_refuses_with_a_hint(text, code, hint):
    with pytest.raises(DiagnosticError) as caught:
        load_text(HEADER + text)
    found = [d for d in caught.value.diagnostics if d.code == code]
    assert found, [d.code for d in caught.value.diagnostics]
    assert hint in found[0].hint


def test_an_invariant_over_accumulators_kept_per_the_same_keys_is_proved():
    from policylang.check import check_policy

    policy = load_text(HEADER + """
accumulator 次数: number per person per 医保年度 per 机构级别 = 0
accumulator 天数: number per person per 医保年度 per 机构级别 = 0
update 次数 += 1 once per 就诊ID when 就诊类型 == 普通住院
update 天数 += 2 when 就诊类型 == 普通住院
output 本次前次数: number = 次数 + 天数
property "天数不少于次数" { holds 次数 <= 天数 }
""")
    report = check_policy(policy)
    verdicts = {r.name: r.status for r in report.results}
    assert verdicts["天数不少于次数"] == "proved"
    assert verdicts["accumulator `次数` never becomes negative"] == "proved"


def test_a_policy_that_extends_another_may_declare_its_own_year(tmp_path):
    (tmp_path / "base.pol").write_text(HEADER + "year by 出院日期 from 07-01\n", encoding="utf-8")
    (tmp_path / "child.pol").write_text('policy "子" { extends "base.pol" in force from 2024-01-01 }\n'
                                        "year by 结算日期\n", encoding="utf-8")
    (tmp_path / "same.pol").write_text('policy "同" { extends "base.pol" in force from 2024-01-01 }\n', encoding="utf-8")
    assert (load_policy(tmp_path / "child.pol").year.date, load_policy(tmp_path / "child.pol").year.month) == ("结算日期", 1)
    assert (load_policy(tmp_path / "same.pol").year.date, load_policy(tmp_path / "same.pol").year.month) == ("出院日期", 7)


def test_a_wrong_invariant_over_a_keyed_count_is_refuted_and_replays():
    """The step is one claim at one key: 次数 ≤ 1 breaks at the second admission at a level."""
    from policylang.check import check_policy

    policy = load_text(HEADER + """
accumulator 次数: number per person per 医保年度 per 机构级别 = 0
update 次数 += 1 once per 就诊ID when 就诊类型 == 普通住院
output 本次前次数: number = 次数
property "每级别至多一次" { holds 次数 <= 1 }
""")
    result = next(r for r in check_policy(policy).results if r.name == "每级别至多一次")
    assert result.status == "violated"
    example = result.counterexample
    assert example.state == {"次数": 1} and example.outcomes[0].state["次数"] == 2


def test_the_inpatient_policy_is_decided_at_the_default_budget():
    from policylang.check import check_policy

    report = check_policy(load_policy(ROOT / "tests" / "policies" / "inpatient-cap.pol"))
    assert [(r.name, r.status) for r in report.results if r.status != "proved"] == []
    proved = {r.name for r in report.results}
    assert {"年度统筹支付不超过 8 万元", "外伤住院统筹支付不超过 3000 元", "同级别再次住院，起付线不超过首次的一半",
            "救助对象的比例不低于一般人员"} <= proved
