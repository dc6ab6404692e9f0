"""The vectorized batch engine: the column-wise claim edge, the rank passes, the result table.

A batch whose person-years carry a `state` seed (a year-to-date a settlement system already knows) is
evaluated for those person-years by the scalar engine and merged in input order; so is a whole batch
whose year-to-date grows past the plan's bounds (StateOverflow). Both give the scalar engine's numbers.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from policylang import ir
from policylang.batch.contract import BatchOutput
from policylang.batch.scalar import ScalarEngine
from policylang.batch.schema import result_schema
from policylang.backends.vector import output, passes
from policylang.backends.vector.edge import EdgeReader
from policylang.backends.vector.plan import Plan
from policylang.backends.vector.values import Reasons


class VectorEngine:
    name = "vectorized"
    fallback = None

    def __init__(self, policy: ir.Policy, plan: Plan, source: str = "claims"):
        self.policy = policy
        self.plan = plan
        self.source = source
        self.edge = EdgeReader(plan, source)
        self.schema = result_schema(policy)
        self.scalar = ScalarEngine(policy, source=source)
        self.notes: list = []  # batches (or person-years) the scalar engine evaluated, and why

    def evaluate(self, table: pa.Table, rows: np.ndarray, schema: pa.Schema | None = None) -> BatchOutput:
        """schema: the result columns wanted (a part of result_schema, in its order); all by default."""
        schema = schema or self.schema
        rows = np.asarray(rows, dtype=np.int64)
        n = table.num_rows
        edge = self.edge.read(table, rows)
        valid = np.flatnonzero(edge.valid)
        scalar = self.seeded_years(edge, valid)
        vector = np.setdiff1d(valid, scalar, assume_unique=True)
        reasons = Reasons()
        try:
            res = passes.run(self.plan, edge.inputs, vector, n, reasons)
        except passes.StateOverflow as exc:
            self.notes.append(f"a year-to-date of `{exc}` passed the vectorized bound: batch evaluated by the scalar engine")
            vector, scalar = vector[:0], valid
            res = passes.run(self.plan, edge.inputs, vector, n, reasons)
        parts = [output.build(self.plan, edge, res, vector, rows, reasons, schema)]
        if len(scalar):
            done = self.scalar.evaluate(table.take(pa.array(scalar)), rows[scalar])
            parts.append(done.results.select(schema.names))
        results = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        if len(parts) > 1:
            where = np.concatenate([vector, scalar])
            results = results.take(pa.array(np.argsort(where, kind="stable")))
        return BatchOutput(results, edge.rejects)

    def seeded_years(self, edge, valid: np.ndarray) -> np.ndarray:
        """Rows of the person-years in which some claim carries `state`."""
        if not edge.seeded.any():
            return valid[:0]
        sorted_rows, group, _, _ = passes.order(self.plan, edge.inputs, valid)
        hit = np.unique(group[edge.seeded[sorted_rows]])
        return np.sort(sorted_rows[np.isin(group, hit)])
