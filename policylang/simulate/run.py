"""The streamed simulation: one read of the claims file, each batch evaluated by both policies.

The batch driver of the streamed eval (batch/run.py) cuts the file into tables of whole persons; each goes
to `Pair.tally` and the tallies merge. With `--baseline-results FILE` the baseline's results are written
there on the first run (temp then rename) and replayed on the next (baseline.py).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from policylang.batch.columns import check_columns, check_types
from policylang.batch.io import CsvReader, ParquetReader, Reader, open_claims
from policylang.batch.prefetch import Prefetched
from policylang.batch.run import BATCH_SIZE, Driver
from policylang.batch.writers import ResultWriter
from policylang.simulate.baseline import CachedEngine, cached_schema, fingerprint
from policylang.simulate.pair import Pair
from policylang.simulate.tally import Tally


def check_reform(reform, reader: Reader) -> None:
    """The file's columns (and a Parquet file's types) checked against the reform too, before any row is read:
    the reform may read an input the baseline does not. A JSONL file names its columns line by line, so
    there the claim edge checks each row instead."""
    if isinstance(reader, ParquetReader):
        check_columns(reform, reader.parquet.schema_arrow.names, reader.name)
        check_types(reform, reader.parquet.schema_arrow, reader.name)
    elif isinstance(reader, CsvReader):
        check_columns(reform, reader.header, f"{reader.name}:1")


class Outcome:
    def __init__(self, tally: Tally, rows_in: int, reader_rejected: int, seconds: float, cache: str | None):
        self.tally, self.rows_in, self.reader_rejected, self.seconds, self.cache = tally, rows_in, reader_rejected, seconds, cache


def simulate_file(pair: Pair, claims: Path, baseline_results: Path | None = None, batch_size: int = BATCH_SIZE,
                  progress: bool | None = None) -> Outcome:
    started = time.perf_counter()
    claims = Path(claims)
    reader = open_claims(claims, pair.baseline, batch_size)  # checks the file against the baseline
    check_reform(pair.reform, reader)
    cache, writer = None, None
    if baseline_results is not None:
        key = fingerprint(pair.baseline, claims)
        if Path(baseline_results).exists():
            pair.base_engine = CachedEngine(pair.baseline, baseline_results, key)
            cache = "read"
        else:
            schema = cached_schema(pair.baseline, key)
            writer = ResultWriter(Path(baseline_results), schema)
            cache = "written"
    total = Tally(pair.stages, pair.thresholds)
    counts = {"in": 0, "refused": 0}

    def evaluate(table: pa.Table, rows: np.ndarray) -> None:
        part, base = pair.tally(table, rows, full_base=writer is not None)
        if writer is not None:
            writer.write(base.results.select(writer.schema.names).cast(writer.schema))
        total.merge(part)

    bar = tqdm(total=reader.total, unit=" rows", file=sys.stderr, leave=False, dynamic_ncols=True,
               disable=(not progress) if progress is not None else None)
    try:
        driver = Driver(pair.baseline, pair.base_engine, evaluate, str(claims))
        for batch in Prefetched(reader.batches()):
            counts["in"] += batch.rows_in
            counts["refused"] += len({r.row for r in batch.rejects})
            driver.feed(batch.table, batch.rows)
            share = reader.done()
            if reader.total is None and share:  # rows in a text file are not known ahead: estimate by bytes
                bar.total = max(int(counts["in"] / share), counts["in"])
            bar.update(batch.rows_in)
        driver.close()
        if writer is not None:
            writer.close()  # the last batch is still being written: a failure is the run's
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        bar.close()
    if writer is not None:
        writer.commit()
    return Outcome(total, counts["in"], counts["refused"], time.perf_counter() - started, cache)
