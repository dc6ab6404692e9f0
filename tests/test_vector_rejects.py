"""The vectorized claim edge refuses exactly the rows ClaimReader refuses, with the same field, message and
hint, and reads the rest to the same values: the claims corpus (tests/claims-corpus/) as tables, typed Arrow
columns (integers, decimals, booleans, floats, dates), and hand-made bad rows scattered among good ones."""
from __future__ import annotations

import datetime
import json
import shlex
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from policylang.batch.scalar import ScalarEngine
from policylang.backends.vector import VectorEngine, compile_engine
from policylang.claims import read_records
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "claims-corpus"


def engines(path: str):
    policy = load_policy(str(ROOT / path))
    engine = compile_engine(policy)
    return engine, ScalarEngine(policy)


def compare(path: str, claims: pa.Table):
    vector, scalar = engines(path)
    rows = np.arange(1, claims.num_rows + 1)
    a, b = vector.evaluate(claims, rows), scalar.evaluate(claims, rows)
    assert a.rejects == b.rejects
    assert a.results.equals(b.results)
    return a


def column(values: list) -> pa.Array:
    """A column as a file reader could give it: typed when the values agree, else JSON text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array([None if v is None else v if isinstance(v, str) else json.dumps(v, default=str)
                         for v in values], pa.string())


def corpus_cases():
    for expected in sorted(CORPUS.glob("*.expected")):
        words = shlex.split(expected.read_text(encoding="utf-8").splitlines()[0][2:])
        policy, claims = words[2], words[words.index("--claims") + 1]
        yield pytest.param(policy, claims, id=Path(claims).name)


@pytest.mark.parametrize("policy,claims", list(corpus_cases()))
def test_corpus_as_tables(policy, claims):
    records, errors = read_records(ROOT / claims)
    if errors or not records:
        pytest.skip("a file-level error: the streamed reader's, not the engine's")
    if isinstance(compile_engine(load_policy(str(ROOT / policy))), ScalarEngine):
        pytest.skip("policy falls back")
    names: list = []
    for _, record in records:
        names += [k for k in record if k not in names]
    table = pa.table({k: column([r.get(k) for _, r in records]) for k in names})
    compare(policy, table)


GOOD = {"人员编号": "P1", "就诊日期": "2024-03-01", "险种": "城乡居民", "就诊类型": "门诊慢特病", "机构级别": "基层",
        "病种": "高血压", "就医地": "市内", "已备案慢病": "true", "政策范围内费用": "1000"}
BAD_CELLS = [("政策范围内费用", "１２"), ("政策范围内费用", "12.345"), ("政策范围内费用", "-5"),
             ("政策范围内费用", "10000000.01"), ("政策范围内费用", "12元"), ("政策范围内费用", " 100 "),
             ("政策范围内费用", "nan"), ("政策范围内费用", "1e3"), ("就诊日期", "２０２４-01-01"),
             ("就诊日期", "20240301"), ("就诊日期", "2024-02-30"), ("就诊日期", "2024-03-01 08:00:00"),
             ("险种", "390"), ("险种", "城乡"), ("病种", "a15.0"), ("病种", "ZZZ"), ("已备案慢病", "是"),
             ("已备案慢病", "maybe"), ("已备案慢病", None), ("就医地", None), ("机构级别", ""),
             ("其他门诊应付", "2000"), ("其他门诊应付", "10"), ("claim_id", "C-1"), ("未知字段", "x"),
             ("inscp_scp_amt", "100"), ("state", '{"慢病净报销": "100"}'), ("state", "[1]"),
             ("就诊类型", "普通门诊"), ("医疗费总额", "999"), ("医疗费总额", "1000")]


def test_bad_cells_scattered_among_good_rows():
    records = []
    for i, (key, value) in enumerate(BAD_CELLS):
        records.append(dict(GOOD, 人员编号=f"P{i % 4}"))
        records.append(dict(GOOD, 人员编号=f"P{i % 4}", **{key: value}))
    names: list = []
    for r in records:
        names += [k for k in r if k not in names]
    table = pa.table({k: pa.array([r.get(k) for r in records], pa.string()) for k in names})
    out = compare("policies/shaoxing-2024.pol", table)
    assert len({r.row for r in out.rejects}) >= 15
    assert out.results.num_rows + len({r.row for r in out.rejects}) == len(records)


def test_typed_arrow_columns():
    """Integers, decimals (more than two places refused), booleans, floats (refused: not exact), dates
    (refused, as ClaimReader refuses a non-text date) and integers where a bool or member is wanted."""
    n = 6
    table = pa.table({
        "人员编号": pa.array([1, 2, 3, 1, 2, 3], pa.int64()),
        "就诊日期": pa.array(["2024-01-0%d" % (i + 1) for i in range(n)]),
        "险种": pa.array(["城乡居民"] * n), "就诊类型": pa.array(["门诊慢特病"] * n),
        "机构级别": pa.array(["基层", "二级", "三级", "基层", "一级", "基层"]),
        "病种": pa.array(["肺结核", "高血压", "I10", "A15", "糖尿病", "高血压"]),
        "就医地": pa.array(["市内"] * n),
        "已备案慢病": pa.array([True, True, True, True, True, False]),
        "政策范围内费用": pa.array([Decimal("100.5"), Decimal("20.25"), Decimal("1.125"), Decimal("0"),
                               Decimal("-1"), Decimal("7")], pa.decimal128(10, 3)),
        "其他门诊应付": pa.array([None, 5, None, None, None, None], pa.int64()),
    })
    compare("policies/shaoxing-2024.pol", table)
    floats = table.set_column(8, "政策范围内费用", pa.array([100.5, 20.25, 1.0, 0.0, 3.0, 7.0]))
    compare("policies/shaoxing-2024.pol", floats)
    dates = table.set_column(1, "就诊日期", pa.array([datetime.date(2024, 1, i + 1) for i in range(n)]))
    compare("policies/shaoxing-2024.pol", dates)
    ints = table.set_column(7, "已备案慢病", pa.array([1, 0, 1, 1, 1, 1]))
    compare("policies/shaoxing-2024.pol", ints)
    money_ints = table.set_column(8, "政策范围内费用", pa.array([100, 2000, 0, 10 ** 8, 7, 1], pa.int64()))
    compare("policies/shaoxing-2024.pol", money_ints)


def test_vectorized_engine_in_use():
    assert isinstance(compile_engine(load_policy(str(ROOT / "policies" / "shaoxing-2024.pol"))), VectorEngine)


@pytest.mark.parametrize("path", ["policies/shaoxing-2024.pol", "tests/policies/inpatient-cap.pol"])
def test_table_shapes(path):
    """Empty, one row, no 人员编号 column, dictionary, large-string and chunked columns, nothing but an unknown
    column: the same table and rejects as the scalar engine."""
    from tests.vector_gen import table
    vector, scalar = engines(path)
    policy = vector.policy
    t, rows = table(policy, 50, 3)
    cases = [(t.slice(0, 0), rows[:0]), (t.slice(0, 1), rows[:1]), (t.drop_columns([policy.person]), rows),
             (pa.table({c: t.column(c).dictionary_encode() for c in t.column_names}), rows),
             (pa.table({c: t.column(c).cast(pa.large_string()) for c in t.column_names}), rows),
             (pa.concat_tables([t.slice(0, 20), t.slice(20)]), rows), (pa.table({"x": ["1"] * 3}), rows[:3])]
    for claims, numbers in cases:
        a, b = vector.evaluate(claims, numbers), scalar.evaluate(claims, numbers)
        assert a.rejects == b.rejects
        assert a.results.equals(b.results)


def test_decimal_money_columns():
    """Money as decimal128 of scale 0, 1 and 2 read from the buffer (negatives and values past int64 go to the
    reader for its message); scale 3 is refused as ClaimReader refuses 1.125."""
    good = dict(GOOD)
    del good["政策范围内费用"]
    values = [Decimal("100"), Decimal("0"), Decimal("-3"), Decimal("10000000"), Decimal("10000001"), None]
    for type_ in (pa.decimal128(12, 0), pa.decimal128(12, 1), pa.decimal128(12, 2), pa.decimal128(38, 2),
                  pa.decimal128(12, 3)):
        table = pa.table({**{k: pa.array([v] * len(values)) for k, v in good.items()},
                          "政策范围内费用": pa.array(values, type_)})
        compare("policies/shaoxing-2024.pol", table)
    huge = pa.table({**{k: pa.array([v] * 2) for k, v in good.items()},
                     "政策范围内费用": pa.array([Decimal(10) ** 30, Decimal(1)], pa.decimal128(38, 2))})
    compare("policies/shaoxing-2024.pol", huge)
    widest = pa.table({**{k: pa.array([v] * 2) for k, v in good.items()},
                       "政策范围内费用": pa.array([Decimal(10) ** 37, Decimal(1)], pa.decimal128(38, 0))})
    compare("policies/shaoxing-2024.pol", widest)
