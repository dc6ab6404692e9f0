"""What the vectorized back end does not carry is named when the policy is compiled, and the scalar engine
runs it: every policy in policies/ vectorizes (keyed and counted year-to-dates too); an int64 risk and a number
printed as the claim wrote it fall back with the reason; a year-to-date that outgrows the plan's bound sends its batch to the
scalar engine instead of wrapping."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from policylang.batch.scalar import ScalarEngine
from policylang.backends.vector import VectorEngine, compile_engine
from policylang.backends.vector import plan as plan_module
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent

HEADER = """\
policy "回退测试" {
  document "测试〔2024〕8号"
  issuer "policylang tests"
  in force from 2024-01-01
}

use prelude

"""


def write(tmp_path, body: str):
    path = tmp_path / "p.pol"
    path.write_text(HEADER + body, encoding="utf-8")
    return load_policy(str(path))


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*.pol")), ids=lambda p: p.name)
def test_every_policy_vectorizes(path):
    engine = compile_engine(load_policy(str(path)))
    assert isinstance(engine, VectorEngine), engine.fallback
    assert engine.name == "vectorized" and engine.fallback is None


def test_keyed_and_counted_year_to_dates_vectorize():
    """`per 机构级别`, `per 就诊ID` and `once per 就诊ID` (the resolver allows only member and text keys)."""
    engine = compile_engine(load_policy(str(ROOT / "tests" / "policies" / "inpatient-cap.pol")))
    assert isinstance(engine, VectorEngine), engine.fallback
    assert engine.plan.once == {"住院次数": ("就诊ID", 10000)}
    assert engine.plan.ledgers == ["住院次数", "已付起付线"]


def test_overflow_risk_falls_back(tmp_path):
    """money × number × number can pass int64 (10^9 fen × 10^8 × 10^8): named, never wrapped."""
    policy = write(tmp_path, """\
input 倍数: number "倍数"
input 系数: number "系数"
output 金额: money = 政策范围内费用 × 倍数 × 系数
""")
    engine = compile_engine(policy)
    assert isinstance(engine, ScalarEngine)
    assert engine.fallback.startswith("a product at ")
    assert "p.pol:11" in engine.fallback and "past int64" in engine.fallback


def test_within_bounds_vectorizes(tmp_path):
    """One factor less stays inside int64 and is vectorized (the bound is per node, not per policy)."""
    policy = write(tmp_path, """\
input 倍数: number "倍数"
output 金额: money = 政策范围内费用 × 倍数
""")
    assert isinstance(compile_engine(policy), VectorEngine)


def test_number_as_written_falls_back(tmp_path):
    """A number output prints the claim's own decimals (5 or 5.0): carried by the scalar evaluator."""
    policy = write(tmp_path, """\
input 天数: number "天数"
output 天数翻倍: number = 天数 × 2
""")
    engine = compile_engine(policy)
    assert isinstance(engine, ScalarEngine)
    assert "output `天数翻倍`" in engine.fallback and "decimals" in engine.fallback


def test_year_to_date_past_the_bound_uses_the_scalar_engine(monkeypatch):
    """A year-to-date larger than the plan allows (checked after each pass) never wraps: the batch is
    evaluated by the scalar engine, the engine says so, and the table is the scalar engine's."""
    policy = load_policy(str(ROOT / "policies" / "shaoxing-2024.pol"))
    engine = compile_engine(policy)
    monkeypatch.setattr(engine.plan, "acc_bound", {name: 100_000 for name in engine.plan.acc_bound})  # 1000 元
    base = {"险种": "城乡居民", "就诊类型": "门诊慢特病", "病种": "高血压", "就医地": "市内", "已备案慢病": "true",
            "人员编号": "P1", "机构级别": "基层"}
    claims = pa.Table.from_pylist([dict(base, 就诊日期=f"2024-0{m}-01", 政策范围内费用="1000") for m in (1, 2, 3)])
    rows = np.arange(1, 4)
    out = engine.evaluate(claims, rows)
    assert engine.notes and "慢病净报销" in engine.notes[0]
    assert out.results.equals(ScalarEngine(policy).evaluate(claims, rows).results)


def test_acc_limit_is_what_the_bounds_assume():
    assert plan_module.ACC_LIMIT == 1000 * plan_module.MONEY_LIMIT


def test_missing_row_reason_prints_the_number_as_written(tmp_path):
    """A table with a gap over a money input and a number input: the no-row reason prints each value as the claim
    wrote it (100, 100.0, 100.00; 2, 2.50), so the edge keeps each row's exponent: equal to the scalar engine."""
    policy = write(tmp_path, """\
input 天数: number "天数"
table 档次 (政策范围内费用, 天数) -> rate first {
  < 50元, _ -> 10%
  >= 200元, < 2 -> 20%
}
output 比例: rate = 档次
""")
    engine = compile_engine(policy)
    assert isinstance(engine, VectorEngine), engine.fallback
    base = {"人员编号": "P1", "就诊日期": "2024-03-01", "险种": "城乡居民", "就诊类型": "普通门诊", "机构级别": "基层",
            "人员类别": "居民成年", "病种": "高血压"}
    values = [("100", "2"), ("100.0", "2.50"), ("100.00", "3"), ("300", "2.0"), ("10", "1"), ("150.5", "0.0001")]
    claims = pa.Table.from_pylist([dict(base, 政策范围内费用=m, 天数=d) for m, d in values])
    rows = np.arange(1, len(values) + 1)
    out = engine.evaluate(claims, rows)
    assert out.results.equals(ScalarEngine(policy).evaluate(claims, rows).results)
    reasons = out.results.column("na.out.比例").to_pylist()
    assert reasons[1] == "表 `档次` 没有与（100.0，2.50）匹配的行"


def test_text_values_chosen_among_three_or_more_constants(tmp_path):
    """A text table with several constant outputs, and a text rule with three dated versions: chosen per row
    by one gather, whose texts must come out as texts (equal to the interpreter's table)."""
    policy = write(tmp_path, """\
table 类别 (机构级别) -> text first {
  基层 -> "甲"
  一级 -> "乙"
  二级 -> "丙"
  default -> "丁"
}
rule 档期: text from 2024-01-01 until 2024-03-31 = "一季度"
rule 档期: text from 2024-04-01 until 2024-06-30 = "二季度"
rule 档期: text from 2024-07-01 = "下半年"
output 等级: text = 类别
output 期: text = 档期
""")
    engine = compile_engine(policy)
    assert isinstance(engine, VectorEngine), engine.fallback
    base = {"人员编号": "P1", "险种": "城乡居民", "就诊类型": "普通门诊", "人员类别": "居民成年", "病种": "高血压",
            "政策范围内费用": "100"}
    cases = [("基层", "2024-02-01"), ("一级", "2024-05-01"), ("二级", "2024-08-01"), ("三级", "2024-03-31")]
    claims = pa.Table.from_pylist([dict(base, 人员编号=f"P{i}", 机构级别=level, 就诊日期=day)
                                   for i, (level, day) in enumerate(cases)])
    rows = np.arange(1, len(cases) + 1)
    out = engine.evaluate(claims, rows)
    assert out.results.column("out.等级").to_pylist() == ["甲", "乙", "丙", "丁"]
    assert out.results.column("out.期").to_pylist() == ["一季度", "二季度", "下半年", "一季度"]
    assert out.results.equals(ScalarEngine(policy, backend="interpreter").evaluate(claims, rows).results)
