"""What the streamed I/O and a batch engine agree on.

The reader hands an engine a pyarrow Table of raw claim columns exactly as read from the file (keyed by
the file's column names, platform or Chinese) plus each row's 1-based row number in that file. Every
claim of a person is in the same table (the reader holds a batch's last person back for the next batch),
so an engine never carries a person-year's state across calls: it evaluates each person-year whole.

The engine validates the rows through the claim edge (the rules of docs/claims.md, the same messages),
evaluates the good ones and returns one result row per good claim, in input order, with the columns of
`schema.result_schema(policy)`; bad rows come back as rejects. rows in = results + rejected rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Reject:
    row: int  # 1-based row number in the input file
    field: str | None  # the column at fault, None for the row as a whole
    reason: str
    hint: str | None = None


@dataclass
class BatchOutput:
    results: pa.Table  # one row per accepted claim, input order, columns schema.result_schema(policy)
    rejects: list[Reject] = field(default_factory=list)  # one or more per refused row (all its errors)


class Engine(Protocol):
    name: str  # "vectorized" or "scalar"
    fallback: str | None  # why this policy runs on the scalar evaluator (None when vectorized): shown to the user

    def evaluate(self, table: pa.Table, rows: np.ndarray) -> BatchOutput:
        """Evaluate one batch; `rows` holds each table row's 1-based row number in the input file."""
        ...
