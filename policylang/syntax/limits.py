"""What the front end accepts, so that every back end can carry it (docs/language.md, "Limits").

The interpreter and the compiled evaluator compute in a 60-digit exact context, the code generator
emits one nested Python expression per policy expression (CPython refuses source nested ~200 deep),
the SMT encoding builds one term per table row, and a later vectorised back end holds money as int64
fen. The limits below sit well inside all of these; the parser and the resolver refuse anything past
them with a diagnostic instead of letting a back end crash on it.
"""
from __future__ import annotations

import dataclasses

from policylang.diagnostics import Span
from policylang.runtime import EXACT
from policylang.syntax import ast

# Digits of a numeric literal before and after the decimal point (`123456.78元`: 6 and 2), leading
# zeros not counted. Money has fewer: 16 digits of 元 are 18 digits of fen, which fit an int64 (9.2e18).
INTEGER_DIGITS = 18
MONEY_INTEGER_DIGITS = 16
FRACTION_DIGITS = 18
# Levels of expression nesting: each operator, call, `if`, `not` or `in` around another counts one,
# so a sum of 60 terms nests 59 deep.
NESTING_DEPTH = 50
# Rows of one table (the `default` row included).
TABLE_ROWS = 500
# Significant digits any product, sum or rounding may need (the evaluators' exact context; the bound is
# computed from the inputs' domains and the literals' digits by semantics/precision.py: E0473, E0474).
ARITHMETIC_DIGITS = EXACT.prec

_EXPR = (ast.Literal, ast.Name, ast.Call, ast.BinOp, ast.UnaryOp, ast.InSet, ast.IfThenElse,
         ast.NotApplicable, ast.SideName)


def literal_problem(kind: str, digits: str) -> str | None:
    """Why the digits of a literal (without its unit) are beyond the limits, or None."""
    whole, _, fraction = digits.partition(".")
    most = MONEY_INTEGER_DIGITS if kind == "money" else INTEGER_DIGITS
    if len(whole.lstrip("0")) > most:
        return f"{len(whole.lstrip('0'))} digits before the decimal point (at most {most})"
    if len(fraction) > FRACTION_DIGITS:
        return f"{len(fraction)} digits after the decimal point (at most {FRACTION_DIGITS})"
    return None


def too_deep(decl):
    """The outermost expression of `decl` that nests deeper than NESTING_DEPTH, or None.

    Iterative, so that the check itself never exhausts the stack."""
    stack = [(decl, 0, None)]
    while stack:
        node, depth, outer = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, (tuple, list)):
            stack.extend((item, depth, outer) for item in node if _walked(item))
            continue
        if node.__class__ in _EXPR:
            depth, outer = depth + 1, outer if depth else node
            if depth > NESTING_DEPTH:
                return outer
        stack.extend((child, depth, outer) for child in map(node.__getattribute__, _fields(node.__class__))
                     if _walked(child))
    return None


_FIELDS: dict = {Span: ()}  # positions hold no expression


def _fields(cls) -> tuple:
    """The field names of an AST class (none for anything else), looked up once per class."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else ()
    return names


def _walked(value) -> bool:
    return isinstance(value, (tuple, list, dict)) or bool(_fields(value.__class__))
