"""The reference interpreter: a direct walk over the IR. It defines what a policy means.

Every other back end is tested against it. It is written for clarity, not speed,
and records a trace (which rule, row, band and version fired, and each condition's
outcome) for --explain and for coverage.
"""
from __future__ import annotations

import operator
from decimal import Decimal, localcontext

from policylang import ir
from policylang.runtime import (COUNTED, EXACT, ZERO, NotApplicable, Outcome, band_order, band_part, bracket_sum,
                                missing_input, no_row, no_version, out_of_force, overlap, round_money, unknown_after)

# Conditions the trace records in eval itself (comparisons), or through their operand (not).
SELF_RECORDING = (ir.Compare, ir.InSet, ir.Not)
COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}


class Trace:
    """Events of one evaluation, in order: tuples whose first item names the kind."""

    def __init__(self):
        self.events: list[tuple] = []

    def add(self, *event):
        self.events.append(event)


class _NoTrace:
    def add(self, *event):
        pass


_NO_TRACE = _NoTrace()


class Interpreter:
    def __init__(self, policy: ir.Policy):
        self.policy = policy

    def evaluate(self, claim: dict, state: dict, trace: Trace | None = None) -> Outcome:
        with localcontext(EXACT):
            return _Run(self.policy, claim, state, trace or _NO_TRACE).outcome()

    def run(self, claim: dict, state: dict, sides: dict | None = None) -> "_Run":
        """An evaluation context for arbitrary expressions over one claim (properties, constraints)."""
        return _Run(self.policy, claim, state, _NO_TRACE, sides)

    def holds(self, expr: ir.Expr, claim: dict, state: dict, sides: dict | None = None):
        """The value of a bool expression for a claim, or the NotApplicable that stands for it."""
        with localcontext(EXACT):
            try:
                return self.run(claim, state, sides).eval(expr)
            except NotApplicable as na:
                return na

    def evaluate_all(self, claim: dict, state: dict, trace: Trace | None = None) -> tuple[Outcome, dict]:
        """Like evaluate, plus every rule's value: examples may expect intermediate rules."""
        with localcontext(EXACT):
            run = _Run(self.policy, claim, state, trace or _NO_TRACE)
            outcome = run.outcome()
            if outcome.applicable:
                for name in self.policy.rules:
                    run.value(name)
            return outcome, dict(run.values)


