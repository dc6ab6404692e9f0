"""The Dask runner: Parquet in (a path or any fsspec URL), shuffled by person, partitions evaluated on the
workers, Parquet out, summaries reduced on the client.

Three kinds of task, all pure (the same inputs give the same outputs, so Dask may run one again after a
worker dies without losing or duplicating a row):
1. `_read` one row group: its claims with their input row numbers, split into BUCKETS tables by a stable
   hash of the person (CRC-32 of the person's text: the same on every machine, unlike Python's hash);
2. `_evaluate` one bucket: every row group's share of that bucket, which holds every claim of its persons
   (the partition contract, partition.py), evaluated; results written as part-NNNNN.parquet inside a
   temporary directory beside the output (the part is itself written under a temporary name and renamed, so
   a task run twice writes the same part twice, never two parts);
3. the client reduces the summaries and, only when every bucket is done, renames the temporary directory
   to the output. A run that fails removes the temporary directory: no output that looks complete.
"""
from __future__ import annotations

import operator
import os
import time
import uuid
import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from policylang import ir
from policylang.batch.columns import check_columns, check_types, input_columns
from policylang.scale.partition import ROW, evaluate_partition, tally_partition

PART = "part-{:05d}.parquet"


class RunFailed(Exception):
    """The cluster could not finish (E0498); nothing was left at the output path."""

    def __init__(self, what: str, hint: str):
        super().__init__(what)
        self.what, self.hint = what, hint


@dataclass
class Source:
    url: str
    groups: list  # (row group index, first row number)
    rows: int
    names: list


def open_source(url: str, policy: ir.Policy) -> Source:
    import fsspec

    try:
        with fsspec.open(url, "rb") as f:
            meta = pq.ParquetFile(f)
            schema = meta.schema_arrow
            sizes = [meta.metadata.row_group(i).num_rows for i in range(meta.num_row_groups)]
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise RunFailed(f"cannot read {url} as Parquet ({exc})",
                        "--engine dask reads a Parquet file: a local path or an fsspec URL (s3://…, gs://…)") from None
    check_columns(policy, schema.names, url)
    check_types(policy, schema, url)
    starts = np.concatenate([[1], 1 + np.cumsum(sizes)[:-1]]).astype(int).tolist() if sizes else []
    return Source(url, list(enumerate(starts)), int(sum(sizes)), list(schema.names))


def _person_hash(values: pa.Array, buckets: int) -> np.ndarray:
    """A bucket per row from its person; a claim without one goes by its row number."""
    encoded = values.cast(pa.string()).dictionary_encode()
    codes = np.array([zlib.crc32(v.encode("utf-8")) % buckets if v else -1
                      for v in encoded.dictionary.to_pylist()] + [-1], dtype=np.int64)
    index = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return codes[index]


def _read(url: str, group: int, first: int, person_columns: list, buckets: int) -> list:
    import fsspec

    with fsspec.open(url, "rb") as f:
        table = pq.ParquetFile(f).read_row_group(group)
    rows = np.arange(first, first + len(table), dtype=np.int64)
    table = table.append_column(ROW, pa.array(rows))
    if person_columns:
        persons = pc.coalesce(*[table.column(c).cast(pa.string()) for c in person_columns]).combine_chunks()
        bucket = _person_hash(persons, buckets)
    else:
        bucket = np.full(len(table), -1, np.int64)
    bucket = np.where(bucket < 0, rows % buckets, bucket)
    return [table.filter(pa.array(bucket == b)) for b in range(buckets)]


def _gather(pieces: list) -> pa.Table:
    pieces = [p for p in pieces if len(p)]
    return pa.concat_tables(pieces, promote_options="permissive") if pieces else None


def _evaluate(policy: ir.Policy, out_dir: str | None, bucket: int, hook, *pieces) -> dict:
    """Evaluate one bucket and write its part; the bucket's summary (rows, rejects, fund totals in fen)."""
    import fsspec

    from policylang.simulate.columns import exact_sum, fen, stages

    if hook is not None:
        hook(bucket)
    table = _gather(list(pieces))
    summary = {"rows": 0, "rejected": 0, "funds": {}}
    if table is None:
        return summary
    results, rejects = evaluate_partition(policy, table)
    summary["rows"] = len(results)
    summary["rejected"] = len(set(rejects.column("row").to_pylist()))
    applicable = results.column("applicable").fill_null(False).to_numpy(zero_copy_only=False)
    for name in stages(policy):
        values, valid = fen(results.column(f"setl.{name}"))
        summary["funds"][name] = exact_sum(values[valid & applicable])
    if out_dir is not None:
        fs, path = fsspec.core.url_to_fs(out_dir)
        for kind, data in (("", results), ("rejects-", rejects)):
            target = f"{path}/{kind}{PART.format(bucket)}"
            temp = f"{path}/.{uuid.uuid4().hex}.partial"
            with fs.open(temp, "wb") as f:
                pq.write_table(data, f)
            fs.mv(temp, target)
    return summary


def _tally(pair_parts: tuple, bucket: int, hook, *pieces):
    from policylang.simulate.pair import Pair
    from policylang.simulate.tally import Tally

    baseline, reform, thresholds = pair_parts
    if hook is not None:
        hook(bucket)
    pair = Pair.build(baseline, reform, thresholds, keep_in_force=True)  # already made counterfactual by the client
    table = _gather(list(pieces))
    return tally_partition(pair, table) if table is not None else Tally(pair.stages, thresholds)


