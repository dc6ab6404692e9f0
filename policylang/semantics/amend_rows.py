"""Row amendments of a table: `amend T(key) OP v`, `amend T add cells -> v`, `amend T remove (key)`.

A key is written like a row's cells. A row lies within the key when every claim the row matches the key
matches too; those are the rows an amendment changes or removes. Which rows lie within a key, which row
a claim of the key reaches, and where a new row may go are decided on a grid of representative values
per column: the members where the column is an input (or rule) of an enumeration or bool, otherwise the
constants the cells name, a point between and beyond each two of them, and one value no cell names.
Two claims that no cell tells apart match the same rows, so the grid answers exactly for cells of
constants (the only cells a table may have).
"""
from __future__ import annotations

import datetime
import os
import itertools
from dataclasses import dataclass, replace
from decimal import Decimal

from policylang.diagnostics import Diagnostic, Span
from policylang.syntax import ast


class _Other:
    """A column value that no cell names (a member the cells leave out, a text no row mentions)."""

    def __repr__(self) -> str:
        return "其他"


OTHER = _Other()


@dataclass(frozen=True)
class RowChange:
    """One row an amendment touched: its span (the base row's, or the `add`'s) and what happened."""

    action: str  # change | add | remove
    span: Span


def domains(decls, vocabulary=()) -> dict:
    """Name → the finite values of an input or rule whose type is an enumeration or bool."""
    members = {d.name: [m.name for m in d.members] for d in (*vocabulary, *decls) if isinstance(d, ast.EnumDecl)}
    members["bool"] = [True, False]
    out = {}
    for d in (*vocabulary, *decls):
        if isinstance(d, (ast.InputDecl, ast.RuleDecl, ast.TableDecl)) and d.type_name in members:
            out[d.name] = members[d.type_name]
    return out


def constant(e):
    """A cell's value: a literal's, a member's name; any other expression stands for itself."""
    if isinstance(e, ast.Literal):
        return e.value
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.UnaryOp) and e.op == "neg" and isinstance(e.operand, ast.Literal):
        return -e.operand.value
    return ("expr", _shape(e))


def _shape(e):
    if isinstance(e, tuple):
        return tuple(_shape(x) for x in e)
    if hasattr(e, "__dataclass_fields__"):
        return (type(e).__name__,) + tuple(_shape(getattr(e, f)) for f in e.__dataclass_fields__ if f != "span")
    return e


def match(cell: ast.Cell, v) -> bool:
    values = [constant(x) if x is not None else None for x in cell.values]
    try:
        if cell.kind == "any":
            return True
        if cell.kind == "eq":
            return v == values[0]
        if cell.kind == "in":
            return v in values
        if cell.kind == "not_in":
            return v not in values
        if v is OTHER or isinstance(v, (str, bool)):
            return False
        if cell.kind == "cmp":
            return {"==": v == values[0], "!=": v != values[0], "<": v < values[0], "<=": v <= values[0],
                    ">": v > values[0], ">=": v >= values[0]}[cell.op]
        low, high = values
        return low <= v and (high is None or v < high)
    except TypeError:  # a date against an amount: never equal, never ordered
        return False


def matches(cells, point) -> bool:
    return all(match(c, v) for c, v in zip(cells, point))


class Grid:
    """Representative claims of one table version (key columns only), and the questions asked of them."""

    def __init__(self, table: ast.TableDecl, extra: tuple, domains: dict):
        cells_by_column = [[] for _ in table.columns]
        for cells in [r.cells for r in table.rows] + [c for c in extra]:
            for j, c in enumerate(cells[:len(table.columns)]):
                cells_by_column[j].append(c)
        reps = []
        for col, cells in zip(table.columns, cells_by_column):
            known = domains.get(col.name) if isinstance(col, ast.Name) else None
            reps.append(list(known) if known is not None else _representatives(cells))
        self.points = list(itertools.product(*reps))

    def within(self, inner, outer) -> bool:
        """Every claim `inner` matches, `outer` matches too."""
        return all(matches(outer, p) for p in self.points if matches(inner, p))

    def meet(self, a, b):
        """A claim both match, or None."""
        return next((p for p in self.points if matches(a, p) and matches(b, p)), None)

    def empty(self, cells) -> bool:
        return not any(matches(cells, p) for p in self.points)


def _representatives(cells) -> list:
    named = []
    for c in cells:
        named.extend(constant(x) for x in c.values if x is not None)
    named = list(dict.fromkeys(v for v in named if not isinstance(v, tuple)))
    numbers = sorted({v for v in named if isinstance(v, Decimal)})
    dates = sorted({v for v in named if isinstance(v, datetime.date)})
    rest = [v for v in named if not isinstance(v, (Decimal, datetime.date))]
    out = rest + _line(numbers, Decimal(1), lambda a, b: (a + b) / 2) + _line(dates, datetime.timedelta(days=1), _mid_day)
    if not numbers and not dates:
        out.append(OTHER)
    return out


def _line(values: list, step, middle) -> list:
    """The values, a point below, above and between each two."""
    if not values:
        return []
    out = [values[0] - step]
    for a, b in zip(values, values[1:]):
        out.append(a)
        m = middle(a, b)
        if m is not None:
            out.append(m)
    return out + [values[-1], values[-1] + step]


def _mid_day(a: datetime.date, b: datetime.date):
    return a + (b - a) // 2 if (b - a).days > 1 else None


# ---- the three amendments ---------------------------------------------------------------------------------
def is_na(e) -> bool:
    return isinstance(e, ast.NotApplicable)


