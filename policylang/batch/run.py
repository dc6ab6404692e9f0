"""The streamed run: claims file in, results file (and rejects file) out, one batch at a time.

A person's claims must be contiguous in the file (docs/batch.md): the driver holds the last person of each
batch back for the next one, so an engine always sees a person's whole year and memory is bounded by the
batch size plus the largest person. A person met again after their claims were evaluated would need the
year-to-date that was already written: the run stops (exit 2) naming the person, both rows and how to sort
the file, rather than start that person's year again at zero.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from policylang import ir
from policylang.batch import BATCH_SIZE
from policylang.batch.columns import BadFile, input_columns
from policylang.batch.contract import Engine
from policylang.batch.engines import engine_for
from policylang.batch.io import file_format, open_claims
from policylang.batch.prefetch import Prefetched
from policylang.batch.schema import result_schema
from policylang.batch.writers import RejectWriter, ResultWriter
from policylang.platform import is_fund, sources

# The scalar engine holds tens of KB per claim while it works (Python objects per field, state and result):
# it is given person-whole pieces of about this many rows, so a 100k batch stays well under 1 GB.
SCALAR_PIECE = 5_000
SORT_HINT = ("a person's claims must be next to each other in the file; sort it by the person column first, "
             "e.g. duckdb -c \"SET memory_limit='1GB'; COPY (SELECT * FROM 'claims.parquet' ORDER BY psn_no) "
             "TO 'sorted.parquet'\"")


@dataclass
class Summary:
    engine: str
    fallback: str | None
    rows_in: int = 0
    rows_out: int = 0
    rows_rejected: int = 0
    funds: dict = field(default_factory=dict)  # setlinfo fund name -> (the output or input it comes from, total)
    seconds: float = 0.0
    out: Path | None = None
    rejects: Path | None = None

    def lines(self) -> list[str]:
        engine = self.engine + (f" ({self.fallback})" if self.fallback else "")
        lines = [f"rows: {self.rows_in} in = {self.rows_out} out + {self.rows_rejected} rejected",
                 f"engine: {engine}"]
        if self.out is not None:
            lines.append(f"results: {self.out}; rejects: {self.rejects}")
        if self.funds:
            lines.append("fund totals (applicable claims):")
            width = max(len(k) for k in self.funds)
            lines += [f"  {k.ljust(width)}  {total:>16}  {name}" for k, (name, total) in self.funds.items()]
        return lines


def default_rejects(out: Path) -> Path:
    return out.with_name(out.name + ".rejects.csv")


class Finished:
    """Persons whose claims were evaluated: a 64-bit fingerprint and the row of their first claim each, in
    sorted runs merged like a binary counter (16 bytes a person, lookups by binary search)."""

    def __init__(self):
        self.levels: list[tuple[np.ndarray, np.ndarray]] = []

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The first row of each key already finished, 0 where none."""
        found = np.zeros(len(keys), dtype=np.int64)
        for hashes, rows in self.levels:
            at = np.searchsorted(hashes, keys).clip(0, max(len(hashes) - 1, 0))
            hit = hashes[at] == keys if len(hashes) else np.zeros(len(keys), bool)
            found = np.where(hit & (found == 0), rows[at], found)
        return found

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self.levels.append((keys[order], rows[order]))
        while len(self.levels) > 1 and len(self.levels[-2][0]) <= 2 * len(self.levels[-1][0]):
            (h2, r2), (h1, r1) = self.levels.pop(), self.levels.pop()
            h, r = np.concatenate([h1, h2]), np.concatenate([r1, r2])
            order = np.argsort(h, kind="stable")
            self.levels.append((h[order], r[order]))


def _person_column(policy: ir.Policy, table: pa.Table) -> pa.ChunkedArray | None:
    """Each row's person as text (null for a claim without one: it is its own person)."""
    names = [n for n, inp in input_columns(policy, table.column_names).items() if inp.name == policy.person]
    if not names:
        return None
    cols = [table.column(n).cast(pa.string()) for n in names]
    col = cols[0] if len(cols) == 1 else pc.coalesce(*cols)
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _person_index(policy: ir.Policy, table: pa.Table) -> tuple[np.ndarray, pa.Array] | None:
    """(each row's person as an index into the names, -1 for none; the names), or None without a person column."""
    persons = _person_column(policy, table)
    if persons is None:
        return None
    codes = persons.combine_chunks().dictionary_encode()
    index = codes.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return index, codes.dictionary