def client_for(scheduler: str | None):
    """A client of the given scheduler, or of a local cluster on this machine's cores (closed with it)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def _shuffle(client, source: Source, policy: ir.Policy, buckets: int) -> list[list]:
    """Futures: for each bucket, every row group's share of it."""
    person = [c for c, inp in input_columns(policy, source.names).items() if inp.name == policy.person]
    reads = [client.submit(_read, source.url, g, first, person, buckets, pure=True) for g, first in source.groups]
    return [[client.submit(operator.getitem, r, b, pure=True) for r in reads] for b in range(buckets)]


def _wait(client, futures: list):
    from distributed import KilledWorker

    try:
        return client.gather(futures)
    except KilledWorker as exc:
        raise RunFailed(f"a task was lost with its worker too many times ({exc})",
                        "a worker died repeatedly (memory?); give workers more memory or use smaller row groups; "
                        "no output was written") from None


@dataclass
class EvalSummary:
    rows_in: int
    rows_out: int = 0
    rejected: int = 0
    funds: dict = field(default_factory=dict)
    seconds: float = 0.0


def eval_dask(policy: ir.Policy, claims: str, out: str, scheduler: str | None = None, buckets: int | None = None,
              client=None, hook=None) -> EvalSummary:
    """Evaluate a Parquet file on a Dask cluster into the Parquet dataset directory `out` (parts of results
    and rejects; read it back sorted by `row` for the input order)."""
    import fsspec

    started = time.perf_counter()
    source = open_source(claims, policy)
    own, cluster = (client, None) if client is not None else client_for(scheduler)
    fs, path = fsspec.core.url_to_fs(out)
    if fs.exists(path):
        raise RunFailed(f"{out} exists", "give a new --out path (the run writes a directory of parts there)")
    temp = f"{path.rstrip('/')}.{uuid.uuid4().hex}.partial"
    fs.mkdir(temp)
    try:
        n = buckets or max(2 * len(own.scheduler_info()["workers"]), 1)
        shares = _shuffle(own, source, policy, n)
        futures = [own.submit(_evaluate, policy, temp, b, hook, *shares[b], pure=False) for b in range(n)]
        parts = _wait(own, futures)
        fs.mv(temp, path, recursive=True)
    except BaseException:
        fs.rm(temp, recursive=True)
        raise
    finally:
        if cluster is not None:
            own.close()
            cluster.close()
    summary = EvalSummary(source.rows, seconds=time.perf_counter() - started)
    for p in parts:
        summary.rows_out += p["rows"]
        summary.rejected += p["rejected"]
        for k, v in p["funds"].items():
            summary.funds[k] = summary.funds.get(k, 0) + v
    return summary


class Outcome:
    def __init__(self, tally, rows_in, seconds):
        self.tally, self.rows_in, self.reader_rejected, self.seconds, self.cache = tally, rows_in, 0, seconds, None


def simulate_dask(pair, claims: str, scheduler: str | None = None, buckets: int | None = None, client=None,
                  hook=None) -> Outcome:
    """The simulate Tally of a Parquet file, computed partition by partition on a Dask cluster."""
    from policylang.simulate.tally import Tally

    started = time.perf_counter()
    source = open_source(claims, pair.baseline)
    check_columns(pair.reform, source.names, claims)
    own, cluster = (client, None) if client is not None else client_for(scheduler)
    try:
        n = buckets or max(2 * len(own.scheduler_info()["workers"]), 1)
        shares = _shuffle(own, source, pair.baseline, n)
        parts = (pair.baseline, pair.reform, pair.thresholds)
        tallies = _wait(own, [own.submit(_tally, parts, b, hook, *shares[b], pure=False) for b in range(n)])
    finally:
        if cluster is not None:
            own.close()
            cluster.close()
    total = Tally(pair.stages, pair.thresholds)
    for t in tallies:
        total.merge(t)
    return Outcome(total, source.rows, time.perf_counter() - started)


def _sweep(policies: list, bucket: int, hook, *pieces) -> list:
    from policylang.batch.engines import engine_for
    from policylang.scale.partition import split
    from policylang.simulate.sweep import sweep_table

    if hook is not None:
        hook(bucket)
    table = _gather(list(pieces))
    if table is None:
        return [None] * len(policies)
    claims, rows = split(table, policies[0])
    return sweep_table(policies, [engine_for(p) for p in policies], claims, rows)


def sweep_dask(policies: list, claims: str, scheduler: str | None = None, buckets: int | None = None,
               client=None, hook=None) -> tuple[list, int]:
    """Each value's totals (simulate/sweep.py) computed partition by partition on a Dask cluster."""
    from policylang.simulate.sweep import merge

    source = open_source(claims, policies[0])
    own, cluster = (client, None) if client is not None else client_for(scheduler)
    try:
        n = buckets or max(2 * len(own.scheduler_info()["workers"]), 1)
        shares = _shuffle(own, source, policies[0], n)
        parts = _wait(own, [own.submit(_sweep, policies, b, hook, *shares[b], pure=False) for b in range(n)])
    finally:
        if cluster is not None:
            own.close()
            cluster.close()
    found: list = [None] * len(policies)
    for part in parts:
        for i, p in enumerate(part):
            if p is not None:
                found[i] = merge(found[i], p)
    return found, source.rows
