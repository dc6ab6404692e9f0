"""Streamed claim readers: .parquet, .csv and .jsonl in batches of rows, never the whole file in memory.

Each reader yields `Batch`es of raw claim columns (contract.py) with each row's number in the file:
Parquet and CSV count records from 1 (a CSV's header is not a record: record n is on line n + 1 when no cell
holds a line break); JSONL counts lines (a blank line holds no record). Rows the reader itself cannot read
(a CSV row with the wrong number of cells, a JSONL line that is not a JSON object) come back as rejects,
so rows in = rows evaluated + rows rejected. A file that cannot be read at all raises columns.BadFile.

The edge's rules are kept: CSV cells are read as text (no type guessing, `NA` stays the text NA, an empty
cell is an absent field); JSONL lines are parsed by claims.load_json, so numbers stay Decimal.
"""
from __future__ import annotations

import bisect
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from policylang import ir
from policylang.batch.columns import STATE_HINT, BadFile, check_columns, check_types, input_columns, normalise
from policylang.batch.contract import Reject
from policylang.claims import PASS_THROUGH, ClaimReader, load_json
from policylang.runtime import format_value

FORMATS = (".parquet", ".csv", ".jsonl")
NOT_UTF8 = "save the file as UTF-8; exports on Chinese Windows are often GBK"


@dataclass
class Batch:
    table: pa.Table  # raw claim columns, as the claim edge reads them
    rows: np.ndarray  # int64, each table row's number in the file
    rejects: list[Reject] = field(default_factory=list)  # rows the reader refused (not in `table`)
    rows_in: int = 0  # rows this batch accounts for: len(table) + rows refused by the reader


def file_format(path: Path, what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BadFile(str(path), None, f"{what} must be a .parquet, .csv or .jsonl file",
                      "a .json array is read whole: use `eval --claims FILE` without --out" if suffix == ".json" else "")
    return suffix


def open_claims(path: Path, policy: ir.Policy, batch_size: int) -> "Reader":
    suffix = file_format(path, "--claims")
    if not path.is_file():
        raise BadFile(str(path), None, "no such file")
    return {".parquet": ParquetReader, ".csv": CsvReader, ".jsonl": JsonlReader}[suffix](path, policy, batch_size)


class Reader:
    total: int | None = None  # rows in the file, when known before reading (Parquet)

    def __init__(self, path: Path, policy: ir.Policy, batch_size: int):
        self.path, self.policy, self.batch_size = path, policy, batch_size
        self.name = str(path)
        self.size = path.stat().st_size
        self.file = None  # the open file of a text format, whose position says how far the reading is

    def done(self) -> float | None:
        """The share of the file read so far (for the progress bar's estimate), when the reader can tell."""
        if self.file is None or self.file.closed or not self.size:
            return None
        try:  # the file is read (and closed at the end) on the reader thread (prefetch.py)
            return min(self.file.tell() / self.size, 1.0)
        except (ValueError, OSError):
            return None

    def batches(self) -> Iterator[Batch]:
        raise NotImplementedError


class ParquetReader(Reader):
    def __init__(self, path, policy, batch_size):
        super().__init__(path, policy, batch_size)
        try:
            self.parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise BadFile(self.name, None, f"not a readable Parquet file ({exc})",
                          "the file may be truncated or not Parquet; write it again") from None
        schema = self.parquet.schema_arrow
        check_columns(policy, schema.names, self.name)
        check_types(policy, schema, self.name)
        self.total = self.parquet.metadata.num_rows

    def batches(self):
        done = 0
        try:
            for rb in self.parquet.iter_batches(batch_size=self.batch_size):
                table = normalise(pa.Table.from_batches([rb]), self.policy)
                rows = np.arange(done + 1, done + len(table) + 1, dtype=np.int64)
                done += len(table)
                yield Batch(table, rows, [], len(table))
        except (pa.ArrowException, OSError) as exc:
            raise BadFile(f"{self.name}:{done + 1}", None, f"cannot read the rows from here on ({exc})",
                          "the file may be truncated or damaged; write it again") from None


class CsvReader(Reader):
    def __init__(self, path, policy, batch_size):
        super().__init__(path, policy, batch_size)
        with open(path, "rb") as f:
            first = f.readline()
        try:
            line = first.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadFile(f"{self.name}:1", None, f"not UTF-8 (byte 0x{first[exc.start]:02x})", NOT_UTF8) from None
        try:
            self.header = next(csv.reader([line]), [])
        except csv.Error as exc:
            raise BadFile(f"{self.name}:1", None, f"unreadable CSV header: {exc}") from None
        if not self.header:
            raise BadFile(f"{self.name}:1", None, "no header line", "the first line names the columns")
        check_columns(policy, self.header, f"{self.name}:1")
        self.skipped: list[int] = []  # record numbers of rows with the wrong number of cells, sorted
        self.refused: list[Reject] = []

    def _invalid(self, row) -> str:
        number = (row.number - 1) if row.number is not None and row.number > 0 else None
        more = row.actual_columns > row.expected_columns
        reason = (f"{'more' if more else 'fewer'} cells ({row.actual_columns}) than header columns "
                  f"({row.expected_columns})")
        if number is not None:
            bisect.insort(self.skipped, number)
        self.refused.append(Reject(number or 0, None, reason, "every row has one cell per header column"))
        return "skip"

    def batches(self):
        types = {name: pa.string() for name in self.header}
        self.file = open(self.path, "rb")
        try:
            yield from self._batches(types)
        finally:
            self.file.close()

    def _batches(self, types):
        try:
            reader = pacsv.open_csv(
                self.file,
                read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 22),
                parse_options=pacsv.ParseOptions(invalid_row_handler=self._invalid),
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False, null_values=[],
                                                     quoted_strings_can_be_null=False))
        except (pa.ArrowException, OSError) as exc:
            raise self._bad(exc, 0) from None
        counter, pending = 0, []
        try:
            for rb in reader:
                pending.append(rb)
                while sum(len(b) for b in pending) >= self.batch_size:
                    table = pa.Table.from_batches(pending)
                    head, tail = table.slice(0, self.batch_size), table.slice(self.batch_size)
                    pending = tail.to_batches()
                    counter, batch = self._batch(head, counter)
                    yield batch
        except (pa.ArrowException, OSError) as exc:
            raise self._bad(exc, counter) from None
        table = pa.Table.from_batches(pending, schema=reader.schema)
        if len(table) or self.refused:
            counter, batch = self._batch(table, counter)
            yield batch

    def _batch(self, table: pa.Table, counter: int) -> tuple[int, Batch]:
        """Number the good rows, skipping the record numbers of rows refused for their cell count."""
        if not self.skipped:
            rows = np.arange(counter + 1, counter + len(table) + 1, dtype=np.int64)
            counter += len(table)
        else:
            rows = np.empty(len(table), dtype=np.int64)
            for i in range(len(table)):
                counter += 1
                while self.skipped and self.skipped[0] <= counter:
                    if self.skipped.pop(0) == counter:
                        counter += 1
                rows[i] = counter
        refused, self.refused = self.refused, []
        for i, r in enumerate(refused):
            if r.row == 0:  # the parser did not say where: the records after the last numbered one
                counter += 1
                refused[i] = Reject(counter, r.field, r.reason, r.hint)
        return counter, Batch(normalise(table, self.policy), rows, refused, len(table) + len(refused))

    def _bad(self, exc, counter: int) -> BadFile:
        text = str(exc)
        where = f"{self.name}: record {counter + 1} or after"
        if "UTF8" in text or "UTF-8" in text:
            return BadFile(where, None, "not UTF-8", NOT_UTF8)
        return BadFile(where, None, f"unreadable CSV ({text})")


