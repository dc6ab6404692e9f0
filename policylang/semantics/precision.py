"""A static bound on the digits of every product, sum and rounding a policy computes (E0473, E0474).

Both evaluators compute in one exact context of `runtime.EXACT.prec` significant digits that raises
rather than rounds; a result needing more digits would stop a claim with an internal error. Places are
known before any claim: an input has at most its domain's places and magnitude (domains.py, enforced at
the claim edge), a literal its own digits, a money rule two places (it rounds to the fen). So the front
end bounds each value by (largest magnitude, most decimal places) and refuses an expression whose result
could need more digits than the evaluators carry, naming the digits and the remedy (round an intermediate
rule). The bound is sound and loose: a policy it accepts never exceeds the precision on any valid claim.
"""
from __future__ import annotations

import dataclasses
import decimal
from decimal import Decimal

from policylang import ir
from policylang.diagnostics import Diagnostic
from policylang.domains import LIMITS, STATE_LIMIT, decimals, domain
from policylang.runtime import EXACT, FEN
from policylang.syntax.limits import ARITHMETIC_DIGITS

# Magnitudes are upper bounds: rounded toward +infinity, never trapped, room for any exponent.
_UP = decimal.Context(prec=80, rounding=decimal.ROUND_CEILING, Emax=10 ** 8, Emin=-10 ** 8, traps=[])
DIGITS = ARITHMETIC_DIGITS  # what the evaluators carry: the limit (docs/language.md, "Limits")


@dataclasses.dataclass(frozen=True)
class Bound:
    """|value| ≤ high, with at most `places` decimal places; `reported` once a part was refused (so the
    expressions around it are not refused again for the same cause)."""

    high: Decimal
    places: int
    reported: bool = False

    @property
    def digits(self) -> int:
        """Significant digits the value can need: those of high × 10^places."""
        return max(1, self.high.adjusted() + 1 + self.places) if self.high else 1


ZERO = Bound(Decimal(0), 0)


def problems(policy: ir.Policy) -> list:
    """Every expression of the policy whose result can need more than DIGITS digits: E0473 / E0474."""
    return _Bounds(policy).run()


class _Bounds:
    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.errors: list = []
        self.memo: dict = {}
        self.acc_places = {name: max(LIMITS.get(a.type.name, LIMITS["number"])[2], decimals(a.initial))
                           for name, a in policy.accumulators.items()}

    def run(self) -> list:
        """Bound everything; again from scratch while an update adds more places than its year-to-date had
        (places only grow, and stop past DIGITS, so this ends)."""
        while True:
            before = dict(self.acc_places)
            self.errors, self.memo = [], {}
            self.bound_all()
            if before == self.acc_places:
                return self.errors

    def bound_all(self) -> None:
        for name in self.p.rules:
            self.rule(name)
        for name in self.p.tables:
            self.definition(("table", name))
        for name in self.p.brackets:
            self.definition(("brackets", name))
        for update in self.p.updates:
            self.update(update)
        exprs = [r.expr for r in self.p.scope] + [c.expr for c in self.p.constraints]
        for prop in self.p.properties:
            exprs += [e for e in (prop.when, prop.holds) if e is not None]
        for e in exprs:
            self.bound(e)

    # ---- definitions: each bounded once
    def rule(self, name: str) -> Bound:
        return self.definition(("rule", name))

    def definition(self, key) -> Bound:
        if key not in self.memo:
            self.memo[key] = ZERO  # a cycle is the resolver's error (E0207), never an endless loop here
            kind, name = key
            self.memo[key] = getattr(self, f"_{kind}")(name)
        return self.memo[key]

    def _rule(self, name: str) -> Bound:
        rule = self.p.rules[name]
        found = [self.bound(v.expr) for v in rule.versions]
        if rule.type == ir.MONEY:  # each version's value is rounded to the fen
            found = [self.rounded(b, v.expr, v.span) for b, v in zip(found, rule.versions)]
        return self.widest(found)

    def _table(self, name: str) -> Bound:
        table = self.p.tables[name]
        outputs = [row.output for v in table.versions for row in (*v.rows, v.default) if row is not None]
        for column in table.columns:
            self.bound(column)
        return self.widest([self.bound(e) for e in outputs])

    def _brackets(self, name: str) -> Bound:
        """f(base + amount) − f(base), each f a sum over bands of (top − low) × rate, rounded to the fen."""
        b = self.p.brackets[name]
        on = self.bound(b.on)
        base = self.bound(b.cumulative) if b.cumulative is not None else ZERO
        top = self.arith("+", base, on, b.on, b.span)
        total, reported = Decimal(0), top.reported
        places = top.places
        for v in b.versions:
            for band in v.bands:
                low = self.bound(band.low)
                high = self.bound(band.high) if band.high is not None else ZERO
                rate = self.bound(band.rate)
                reported = reported or low.reported or high.reported or rate.reported
                part = Bound(_UP.multiply(_UP.add(max(top.high, high.high), low.high), rate.high),
                             max(top.places, low.places, high.places) + rate.places)
                total, places = _UP.add(total, part.high), max(places, part.places)
        paid = Bound(_UP.multiply(total, 2), places, reported)  # f(base + amount) and f(base), subtracted
        if not reported and paid.digits > DIGITS:
            self.report("E0473", b.on, b.span, paid, what=f"the bands of `{name}` over")
            paid = dataclasses.replace(paid, reported=True)
        return self.rounded(paid, b.on, b.span)

    def update(self, update: ir.Update) -> None:
        if update.when is not None:
            self.bound(update.when)
        amount = self.bound(update.amount)
        places = self.acc_places[update.target]
        year = Bound(STATE_LIMIT, places)
        # a year-to-date carries the places of what its updates add (capped: past DIGITS it is refused anyway)
        self.acc_places[update.target] = min(max(places, amount.places), DIGITS + 1)
        self.arith("+", year, amount, update.amount, update.span, what=f"the year-to-date `{update.target}` plus")

    # ---- expressions
    def bound(self, e) -> Bound:
        kind = type(e)
        if kind is ir.Const:
            value = e.value
            return Bound(abs(value), decimals(value)) if isinstance(value, Decimal) else ZERO
        if kind is ir.InputRef:
            d = domain(self.p.inputs[e.name]) if e.name in self.p.inputs else None
            return Bound(max(abs(d.low), abs(d.high)), d.places) if d else ZERO
        if kind is ir.AccRef:
            return Bound(STATE_LIMIT, self.acc_places.get(e.name, 0))
        if kind is ir.RuleRef:
            return self.rule(e.name)
        if kind is ir.TableRef:
            for arg in e.args:
                self.bound(arg)
            return self.definition(("table", e.name))
        if kind is ir.BracketsRef:
            return self.definition(("brackets", e.name))
        if kind is ir.Arith:
            return self.arith(e.op, self.bound(e.left), self.bound(e.right), e, e.span)
        if kind is ir.Neg:
            return self.bound(e.operand)
        if kind in (ir.If, ir.MinMax):
            parts = (e.then, e.otherwise) if kind is ir.If else e.args
            if kind is ir.If:
                self.bound(e.cond)
            return self.widest([self.bound(a) for a in parts])
        if kind is ir.Round:
            return self.rounded(self.bound(e.operand), e, e.span)
        if kind is ir.Side:
            return self.bound(e.ref)
        for child in _children(e):  # comparisons, sets, and / or / not: no arithmetic of their own
            self.bound(child)
        return ZERO

    def arith(self, op: str, left: Bound, right: Bound, e, span, what: str = "") -> Bound:
        if op == "*":
            found = Bound(_UP.multiply(left.high, right.high), left.places + right.places)
        else:
            found = Bound(_UP.add(left.high, right.high), max(left.places, right.places))
        if left.reported or right.reported:
            return dataclasses.replace(found, reported=True)
        if found.digits > DIGITS:
            self.report("E0473", e, span, found, what=what)
            return dataclasses.replace(found, reported=True)
        return found

    def rounded(self, found: Bound, e, span) -> Bound:
        """Rounding to the fen keeps every digit before the point and two after (and may carry one)."""
        out = Bound(_UP.add(found.high, FEN), 2, found.reported)
        if not found.reported and out.digits > DIGITS:
            self.report("E0474", e, span, out)
            return dataclasses.replace(out, reported=True)
        return out

    @staticmethod
    def widest(bounds) -> Bound:
        bounds = list(bounds) or [ZERO]
        return Bound(max(b.high for b in bounds), max(b.places for b in bounds), any(b.reported for b in bounds))

    def report(self, code: str, e, span, found: Bound, what: str = "") -> None:
        shown = f"{what} `{text(e)}`" if what else f"`{text(e)}`"
        self.errors.append(Diagnostic(code, getattr(e, "span", span) or span,
                                      {"expr": shown, "digits": found.digits, "most": DIGITS,
                                       "places": found.places}))