class Driver:
    """Holds back the last person of each batch, checks contiguity, evaluates and writes."""

    def __init__(self, policy: ir.Policy, engine: Engine, write, source: str):
        self.policy, self.engine, self.write, self.source = policy, engine, write, source
        self.finished = Finished()
        self.held: tuple[pa.Table, np.ndarray] | None = None

    def feed(self, table: pa.Table, rows: np.ndarray) -> None:
        if self.held is not None:
            held_table, held_rows = self.held
            table = pa.concat_tables([held_table, table], promote_options="permissive")
            rows = np.concatenate([held_rows, rows])
            self.held = None
        if not len(table):
            return
        persons = _person_index(self.policy, table)
        if persons is None:
            self.write(table, rows)
            return
        index, names = persons
        known = np.nonzero(index >= 0)[0]
        if len(known):  # hold back the last person's run (claims without a person inside it go along)
            last = index[known[-1]]
            others = known[index[known] != last]
            cut = others[-1] + 1 if len(others) else 0
            self.held = (table.slice(cut), rows[cut:])
            table, rows, index = table.slice(0, cut), rows[:cut], index[:cut]
        if len(table):
            self.check(index, names, rows)
            self.write(table, rows)

    def close(self) -> None:
        if self.held is not None:
            table, rows = self.held
            self.held = None
            index, names = _person_index(self.policy, table)
            self.check(index, names, rows)
            self.write(table, rows)

    def check(self, index: np.ndarray, names: pa.Array, rows: np.ndarray) -> None:
        """Each person of this part in one run of rows (claims without a person may sit inside a run: they
        belong to nobody), and not met in an earlier part."""
        known = np.nonzero(index >= 0)[0]
        if not len(known):
            return
        start = np.ones(len(known), dtype=bool)
        start[1:] = index[known[1:]] != index[known[:-1]]
        seg = known[start]
        who = index[seg]
        unique, first, counts = np.unique(who, return_index=True, return_counts=True)
        if (counts > 1).any():
            person = unique[counts > 1][0]
            again = seg[who == person]
            self.refuse(names[int(person)].as_py(), int(rows[again[0]]), int(rows[again[1]]))
        keys = np.fromiter((hash(p) for p in names.to_pylist()), dtype=np.int64, count=len(names))[unique]
        seen = self.finished.find(keys)
        if (seen > 0).any():
            k = int(np.nonzero(seen > 0)[0][0])
            self.refuse(names[int(unique[k])].as_py(), int(seen[k]), int(rows[seg[first[k]]]))
        self.finished.add(keys, rows[seg[first]])

    def refuse(self, person: str, row: int, again: int) -> None:
        raise BadFile(f"{self.source}:{again}", None,
                      f"the claims of person {person!r} are not together: row {row} and again row {again}",
                      SORT_HINT)


def pieces(policy: ir.Policy, table: pa.Table, rows: np.ndarray, size: int | None):
    """The table in slices of about `size` rows, each person whole (a cut only where the person changes)."""
    if size is None or len(table) <= size:
        yield table, rows
        return
    persons = _person_index(policy, table)
    change = np.ones(len(table), dtype=bool)
    if persons is not None:  # a cut before row i is allowed unless the persons on both sides of it are one
        index = persons[0]
        at_known = np.where(index >= 0, np.arange(len(index)), -1)
        before = np.maximum.accumulate(at_known)  # the last row with a person at or before i
        after = np.minimum.accumulate(np.where(index >= 0, np.arange(len(index)), len(index))[::-1])[::-1]
        person_before = np.where(before >= 0, index[before.clip(0)], -1)
        person_after = np.where(after < len(index), index[after.clip(0, len(index) - 1)], -2)
        change[1:] = person_before[:-1] != person_after[1:]
    starts = np.nonzero(change)[0]
    at = 0
    while at < len(table):
        nxt = starts[np.searchsorted(starts, at + size)] if at + size < len(table) and \
            np.searchsorted(starts, at + size) < len(starts) else len(table)
        yield table.slice(at, nxt - at), rows[at:nxt]
        at = nxt


