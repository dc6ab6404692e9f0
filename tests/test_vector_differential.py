"""The vectorized engine's table equals the scalar engine's, column for column, on generated raw claims; the
scalar engine runs the interpreter here (the compiled evaluator is held to it by test_differential.py).

Every policy in policies/ and tests/policies/ that vectorizes; tables with persons' several claims a year,
claims near a year's first day (and `year by 出院日期 from 07-01`), amounts that reach a cap exactly, optional
inputs absent (not-applicable updates: an unknown year-to-date carried on), `state` seeds, platform names,
and odd or bad cells (the rejects must be the same, word for word).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang.batch.scalar import ScalarEngine
from policylang.backends.vector import VectorEngine, compile_engine
from policylang.pipeline import load_policy
from tests.vector_gen import table

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "policies").glob("*.pol")) + \
    sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "policies").glob("*.pol"))

JULY_YEAR = """\
policy "七月医保年度测试" {
  document "测试〔2024〕9号"
  issuer "policylang tests"
  in force from 2024-01-01
}

use prelude

year by 出院日期 from 07-01

input 已备案: bool "已备案"

scope {
  require 险种 == 城乡居民 else "只规定城乡居民"
}

constraint 出院日期 >= 就诊日期 else "出院日期早于入院日期"

accumulator 已支付: money per person per 医保年度 = 0元
accumulator 次数: number per person per 医保年度 = 0

rule 限额: money = 1200元
rule 应付: money = 政策范围内费用 × (if 已备案 then 65% else 50%)
output 统筹支付: money as hifp_pay = min(应付, max(限额 - 已支付, 0元))
output 第几次: number = 次数 + 1

update 已支付 += 统筹支付
update 次数 += 1
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    cache = {}

    def load(path: str):
        if path not in cache:
            if path == "july":
                file = tmp_path_factory.mktemp("july") / "july.pol"
                file.write_text(JULY_YEAR, encoding="utf-8")
                path_ = str(file)
            else:
                path_ = str(ROOT / path)
            policy = load_policy(path_)
            cache[path] = (policy, compile_engine(policy), ScalarEngine(policy, backend="interpreter"))
        return cache[path]
    return load


def same(vector, scalar, claims: pa.Table, rows: np.ndarray):
    a, b = vector.evaluate(claims, rows), scalar.evaluate(claims, rows)
    assert a.rejects == b.rejects
    if not a.results.equals(b.results):
        for name in b.results.column_names:
            x, y = a.results.column(name).to_pylist(), b.results.column(name).to_pylist()
            bad = [i for i in range(len(y)) if x[i] != y[i]]
            assert not bad, f"column {name}: row {bad[0]}: vectorized {x[bad[0]]!r} vs scalar {y[bad[0]]!r}"
        assert a.results.schema == b.results.schema
    return a


@pytest.mark.parametrize("path", POLICIES + ["july"])
def test_generated_tables_equal(loaded, path):
    policy, engine, scalar = loaded(path)
    if not isinstance(engine, VectorEngine):
        pytest.skip(f"falls back: {engine.fallback}")
    claims, rows = table(policy, 400, seed=11, persons=40, boundary=0.3)
    out = same(engine, scalar, claims, rows)
    assert out.results.num_rows > 50  # most claims are evaluated, not refused


@pytest.mark.parametrize("path", POLICIES + ["july"])
@settings(max_examples=10, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10 ** 6), n=st.integers(1, 120), persons=st.integers(1, 6),
       odd=st.sampled_from([0.0, 0.03]), seeds=st.sampled_from([0.0, 0.05]), platform=st.booleans(),
       boundary=st.sampled_from([0.0, 0.5, 1.0]))
def test_hypothesis_tables_equal(loaded, path, seed, n, persons, odd, seeds, platform, boundary):
    """Few persons, many claims each: long person-years, exact cap crossings, year boundaries, seeds."""
    policy, engine, scalar = loaded(path)
    claims, rows = table(policy, n, seed=seed, persons=persons, odd=odd, seeds=seeds, platform=platform,
                         boundary=boundary)
    same(engine, scalar, claims, rows)