def _children(e):
    """The operands of an expression with no arithmetic of its own."""
    kind = type(e)
    if kind in (ir.Compare, ir.Logic):
        return (e.left, e.right)
    if kind in (ir.Not, ir.InSet):
        return (e.operand,)
    return ()


# ---- the expression as the author wrote it, for the message ---------------------------------------------
_UNITS = {"money": ("元", 0), "rate": ("%", 2), "points": ("pp", 2)}
_PREC = {"+": 1, "-": 1, "*": 2}


def text(e, most: int = 100) -> str:
    shown = _text(e)
    return shown if len(shown) <= most else shown[:most - 1] + "…"


def _text(e) -> str:
    kind = type(e)
    if kind is ir.Const:
        if isinstance(e.value, Decimal):
            unit, shift = _UNITS.get(e.type.name, ("", 0))
            return format(e.value.scaleb(shift, EXACT), "f") + unit
        return str(e.value).lower() if isinstance(e.value, bool) else str(e.value)
    if kind in (ir.InputRef, ir.RuleRef, ir.AccRef, ir.BracketsRef):
        return e.name
    if kind is ir.TableRef:
        return e.name
    if kind is ir.Side:
        return f"{e.side}.{_text(e.ref)}"
    if kind is ir.Arith:
        return f"{_operand(e.left, e.op, False)} {'×' if e.op == '*' else e.op} {_operand(e.right, e.op, True)}"
    if kind is ir.Neg:
        return f"-{_operand(e.operand, '*', False)}"
    if kind is ir.MinMax:
        return f"{e.op}({', '.join(_text(a) for a in e.args)})"
    if kind is ir.Round:
        return f"round({_text(e.operand)}{'' if e.mode == 'half_up' else ', ' + e.mode})"
    if kind is ir.If:
        return f"if … then {_text(e.then)} else {_text(e.otherwise)}"
    if kind is ir.NotApplicable:
        return "not applicable"
    return "…"


def _operand(e, op: str, right: bool) -> str:
    shown = _text(e)
    if type(e) is ir.Arith and (_PREC[e.op] < _PREC[op] or (right and _PREC[e.op] == _PREC[op] and op == "-")):
        return f"({shown})"
    if type(e) is ir.If:
        return f"({shown})"
    return shown
