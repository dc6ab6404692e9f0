"""The batch path from Python (notebooks, other engines): the same checks, engine and results as
`policylang eval --out`, on an Arrow table or a pandas DataFrame in memory, or on files, streamed.

    results, rejects = evaluate_table("policies/shaoxing-2024.pol", table)
    summary = evaluate_file("policies/shaoxing-2024.pol", "claims.parquet", "results.parquet")
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from policylang import ir
from policylang.batch.columns import check_columns, check_types, normalise
from policylang.batch.contract import Reject
from policylang.batch.engines import engine_for
from policylang.batch.run import BATCH_SIZE, Summary, run_file
from policylang.pipeline import load_policy


def _policy(policy_or_path) -> ir.Policy:
    return policy_or_path if isinstance(policy_or_path, ir.Policy) else load_policy(str(policy_or_path))


def evaluate_table(policy_or_path, table) -> tuple[pa.Table, list[Reject]]:
    """Evaluate every claim of an in-memory table: (results, rejects).

    `table` is a pyarrow Table or a pandas DataFrame of raw claim columns (platform or Chinese names; money as
    decimal, integer or text, never float). The whole table is one batch, so a person's claims need not be
    together. Results have the columns of batch.schema.result_schema, one row per accepted claim, in input
    order; `row` is the claim's 1-based position in `table`. A bad column raises columns.BadFile.
    """
    policy = _policy(policy_or_path)
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    check_columns(policy, table.column_names, "table")
    check_types(policy, table.schema, "table")
    out = engine_for(policy).evaluate(normalise(table, policy), np.arange(1, len(table) + 1, dtype=np.int64))
    return out.results, out.rejects


def evaluate_file(policy_or_path, claims, out, rejects=None, batch_size: int = BATCH_SIZE,
                  progress: bool = False) -> Summary:
    """Stream a claims file (.parquet, .csv, .jsonl) into a results file, as `policylang eval --out` does;
    the Summary holds rows in/out/rejected, the engine and the fund totals."""
    return run_file(_policy(policy_or_path), Path(claims), Path(out), None if rejects is None else Path(rejects),
                    batch_size, progress)
