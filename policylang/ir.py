"""The typed IR: the one data structure every back end reads.

Names are resolved (each reference says whether it reads an input, a rule, a
table, brackets or an accumulator), every expression carries its type, and
spans survive from the source. Values are exact: Decimal for money, rates,
points and numbers; datetime.date; str for enumeration members.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

from policylang.diagnostics import Span


# ---- types -----------------------------------------------------------------
@dataclass(frozen=True)
class Type:
    name: str  # money | rate | points | number | bool | date | text | enum
    enum: str | None = None

    def __str__(self) -> str:
        return self.enum if self.name == "enum" else self.name


MONEY, RATE, POINTS, NUMBER = Type("money"), Type("rate"), Type("points"), Type("number")
BOOL, DATE, TEXT = Type("bool"), Type("date"), Type("text")
SCALARS = {t.name: t for t in (MONEY, RATE, POINTS, NUMBER, BOOL, DATE, TEXT)}
NUMERIC = (MONEY, RATE, POINTS, NUMBER)


def enum_type(name: str) -> Type:
    return Type("enum", name)


ROUNDING_MODES = ("half_up", "half_even", "down", "up")


# ---- expressions -------------------------------------------------------------
@dataclass(frozen=True)
class Const:
    value: object
    type: Type
    span: Span


@dataclass(frozen=True)
class InputRef:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True)
class RuleRef:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True)
class AccRef:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True)
class TableRef:
    """A table lookup; args are the column values (the declared columns unless called explicitly)."""

    name: str
    args: tuple
    type: Type
    span: Span


@dataclass(frozen=True)
class BracketsRef:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True)
class Arith:
    op: str  # + - *
    left: "Expr"
    right: "Expr"
    type: Type
    span: Span


@dataclass(frozen=True)
class Compare:
    """A comparison; `id` numbers it so coverage can report each side."""

    op: str  # == != < <= > >=
    left: "Expr"
    right: "Expr"
    id: int
    span: Span
    type: Type = BOOL


@dataclass(frozen=True)
class InSet:
    operand: "Expr"
    items: tuple  # constant values
    negated: bool
    id: int
    span: Span
    type: Type = BOOL


@dataclass(frozen=True)
class Logic:
    op: str  # and | or
    left: "Expr"
    right: "Expr"
    span: Span
    type: Type = BOOL


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    span: Span
    type: Type = BOOL


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
    type: Type
    span: Span


@dataclass(frozen=True)
class If:
    cond: "Expr"
    then: "Expr"
    otherwise: "Expr"
    id: int
    type: Type
    span: Span


@dataclass(frozen=True)
class MinMax:
    op: str  # min | max
    args: tuple
    type: Type
    span: Span


@dataclass(frozen=True)
class Round:
    """Round money to the fen with a mode; the only place money loses precision."""

    operand: "Expr"
    mode: str
    span: Span
    type: Type = MONEY


@dataclass(frozen=True)
class NotApplicable:
    """The document gives no number here: evaluation yields 'not applicable' with this reason."""

    reason: str
    type: Type
    span: Span


@dataclass(frozen=True)
class Side:
    """left.X / right.X: a value of one of the two claims a relational property compares."""

    side: str  # left | right
    ref: "Expr"  # InputRef, RuleRef or AccRef
    type: Type
    span: Span


Expr = Union[Const, InputRef, RuleRef, AccRef, TableRef, BracketsRef, Arith, Compare, InSet, Logic,
             Not, Neg, If, MinMax, Round, NotApplicable, Side]


# ---- vocabulary ----------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    name: str
    label: str | None
    codes: tuple  # platform codes; a code ending in * matches by prefix
    span: Span


@dataclass(frozen=True)
class Enum:
    name: str
    field: str | None  # the platform field that carries its codes
    members: tuple
    span: Span

    def member_names(self) -> tuple:
        return tuple(m.name for m in self.members)


@dataclass(frozen=True)
class Input:
    name: str
    type: Type
    field: str | None  # the platform's name for the same field
    optional: bool
    doc: str | None
    span: Span
    domain: tuple | None = None  # (low, high) declared with `in low..high`; domains.py holds the defaults


# ---- definitions -------------------------------------------------------------------
@dataclass(frozen=True)
class Validity:
    """When a version applies, by the claim's service date; None is open-ended."""

    start: datetime.date | None = None
    end: datetime.date | None = None

    def contains(self, day: datetime.date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def __str__(self) -> str:
        return f"{self.start or '…'} – {self.end or '…'}"


ALWAYS = Validity()


@dataclass(frozen=True)
class RuleVersion:
    validity: Validity
    expr: Expr
    clause: str | None
    span: Span


@dataclass(frozen=True)
class Rule:
    """A named value. Money rules round to the fen on definition (mode `rounding`)."""

    name: str
    type: Type
    versions: tuple
    is_output: bool
    platform: str | None
    rounding: str
    doc: str | None
    span: Span
    clause: str | None = None
    assumption: bool = False  # a named baseline the document does not state; overridable


@dataclass(frozen=True)
class Cell:
    kind: str  # any | eq | cmp | range | in | not_in
    op: str | None
    values: tuple  # constant Decimal/date/str values; range: (low, high-or-None), high exclusive
    span: Span


@dataclass(frozen=True)
class Row:
    index: int  # 1-based, as the author counts rows
    cells: tuple
    output: Expr
    clause: str | None
    span: Span


@dataclass(frozen=True)
class TableVersion:
    validity: Validity
    rows: tuple
    default: Row | None
    clause: str | None
    span: Span


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple  # default argument expressions
    column_types: tuple
    type: Type
    hit: str  # first | unique
    versions: tuple
    doc: str | None
    span: Span


@dataclass(frozen=True)
class Band:
    """One band: its bounds (money) and rate, each a Const when the author wrote a constant, else an
    expression evaluated per claim (`起付线 .. 起付线 + 50000元 -> if 贫困人员 then 60% else 55%`)."""

    index: int
    low: Expr
    high: Expr | None
    rate: Expr
    clause: str | None
    span: Span

    @property
    def constant(self) -> bool:
        return all(isinstance(e, Const) for e in (self.low, self.high, self.rate) if e is not None)

    @property
    def values(self) -> tuple:
        """(low, high or None, rate) as Decimals; only for a constant band."""
        return (self.low.value, self.high.value if self.high is not None else None, self.rate.value)


@dataclass(frozen=True)
class BracketsVersion:
    validity: Validity
    bands: tuple
    clause: str | None
    span: Span


@dataclass(frozen=True)
class Brackets:
    """Progressive bands over `on`; with `cumulative`, pays f(cum + on) − f(cum)."""

    name: str
    on: Expr
    cumulative: Expr | None
    versions: tuple
    rounding: str
    doc: str | None
    span: Span
    type: Type = MONEY

    @property
    def constant(self) -> bool:
        """Every band of every version is constant: the bands are fixed numbers (as before expressions)."""
        return all(band.constant for v in self.versions for band in v.bands)

    @property
    def bounds_vary(self) -> bool:
        """Some bound is evaluated per claim, so its order is a fact about claims, not about the file."""
        return any(not isinstance(e, Const) for v in self.versions for band in v.bands
                   for e in (band.low, band.high) if e is not None)

    def expressions(self):
        """on, cumulative, then every band's bounds and rate: what the brackets read."""
        yield self.on
        if self.cumulative is not None:
            yield self.cumulative
        for v in self.versions:
            for band in v.bands:
                yield from (e for e in (band.low, band.high, band.rate) if e is not None)


@dataclass(frozen=True)
class Accumulator:
    """A per-person, per-医保年度 running total; rules see its value before the claim.

    With `keys` (`per 机构级别`) the year keeps one total per value of those inputs: a claim reads and
    updates only its own key's (evaluators.run_claims hands each back end that one value).
    """

    name: str
    type: Type
    initial: Decimal
    clause: str | None
    doc: str | None
    span: Span
    keys: tuple = ()  # input names, in the order written


@dataclass(frozen=True)
class Year:
    """The 医保年度: the date input that places a claim in a year, and the year's first day.

    `year by 出院日期 from 07-01`; a policy without a `year` declaration has the default,
    the service date and 01-01 (the calendar year).
    """

    date: str = "就诊日期"
    month: int = 1
    day: int = 1
    clause: str | None = None
    span: Span | None = None

    @property
    def calendar(self) -> bool:
        return (self.month, self.day) == (1, 1)


@dataclass(frozen=True)
class Update:
    target: str
    amount: Expr
    when: Expr | None
    clause: str | None
    span: Span
    once: str | None = None  # `once per 就诊ID`: applies at most once per value of this input in the year


@dataclass(frozen=True)
class Requirement:
    expr: Expr
    message: str
    span: Span


@dataclass(frozen=True)
class Constraint:
    """What makes a claim valid at all: refused at the edge, assumed by the checker."""

    expr: Expr
    message: str
    span: Span


@dataclass(frozen=True)
class Vary:
    """The one input, or accumulator of the state before the claim, in which the two claims of a relational
    property differ. Written without cells (the relation is in `when`), both cells are `_`."""

    input: str  # the varied name: an input, or an accumulator when `accumulator` is set
    left: Cell
    right: Cell
    span: Span
    accumulator: bool = False  # the claims are equal; their states differ in this accumulator only
    type: Type | None = None  # the varied input's or accumulator's type


@dataclass(frozen=True)
class Property:
    """Must hold for every valid claim in scope and every reachable state of the year.

    A property whose `holds` reads only accumulators is an invariant of the year's state and
    is proved by induction; one with `vary` compares two claims equal but in one input, or one
    claim from two states equal but in one accumulator.
    """

    name: str
    clause: str | None
    vary: Vary | None
    when: Expr | None
    holds: Expr
    span: Span
    origin: str | None = None  # the guideline a conformance property comes from


# ---- examples -------------------------------------------------------------------------
@dataclass(frozen=True)
class ExampleStep:
    inputs: tuple  # (name, value, span)
    expect: tuple | None  # (name, value-or-NOT_APPLICABLE, span); None: expect out of scope
    out_of_scope_reason: str | None
    span: Span


@dataclass(frozen=True)
class Example:
    name: str
    state: tuple  # (accumulator name, value, span)
    steps: tuple
    span: Span


EXPECT_NOT_APPLICABLE = "not applicable"


# ---- the policy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Meta:
    title: str
    document: str | None
    full_title: str | None
    issuer: str | None
    issued: datetime.date | None
    in_force: Validity
    source: str | None
    span: Span
    # ((entry, note), …): header facts the author marked `assumed "note"` (document, full_title, issuer,
    # issued, in_force, source); the page prints them as 假定 with the note, never as the document's word
    assumed: tuple = ()

    def assumption(self, entry: str) -> str | None:
        """The author's note when this header entry is assumed, else None."""
        return next((note for key, note in self.assumed if key == entry), None)


@dataclass(frozen=True)
class Quote:
    """The words of a clause as the source document prints them (`quote`), for the published docs:
    one string per paragraph."""

    clause: str
    paragraphs: tuple
    span: Span

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class Page:
    """The author's choices for the docs page (`page { … }`): the ordinary claim's values
    ((input, typed value, span), …) and the ratio matrix's extra axes ((enumeration input, span), …)."""

    representative: tuple
    axes: tuple
    span: Span

    def value(self, name: str):
        """(True, value) when the author named this input's representative value, else (False, None)."""
        for n, v, _ in self.representative:
            if n == name:
                return True, v
        return False, None


@dataclass(frozen=True)
class Fact:
    """A fact of the document that is not per claim (`fact`): a premium, who pays it. Shown on the page;
    no rule reads it and no claim's result carries it."""

    name: str
    type: Type
    value: object
    clause: str | None
    text: str | None
    span: Span


@dataclass(frozen=True)
class Policy:
    """A resolved, type-checked policy. Rules are in dependency order."""

    meta: Meta
    file: str
    enums: dict
    inputs: dict
    accumulators: dict
    rules: dict  # name -> Rule, topologically ordered
    tables: dict
    brackets: dict
    updates: tuple
    scope: tuple  # Requirement
    scope_clause: str | None
    examples: tuple
    service_date: str  # the input that carries the claim's service date
    person: str  # the input that identifies the person
    # Room for later stages: composition, stages and properties attach here.
    extends: str | None = None
    properties: tuple = field(default=())
    constraints: tuple = field(default=())
    amendments: tuple = field(default=())  # compose.Amendment: what changed against `extends`
    quotes: tuple = field(default=())  # Quote, one per clause, in file order
    warnings: tuple = field(default=())  # Diagnostic(severity="warning") from composition (W0424)
    page: Page | None = None  # the author's choices for the docs page
    facts: tuple = field(default=())  # Fact, in file order
    year: Year = field(default_factory=Year)  # which date places a claim in its 医保年度, and the first day

    def quote(self, clause: str | None) -> str | None:
        """The quoted words of a clause, if the policy quotes it (paragraphs on separate lines)."""
        return next((q.text for q in self.quotes if q.clause == clause), None) if clause else None

    def quote_paragraphs(self, clause: str | None) -> tuple:
        """The quoted words of a clause, one string per paragraph; () if the policy does not quote it."""
        return next((q.paragraphs for q in self.quotes if q.clause == clause), ()) if clause else ()

    @property
    def assumptions(self) -> tuple:
        return tuple(r for r in self.rules.values() if r.assumption)

    @property
    def outputs(self) -> tuple:
        return tuple(r for r in self.rules.values() if r.is_output)


def in_fen(e: "Expr") -> bool:
    """True when e's money value is already a whole number of fen, so rounding cannot change it.

    Inputs qualify because claims.py refuses money with more than two decimals; accumulators because
    every update adds a whole number of fen (the resolver refuses any other amount, E0423).
    """
    if isinstance(e, Const):
        return e.type == MONEY and e.value.as_tuple().exponent >= -2
    if isinstance(e, (InputRef, AccRef, RuleRef)):
        return e.type == MONEY
    if isinstance(e, (BracketsRef, Round, NotApplicable)):
        return True
    if isinstance(e, Arith):
        return e.op in "+-" and in_fen(e.left) and in_fen(e.right)
    if isinstance(e, MinMax):
        return all(in_fen(a) for a in e.args)
    if isinstance(e, If):
        return in_fen(e.then) and in_fen(e.otherwise)
    if isinstance(e, Neg):
        return in_fen(e.operand)
    return False


def whole_count(policy: "Policy", name: str) -> bool:
    """An accumulator that starts whole and only adds whole constants (住院次数 += 1) is whole in every
    state the year reaches: the checker and `diff` assume it, and a state of 0.5 admissions would be a
    claim no reviewer can believe."""
    acc = policy.accumulators[name]
    amounts = [u.amount for u in policy.updates if u.target == name]
    return acc.initial == acc.initial.to_integral_value() and all(
        isinstance(a, Const) and a.value == a.value.to_integral_value() for a in amounts)
