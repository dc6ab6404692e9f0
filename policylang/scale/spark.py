"""The PySpark recipe of docs/scale.md as a function: repartition by person, then mapInArrow over
`evaluate_partition`. pyspark is not a dependency; this module imports it only when called."""
from __future__ import annotations

import pyarrow as pa

from policylang import ir
from policylang.batch.schema import result_schema
from policylang.scale.partition import evaluate_partition


def evaluate_with_spark(spark, policy: ir.Policy, claims: str, person: str, partitions: int = 4) -> pa.Table:
    """Results of a Parquet claims file that carries a `row` column (each claim's input row number)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = result_schema(policy)

    def evaluate(batches):
        tables = [pa.Table.from_batches([b]) for b in batches]
        if not tables:
            return
        results, _ = evaluate_partition(policy, pa.concat_tables(tables))
        yield from results.to_batches()

    frame = spark.read.parquet(claims).repartition(partitions, person)
    out = frame.mapInArrow(evaluate, from_arrow_schema(schema))
    return pa.Table.from_batches(out._collect_as_arrow())
