"""A ✓ must prove something: vacuous premises, uncompared branches and accumulators nothing changes.

Each policy here is small and correct but for the one thing the test is about; each test fails on a
checker that reports only proved / violated (the state before PL403, PL404 and branch notes).
"""
from pathlib import Path

from policylang.check import check_policy
from policylang.pipeline import load_policy, load_text

ROOT = Path(__file__).resolve().parent.parent

HEADER = """
policy "示例：门诊签约加成" {
  document "示例〔2024〕9号"
  issuer "policylang tests"
  in force from 2024-01-01
}

use prelude

input 签约: bool "参保人已签约家庭医生"
input 在签约机构: bool optional "本次在签约机构就诊"

constraint not 在签约机构 or 签约 else "只有签约人员才有签约机构"

scope {
  require 险种 == 城乡居民 else "只规定城乡居民医保"
  require 就诊类型 == 普通门诊 else "只规定普通门诊"
}

rule 加成: points clause "一" = if 签约 and 在签约机构 and 机构级别 == 基层 then {bonus} else 0pp

output 报销比例: rate as pool_prop_selfpay clause "一" = 50% + 加成

output 统筹支付: money as hifp_pay clause "一" = 政策范围内费用 × 报销比例
"""

EXAMPLE = """
example "签约机构就诊" {
  claim { 就诊日期 = 2024-03-01, 险种 = 城乡居民, 就诊类型 = 普通门诊, 机构级别 = 基层, 病种 = 其他病种, 签约 = true, 在签约机构 = true, 政策范围内费用 = 100元 }
  expect { 报销比例 = 53% }
}
"""


def policy(bonus: str) -> str:
    return HEADER.replace("{bonus}", bonus)


def _check(text: str):
    return check_policy(load_text(text, "t.pol"), 5.0)


def _result(report, name: str):
    return next(r for r in report.results if r.name == name)


def test_a_pair_that_can_never_reach_the_bonus_is_reported_not_silently_proved():
    """vary 签约 keeps 在签约机构 equal on both sides, and the constraint then rules out every pair where
    the bonus applies: the property is proved only over pairs without the bonus, and must say so."""
    text = policy("3pp") + """
property "签约不降低比例" clause "一" {
  vary 签约: true vs false
  holds left.报销比例 >= right.报销比例
}
"""
    result = _result(_check(text), "签约不降低比例")
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("rule 加成"))) + 1
    assert result.status == "proved"
    assert len(result.notes) == 1 and f"line {line}" in result.notes[0] and "then branch" in result.notes[0], result.notes


def test_the_pair_that_compares_the_bonus_finds_a_subtracted_bonus():
    prop = """
property "签约机构就诊不降低比例" clause "一" {
  vary 在签约机构: true vs false
  when 签约
  holds left.报销比例 >= right.报销比例
}
"""
    good = _result(_check(policy("3pp") + prop), "签约机构就诊不降低比例")
    assert good.status == "proved" and not good.notes
    bad = _result(_check(policy("-3pp") + prop), "签约机构就诊不降低比例")
    assert bad.status == "violated"


def test_an_invariance_property_is_not_flagged():
    """Where `when` holds the output does not depend on the varied input (the bonus is only at 基层): not
    vacuous, and no branch to cover."""
    text = policy("3pp") + """
property "二级比例不受签约影响" clause "一" {
  vary 签约: true vs false
  when 机构级别 == 二级
  holds left.报销比例 == right.报销比例
}
"""
    result = _result(_check(text), "二级比例不受签约影响")
    assert result.status == "proved" and not result.notes


def test_a_pair_contradicting_its_when_is_vacuous():
    text = policy("3pp") + """
property "签约不降低比例（前提自相矛盾）" clause "一" {
  vary 签约: true vs false
  when not 签约
  holds left.报销比例 >= right.报销比例
}
"""
    result = _result(_check(text), "签约不降低比例（前提自相矛盾）")
    assert (result.rule, result.status) == ("PL403", "vacuous")
    assert "pair of claims" in result.message


def test_a_premise_no_claim_meets_is_vacuous():
    text = policy("3pp") + """
property "住院报销比例不低于 50%" clause "一" {
  when 就诊类型 == 普通住院
  holds 报销比例 >= 50%
}
"""
    report = _check(text)
    result = _result(report, "住院报销比例不低于 50%")
    assert (result.rule, result.status) == ("PL403", "vacuous")
    assert "no valid claim in scope meets its premise" in result.message
    assert result in report.findings


def test_a_conclusion_never_applicable_is_vacuous():
    text = policy("3pp").replace(
        'output 统筹支付: money as hifp_pay clause "一" = 政策范围内费用 × 报销比例',
        'output 统筹支付: money as hifp_pay clause "一" = if 签约 then not applicable "未规定" else 政策范围内费用 × 报销比例'
    ) + """
property "签约人员统筹支付不超过费用" clause "一" {
  when 签约
  holds 统筹支付 <= 政策范围内费用
}
"""
    result = _result(_check(text), "签约人员统筹支付不超过费用")
    assert result.status == "vacuous" and "not applicable" in result.message


def test_a_guideline_floor_outside_the_scope_is_not_applicable_not_proved():
    """绍兴 covers 城乡居民 only: the national floor for 职工 says nothing about it, and the report says so."""
    report = check_policy(load_policy(ROOT / "policies" / "shaoxing-2024.pol"), 10.0)
    floor = _result(report, "职工医保普通门诊政策范围内支付比例不低于50%")
    assert floor.status == "not-applicable" and floor not in report.findings
    assert "not applicable to this policy" in floor.message


def test_an_accumulator_nothing_updates_is_a_finding():
    text = policy("3pp") + """
accumulator 已付: money per person per 医保年度 clause "二" = 0元

rule 余额: money clause "二" = max(1000元 - 已付, 0元)

output 限额内支付: money clause "二" = min(政策范围内费用 × 报销比例, 余额)

update 已付 += 限额内支付 when 就诊类型 == 普通住院 clause "二"
"""
    report = _check(text)
    result = _result(report, "accumulator `已付` is changed by some claim")
    assert (result.rule, result.status) == ("PL404", "violated")
    assert "line" in result.message
    fixed = _check(text.replace(" when 就诊类型 == 普通住院", ""))
    assert _result(fixed, "accumulator `已付` is changed by some claim").status == "proved"
    dropped = _check(text.replace('update 已付 += 限额内支付 when 就诊类型 == 普通住院 clause "二"', ""))
    assert "no `update` changes" in _result(dropped, "accumulator `已付` is changed by some claim").message