class JsonlReader(Reader):
    """Lines parsed with claims.load_json; each value becomes text the edge reads as it reads the JSON value.

    A JSON value that is not text (a number, true/false) is converted here by the claim edge (the same rule
    and message as `eval --claims`): a good one becomes its exact text, a bad one rejects the row."""

    def __init__(self, path, policy, batch_size):
        super().__init__(path, policy, batch_size)
        self.edge = ClaimReader(policy)
        self.inputs = input_columns(policy, [k for inp in policy.inputs.values() for k in (inp.name, inp.field) if k])

    def batches(self):
        records, rows, rejects, rows_in = [], [], [], 0
        with open(self.path, "rb") as f:
            self.file = f
            for number, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise BadFile(f"{self.name}:{number}", None, f"not UTF-8 (byte 0x{raw[exc.start]:02x})",
                                  NOT_UTF8) from None
                if not line.strip():
                    continue
                rows_in += 1
                record, problems = self._record(line, number)
                if problems:
                    rejects += problems
                else:
                    records.append(record)
                    rows.append(number)
                if rows_in >= self.batch_size:
                    yield self._batch(records, rows, rejects, rows_in)
                    records, rows, rejects, rows_in = [], [], [], 0
        if rows_in:
            yield self._batch(records, rows, rejects, rows_in)

    def _record(self, line: str, number: int) -> tuple[dict | None, list[Reject]]:
        try:
            data = load_json(line)
        except ValueError as exc:
            return None, [Reject(number, None, f"invalid JSON: {exc}")]
        if not isinstance(data, dict):
            return None, [Reject(number, None, "a claim must be a JSON object")]
        problems = [Reject(number, key, "given twice in the same claim", "give each field once")
                    for key in getattr(data, "duplicates", ())]
        out = {}
        for key, value in data.items():
            if key == "state":
                problems.append(Reject(number, key, "`state` is not read by the streamed path", STATE_HINT))
            elif value is None or isinstance(value, str):
                out[key] = value
            else:
                text, problem = self._text(key, value)
                if problem:
                    problems.append(Reject(number, key, problem))
                out[key] = text
        return (None, problems) if problems else (out, [])

    def _text(self, key: str, value) -> tuple[str | None, str | None]:
        """A non-text JSON value as the text that reads the same, or why the edge refuses it."""
        inp = self.inputs.get(key)
        if inp is None:  # an identifier or a field the policy does not read: the edge decides on its text
            if isinstance(value, (dict, list, bool)):
                return None, "expected text or a number"
            return str(format_value(value)), None
        try:
            typed = self.edge.convert(inp, value)
        except ValueError as exc:
            return None, str(exc)
        if isinstance(typed, bool):
            return ("true" if typed else "false"), None
        return str(value), None  # the text the edge itself read the number as (parse_money, match_member …)

    def _batch(self, records, rows, rejects, rows_in) -> Batch:
        names: dict[str, None] = {}
        for r in records:
            names.update(dict.fromkeys(r))
        if records and not names:  # only empty objects: no column to carry the rows; the edge says what is missing
            for number in rows:
                rejects += [Reject(number, e.field, e.message, e.hint or None)
                            for e in self.edge.read({}, f"{self.name}:{number}")[1]]
            records, rows = [], []
        table = pa.table({n: pa.array([r.get(n) for r in records], type=pa.string()) for n in names})
        return Batch(table, np.asarray(rows, dtype=np.int64), rejects, rows_in)


def read_table(path: Path) -> pa.Table:
    """A whole results (or small claims) file as a table: CSV and JSONL columns as text. For tests and tools."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.read_table(path)
    if suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in header}, strings_can_be_null=False, null_values=[]))
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))
    return pa.table({n: pa.array([_cell_text(r.get(n)) for r in records], pa.string()) for n in names})


def _cell_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)
