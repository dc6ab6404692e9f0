"""Resolve names in one expression and check its type, producing IR.

Errors are collected, not raised; an ill-typed node becomes ERROR so that one
mistake is reported once, not again by every expression around it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from decimal import localcontext

from policylang import ir
from policylang.runtime import EXACT
from policylang.diagnostics import Diagnostic, Span, did_you_mean
from policylang.syntax import ast

ERROR = ir.Type("error")
FUNCTIONS = ("min", "max", "round")
# Checking recurses a few frames per level; far below Python's limit, far above any real policy.
MAX_DEPTH = 150


@dataclass
class Env:
    """What a name can mean: signatures of everything declared."""

    enums: dict  # name -> ir.Enum
    inputs: dict  # name -> ir.Input
    rules: dict  # name -> ir.Type
    tables: dict  # name -> (columns ast, column types or None, type)
    brackets: dict  # name -> ir.Type
    accumulators: dict  # name -> ir.Type
    members: dict = field(default_factory=dict)  # member name -> [enum names]
    unused_prelude: frozenset = frozenset()  # names the prelude declares when the policy does not use it
    platform: dict = field(default_factory=dict)  # platform name (hifp_pay …) -> rule name
    facts: dict = field(default_factory=dict)  # fact name -> where it is declared (rules cannot read facts)

    def __post_init__(self):
        for enum in self.enums.values():
            for m in enum.members:
                self.members.setdefault(m.name, []).append(enum.name)

    def all_names(self):
        return itertools.chain(self.inputs, self.rules, self.tables, self.brackets, self.accumulators,
                               self.members)


class ExprChecker:
    def __init__(self, env: Env, errors: list, ids: itertools.count):
        self.env = env
        self.errors = errors
        self.ids = ids
        self.rule_deps: set = set()
        self.inputs_used: set = set()
        self.table_deps: set = set()
        self.bracket_deps: set = set()
        self.expanding: set = set()  # tables whose column expressions are being checked
        self.depth = 0
        self.too_deep = False
        self.sides_seen: set = set()  # names read after left./right. ("" outside a vary), each slip reported once

    def error(self, code: str, span: Span, **args):
        self.errors.append(Diagnostic(code, span, args))

    def check(self, node: ast.Expr, expected: ir.Type | None = None) -> ir.Expr:
        if self.depth >= MAX_DEPTH:
            # Report once, at the outermost node that is too deep, not at every level below it.
            if not self.too_deep:
                self.too_deep = True
                self.error("E0106", node.span)
            return ir.Const(None, ERROR, node.span)
        method = getattr(self, "_" + type(node).__name__)
        self.depth += 1
        try:
            return method(node, expected)
        finally:
            self.depth -= 1

    def expect(self, node: ast.Expr, expected: ir.Type, what: str = "") -> ir.Expr:
        """Check and require a type, with a hint for the usual slips."""
        result = self.check(node, expected)
        if result.type not in (expected, ERROR):
            self.error("E0301", node.span, expected=str(expected), found=str(result.type),
                       hint=mismatch_hint(expected, result.type, node))
            return ir.Const(None, ERROR, node.span)
        return result

    # ---- leaves
    def _Literal(self, node: ast.Literal, expected):
        if node.kind == "money":
            if node.value.as_tuple().exponent < -2:
                self.error("E0308", node.span, text=node.text)
            return ir.Const(node.value, ir.MONEY, node.span)
        kind = {"bool": ir.BOOL, "text": ir.TEXT}.get(node.kind) or ir.SCALARS[node.kind]
        return ir.Const(node.value, kind, node.span)

    allow_sides = False  # left./right. are allowed only inside a relational property
    varied: str | None = None  # what the property's `vary` names, when that is valid (the rest is shared)

    def _SideName(self, node: ast.SideName, expected):
        """left.X / right.X. One slip is one error: `left.X >= right.X` names X twice but is reported once."""
        seen = self.sides_seen
        repeated = node.name in seen or (not self.allow_sides and "" in seen)
        seen.add(node.name if self.allow_sides else "")
        if not self.allow_sides:
            if not repeated:
                self.error("E0313", node.span, side=node.side, name=node.name)
            return ir.Const(None, ERROR, node.span)
        before = len(self.errors)
        inner = self._Name(ast.Name(node.name, node.span), expected)
        if repeated:
            del self.errors[before:]
        if not isinstance(inner, (ir.InputRef, ir.RuleRef, ir.AccRef)):
            if inner.type != ERROR and not repeated:
                what, hint = _not_on_one_side(node.name, inner, self.env)
                self.error("E0318", node.span, side=node.side, name=node.name, what=what, hint=hint)
            return ir.Const(None, ERROR, node.span)
        if self.varied is not None and isinstance(inner, (ir.InputRef, ir.AccRef)) and inner.name != self.varied:
            if not repeated:
                self.error("E0316", node.span, side=node.side, name=node.name, varied=self.varied)
            return ir.Const(None, ERROR, node.span)
        return ir.Side(node.side, inner, inner.type, node.span)

    def _NotApplicable(self, node: ast.NotApplicable, expected):
        if expected is None:
            self.error("E0310", node.span)
            return ir.Const(None, ERROR, node.span)
        return ir.NotApplicable(node.reason, expected, node.span)

    def _Name(self, node: ast.Name, expected):
        env, name = self.env, node.name
        if expected is not None and expected.name == "enum" and expected.enum in env.members.get(name, ()):
            return ir.Const(name, expected, node.span)  # where a member is expected, it wins
        if name in env.inputs:
            self.inputs_used.add(name)
            return ir.InputRef(name, env.inputs[name].type, node.span)
        if name in env.rules:
            self.rule_deps.add(name)
            return ir.RuleRef(name, env.rules[name], node.span)
        if name in env.accumulators:
            return ir.AccRef(name, env.accumulators[name], node.span)
        if name in env.tables:
            columns, _, type_ = env.tables[name]
            return self._table(name, columns, type_, node.span)
        if name in env.brackets:
            self.bracket_deps.add(name)
            return ir.BracketsRef(name, env.brackets[name], node.span)
        if name in env.platform:
            rule = env.platform[name]
            self.rule_deps.add(rule)
            return ir.RuleRef(rule, env.rules[rule], node.span)
        return self._member(node, expected)

    def _member(self, node: ast.Name, expected):
        owners = self.env.members.get(node.name, [])
        if expected is not None and expected.name == "enum":
            if expected.enum in owners:
                return ir.Const(node.name, expected, node.span)
            if not owners:
                enum = self.env.enums[expected.enum]
                self.error("E0210", node.span, name=node.name, enum=expected.enum,
                           hint=did_you_mean(node.name, enum.member_names())
                           or f"members: {', '.join(enum.member_names())}")
                return ir.Const(None, ERROR, node.span)
        if len(owners) == 1:
            return ir.Const(node.name, ir.enum_type(owners[0]), node.span)
        if len(owners) > 1:
            self.error("E0211", node.span, name=node.name, enums=", ".join(owners))
            return ir.Const(None, ERROR, node.span)
        if node.name in self.env.facts:
            self.error("E0441", node.span, name=node.name, where=self.env.facts[node.name])
            return ir.Const(None, ERROR, node.span)
        self.error("E0201", node.span, name=node.name, hint=unknown_name_hint(node.name, self.env))
        return ir.Const(None, ERROR, node.span)

    def _bare_member(self, node) -> bool:
        """A name that can only be an enumeration member, whose type comes from what it is compared with."""
        env = self.env
        return (isinstance(node, ast.Name) and node.name in env.members and node.name not in env.inputs
                and node.name not in env.rules and node.name not in env.accumulators
                and node.name not in env.tables and node.name not in env.brackets)

    def _table(self, name, args_ast, type_, span, explicit=False):
        self.table_deps.add(name)
        if name in self.expanding:
            # A table whose columns read itself: stop here; ordering reports the cycle (E0207).
            return ir.Const(None, ERROR, span)
        _, column_types, _ = self.env.tables[name]
        args = []
        saved = self.rule_deps, self.table_deps, self.bracket_deps
        self.rule_deps, self.table_deps, self.bracket_deps = set(), set(), set()
        self.expanding.add(name)
        try:
            for i, arg in enumerate(args_ast):
                want = column_types[i] if column_types and i < len(column_types) else None
                args.append(self.expect(arg, want) if (explicit and want) else self.check(arg, want))
        finally:
            self.expanding.discard(name)
            # What the columns read is the table's dependency, recorded where the table is defined;
            # copying it here would make a cycle through a table look like a self-reference.
            self.rule_deps, self.table_deps, self.bracket_deps = saved
        return ir.TableRef(name, tuple(args), type_, span)

    # ---- compound
    def _Call(self, node: ast.Call, expected):
        if node.func in self.env.tables:
            columns, column_types, type_ = self.env.tables[node.func]
            if len(node.args) != len(columns):
                self.error("E0304", node.span, func=node.func, expected=f"{len(columns)} arguments",
                           hint=f"table `{node.func}` has columns ({', '.join(map(str, column_types or ()))})")
                return ir.Const(None, ERROR, node.span)
            return self._table(node.func, node.args, type_, node.span, explicit=True)
        if node.func in ("min", "max"):
            if not node.args:
                self.error("E0304", node.span, func=node.func, expected="at least one argument", hint="")
                return ir.Const(None, ERROR, node.span)
            first = self.check(node.args[0], expected)
            args = [first] + [self.expect(a, first.type) if first.type != ERROR else self.check(a)
                              for a in node.args[1:]]
            if first.type not in ir.NUMERIC and first.type != ERROR:
                self.error("E0304", node.span, func=node.func, expected="money, rates or numbers",
                           hint=f"found {first.type}")
                return ir.Const(None, ERROR, node.span)
            return ir.MinMax(node.func, tuple(args), first.type, node.span)
        if node.func == "round":
            return self._round(node)
        self.error("E0204", node.span, name=node.func, known=", ".join(FUNCTIONS + tuple(self.env.tables)))
        return ir.Const(None, ERROR, node.span)

    def _round(self, node: ast.Call):
        if len(node.args) not in (1, 2):
            self.error("E0304", node.span, func="round", expected="an amount and an optional mode",
                       hint="round(x) rounds half up to the fen; round(x, down) truncates")
            return ir.Const(None, ERROR, node.span)
        mode = "half_up"
        if len(node.args) == 2:
            m = node.args[1]
            mode = m.name if isinstance(m, ast.Name) else getattr(m, "text", "?")  # say what was written
            if mode not in ir.ROUNDING_MODES:
                self.error("E0309", m.span, name=mode, known=", ".join(ir.ROUNDING_MODES))
                return ir.Const(None, ERROR, node.span)
        operand = self.expect(node.args[0], ir.MONEY)
        return ir.Round(operand, mode, node.span)

    def _UnaryOp(self, node: ast.UnaryOp, expected):
        if node.op == "not":
            return ir.Not(self.condition(node.operand), node.span)
        operand = self.check(node.operand, expected)
        if operand.type == ERROR:  # already reported; a Neg of nothing would break constant()
            return ir.Const(None, ERROR, node.span)
        if operand.type not in ir.NUMERIC:
            self.error("E0302", node.span, op="-", left=str(operand.type), right="nothing", hint="")
            return ir.Const(None, ERROR, node.span)
        return ir.Neg(operand, operand.type, node.span)

    def condition(self, node: ast.Expr) -> ir.Expr:
        result = self.check(node, ir.BOOL)
        if result.type not in (ir.BOOL, ERROR):
            hint = "to compare, write `==`" if isinstance(node, ast.Name) else ""
            self.error("E0305", node.span, found=str(result.type), hint=hint)
            return ir.Const(None, ERROR, node.span)
        return result

    def _IfThenElse(self, node: ast.IfThenElse, expected):
        cond = self.condition(node.cond)
        if expected is None and isinstance(node.then, ast.NotApplicable):
            other = self.check(node.otherwise, None)  # the other branch gives the type
            then = ir.NotApplicable(node.then.reason, other.type, node.then.span)
        else:
            then = self.check(node.then, expected)
            other = self.check(node.otherwise, expected if then.type == ERROR else then.type)
        type_ = then.type if then.type != ERROR else other.type
        if isinstance(then, ir.NotApplicable):
            type_ = other.type
            then = ir.NotApplicable(then.reason, type_, then.span)
        if isinstance(other, ir.NotApplicable):
            other = ir.NotApplicable(other.reason, type_, other.span)
        if ERROR not in (then.type, other.type) and then.type != other.type:
            self.error("E0301", node.otherwise.span, expected=str(then.type), found=str(other.type),
                       hint="both branches of `if` must have the same type")
            type_ = ERROR
        return ir.If(cond, then, other, next(self.ids), type_, node.span)

    def _InSet(self, node: ast.InSet, expected):
        operand = self.check(node.operand)
        items = []
        for item in node.items:
            checked = self.expect(item, operand.type) if operand.type != ERROR else self.check(item)
            try:
                items.append(constant(checked))
            except ValueError:
                self.error("E0304", item.span, func="in", expected="constant members",
                           hint="a set lists members or literals")
                items.append(None)
        return ir.InSet(operand, tuple(items), node.negated, next(self.ids), node.span)

    def _BinOp(self, node: ast.BinOp, expected):
        if node.op in ("and", "or"):
            return ir.Logic(node.op, self.condition(node.left), self.condition(node.right), node.span)
        if node.op in ("==", "!=", "<", "<=", ">", ">="):
            return self._compare(node)
        left = self.check(node.left, expected)
        right = self.check(node.right, expected if node.op != "*" else None)
        if ERROR in (left.type, right.type):
            return ir.Const(None, ERROR, node.span)
        result = arith_type(node.op, left.type, right.type)
        if result is None:
            self.error("E0302", node.span, op={"*": "×"}.get(node.op, node.op), left=str(left.type),
                       right=str(right.type), hint=arith_hint(node.op, left.type, right.type))
            return ir.Const(None, ERROR, node.span)
        return ir.Arith(node.op, left, right, result, node.span)

    def _compare(self, node: ast.BinOp):
        if self._bare_member(node.left) and not self._bare_member(node.right):
            # `基层 == 医院类型`: the field on the right says which enumeration 基层 belongs to.
            right = self.check(node.right)
            left = self.check(node.left, right.type if right.type != ERROR else None)
        else:
            left = self.check(node.left)
            right = self.check(node.right, left.type if left.type != ERROR else None)
        if isinstance(left, ir.Const) and left.type.name == "enum" and right.type.name == "enum" \
                and left.type != right.type:
            left = self.check(node.left, right.type)
        if ERROR in (left.type, right.type):
            return ir.Const(None, ERROR, node.span)
        if left.type != right.type:
            self.error("E0303", node.span, left=describe(left.type), right=describe(right.type),
                       hint=compare_hint(left.type, right.type,
                                         next((side.value for side in (left, right)
                                               if isinstance(side, ir.Const) and side.type == ir.TEXT), None)))
            return ir.Const(None, ERROR, node.span)
        ordered = left.type in ir.NUMERIC or left.type == ir.DATE
        if node.op not in ("==", "!=") and not ordered:
            self.error("E0302", node.span, op=node.op, left=str(left.type), right=str(right.type),
                       hint="only money, rates, numbers and dates are ordered")
            return ir.Const(None, ERROR, node.span)
        return ir.Compare(node.op, left, right, next(self.ids), node.span)


# ---- typing rules -----------------------------------------------------------------
_ARITH = {
    ("+", "money", "money"): ir.MONEY, ("-", "money", "money"): ir.MONEY,
    ("+", "rate", "points"): ir.RATE, ("-", "rate", "points"): ir.RATE,
    ("+", "points", "rate"): ir.RATE,
    ("+", "points", "points"): ir.POINTS, ("-", "points", "points"): ir.POINTS,
    ("-", "rate", "rate"): ir.POINTS,
    ("+", "number", "number"): ir.NUMBER, ("-", "number", "number"): ir.NUMBER,
    ("*", "money", "rate"): ir.MONEY, ("*", "rate", "money"): ir.MONEY,
    ("*", "money", "number"): ir.MONEY, ("*", "number", "money"): ir.MONEY,
    ("*", "rate", "rate"): ir.RATE, ("*", "rate", "number"): ir.RATE, ("*", "number", "rate"): ir.RATE,
    ("*", "points", "number"): ir.POINTS, ("*", "number", "points"): ir.POINTS,
    ("*", "number", "number"): ir.NUMBER,
}


def arith_type(op: str, left: ir.Type, right: ir.Type) -> ir.Type | None:
    return _ARITH.get((op, left.name, right.name))


def describe(t: ir.Type) -> str:
    return {"money": "money", "rate": "a rate", "points": "percentage points", "number": "a number",
            "bool": "a bool", "date": "a date", "text": "text"}.get(t.name, f"{t} (enumeration)")


def arith_hint(op: str, left: ir.Type, right: ir.Type) -> str:
    pair = {left.name, right.name}
    if op in "+-" and left.name == right.name == "rate":
        return "a rate plus 2% is ambiguous: did you mean +2pp (percentage points) or × (1 + 2%)?"
    if op in "+-" and pair == {"money", "rate"}:
        return "money plus a rate is meaningless: to scale money write 金额 × 106%"
    if op in "+-" and pair == {"money", "number"}:
        return "write the amount with its unit, e.g. 100元"
    if op == "*" and "points" in pair and ("money" in pair or "rate" in pair):
        return "percentage points are added to a rate (+2pp); to scale, use a rate such as 102%"
    if op == "*" and left.name == right.name == "money":
        return "money × money has no meaning; multiply money by a rate"
    return ""


def compare_hint(left: ir.Type, right: ir.Type, text: str | None = None) -> str:
    pair = {left.name, right.name}
    if pair == {"money", "rate"}:
        return "compare money with money (e.g. 1200元) or a rate with a rate"
    if pair == {"money", "number"}:
        return "write the amount with its unit, e.g. 1200元"
    if pair == {"rate", "number"}:
        return "write the rate with %, e.g. 50%"
    if pair == {"rate", "points"}:
        return "percentage points measure a change; compare a rate with a rate such as 50%"
    if "text" in pair and "enum" in pair:  # 病种 == "肺结核"
        return f"members are written without quotes: {text}" if text else "members are written without quotes"
    return ""


def mismatch_hint(expected: ir.Type, found: ir.Type, node) -> str:
    if expected == ir.MONEY and found == ir.NUMBER and isinstance(node, ast.Literal):
        return f"write the amount with its unit: {node.text}元"
    if expected == ir.RATE and found == ir.NUMBER and isinstance(node, ast.Literal):
        if 0 < node.value < 1:  # 0.65 is a fraction: the author means 65%, not 0.65%
            return f"write the rate with %: {(node.value * 100).normalize():f}%"
        return f"write the rate with %: {node.text}%"
    if expected == ir.DATE and found == ir.NUMBER and isinstance(node, ast.BinOp):
        return "dates are written YYYY-MM-DD with two-digit month and day, e.g. 2024-01-01"
    if expected == ir.RATE and found == ir.POINTS:
        return "percentage points are a change of rate; add them to a rate: 基础比例 + 2pp"
    if expected == ir.MONEY and found == ir.RATE:
        return "a rate is not money; multiply it by an amount: 政策范围内费用 × 65%"
    return ""


def _not_on_one_side(name: str, node: ir.Expr, env: Env) -> tuple[str, str]:
    """What a name after left./right. is when it is no input, rule or accumulator, and what to write instead."""
    if isinstance(node, (ir.TableRef, ir.BracketsRef)):
        kind = "table" if isinstance(node, ir.TableRef) else "brackets block"
        return (f"a {kind}", f"after `left.` or `right.` name an input, a rule or an accumulator: give the {kind}'s "
                f"value a rule (`rule X: … = {name}`) and compare `left.X`")
    if isinstance(node, ir.Const) and node.type.name == "enum":
        fields = [n for n, i in env.inputs.items() if i.type == node.type]
        field = fields[0] if fields else node.type.enum
        return (f"a member of {node.type.enum}",
                f"compare the field that holds it on one side: `left.{field} == {name}`")
    return "not a value of a claim", "after `left.` or `right.` name an input, a rule or an accumulator"


def unknown_name_hint(name: str, env: Env) -> str:
    """Point at `use prelude` when the name is the prelude's: declaring it again would be wrong."""
    if name in env.unused_prelude:
        return f"`{name}` is declared in the prelude: add `use prelude`"
    return did_you_mean(name, env.all_names()) or "declare it with `input`, `rule` or `table`"


def constant(value: ir.Expr) -> object:
    """The value of a constant expression, or raise ValueError."""
    if isinstance(value, ir.Const):
        return value.value
    if isinstance(value, ir.Neg) and isinstance(value.operand, ir.Const):
        return None if value.operand.value is None else -value.operand.value
    if isinstance(value, ir.Arith):  # e.g. a table row amended by `+= 2pp`: 60% + 2pp is 62%
        left, right = constant(value.left), constant(value.right)
        if left is None or right is None:
            return None
        with localcontext(EXACT):
            return left + right if value.op == "+" else left - right if value.op == "-" else left * right
    raise ValueError("not a constant")


__all__ = ["Env", "ExprChecker", "ERROR", "constant", "Decimal"]
