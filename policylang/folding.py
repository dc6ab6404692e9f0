"""Constant folding over the IR: the value of a rule that does not depend on the claim.

Shared by the check report (the value an assumption has after a reform's `+=`) and the published
pages (parameters, the 变化对照表); exact Decimal arithmetic, money rounded as the rule says.
"""
from __future__ import annotations

from decimal import Decimal

from policylang import ir
from policylang.runtime import EXACT, round_money


def fold(e: ir.Expr, policy: ir.Policy, depth: int = 0):
    """The constant value of an expression made of literals and single-version constant rules
    (60% + 3pp → 63%), or None if it depends on a claim."""
    if depth > 50:
        return None
    kind = type(e)
    if kind is ir.Const:
        return e.value
    if kind is ir.RuleRef:
        rule = policy.rules.get(e.name)
        if rule is None or len(rule.versions) != 1:
            return None
        return fold(rule.versions[0].expr, policy, depth + 1)
    if kind is ir.Arith:
        left, right = fold(e.left, policy, depth + 1), fold(e.right, policy, depth + 1)
        if not isinstance(left, Decimal) or not isinstance(right, Decimal):
            return None
        return EXACT.add(left, right) if e.op == "+" else EXACT.subtract(left, right) if e.op == "-" \
            else EXACT.multiply(left, right)
    if kind is ir.Neg:
        inner = fold(e.operand, policy, depth + 1)
        return -inner if isinstance(inner, Decimal) else None
    if kind is ir.MinMax:
        args = [fold(a, policy, depth + 1) for a in e.args]
        if not all(isinstance(a, Decimal) for a in args):
            return None
        return min(args) if e.op == "min" else max(args)
    return None


def rule_constant(rule: ir.Rule, policy: ir.Policy):
    """A rule's value when it does not depend on the claim (one version, constant expression)."""
    if len(rule.versions) != 1:
        return None
    result = fold(rule.versions[0].expr, policy)
    if isinstance(result, Decimal) and rule.type == ir.MONEY:
        return round_money(result, rule.rounding)
    return result
