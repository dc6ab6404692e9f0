"""The baseline's results kept in a Parquet file and replayed for further reforms (`--baseline-results`).

The file is the batch result table (batch/schema.py) of every row the baseline read, with two keys in its
metadata: a fingerprint of the resolved baseline (its IR, so an `--assume` or an edited file changes it)
and the SHA-256 of the claims file. A file whose keys do not match is refused (E0496), never replayed
against other claims; rows absent from it are rows the baseline refused.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from policylang import ir
from policylang.batch.contract import BatchOutput, Reject
from policylang.batch.schema import result_schema

KEY = b"policylang.simulate.baseline"
REFUSED = "refused by the baseline when its results were cached"


def fingerprint(policy: ir.Policy, claims: Path) -> dict:
    digest = hashlib.sha256()
    with open(claims, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"policy": hashlib.sha256(repr(policy).encode("utf-8")).hexdigest(), "claims": digest.hexdigest()}


class CacheMismatch(Exception):
    def __init__(self, path: Path, what: str):
        super().__init__(what)
        self.args_ = {"path": str(path), "what": what}


def cached_schema(policy: ir.Policy, key: dict) -> pa.Schema:
    return result_schema(policy).with_metadata({KEY: json.dumps(key).encode()})


class CachedEngine:
    """Replays cached baseline results for the rows asked, in order (rows ascend through the run)."""

    name = "cached"
    fallback = None

    def __init__(self, policy: ir.Policy, path: Path, key: dict):
        self.path = Path(path)
        try:
            self.file = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise CacheMismatch(self.path, f"by something else: it is not a readable Parquet file ({exc})") from None
        meta = self.file.schema_arrow.metadata or {}
        found = json.loads(meta[KEY]) if KEY in meta else None
        if found is None:
            raise CacheMismatch(self.path, "by something else: it is not a simulate baseline cache")
        if found.get("policy") != key["policy"]:
            raise CacheMismatch(self.path, "for another baseline (the policy or its assumptions differ)")
        if found.get("claims") != key["claims"]:
            raise CacheMismatch(self.path, "for another claims file")
        self.schema = result_schema(policy)
        self.batches = self.file.iter_batches(batch_size=65_536)
        self.buffer = pa.table({f.name: pa.array([], f.type) for f in self.schema}, schema=self.schema)

    def evaluate(self, table: pa.Table, rows: np.ndarray) -> BatchOutput:
        last = int(rows.max()) if len(rows) else 0
        while not len(self.buffer) or int(self.buffer.column("row")[-1].as_py()) < last:
            batch = next(self.batches, None)
            if batch is None:
                break
            self.buffer = pa.concat_tables([self.buffer, pa.Table.from_batches([batch]).cast(self.schema)])
        have = self.buffer.column("row").to_numpy()
        upto = int(np.searchsorted(have, last, side="right"))
        head, self.buffer = self.buffer.slice(0, upto), self.buffer.slice(upto)
        keep = np.isin(head.column("row").to_numpy(), rows)
        results = head.filter(pa.array(keep))
        missing = np.setdiff1d(rows, results.column("row").to_numpy())
        return BatchOutput(results, [Reject(int(r), None, REFUSED) for r in missing])
