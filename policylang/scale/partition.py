"""The engine-neutral entry point: evaluate one partition of claims, an Arrow table.

The contract (docs/scale.md): every claim of a person-year that is in the run is in the same partition,
and `row` holds each claim's row number in the input (so results can be put back in input order and
compared row for row). Any engine that can hand over such a table (Dask, Spark's mapInArrow, a notebook)
calls `evaluate_partition`; nothing here knows about the cluster.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from policylang import ir
from policylang.batch.columns import check_columns, check_types, normalise
from policylang.batch.engines import engine_for
from policylang.batch.schema import result_schema

ROW = "row"  # the column a partition carries each claim's 1-based input row number in
REJECT_SCHEMA = pa.schema([("row", pa.int64()), ("field", pa.string()), ("reason", pa.string()), ("hint", pa.string())])


def split(table: pa.Table, policy: ir.Policy) -> tuple[pa.Table, np.ndarray]:
    """(the claim columns as the claim edge reads them for `policy`, the input row numbers), in input order.

    Types are checked before normalising: a float money column stops the run (BadFile), as in `eval --out`."""
    if ROW not in table.column_names:
        raise ValueError(f"a partition carries each claim's input row number in a `{ROW}` column")
    rows = table.column(ROW).to_numpy().astype(np.int64)
    claims = table.drop_columns([ROW])
    check_types(policy, claims.schema, "partition")
    claims = normalise(claims, policy)
    order = np.argsort(rows, kind="stable")  # input order inside the partition: a person's claims as in the file
    if (np.diff(order) != 1).any():
        claims, rows = claims.take(pa.array(order)), rows[order]
    return claims, rows


def evaluate_partition(policy: ir.Policy, table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(results, rejects) of one partition: results with the columns of batch/schema.result_schema, in
    input-row order; rejects as (row, field, reason, hint)."""
    claims, rows = split(table, policy)
    check_columns(policy, claims.column_names, "partition")
    schema = result_schema(policy)
    if not len(claims):
        return schema.empty_table(), REJECT_SCHEMA.empty_table()
    out = engine_for(policy).evaluate(claims, rows)
    rejects = pa.Table.from_pylist([{"row": r.row, "field": r.field, "reason": r.reason, "hint": r.hint}
                                    for r in out.rejects], schema=REJECT_SCHEMA)
    return out.results.select(schema.names).cast(schema), rejects


def tally_partition(pair, table: pa.Table):
    """The simulate Tally of one partition (simulate/pair.py), for the Dask runner and other engines: the
    columns normalised for the baseline here, the reform's own ones again in Pair.tally."""
    claims, rows = split(table, pair.baseline)
    return pair.tally(claims, rows)[0]
