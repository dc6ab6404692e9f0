"""The PySpark recipe of docs/scale.md (repartition by person, mapInArrow over evaluate_partition) gives the
single-process results; it runs when pyspark and a JVM are present and is skipped, saying which is missing,
otherwise."""
from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policylang.batch.run import run_file
from policylang.batch.synth import synthesize
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "zhoushan-2023.pol"


def _spark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("pyspark is not installed (pip install pyspark) — the Spark recipe is not run")
    if shutil.which("java") is None:
        pytest.skip("no JVM on PATH (java) — the Spark recipe is not run")
    from pyspark.sql import SparkSession

    return SparkSession.builder.master("local[2]").appName("policylang-recipe").getOrCreate()


def test_spark_recipe_equals_the_single_process(tmp_path):
    spark = _spark()
    from policylang.scale.spark import evaluate_with_spark

    policy = load_policy(POLICY)
    claims = tmp_path / "claims.parquet"
    synthesize(policy, 400, 3, claims)
    table = pq.read_table(claims)
    table = table.append_column("row", pa.array(range(1, len(table) + 1), pa.int64()))
    pq.write_table(table, tmp_path / "numbered.parquet")
    results = evaluate_with_spark(spark, policy, str(tmp_path / "numbered.parquet"), "psn_no")
    run_file(policy, claims, tmp_path / "single.parquet", progress=False)
    single = pq.read_table(tmp_path / "single.parquet")
    assert results.sort_by("row").equals(single.cast(results.schema))
