"""The streamed path's two helper threads: the reader that fetches the next batch (batch/prefetch.py) and
the writer that encodes the last one (batch/writers.py). Order, errors and cleanup must be what the
single-threaded loop gave: every batch in order, the reader's error after the batches before it, a run
that stops early closes the reader, and a write that fails fails the run and leaves no file."""
from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from policylang.batch.prefetch import Prefetched
from policylang.batch.writers import ResultWriter


def test_batches_arrive_in_order_and_an_error_after_the_ones_before_it():
    def batches():
        yield from range(5)
        raise ValueError("row 6 is damaged")

    seen = []
    with pytest.raises(ValueError, match="row 6 is damaged"):
        for item in Prefetched(batches()):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_stopping_early_closes_the_reader_on_its_own_thread():
    closed = threading.Event()

    def batches():
        try:
            for i in range(1000):
                yield i
        finally:
            closed.set()

    for item in Prefetched(batches()):
        if item == 2:
            break
    assert closed.wait(5), "the reader was left open"


def test_the_reader_runs_at_most_one_batch_ahead():
    made, taken = [], []

    def batches():
        for i in range(6):
            made.append(i)
            yield i

    for item in Prefetched(batches()):
        taken.append(item)
        threading.Event().wait(0.02)  # let the reader run ahead as far as it can
        assert len(made) - len(taken) <= 2  # one waiting in the queue, one in the reader's hands


def test_a_failed_write_fails_the_run_and_leaves_no_file(tmp_path):
    schema = pa.schema([("amount", pa.decimal128(20, 2))])
    out = tmp_path / "results.parquet"
    writer = ResultWriter(out, schema)
    writer.write(pa.table({"amount": pa.array([1], pa.decimal128(20, 2))}))
    writer.write(pa.table({"other": pa.array(["x"])}))  # encoded on the writer thread: fails there
    with pytest.raises(ValueError, match="schema does not match"):
        writer.commit()
    writer.abort()
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_abort_reports_nothing_of_its_own_and_removes_the_partial_file(tmp_path):
    schema = pa.schema([("amount", pa.decimal128(20, 2))])
    writer = ResultWriter(tmp_path / "results.csv", schema)
    writer.write(pa.table({"other": pa.array(["x"])}))
    writer.abort()  # the run's own error is the one reported: no second one from the writer
    assert not list(tmp_path.iterdir())


def test_a_disk_full_on_the_last_batch_fails_the_run_and_commits_nothing(tmp_path, monkeypatch):
    """The last batch is written while the run is finishing: its failure must reach the run's own cleanup, so
    neither the results nor the rejects appear under their names and no temporary file is left."""
    import pyarrow.parquet as pq

    from policylang.batch.run import run_file
    from policylang.batch.synth import synthesize
    from policylang.pipeline import load_policy

    policy = load_policy("policies/shaoxing-2024.pol")
    claims = tmp_path / "in" / "claims.parquet"
    claims.parent.mkdir()
    synthesize(policy, 3000, 5, claims)
    writer = pq.ParquetWriter  # (Arrow's CSVWriter cannot be patched; it goes through the same ResultWriter)
    calls = []
    real = writer.write_table

    def full_disk(self, table, *args, **kwargs):
        calls.append(len(table))
        if sum(calls) >= 3000:  # the batch with the last row
            raise OSError(28, "No space left on device")
        return real(self, table, *args, **kwargs)

    monkeypatch.setattr(writer, "write_table", full_disk)
    out = tmp_path / "out" / "results.parquet"
    out.parent.mkdir()
    with pytest.raises(OSError, match="No space left"):
        run_file(policy, claims, out, batch_size=1000, progress=False)
    assert len(calls) >= 2
    assert not list(out.parent.iterdir())
