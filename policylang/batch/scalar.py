"""The scalar batch engine: each row through the claim edge and the compiled evaluator.

It is the fallback for a policy the vectorized back end cannot carry (the reason is shown to the user)
and the reference the vectorized engine's tables are compared with, column for column.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from policylang import ir
from policylang.batch.contract import BatchOutput, Reject
from policylang.batch.schema import flatten, result_schema
from policylang.claims import ClaimReader, Record, result_record
from policylang.evaluators import run_claims


class ScalarEngine:
    name = "scalar"

    def __init__(self, policy: ir.Policy, fallback: str | None = None, source: str = "claims",
                 backend: str = "compiled"):
        self.policy = policy
        self.backend = backend  # evaluators.BACKENDS: the tests compare the vectorized engine with "interpreter"
        self.fallback = fallback
        self.source = source
        self.reader = ClaimReader(policy)
        self.schema = result_schema(policy)

    def evaluate(self, table: pa.Table, rows: np.ndarray) -> BatchOutput:
        claims, claim_rows, rejects = [], [], []
        for record, row in zip(table.to_pylist(), rows.tolist()):
            raw = Record((k, v) for k, v in record.items() if v is not None)
            claim, errors = self.reader.read(raw, f"{self.source}:{row}")
            if errors:
                rejects += [Reject(row, e.field, e.message, e.hint or None) for e in errors]
                continue
            claims.append(claim)
            claim_rows.append(row)
        done = run_claims(self.policy, claims, self.backend)
        out = [flatten(self.policy, result_record(self.policy, e.claim, e.state_before, e.outcome, e.year,
                                                  (e.totals_before, e.totals_after)), row, self.schema)
               for e, row in zip(done, claim_rows)]
        return BatchOutput(pa.Table.from_pylist(out, schema=self.schema), rejects)
