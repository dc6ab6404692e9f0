"""The surface AST: what the author wrote, as frozen dataclasses with spans.

Nothing is resolved here: names are strings, types are names. The semantics
stage turns this into the IR.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from policylang.diagnostics import Span


# ---- expressions -----------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    kind: str  # money | rate | points | number | date | text | bool
    value: object
    text: str
    span: Span


@dataclass(frozen=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple
    span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * == != < <= > >= and or
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class UnaryOp:
    op: str  # not | neg
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class InSet:
    operand: "Expr"
    items: tuple
    negated: bool
    span: Span


@dataclass(frozen=True)
class IfThenElse:
    cond: "Expr"
    then: "Expr"
    otherwise: "Expr"
    span: Span


@dataclass(frozen=True)
class NotApplicable:
    reason: str
    span: Span


@dataclass(frozen=True)
class SideName:
    """left.X / right.X inside a property that compares two claims."""

    side: str
    name: str
    span: Span


Expr = Union[Literal, Name, Call, BinOp, UnaryOp, InSet, IfThenElse, NotApplicable, SideName]


# ---- declarations -----------------------------------------------------------
@dataclass(frozen=True)
class Options:
    """Options shared by definitions: clause, platform name, validity, rounding, doc, hit policy."""

    clause: str | None = None
    platform: tuple | None = None  # (name, span)
    valid_from: object = None  # (date, span)
    valid_until: object = None
    rounding: tuple | None = None  # (mode, span)
    doc: str | None = None
    hit: str | None = None


@dataclass(frozen=True)
class PolicyHeader:
    title: str
    document: str | None
    full_title: str | None
    issuer: str | None
    issued: object
    in_force_from: object
    in_force_until: object
    source: str | None
    span: Span
    extends: tuple | None = None  # (path, span)
    conforms: tuple = ()  # ((path, span), …)
    kind: str = "policy"  # policy | guideline
    assumed: tuple = ()  # ((entry, note), …): header facts the document does not state (`assumed "…"`)


@dataclass(frozen=True)
class QuoteDecl:
    """`quote "（六）" "原文……"`: the words of a clause as the source document prints them, one string
    per paragraph (strings on consecutive lines are joined; a blank line starts a new paragraph)."""

    clause: str
    clause_span: Span
    paragraphs: tuple
    span: Span

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class PageDecl:
    """`page { representative 政策范围内费用 = 2000元, … axis 就医地 }`: the author's choices for the docs page."""

    representative: tuple  # Assignment
    axes: tuple  # (input name, span)
    span: Span


@dataclass(frozen=True)
class FactDecl:
    """`fact 个人缴费: money = 56元 clause "三" "…"`: a fact of the document that is not per claim."""

    name: str
    type_name: str
    type_span: Span
    value: "Expr"
    clause: str | None
    text: str | None
    span: Span


@dataclass(frozen=True)
class Use:
    name: str
    span: Span


@dataclass(frozen=True)
class EnumMember:
    name: str
    label: str | None
    codes: tuple
    span: Span


@dataclass(frozen=True)
class EnumDecl:
    name: str
    field: str | None
    members: tuple
    span: Span


@dataclass(frozen=True)
class InputDecl:
    name: str
    type_name: str
    type_span: Span
    field: str | None
    optional: bool
    doc: str | None
    span: Span
    domain: tuple | None = None  # (low expr, high expr, span) from `in low..high`


@dataclass(frozen=True)
class Requirement:
    expr: Expr
    message: str
    span: Span


@dataclass(frozen=True)
class ScopeDecl:
    clause: str | None
    requirements: tuple
    span: Span


@dataclass(frozen=True)
class AccumulatorDecl:
    name: str
    type_name: str
    type_span: Span
    per_who: str
    per_period: str
    options: Options
    initial: Expr | None
    span: Span
    keys: tuple = ()  # ((input name, span), …): `per 机构级别` after the year


@dataclass(frozen=True)
class YearDecl:
    """`year by 出院日期 from 07-01`: the date that places a claim in its 医保年度, and the year's first day."""

    date: str
    date_span: Span
    start: tuple | None  # (month, day, span), or None for 01-01
    clause: str | None
    span: Span


@dataclass(frozen=True)
class RuleDecl:
    is_output: bool
    name: str
    type_name: str
    type_span: Span
    options: Options
    expr: Expr
    span: Span
    assumption: bool = False  # a baseline the document does not state


@dataclass(frozen=True)
class AmendDecl:
    """A change to a definition inherited through `extends`.

    With `key` (cells, as a table row writes them) it changes only the table rows within the key;
    `op` "add" inserts `row`, "remove" drops the rows within the key (`value` is then None)."""

    target: str
    target_span: Span
    op: str  # + - * = | add | remove
    value: Expr | None
    clause: str | None
    doc: str | None
    span: Span
    key: tuple | None = None  # Cells naming table rows; None: the whole definition
    key_span: Span | None = None
    row: "Row | None" = None  # the row `add` inserts
    band: int | None = None  # `amend 大病分段 band 2 += 5pp`: one band of a brackets block


@dataclass(frozen=True)
class Cell:
    kind: str  # any | eq | cmp | range | not_in
    op: str | None
    values: tuple  # expressions; range: (lo, hi-or-None)
    span: Span


@dataclass(frozen=True)
class Row:
    cells: tuple
    output: Expr
    clause: str | None
    is_default: bool
    span: Span


@dataclass(frozen=True)
class TableDecl:
    name: str
    columns: tuple
    type_name: str
    type_span: Span
    options: Options
    rows: tuple
    default: Row | None
    span: Span


@dataclass(frozen=True)
class Band:
    low: Expr
    high: Expr | None
    rate: Expr
    clause: str | None
    span: Span


@dataclass(frozen=True)
class BracketsDecl:
    name: str
    type_name: str
    type_span: Span
    on: Expr
    cumulative: Expr | None
    options: Options
    bands: tuple
    span: Span


@dataclass(frozen=True)
class UpdateDecl:
    target: str
    target_span: Span
    amount: Expr
    when: Expr | None
    clause: str | None
    span: Span
    once: tuple | None = None  # (input name, span): `once per 就诊ID`


@dataclass(frozen=True)
class Assignment:
    name: str
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Step:
    inputs: tuple
    expect: tuple | None  # assignments, or None when the claim is expected out of scope
    out_of_scope_reason: str | None
    span: Span


@dataclass(frozen=True)
class ExampleDecl:
    name: str
    state: tuple
    steps: tuple
    span: Span


@dataclass(frozen=True)
class ConstraintDecl:
    expr: Expr
    message: str
    span: Span


@dataclass(frozen=True)
class Vary:
    """`vary FIELD: LEFT vs RIGHT`; the cells are None when the property states the relation in `when`."""

    field: str
    field_span: Span
    left: Cell | None
    right: Cell | None
    span: Span


@dataclass(frozen=True)
class PropertyDecl:
    name: str
    clause: str | None
    vary: Vary | None
    when: Expr | None
    holds: Expr
    span: Span
    origin: str | None = None  # the guideline it comes from


Decl = Union[PolicyHeader, Use, EnumDecl, InputDecl, ScopeDecl, AccumulatorDecl, RuleDecl,
             TableDecl, BracketsDecl, UpdateDecl, ExampleDecl, ConstraintDecl, PropertyDecl, QuoteDecl,
             PageDecl, FactDecl, YearDecl]


@dataclass(frozen=True)
class Module:
    file: str
    decls: tuple