def test_cap_reached_exactly(loaded):
    """绍兴: 1000 元 at 65% then 1100 元 at 50% is exactly the 1200 元 limit; the third visit pays nothing."""
    policy, engine, scalar = loaded("policies/shaoxing-2024.pol")
    base = {"险种": "城乡居民", "就诊类型": "门诊慢特病", "病种": "高血压", "就医地": "市内", "已备案慢病": "true",
            "人员编号": "P1"}
    visits = [("2024-01-10", "基层", "1000"), ("2024-03-10", "二级", "1100"), ("2024-05-10", "基层", "100"),
              ("2025-01-05", "基层", "100")]
    records = [dict(base, 就诊日期=d, 机构级别=lv, 政策范围内费用=amt) for d, lv, amt in visits]
    claims = pa.Table.from_pylist(records)
    out = same(engine, scalar, claims, np.arange(1, 5))
    paid = [str(v) for v in out.results.column("out.统筹支付").to_pylist()]
    assert paid == ["650.00", "550.00", "0.00", "65.00"]
    assert [str(v) for v in out.results.column("state.慢病净报销.after").to_pylist()] == \
        ["650.00", "1200.00", "1200.00", "65.00"]


def test_july_year_straddles(loaded):
    """`year by 出院日期 from 07-01`: a stay discharged on 07-01 starts the next 医保年度's total."""
    policy, engine, scalar = loaded("july")
    base = {"险种": "城乡居民", "就诊类型": "普通住院", "机构级别": "基层", "病种": "高血压", "人员类别": "居民成年",
            "人员编号": "P1", "已备案": "true", "就诊ID": "M1", "结算日期": "2024-07-01"}
    stays = [("2024-06-01", "2024-06-30", "1500"), ("2024-06-20", "2024-07-01", "1500"),
             ("2024-05-01", "2024-06-10", "600")]
    records = [dict(base, 就诊日期=a, 出院日期=b, 政策范围内费用=amt) for a, b, amt in stays]
    out = same(engine, scalar, pa.Table.from_pylist(records), np.arange(1, 4))
    assert out.results.column("year").to_pylist() == ["2023-07-01..2024-06-30", "2024-07-01..2025-06-30",
                                                      "2023-07-01..2024-06-30"]
    assert [str(v) for v in out.results.column("out.统筹支付").to_pylist()] == ["810.00", "975.00", "390.00"]


def test_admission_settled_in_parts(loaded):
    """中途结算: three settlements of one admission (the same 就诊ID) count 住院次数 once; the second admission at
    the same level pays half the 起付标准; the state texts (per 机构级别, counted ids) are the scalar engine's."""
    policy, engine, scalar = loaded("tests/policies/inpatient-cap.pol")
    assert isinstance(engine, VectorEngine)
    base = {"人员编号": "P1", "险种": "城乡居民", "就诊类型": "普通住院", "机构级别": "二级", "病种": "高血压",
            "人员类别": "居民成年", "就医地": "辖区内", "转诊手续": "true", "救助身份": "一般", "结算日期": "2024-12-31"}
    parts = [("M1", "2024-02-01", "2024-02-10", "3000"), ("M1", "2024-02-11", "2024-02-20", "2000"),
             ("M1", "2024-02-21", "2024-03-01", "1000"), ("M2", "2024-05-01", "2024-05-09", "4000"),
             ("M3", "2024-12-28", "2025-01-05", "4000"), ("M2", "2024-05-10", "2024-05-12", "500")]
    records = [dict(base, 就诊ID=i, 就诊日期=a, 出院日期=b, 政策范围内费用=amt) for i, a, b, amt in parts]
    out = same(engine, scalar, pa.Table.from_pylist(records), np.arange(1, len(records) + 1))
    after = out.results.column("state.住院次数.after").to_pylist()
    assert after[2] == '{"二级": {"value": "1", "counted": ["M1"]}}'
    assert after[5] == '{"二级": {"value": "2", "counted": ["M1", "M2"]}}'


def test_a_table_not_normalised_reads_its_dates(loaded, tmp_path):
    """engine.evaluate on a Parquet table as read (date32 dates, decimal money), without columns.normalise:
    the same results as after it, in both engines (it used to refuse every row's date)."""
    import pyarrow.parquet as pq

    from policylang.batch.columns import normalise
    from policylang.batch.synth import synthesize

    policy, engine, scalar = loaded("policies/shaoxing-2024.pol")
    synthesize(policy, 300, 5, tmp_path / "claims.parquet")
    raw = pq.read_table(tmp_path / "claims.parquet")
    assert raw.schema.field("begntime").type == pa.date32()
    rows = np.arange(1, raw.num_rows + 1)
    want = scalar.evaluate(normalise(raw, policy), rows)
    assert want.results.num_rows > 250
    for eng in (engine, scalar):
        got = eng.evaluate(raw, rows)
        assert got.rejects == want.rejects
        assert got.results.equals(want.results)
