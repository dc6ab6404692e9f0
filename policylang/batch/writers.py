"""Streamed result and reject writers: each batch written as it is done, to a temporary name beside the
target, renamed over it only when the whole run has succeeded (`commit`). A run that fails part way leaves
no file that looks complete: `abort` removes the temporary file and the target is untouched.

Money: decimal strings ("650.00") in CSV and JSONL, decimal128(20, 2) in Parquet (the result schema's type).
"""
from __future__ import annotations

import contextlib
import csv
import datetime
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from policylang.batch.contract import Reject


class _Staged:
    """A file written under a temporary name in the target's directory and renamed at the end."""

    def __init__(self, path: Path):
        self.path = Path(path)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent or ".")
        os.close(fd)
        self.temp = Path(name)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temp, 0o666 & ~umask)  # mkstemp's 0600 is for secrets; results are read by others

    def commit(self) -> None:
        """Close (a write still under way finishes or fails here), then rename; on failure nothing is left."""
        try:
            self.close()
        except BaseException:
            self.abort()
            raise
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        """Called while another error stops the run: that error is the one reported, not a second from closing."""
        try:
            with contextlib.suppress(Exception):
                self.close()
        finally:
            self.temp.unlink(missing_ok=True)

    def close(self) -> None:  # pragma: no cover - overridden
        pass


class ResultWriter(_Staged):
    """Parquet and CSV batches are encoded on a second thread (Arrow releases the GIL while it encodes and
    compresses), so one batch is written while the next is evaluated: at most one batch waits, and an
    error in writing is raised by the next write or by close. JSONL is written in order on this thread."""

    def __init__(self, path: Path, schema: pa.Schema):
        super().__init__(path)
        self.schema = schema
        self.format = self.path.suffix.lower()
        self.rows = 0
        self.pending = None
        self.pool = None
        if self.format == ".parquet":  # dictionary pages for the texts (reasons repeat), plain for amounts
            texts = [f.name for f in schema if pa.types.is_string(f.type)]
            self.out = pq.ParquetWriter(self.temp, schema, use_dictionary=texts)
        elif self.format == ".csv":
            self.out = pacsv.CSVWriter(self.temp, schema, write_options=pacsv.WriteOptions(quoting_style="needed"))
        else:
            self.out = open(self.temp, "w", encoding="utf-8", newline="\n")
        if self.format in (".parquet", ".csv"):
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policylang-writer")

    def write(self, table: pa.Table) -> None:
        self.rows += len(table)
        if self.format == ".jsonl":
            self.out.write("".join(json.dumps(r, ensure_ascii=False, default=_plain) + "\n"
                                   for r in table.to_pylist()))
        elif len(table):
            self._wait()
            self.pending = self.pool.submit(self.out.write_table, table)

    def _wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        if self.out is None:
            return
        try:
            self._wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
            self.out.close()
            self.out = None


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class RejectWriter(_Staged):
    """The rejects file: CSV with columns row, field, reason, hint (one line per problem; a row may have several)."""

    COLUMNS = ("row", "field", "reason", "hint")

    def __init__(self, path: Path):
        super().__init__(path)
        self.file = open(self.temp, "w", encoding="utf-8", newline="")
        self.out = csv.writer(self.file)
        self.out.writerow(self.COLUMNS)
        self.rows: set[int] = set()

    def write(self, rejects: list[Reject]) -> None:
        for r in rejects:
            self.rows.add(r.row)
            self.out.writerow((r.row, r.field or "", r.reason, r.hint or ""))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
