"""The batch path from Python (policylang/batch/api.py) and the engine choice (engines.py)."""
from __future__ import annotations

import re
import sys
import types
from decimal import Decimal

import pyarrow as pa
import pytest

from batch_helpers import ROOT, SHAOXING, policy
from policylang.batch import engines
from policylang.batch.api import evaluate_table
from policylang.batch.columns import BadFile
from policylang.batch.scalar import ScalarEngine

CLAIMS = {
    "psn_no": ["p1", "p1", "p2"],
    "begntime": ["2024-01-10", "2024-03-10", "2024-02-01"],
    "insutype": ["390", "390", "310"],
    "med_type": ["14", "14", "14"],
    "dedc_hosp_lv": ["基层", "2", "基层"],
    "dise_codg": ["I10", "I10", "I10"],
    "就医地": ["市内", "市内", "市内"],
    "已备案慢病": [True, True, True],
    "inscp_scp_amt": [Decimal("1000.00"), Decimal("1100.00"), Decimal("12.345")],
}


def test_engine_for_without_the_vectorized_back_end_is_the_scalar_engine_saying_why(monkeypatch):
    monkeypatch.setitem(sys.modules, engines.VECTOR_MODULE, None)  # as if policylang/backends/vector.py were absent
    engine = engines.engine_for(policy())
    assert isinstance(engine, ScalarEngine)
    assert (engine.name, engine.fallback) == ("scalar", engines.NOT_INSTALLED)


def test_engine_for_uses_the_vectorized_back_end_when_it_is_there(monkeypatch):
    made = object()
    fake = types.ModuleType(engines.VECTOR_MODULE)
    fake.compile_engine = lambda pol: (made, pol)
    monkeypatch.setitem(sys.modules, engines.VECTOR_MODULE, fake)
    assert engines.engine_for(policy()) == (made, policy())


def test_evaluate_table_takes_arrow_and_pandas_alike():
    import pandas as pd

    for table in (pa.table(CLAIMS), pd.DataFrame(CLAIMS)):
        results, rejects = evaluate_table(str(SHAOXING), table)
        # Arrow types the column decimal128(…, 3) for the third amount: 1000.000 is still 1000.00 元, 12.345 is not
        assert results.column("row").to_pylist() == [1, 2]
        assert results.column("out.统筹支付").to_pylist() == [Decimal("650.00"), Decimal("550.00")]
        assert results.column("state.慢病净报销.after").to_pylist() == [Decimal("650.00"), Decimal("1200.00")]
        assert [(r.row, r.field) for r in rejects] == [(3, "inscp_scp_amt")]


def test_evaluate_table_refuses_float_money():
    import pandas as pd

    frame = pd.DataFrame({**CLAIMS, "inscp_scp_amt": [1000.0, 1100.0, 12.5]})
    with pytest.raises(BadFile, match="store money and rates as decimal"):
        evaluate_table(policy(), frame)


def test_the_python_example_in_docs_batch_md_runs(tmp_path, monkeypatch):
    """docs/batch.md's Python block, run as a reader would from the repository's root (in a scratch copy)."""
    text = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "docs/batch.md shows no Python example"
    for name in ("policies", "examples", "guidelines"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "docs/batch.md", "exec"), {})
