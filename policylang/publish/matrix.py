"""The ratio matrix (机构级别 × 就诊类型 × 险种), computed by running representative claims.

Nothing is read off the rule structure: each cell is the value the compiled evaluator gives the
ratio output (the output tagged with a platform ratio name, `as pool_prop_selfpay`) for a claim with
that 险种, 就诊类型 and 机构级别. The claim's other inputs are held at representative values: for
each cell the first combination, in the order of `representative.Preferences` (the value most of the
policy's examples use, then the value the rules treat as ordinary rather than as an exception, then
members never named and false first), that is a valid claim (the policy's constraints hold), in
scope, and gives the ratio a value without a value the rules treat as an exception (when the ordinary
claim has no ratio the cell says 未规定; it never headlines a penalty instead). Then each other input
is varied alone, and every value that changes the ratio is listed as an exception of the cell
("病种为肺结核：70%").

The axes are found by platform field (insutype, med_type, dedc_hosp_lv), so the matrix of every
policy that uses the prelude lines up with every other's on the comparison page; the author may add
row axes (`page { axis 就医地 }`), each listing every member, and name representative values
(`page { representative … }`), which come first in every cell's search and are listed as the author's.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product

from policylang import ir
from policylang.evaluators import evaluator
from policylang.platform import OUTPUT_NAMES
from policylang.publish import values
from policylang.publish.representative import ABSENT, Preferences, Search
from policylang.runtime import NotApplicable, is_missing_input
from policylang.testing import policy_expressions, walk

ROW_FIELDS = ("insutype", "med_type")  # 险种, 就诊类型
COLUMN_FIELD = "dedc_hosp_lv"  # 机构级别
SEARCH_LIMIT = 600  # claims tried per cell before giving up on finding one in scope


@dataclass
class Cell:
    status: str  # value | na | out
    text: str  # 65% / 未规定 / —
    value: Decimal | None = None
    reason: str | None = None  # why not applicable
    exceptions: list = field(default_factory=list)  # "病种为肺结核：70%"
    held: dict = field(default_factory=dict)  # other input -> the representative value shown


@dataclass
class Row:
    labels: tuple  # members of the row axes, e.g. ("城乡居民", "门诊慢特病")
    cells: list


@dataclass
class Matrix:
    output: str  # the ratio output's name
    platform: str | None
    platform_label: str | None
    row_axes: tuple  # input names
    column_axis: str | None
    columns: tuple  # members of the column axis ("" when the policy has no level input)
    rows: list
    day: datetime.date
    held: list  # "病种：高血压" — representative values used somewhere in the matrix
    author: list = field(default_factory=list)  # "政策范围内费用：2,000.00元" — the author's values held
    day_assumed: bool = False  # the day comes from an in-force date the author marked `assumed`

    @property
    def day_text(self) -> str:
        return values.date(self.day)


def ratio_outputs(policy: ir.Policy) -> list:
    """The outputs a ratio matrix is made for: platform ratio outputs, else every rate output."""
    tagged = [r for r in policy.outputs if r.platform and OUTPUT_NAMES[r.platform][1] == "ratio"]
    return tagged or [r for r in policy.outputs if r.type == ir.RATE]


def ratio_matrices(policy: ir.Policy) -> list:
    builder = _Builder(policy)
    return [builder.matrix(rule) for rule in ratio_outputs(policy)]


class _Builder:
    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.evaluate = evaluator(policy, "compiled")
        self.prefs = Preferences(policy)
        self.search = Search(policy, self.prefs)
        self.state = self.search.state
        self.day = self.prefs.day
        self.read = _inputs_read(policy)
        by_field = {i.field: n for n, i in policy.inputs.items() if i.field}
        self.author_axes = tuple(name for name, _ in policy.page.axes) if policy.page else ()
        self.row_axes = tuple(by_field[f] for f in ROW_FIELDS if by_field.get(f) in self.read) + self.author_axes
        column = by_field.get(COLUMN_FIELD)
        self.column_axis = column if column in self.read else None

    # ---- domains
    def axis_members(self, name: str) -> list:
        """The members the policy names, and the first it does not (members it never names behave
        alike), in declaration order; every member of an axis the author added."""
        t = self.p.inputs[name].type
        named = self.named(t)
        members = self.p.enums[t.enum].member_names()
        if name in self.author_axes:
            return list(members)
        unnamed = [m for m in members if m not in named][:1]
        return [m for m in members if m in named or m in unnamed]

    def unnamed(self, name: str, member: str) -> bool:
        return name not in self.author_axes and member not in self.named(self.p.inputs[name].type)

    def named(self, t: ir.Type) -> set:
        return self.prefs.named(t)

    def domain(self, inp: ir.Input, fixed: dict | None = None) -> list:
        """The input's values, the most ordinary first (`representative.Preferences`)."""
        return self.prefs.order(inp, fixed=fixed)

    def others(self) -> list:
        """The inputs held at representative values: every input the policy reads but the axes."""
        skip = {*self.row_axes, self.column_axis, self.p.service_date, self.p.person}
        return [i for n, i in self.p.inputs.items() if n not in skip and (n in self.read or not i.optional)]

    # ---- the matrix
    def matrix(self, rule: ir.Rule) -> Matrix:
        others = self.others()
        columns = self.p.enums[self.p.inputs[self.column_axis].type.enum].member_names() if self.column_axis \
            else ("",)
        rows = []
        for labels in product(*(self.axis_members(a) for a in self.row_axes)):
            fixed = dict(zip(self.row_axes, labels))
            domains = [self.domain(i, fixed) for i in others]
            cells = []
            for column in columns:
                claim = dict(fixed)
                if self.column_axis:
                    claim[self.column_axis] = column
                cells.append(self.cell(rule, claim, others, domains))
            unnamed = any(self.unnamed(a, m) for a, m in zip(self.row_axes, labels))
            # A member the policy never names stands for all of them: shown only when it has a ratio.
            if any(c.status == "value" for c in cells) or (not unnamed and any(c.status != "out" for c in cells)):
                rows.append(Row(tuple(labels), cells))
        held: dict = {}
        for row in rows:
            for c in row.cells:
                for name, shown in (c.held.items() if c.status == "value" else ()):
                    held.setdefault(name, [])
                    if shown not in held[name]:
                        held[name].append(shown)
        held_text = [f"{name}：{'或'.join(shown)}" for name, shown in held.items()]
        author = [f"{i.name}：{_shown(self.prefs.author[i.name], i.type)}" for i in others
                  if i.name in self.prefs.author and i.name in self.read]
        if self.p.service_date in self.prefs.author:
            author.append(f"{self.p.service_date}：{values.date(self.day)}")
        platform_label = OUTPUT_NAMES[rule.platform][0] if rule.platform else None
        day_assumed = self.p.service_date not in self.prefs.author and self.p.meta.assumption("in_force") is not None
        return Matrix(rule.name, rule.platform, platform_label, self.row_axes, self.column_axis,
                      columns, rows, self.day, held_text, author, day_assumed)

    def run(self, fixed: dict, others: list, combo) -> tuple:
        """(valid and in scope, the output's value or NotApplicable)."""
        claim = {self.p.service_date: self.day, **fixed}
        for inp, v in zip(others, combo):
            if v is not ABSENT:
                claim[inp.name] = v
        outcome = self.evaluate(claim, self.state)
        if not outcome.applicable or not self.search.valid(claim):
            return False, None
        return True, outcome.outputs

    def cell(self, rule: ir.Rule, fixed: dict, others: list, domains: list) -> Cell:
        if self.search.excluded(fixed):
            return Cell("out", "—")
        # The one search (representative.Search.first): the branches a requirement already rules out are
        # skipped (淄博's 就医地 = 市外 would otherwise use up the search before 市内). The ordinary claim
        # with a ratio, never one with an exception; else the first claim whose ratio is not applicable.
        found: dict = {}

        def ratio(claim: dict):
            key = tuple(claim.get(i.name, ABSENT) for i in others)
            if key not in found:
                outcome = self.evaluate(claim, self.state)
                found[key] = outcome.outputs[rule.name] if outcome.applicable else None
            return found[key]

        chosen = self.search.first(fixed, others, domains, lambda c: _given(ratio(c)), SEARCH_LIMIT, "never") or \
            self.search.first(fixed, others, domains, lambda c: _missing(ratio(c)), SEARCH_LIMIT, "any")
        if chosen is None:
            return Cell("out", "—")
        claim, v = chosen
        combo = tuple(claim.get(i.name, ABSENT) for i in others)
        # the author's values are listed apart (Matrix.author); a value shown here is the search's choice
        held = {i.name: _shown(x, i.type) for i, x in zip(others, combo)
                if i.name in self.read and len(self.prefs.domain(i)) > 1 and x is not ABSENT
                and not self.prefs.is_author(i, x)}
        if isinstance(v, NotApplicable):
            cell = Cell("na", values.NOT_GIVEN, reason=v.reason, held=held)
        else:
            cell = Cell("value", values.short(v, rule.type), value=v, held=held)
        cell.exceptions = self.exceptions(rule, fixed, others, domains, combo, v)
        return cell

    def exceptional(self, others: list, combo: tuple) -> bool:
        """A claim with a value the rules treat as an exception (a penalty, a bonus group): a cell
        the ordinary claim leaves 未规定 must not headline the penalty instead."""
        return any(self.prefs.exceptional(i, v) for i, v in zip(others, combo) if v is not ABSENT)

    def exceptions(self, rule, fixed, others, domains, combo, base_value) -> list:
        """Each other input varied alone: the values that change the ratio, grouped by result."""
        found: dict = {}
        for k, (inp, domain) in enumerate(zip(others, domains)):
            if inp.name not in self.read:
                continue
            for alt in domain:
                if alt is combo[k] or alt == combo[k] and type(alt) is type(combo[k]):
                    continue
                varied = combo[:k] + (alt,) + combo[k + 1:]
                ok, outputs = self.run(fixed, others, varied)
                if not ok:
                    continue
                value = outputs[rule.name]
                if is_missing_input(value):
                    continue  # needs another input too (下转 needs 转出机构级别): varying one alone says nothing
                text = values.short(value, rule.type)
                if text == values.short(base_value, rule.type):
                    continue
                found.setdefault((inp.name, text), []).append(_shown(alt, inp.type))
        return [f"{name}{'为' + '、'.join(shown) if shown != ['（未给出）'] else '未给出'}：{text}"
                for (name, text), shown in found.items()]


def _shown(value, t: ir.Type) -> str:
    if value is ABSENT:
        return "（未给出）"
    return values.show(value, t)


def _given(value):
    """A ratio with a value, else None (for Search.first)."""
    return value if value is not None and not isinstance(value, NotApplicable) else None


def _missing(value):
    """A ratio the claim leaves not applicable, else None (for Search.first)."""
    return value if isinstance(value, NotApplicable) else None


def _inputs_read(policy: ir.Policy) -> set:
    """Inputs any rule, table column, bracket, update, scope requirement or constraint reads."""
    roots = list(policy_expressions(policy)) + [c.expr for c in policy.constraints]
    return {n.name for root in roots for n in walk(root) if isinstance(n, ir.InputRef)}