class _Run:
    """One claim's evaluation: memoised rule values over a fixed claim and state."""

    def __init__(self, policy: ir.Policy, claim: dict, state: dict, trace, sides: dict | None = None):
        self.sides = sides or {}  # left/right runs, for a property that compares two claims
        self.p = policy
        self.claim = claim
        self.state = {name: state.get(name, acc.initial) for name, acc in policy.accumulators.items()}
        self.counted = state.get(COUNTED, frozenset())  # once-per updates that counted this claim's id already
        self.trace = trace
        self.values: dict = {}
        self.day = claim[policy.service_date]

    def outcome(self) -> Outcome:
        reason = self.out_of_scope()
        if reason is not None:
            self.trace.add("scope", False, reason)
            return Outcome(False, reason, {}, dict(self.state))
        outputs = {r.name: self.value(r.name) for r in self.p.outputs}
        after = dict(self.state)
        for update in self.p.updates:
            before = after[update.target]
            after[update.target] = self.update(update, before)
            if after[update.target] is not None:
                self.trace.add("update", update.target, before, after[update.target], update.clause)
            else:
                after[update.target] = before
        return Outcome(True, None, outputs, after)

    def update(self, update: ir.Update, before):
        """The accumulator after one update, or None when the update does not apply.

        Not applicable never passes for 'nothing added': a condition that is not applicable (the
        update may or may not apply) or an amount that is not applicable while the condition holds
        makes the year-to-date unknown, and an unknown year-to-date stays unknown.
        """
        if isinstance(before, NotApplicable):
            return before
        if update.once is not None and update.target in self.counted:
            self.trace.add("update", update.target, None, f"already counted for this {update.once}")
            return None
        if update.when is not None:
            try:
                applies = self.test(update.when)
            except NotApplicable as na:
                return unknown_after(update.target, self.day, na.reason, condition=True)
            if not applies:
                self.trace.add("update", update.target, None, "condition false")
                return None
        try:
            return before + self.eval(update.amount)
        except NotApplicable as na:
            return unknown_after(update.target, self.day, na.reason, condition=False)

    def out_of_scope(self):
        in_force = self.p.meta.in_force
        if not in_force.contains(self.day):
            return out_of_force(self.day, in_force)
        for index, req in enumerate(self.p.scope, 1):
            try:
                ok = self.test(req.expr)
            except NotApplicable as na:
                return na.reason
            self.trace.add("require", index, ok)
            if not ok:
                return req.message
        return None

    # ---- definitions
    def rule(self, name: str):
        """The rule's value for this claim; raises NotApplicable if it has none."""
        value = self.value(name)
        if isinstance(value, NotApplicable):
            raise value
        return value

    def value(self, name: str):
        """The rule's value, or the NotApplicable that stands for it (computed once)."""
        if name not in self.values:
            rule = self.p.rules[name]
            version = None
            try:
                version = self.version(rule, rule.versions)
                value = self.eval(version.expr)
                if rule.type == ir.MONEY:
                    value = round_money(value, rule.rounding)
            except NotApplicable as na:
                value = na
            self.values[name] = value
            self.trace.add("rule", name, value, version.clause if version else None)
        return self.values[name]

    def version(self, definition, versions):
        for index, v in enumerate(versions):
            if v.validity.contains(self.day):
                if len(versions) > 1:
                    self.trace.add("version", definition.name, index, str(v.validity), v.clause)
                return v
        raise no_version(definition.name, self.day)

    def table(self, ref: ir.TableRef):
        table = self.p.tables[ref.name]
        args = [self.eval(a) for a in ref.args]
        version = self.version(table, table.versions)
        hits = [row for row in version.rows if all(cell_matches(c, v) for c, v in zip(row.cells, args))]
        if table.hit == "unique" and len(hits) > 1:
            raise overlap(table.name, [r.index for r in hits])
        row = hits[0] if hits else version.default
        if row is None:
            raise no_row(table.name, args)
        self.trace.add("row", table.name, row.index, row.clause, tuple(args))
        return self.eval(row.output)

    def brackets(self, ref: ir.BracketsRef):
        """f(base + amount) − f(base) over the bands of the version in force. Every bound and rate is
        evaluated (in band order) before any is used; bounds out of order make the brackets not
        applicable (runtime.band_order). The trace records, per band the claim reaches, the amount in
        the band, its rate and what it pays, then the rounded total: the auditor's arithmetic."""
        b = self.p.brackets[ref.name]
        amount = self.eval(b.on)
        base = self.eval(b.cumulative) if b.cumulative is not None else ZERO
        version = self.version(b, b.versions)
        bands = [(self.eval(band.low), self.eval(band.high) if band.high is not None else None,
                  self.eval(band.rate)) for band in version.bands]
        disorder = band_order(b.name, bands)
        if disorder is not None:
            raise disorder
        for band, (low, high, rate) in zip(version.bands, bands):
            if (high is None or base < high) and base + amount > low:
                part = band_part(base, amount, low, high)
                self.trace.add("band", b.name, band.index, band.clause, part, rate, part * rate)
        value = round_money(bracket_sum(base + amount, bands) - bracket_sum(base, bands), b.rounding)
        self.trace.add("brackets", b.name, value)
        return value

    # ---- expressions
    def test(self, e: ir.Expr) -> bool:
        """A condition's value, recorded for coverage by its source position: an `if`, `when` or `require`
        condition and each operand of and/or/not, bare (`贫困人员`) or compared. A comparison records
        itself wherever it stands; `not x` is covered through x."""
        value = self.eval(e)
        if type(e) not in SELF_RECORDING:
            self.trace.add("cond", e.span, value)
        return value

    def eval(self, e: ir.Expr):
        kind = type(e)
        if kind is ir.Const:
            return e.value
        if kind is ir.InputRef:
            if e.name not in self.claim:
                raise missing_input(e.name)
            return self.claim[e.name]
        if kind is ir.RuleRef:
            return self.rule(e.name)
        if kind is ir.AccRef:
            value = self.state[e.name]
            if isinstance(value, NotApplicable):  # the year-to-date is unknown
                raise NotApplicable(value.reason)
            return value
        if kind is ir.TableRef:
            return self.table(e)
        if kind is ir.BracketsRef:
            return self.brackets(e)
        if kind is ir.Arith:
            left, right = self.eval(e.left), self.eval(e.right)
            return left + right if e.op == "+" else left - right if e.op == "-" else left * right
        if kind is ir.Compare:
            result = COMPARE[e.op](self.eval(e.left), self.eval(e.right))
            self.trace.add("cond", e.span, result)
            return result
        if kind is ir.InSet:
            result = (self.eval(e.operand) in e.items) != e.negated
            self.trace.add("cond", e.span, result)
            return result
        if kind is ir.Logic:  # an operand that is never evaluated is not exercised: nothing is recorded
            left = self.test(e.left)
            if e.op == "and":
                return self.test(e.right) if left else False
            return True if left else self.test(e.right)
        if kind is ir.Not:
            return not self.test(e.operand)
        if kind is ir.Neg:
            return -self.eval(e.operand)
        if kind is ir.If:
            return self.eval(e.then) if self.test(e.cond) else self.eval(e.otherwise)
        if kind is ir.MinMax:
            values = [self.eval(a) for a in e.args]
            return min(values) if e.op == "min" else max(values)
        if kind is ir.Round:
            return round_money(self.eval(e.operand), e.mode)
        if kind is ir.NotApplicable:
            raise NotApplicable(e.reason)
        if kind is ir.Side:
            return self.sides[e.side].eval(e.ref)
        raise TypeError(f"unknown IR node {kind.__name__}")


def cell_matches(cell: ir.Cell, value) -> bool:
    kind = cell.kind
    if kind == "any":
        return True
    if kind == "eq":
        return value == cell.values[0]
    if kind == "cmp":
        return COMPARE[cell.op](value, cell.values[0])
    if kind == "range":
        low, high = cell.values
        return value >= low and (high is None or value < high)
    if kind == "in":
        return value in cell.values
    if kind == "not_in":
        return value not in cell.values
    raise TypeError(f"unknown cell kind {kind}")


__all__ = ["Interpreter", "Trace", "cell_matches", "Decimal"]
