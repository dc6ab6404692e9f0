"""A claim table's columns checked once against the policy, and made into what the claim edge reads.

A typed file (Parquet, an Arrow table, a DataFrame) may hold a column the edge's rules cannot read
exactly, or not at all: that is the file's fault, not a row's, so it stops the run before any row is
evaluated (`BadFile`, exit 2). What remains is converted so that every row reads as it would from JSON:
dates and timestamps become their ISO text, dictionary columns their values. Money stays decimal (or
integer, or text); a float column is refused, since a binary fraction is not an amount in fen.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pt

from policylang import ir
from policylang.claims import PASS_THROUGH, ClaimError


class BadFile(Exception):
    """A claims file the streamed path cannot read at all: one ClaimError (position, column, what, hint)."""

    def __init__(self, position: str, field: str | None, message: str, hint: str = ""):
        self.error = ClaimError(position, field, message, hint)
        super().__init__(str(self.error))


STATE_HINT = ("the streamed path starts every person-year at the accumulator's initial value: include the year's "
              "earlier claims in the file, or evaluate with `eval --claims FILE` without --out")


def input_columns(policy: ir.Policy, names) -> dict[str, ir.Input]:
    """The file's columns that carry an input (by its name or its platform field)."""
    by_key = {}
    for inp in policy.inputs.values():
        by_key[inp.name] = inp
        if inp.field:
            by_key[inp.field] = inp
    return {n: by_key[n] for n in names if n in by_key}


def check_columns(policy: ir.Policy, names, position: str) -> None:
    """Every required input has a column, none twice (name and field), and no `state` column."""
    names = list(names)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BadFile(position, twice[0], "column appears more than once", "give each field one column")
    if "state" in names:
        raise BadFile(position, "state", "a `state` column is not read by the streamed path", STATE_HINT)
    found = input_columns(policy, names)
    seen: dict[str, str] = {}
    for column, inp in found.items():
        if inp.name in seen:
            raise BadFile(position, column, f"`{inp.name}` is given twice (as `{seen[inp.name]}` and `{column}`)",
                          "keep one of the two columns")
        seen[inp.name] = column
    for inp in policy.inputs.values():
        if not inp.optional and inp.name not in seen:
            label = inp.field or inp.name
            raise BadFile(position, label, f"missing column: `{label}` ({inp.name}) is required",
                          f"name the column `{label}` or `{inp.name}`")


_ACCEPTS = {  # the Arrow types a column of each input type may have, beside text
    "money": ("decimal", "integer"),
    "rate": ("decimal", "integer"),
    "points": ("decimal", "integer"),
    "number": ("decimal", "integer"),
    "bool": ("boolean",),
    "date": ("date", "timestamp"),
    "text": ("integer",),
    "enum": ("integer",),
}


def _kind(t: pa.DataType) -> str:
    if pt.is_string(t) or pt.is_large_string(t) or pt.is_string_view(t):
        return "text"
    if pt.is_decimal(t):
        return "decimal"
    if pt.is_integer(t):
        return "integer"
    if pt.is_floating(t):
        return "float"
    if pt.is_boolean(t):
        return "boolean"
    if pt.is_date(t):
        return "date"
    if pt.is_timestamp(t):
        return "timestamp"
    if pt.is_null(t):
        return "null"
    return str(t)


def check_types(policy: ir.Policy, schema: pa.Schema, position: str) -> None:
    """Each input column's Arrow type can be read exactly as that input's type."""
    for column, inp in input_columns(policy, schema.names).items():
        t = schema.field(column).type
        if pt.is_dictionary(t):
            t = t.value_type
        kind = _kind(t)
        if kind in ("text", "null") or kind in _ACCEPTS.get(inp.type.name, ()):
            continue
        if kind == "float":
            raise BadFile(position, column, f"column is {t}: a binary floating-point number is not an exact "
                          f"{inp.type}", "store money and rates as decimal (e.g. decimal128(20, 2)) or as text "
                          "such as \"12.50\"")
        raise BadFile(position, column, f"column is {t}, which cannot hold a {inp.type}",
                      f"store `{column}` as text" + (" or decimal" if inp.type in ir.NUMERIC else ""))


def normalise(table: pa.Table) -> pa.Table:
    """Columns as the claim edge reads them: dictionary decoded, dates and timestamps as ISO text, large or
    view strings as plain strings, integer identifiers as text."""
    columns = []
    for name, column in zip(table.column_names, table.columns):
        t = column.type
        if pt.is_dictionary(t):
            column = column.cast(t.value_type)
            t = t.value_type
        if pt.is_timestamp(t):
            if t.tz is not None:  # the wall-clock time where the claim was settled, not UTC
                column = pc.local_timestamp(column)
            column = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
        elif pt.is_date(t):
            column = column.cast(pa.date32()).cast(pa.string())
        elif pt.is_large_string(t) or pt.is_string_view(t):
            column = column.cast(pa.string())
        elif name in PASS_THROUGH and pt.is_integer(t):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)
