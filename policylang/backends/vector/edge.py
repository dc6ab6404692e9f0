"""The claim edge, column-wise: raw Arrow columns → typed numpy columns, with ClaimReader's decisions.

A column is converted once per distinct raw value through ClaimReader.convert (members, bools, dates,
rates: few distinct values), money strings by a regular expression and Arrow's decimal cast (fen as int64).
Any row the fast paths do not accept as ordinary (a bad or odd cell, a missing field, a broken constraint,
a `state` seed, a column given twice) is read whole by ClaimReader itself: its errors are the rejects, word
for word, and when it is in fact valid ("12元", " 2024-01-01") its typed values replace the row's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policylang import ir
from policylang.batch.contract import Reject
from policylang.claims import PASS_THROUGH, ClaimReader, Record
from policylang.domains import LIMITS, domain
from policylang.runtime import format_value
from policylang.backends.vector.evaluate import day_of

MONEY_FAST = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
_BLANK = {"bool": bool, "enum": np.int16}  # a blank column's dtype by input type (text: objects; else int64)


class Column:
    """One input over the batch: data (int64 scaled, bool, int16 member code, int64 day, object text) and
    where the claim gave it. A text column read as Arrow strings keeps them (`arrow`) and makes Python
    strings only if an expression reads them."""

    def __init__(self, data, present, scale: int = 0, arrow: pa.Array | None = None):
        self._data, self.present, self.scale, self.arrow = data, present, scale, arrow
        self.exps = None  # the Decimal exponent per row, kept for inputs a reason prints as written

    @property
    def data(self) -> np.ndarray:
        if self._data is None:
            self._data = self.arrow.to_numpy(zero_copy_only=False).astype(object)
        return self._data

    @data.setter
    def data(self, value):
        self._data = value

    def codes(self) -> np.ndarray:
        """An int per distinct value (-1 where absent): what groups claims by person."""
        if self.arrow is not None:
            encoded = pc.dictionary_encode(self.arrow)
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            keys = np.array([str(x) for x in self.data], dtype=object)
            _, codes = np.unique(keys, return_inverse=True)
            codes = codes.reshape(-1).astype(np.int64)
        return np.where(self.present, codes, -1)


@dataclass
class Edge:
    valid: np.ndarray  # rows that are claims (the rest are rejected)
    inputs: dict  # input name -> Column
    extras: dict  # identifier -> object array (None where not given)
    notes: list  # per row: dict of reading notes, or None
    seeded: np.ndarray  # rows that carry a `state` seed
    rejects: list = field(default_factory=list)


def kind_scale(inp: ir.Input) -> int:
    return LIMITS[inp.type.name][2] if inp.type.name in LIMITS else 0


def _chunk(col) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def _absent(arr: pa.Array) -> np.ndarray:
    """Null, or (text) empty: a field the claim does not give. An empty string is read from the offsets."""
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    if (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)) and arr.buffers()[1] is not None:
        width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset: arr.offset + len(arr) + 1]
        missing = missing | (np.diff(offsets) == 0)
    return missing


class EdgeReader:
    def __init__(self, plan, source: str = "claims"):
        self.plan = plan
        self.policy = plan.policy
        self.reader = ClaimReader(plan.policy)
        self.source = source

    def read(self, table: pa.Table, rows: np.ndarray) -> Edge:
        p, n = self.policy, table.num_rows
        odd = np.zeros(n, dtype=bool)
        seeded = np.zeros(n, dtype=bool)
        inputs: dict = {}
        extras: dict = {}
        notes: list = [None] * n
        given: dict = {}  # input name -> rows given (to find a field given under both its names)
        for name in table.column_names:
            arr = _chunk(table.column(name))
            absent = _absent(arr)
            if name in PASS_THROUGH:
                if name == "state":
                    seeded |= ~arr.is_null().to_numpy(zero_copy_only=False)
                    odd |= seeded
                    continue
                extras[name], bad = self.identifier(arr)
                odd |= bad
                if name not in self.reader.by_key:
                    continue
            target = self.reader.by_key.get(name)
            if target is None:
                odd |= ~absent
                continue
            if target in given:
                odd |= given[target] & ~absent
                continue  # ClaimReader says which; the first column holds the values
            given[target] = ~absent
            inputs[target] = self.convert(p.inputs[target], arr, absent, odd, notes, name)
        for name, inp in p.inputs.items():
            col = inputs.get(name)
            if col is None:
                inputs[name] = col = self.blank(inp, n)
                if name in self.plan.exps_needed:
                    col.exps = np.zeros(n, dtype=np.int8)
            if not inp.optional:
                odd |= ~col.present
        self.check_amounts(inputs, odd)
        self.check_constraints(inputs, odd, n)
        rejects = []
        valid = ~odd
        odd_rows = np.flatnonzero(odd)
        raws = table.take(pa.array(odd_rows)).to_pylist() if len(odd_rows) else []
        for i, raw in zip(odd_rows, raws):
            record = Record((k, v) for k, v in raw.items() if v is not None)
            claim, errors = self.reader.read(record, f"{self.source}:{int(rows[i])}")
            if errors:
                rejects += [Reject(int(rows[i]), e.field, e.message, e.hint or None) for e in errors]
                continue
            valid[i] = True
            self.patch(inputs, int(i), claim, extras, notes)
        return Edge(valid, inputs, extras, notes, seeded & valid, rejects)

    # ---- columns
    def blank(self, inp: ir.Input, n: int) -> Column:
        t = inp.type.name
        data = np.full(n, None, object) if t == "text" else np.zeros(n, _BLANK.get(t, np.int64))
        return Column(data, np.zeros(n, dtype=bool), kind_scale(inp))

    def identifier(self, arr: pa.Array):
        """An identifier copied into the result as text; anything but a string or a number is an odd row."""
        n = len(arr)
        present = ~arr.is_null().to_numpy(zero_copy_only=False)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            return arr, np.zeros(n, bool)
        if pa.types.is_integer(arr.type):
            return pc.cast(arr, pa.string()), np.zeros(n, bool)
        if pa.types.is_decimal(arr.type):
            return np.array([None if v is None else format_value(v) for v in arr.to_pylist()], dtype=object), \
                np.zeros(n, bool)
        return np.full(n, None, dtype=object), present

    def convert(self, inp: ir.Input, arr: pa.Array, absent, odd, notes, column: str) -> Column:
        n = len(arr)
        col = self.blank(inp, n)
        col.present = ~absent
        t = inp.type.name
        if inp.name in self.plan.exps_needed:
            col.exps = np.zeros(n, dtype=np.int8)
        if t == "money" and self.money(inp, arr, absent, col, odd):
            return col
        if t == "text" and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            col.data, col.arrow = None, arr
            return col
        if t == "enum" and self.members(inp, arr, absent, col):
            return col
        self.per_value(inp, arr, absent, col, odd, notes, column)
        return col

    def money(self, inp, arr, absent, col, odd) -> bool:
        """Plain money text or integers column-wise; the rest goes per value. True when done here."""
        high = domain(inp).high
        low = domain(inp).low
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            fast = pc.fill_null(pc.match_substring_regex(arr, MONEY_FAST), False).to_numpy(zero_copy_only=False)
            text = pc.if_else(pa.array(fast), arr, pa.scalar("0"))
            fen = _fen(pc.cast(text, pa.decimal128(18, 2)))
        elif pa.types.is_integer(arr.type):
            values = pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.int64)
            fast = (values >= 0) & (values <= 10 ** 12)
            fen = np.where(fast, values, 0) * 100
        elif pa.types.is_decimal128(arr.type) and 0 <= arr.type.scale <= 2:
            try:  # at scale 2 the buffer already holds fen; a smaller scale is exact with zeros appended
                words = _words(arr if arr.type.scale == 2 else pc.cast(arr, pa.decimal128(38, 2)))
            except pa.ArrowInvalid:  # a value with 37 or 38 digits: each through the reader
                return False
            fen = words[:, 0]
            fast = (words[:, 1] == (fen >> 63)) & (fen >= 0)  # fits int64, not negative (its message: the reader's)
            if col.exps is not None:
                col.exps = np.full(len(arr), -arr.type.scale, dtype=np.int8)
        else:
            return False
        if col.exps is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            dot = pc.find_substring(arr, ".").to_numpy(zero_copy_only=False)
            length = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
            col.exps = np.where(fast & (dot >= 0), -(length - dot - 1), 0).astype(np.int8)
        inside = (fen >= int(low * 100)) & (fen <= int(high * 100))
        ok = fast & inside
        col.data = np.where(ok, fen, 0).astype(np.int64)
        odd |= ~absent & ~ok
        return True

    def members(self, inp, arr, absent, col) -> bool:
        """A column of member names written exactly (what ClaimReader reads without a note): one lookup in
        Arrow. True when every given cell is one; else per_value reads the column (codes, spaces, typos)."""
        if not pa.types.is_string(arr.type):
            return False
        names = self.plan.members[inp.type.enum]
        found = pc.index_in(arr, value_set=pa.array(names, pa.string()))
        if found.null_count > int(absent.sum()):
            return False
        col.data = pc.fill_null(found, 0).to_numpy(zero_copy_only=False).astype(np.int16)
        return True

    def per_value(self, inp, arr, absent, col, odd, notes, column):
        """Each distinct raw value through ClaimReader.convert once; refused values make odd rows."""
        codes = self.plan.codes.get(inp.type.enum) if inp.type.name == "enum" else None
        scale = kind_scale(inp)
        try:
            encoded = pc.dictionary_encode(arr)
            distinct = encoded.dictionary.to_pylist()
            index = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            values = arr.to_pylist()
            distinct, index = [], np.empty(len(values), dtype=np.int64)
            seen: dict = {}
            for i, raw in enumerate(values):
                key = repr((type(raw), raw))
                if key not in seen:
                    seen[key] = len(distinct)
                    distinct.append(raw)
                index[i] = seen[key]
        good = np.zeros(len(distinct) + 1, dtype=bool)  # the last slot: a null
        typed = np.zeros(len(distinct) + 1, dtype=col.data.dtype)
        exps = np.zeros(len(distinct) + 1, dtype=np.int8)
        said = {}
        for k, raw in enumerate(distinct):
            if raw is None or raw == "":
                continue
            note: dict = {}
            try:
                value = self.reader.convert(inp, raw, note)
                typed[k] = _typed(inp, value, codes, scale)
                if isinstance(value, Decimal):
                    exps[k] = value.as_tuple().exponent
                good[k] = True
                if note:
                    said[k] = note.get(inp.field or inp.name)
            except (ValueError, TypeError):
                pass
        col.data = typed[index]
        if col.exps is not None:
            col.exps = exps[index]
        odd |= ~absent & ~good[index]
        for k, note in said.items():
            if note:
                for i in np.flatnonzero(index == k):
                    notes[i] = {**(notes[i] or {}), inp.field or inp.name: note}

    # ---- whole-row checks (ClaimReader.check_amounts and check_constraints): a failing row is odd
    def check_amounts(self, inputs, odd):
        total, inscp = inputs.get("医疗费总额"), inputs.get("政策范围内费用")
        if total is None or inscp is None:
            return
        both = total.present & inscp.present
        if not both.any():  # the file gives no 医疗费总额 (or no 政策范围内费用): nothing to add up
            return
        parts = sum((inputs[n].data * inputs[n].present if n in inputs else 0)
                    for n in ("全自费金额", "超限价自费", "先行自付"))
        odd |= both & (total.data != inscp.data + parts)

    def check_constraints(self, inputs, odd, n):
        if not self.policy.constraints:
            return
        from policylang.backends.vector.passes import input_values
        from policylang.backends.vector.evaluate import Ctx
        from policylang.backends.vector.values import Reasons
        ctx = Ctx(self.plan, n, input_values(self.plan, inputs, None, Reasons()),
                  inputs[self.policy.service_date].data, self.plan.initial_state(n), Reasons())
        for c in self.policy.constraints:
            v = ctx.eval(c.expr)
            broken = ~np.broadcast_to(v.data, (n,))
            if v.na is not None:
                broken = broken & (v.na == 0)
            odd |= broken

    def patch(self, inputs, i, claim, extras, notes):
        for name, inp in self.policy.inputs.items():
            col = inputs[name]
            if name in claim.values:
                codes = self.plan.codes.get(inp.type.enum) if inp.type.name == "enum" else None
                col.data[i] = _typed(inp, claim.values[name], codes, kind_scale(inp))
                if col.exps is not None:
                    col.exps[i] = claim.values[name].as_tuple().exponent
                col.arrow = None  # the Python strings, patched, are now the truth
                col.present[i] = True
            else:
                col.present[i] = False
        # identifiers need no patch: a row's identifier text is the same whichever reader made it
        notes[i] = dict(claim.notes) or None


def _typed(inp: ir.Input, value, codes, scale: int):
    t = inp.type.name
    if t == "enum":
        return codes[value]
    if t == "date":
        return day_of(value)
    if t in ("bool", "text"):
        return value
    return int(Decimal(value).scaleb(scale))


def _words(arr: pa.Array) -> np.ndarray:
    """A decimal128 column's unscaled integers as (low, high) int64 words, read from the buffer."""
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)[2 * arr.offset: 2 * (arr.offset + len(arr))]
    return words.reshape(-1, 2)


def _fen(arr: pa.Array) -> np.ndarray:
    """The unscaled integers of a decimal128 column (its fen at scale 2); every value fits int64 here."""
    return _words(arr)[:, 0].copy()
