"""A rule's arithmetic with the claim's numbers in it ("1000.00 × 65%"), for the trace's rule steps.

The interpreter records values, not how they were reached; the auditor wants the sum. This follows the
rule's version in force down the `if` branches the claim takes and writes the arithmetic there with each
operand's value. Only arithmetic is written: a constant, a lookup or a plain reference would only
repeat the value.
"""
from __future__ import annotations

from decimal import Decimal, localcontext

from policylang import ir
from policylang.backends.interpreter import Interpreter
from policylang.runtime import EXACT, NotApplicable

ARITHMETIC = (ir.Arith, ir.MinMax, ir.Round, ir.Neg)
_OPS = {"+": ("+", 1), "-": ("−", 1), "*": ("×", 2)}


class Formulas:
    """Formulas of one claim's rules; built once per claim (it holds an evaluation of the claim)."""

    def __init__(self, policy: ir.Policy, claim: dict, state: dict):
        self.policy = policy
        self.run = Interpreter(policy).run(claim, state)

    def of(self, name: str) -> str | None:
        rule = self.policy.rules[name]
        version = next((v for v in rule.versions if v.validity.contains(self.run.day)), None)
        if version is None:
            return None
        leaf = self._branch(version.expr)
        if leaf is None or not isinstance(leaf, ARITHMETIC):
            return None
        try:
            return self._text(leaf, 0)
        except NotApplicable:
            return None

    def _value(self, e: ir.Expr):
        with localcontext(EXACT):
            return self.run.eval(e)

    def _branch(self, e: ir.Expr):
        """The expression the claim's conditions lead to (None when a condition has no value)."""
        while isinstance(e, ir.If):
            try:
                e = e.then if self._value(e.cond) else e.otherwise
            except NotApplicable:
                return None
        return e

    def _text(self, e: ir.Expr, level: int) -> str:
        if isinstance(e, ir.Arith):
            symbol, own = _OPS[e.op]
            right_level = own + 1 if e.op in "-*" else own
            text = f"{self._text(e.left, own)} {symbol} {self._text(e.right, right_level)}"
            return f"({text})" if own < level else text
        if isinstance(e, ir.Neg):
            return f"−{self._text(e.operand, 3)}"
        if isinstance(e, ir.MinMax):
            word = "较小值" if e.op == "min" else "较大值"
            return f"{word}({', '.join(self._text(a, 0) for a in e.args)})"
        if isinstance(e, ir.Round):
            return self._text(e.operand, level)
        if isinstance(e, ir.If):
            leaf = self._branch(e)
            if leaf is None:
                raise NotApplicable("condition")
            return self._text(leaf, level)
        return shown(self._value(e), e.type)


def shown(value, t: ir.Type) -> str:
    """One operand: money with two decimals, a rate as a percentage, points as 个百分点, else as written."""
    if isinstance(value, Decimal):
        if t == ir.MONEY:
            return format(value.quantize(Decimal("0.01")) if value.as_tuple().exponent >= -2 else value, "f")
        if t == ir.RATE:
            return f"{format((value * 100).normalize(), 'f')}%"
        if t == ir.POINTS:
            return f"{format((value * 100).normalize(), 'f')}个百分点"
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)