def change_rows(table: ast.TableDecl, a: ast.AmendDecl, grid: Grid, apply):
    """(new table, changed rows, problem) for `amend T(key) OP v` on one version; problem is
    (row or None for the default, claim) when a claim of the key reaches a row that is not within it."""
    chosen = [i for i, r in enumerate(table.rows) if grid.within(r.cells, a.key) and not grid.empty(r.cells)]
    whole = all(c.kind == "any" for c in a.key)
    problem = _reached_outside(table, a.key, set(chosen), whole, grid)
    rows = tuple(replace(r, output=apply(r.output, a)) if i in chosen else r for i, r in enumerate(table.rows))
    default = table.default
    touched = [RowChange("change", table.rows[i].span) for i in chosen]
    if whole and default is not None:
        default = replace(default, output=apply(default.output, a))
        touched.append(RowChange("change", default.span))
    return replace(table, rows=rows, default=default), touched, problem


def _reached_outside(table, key, chosen: set, whole: bool, grid: Grid):
    for p in grid.points:
        if not matches(key, p):
            continue
        hits = [i for i, r in enumerate(table.rows) if matches(r.cells, p)]
        if table.options.hit == "first":
            hits = hits[:1]
        for i in hits:
            if i not in chosen and not is_na(table.rows[i].output):
                return table.rows[i], p
        if not hits and table.default is not None and not whole and not is_na(table.default.output):
            return None, p
    return None


def remove_rows(table: ast.TableDecl, a: ast.AmendDecl, grid: Grid):
    chosen = [i for i, r in enumerate(table.rows) if grid.within(r.cells, a.key) and not grid.empty(r.cells)]
    rows = tuple(r for i, r in enumerate(table.rows) if i not in chosen)
    return replace(table, rows=rows), [RowChange("remove", table.rows[i].span) for i in chosen]


def add_row(table: ast.TableDecl, a: ast.AmendDecl, grid: Grid):
    """(new table, problem): in a `first` table the new row goes just before the first row that contains
    it, so it wins for its own claims and the rows within it keep theirs; in a `unique` table it goes
    last and may overlap no row. problem is (code, row, claim) when the row cannot be placed so."""
    new = a.row.cells
    containing = []
    for i, r in enumerate(table.rows):
        p = grid.meet(new, r.cells)
        if p is None:
            continue
        inside, around = grid.within(r.cells, new), grid.within(new, r.cells)
        if inside and around:
            return table, ("E0435", r, p)
        if table.options.hit != "first":
            return table, ("E0436", r, p)
        if not inside and not around:
            return table, ("E0437", r, p)
        if around:
            containing.append(i)
    index = containing[0] if containing else len(table.rows)
    rows = table.rows[:index] + (a.row,) + table.rows[index:]
    if not any(matches(new, p) and not any(matches(r.cells, p) for r in rows[:index]) for p in grid.points):
        return table, ("E0438", None, None)
    return replace(table, rows=rows), None


# ---- words for messages -------------------------------------------------------------------------------
def expr_text(e) -> str:
    if isinstance(e, ast.Literal):
        return e.text
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.UnaryOp) and e.op == "neg":
        return f"-{expr_text(e.operand)}"
    if isinstance(e, ast.NotApplicable):
        return f'not applicable "{e.reason}"'
    if isinstance(e, ast.BinOp):
        return f"{expr_text(e.left)} {e.op} {expr_text(e.right)}"
    return "…"


def cell_text(c: ast.Cell) -> str:
    shown = [expr_text(v) if v is not None else "" for v in c.values]
    if c.kind == "any":
        return "_"
    if c.kind == "eq":
        return shown[0]
    if c.kind == "cmp":
        return f"{c.op} {shown[0]}"
    if c.kind in ("in", "not_in"):
        return ("not " if c.kind == "not_in" else "") + "{" + ", ".join(shown) + "}"
    return f"{shown[0]} .. {shown[1]}".rstrip()


def cells_text(cells) -> str:
    return ", ".join(cell_text(c) for c in cells)


def point_text(point) -> str:
    return ", ".join("其他" if v is OTHER else ("true" if v is True else "false" if v is False else str(v))
                     for v in point)


def row_text(row: ast.Row | None) -> str:
    if row is None:
        return "default"
    return f"{cells_text(row.cells)} -> {expr_text(row.output)}"


def rows_listing(tables) -> str:
    """Every row of the table's versions with its line, for the message of a key that names none."""
    out = []
    for t in tables:
        lines = [f"line {r.span.line} `{cells_text(r.cells)}`" for r in t.rows]
        if t.default is not None:
            lines.append(f"line {t.default.span.line} `default`")
        out.append(f"{os.path.basename(t.span.file)} " + ", ".join(lines or ["no rows"]))
    return "; ".join(out)


def problem_diagnostic(code: str, a: ast.AmendDecl, table: ast.TableDecl, row, point) -> Diagnostic:
    at = row.span if row is not None else (table.default.span if table.default is not None else table.span)
    args = {"name": a.target, "key": cells_text(a.key), "line": f"{os.path.basename(at.file)}:{at.line}",
            "row": row_text(row), "cells": cells_text(row.cells) if row is not None else "",
            "claim": point_text(point) if point is not None else "",
            # the claims' own row: their members where the point is all members, else the key
            "own": point_text(point) if point is not None and all(isinstance(v, str) for v in point)
            else cells_text(a.key)}
    return Diagnostic(code, a.key_span or a.span, args)