def fund_columns(policy: ir.Policy) -> dict[str, str]:
    """setlinfo fund name -> the policy name it comes from, in settlement order (a stage chain's stages)."""
    funds = {s.platform: s.name for s in sources(policy) if is_fund(s.platform)}
    if funds:
        funds["fund_pay_sumamt"] = "基金支付合计"
    return funds


def run_file(policy: ir.Policy, claims: Path, out: Path, rejects: Path | None = None,
             batch_size: int = BATCH_SIZE, progress: bool | None = None, engine: Engine | None = None) -> Summary:
    """Evaluate a claims file into a results file (and a rejects file), streamed; the run's Summary.

    progress: True draws the bar, False never, None only when stderr is a terminal."""
    started = time.perf_counter()
    claims, out = Path(claims), Path(out)
    file_format(out, "--out")
    rejects = Path(rejects) if rejects is not None else default_rejects(out)
    for path, what in ((out, "--out"), (rejects, "--rejects")):
        if path.resolve() == claims.resolve() or (what == "--rejects" and path.resolve() == out.resolve()):
            raise BadFile(str(path), None, f"{what} names the {'claims' if path.resolve() == claims.resolve() else 'results'} "
                          "file itself", "write the results to a new file")
    reader = open_claims(claims, policy, batch_size)
    engine = engine or engine_for(policy)
    schema = result_schema(policy)
    funds = fund_columns(policy)
    summary = Summary(engine.name, engine.fallback, out=out, rejects=rejects,
                      funds={k: (name, Decimal("0.00")) for k, name in funds.items()})
    results, refused = ResultWriter(out, schema), None
    bar = tqdm(total=reader.total, unit=" rows", file=sys.stderr, leave=False, dynamic_ncols=True,
               disable=(not progress) if progress is not None else None, smoothing=0.1,
               mininterval=0, miniters=1)  # redrawn once a batch: a vectorized batch can take less than tqdm's 0.1 s
    try:
        refused = RejectWriter(rejects)

        piece = SCALAR_PIECE if engine.name == "scalar" else None

        def evaluate(table: pa.Table, rows: np.ndarray) -> None:
            for part, part_rows in pieces(policy, table, rows, piece):
                evaluate_piece(part, part_rows)

        def evaluate_piece(table: pa.Table, rows: np.ndarray) -> None:
            done = engine.evaluate(table, rows)
            bad = {r.row for r in done.rejects}
            if len(done.results) + len(bad) != len(table):
                raise RuntimeError(f"the {engine.name} engine returned {len(done.results)} results and "
                                   f"{len(bad)} rejected rows for {len(table)} rows")
            results.write(done.results.select(schema.names).cast(schema))
            refused.write(done.rejects)
            summary.rows_out += len(done.results)
            summary.rows_rejected += len(bad)
            for k in funds:
                name, total = summary.funds[k]
                got = pc.sum(pc.if_else(done.results.column("applicable"), done.results.column(f"setl.{k}"),
                                        None)).as_py() if len(done.results) else None
                summary.funds[k] = (name, total + (got or 0))

        driver = Driver(policy, engine, evaluate, str(claims))
        for batch in Prefetched(reader.batches()):
            refused.write(batch.rejects)
            summary.rows_rejected += len({r.row for r in batch.rejects})
            summary.rows_in += batch.rows_in
            driver.feed(batch.table, batch.rows)
            share = reader.done()
            if reader.total is None and share:  # rows in a text file are not known ahead: estimate by bytes
                bar.total = max(int(summary.rows_in / share), summary.rows_in)
            bar.update(batch.rows_in)
        driver.close()
        results.close()  # the last batch is still being written: its error belongs to the run, inside this try
        refused.close()
    except BaseException:
        results.abort()
        if refused is not None:
            refused.abort()
        bar.close()
        raise
    bar.close()
    results.commit()
    refused.commit()
    summary.seconds = time.perf_counter() - started
    return summary
