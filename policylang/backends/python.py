"""IR → Python source: one module per policy with an `evaluate(claim, state)` entry point.

The module is built as a Python `ast` tree and unparsed; text from the policy
(names, members, reasons) only ever becomes an `ast.Constant`, and every
identifier in the generated code is synthetic (r0, t1, K2 …), so nothing a
policy author writes can become executable code. The source that
`policylang compile` prints is exactly the source that runs.

Speed comes from three choices, each tested against the interpreter: arithmetic
goes through the EXACT context's methods (no per-call context switch); money is
quantized inline, and not at all where the value is provably already in fen;
and 'not applicable' is a value assigned by if/else statements, not an exception,
wherever a rule's shape allows (a try/except fallback covers the rest). The
entry point expects validated claims: money with at most two decimals, as
claims.py guarantees.
"""
from __future__ import annotations

import ast as py
import itertools
import weakref
import datetime
from decimal import Decimal

from policylang import ir
from policylang.runtime import COUNTED, MODES, NotApplicable, missing_input, round_money

RUNTIME_NAMES = ("EXACT", "FEN", "ROUNDING", "NotApplicable", "Outcome", "band_order", "bracket_sum", "check", "na",
                 "no_row", "no_version", "out_of_force", "overlap", "unknown_after")
_ARITH = {"+": "add", "-": "subtract", "*": "multiply"}


def _name(identifier: str, store: bool = False) -> py.Name:
    return py.Name(identifier, py.Store() if store else py.Load())


def _call(func: str, *args) -> py.Call:
    return py.Call(_name(func), list(args), [])


def _const(value) -> py.Constant:
    return py.Constant(value)


def _assign(target: str, value: py.expr) -> py.Assign:
    return py.Assign([_name(target, True)], value, lineno=0)


def _raise(exc: py.expr) -> py.Raise:
    return py.Raise(exc, None)


class _Generator:
    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.constants: dict = {}  # (type, value) -> identifier
        self.header: list = []  # module-level statements for constants
        self.functions: list = []
        self.rule_ids = {name: f"r{i}" for i, name in enumerate(policy.rules)}
        self.input_ids = {name: f"i{i}" for i, name in enumerate(policy.inputs)}
        self.acc_ids = {name: f"a{i}" for i, name in enumerate(policy.accumulators)}
        self.table_ids = {name: f"t{i}" for i, name in enumerate(policy.tables)}
        self.bracket_ids = {name: f"b{i}" for i, name in enumerate(policy.brackets)}
        self.may_na = self._may_na()
        self.inlined = self._inlined()
        self.temps = itertools.count()

    # ---- analysis
    def _inlined(self) -> set:
        """Rules computed where they are read instead of up front: never NA, not outputs, read once.

        Rules are pure, so computing one at its single use gives the same value, and a claim
        whose path never reads it (an NA branch, say) does not pay for it.
        """
        reads: dict = {}
        roots = [v.expr for r in self.p.rules.values() for v in r.versions]
        roots += [u.amount for u in self.p.updates] + [u.when for u in self.p.updates if u.when is not None]
        roots += [r.expr for r in self.p.scope]
        for root in roots:
            for node in _walk(root):
                if isinstance(node, ir.RuleRef):
                    reads[node.name] = reads.get(node.name, 0) + 1
        for b in self.p.brackets.values():  # evaluated at every use of the brackets: never inline
            for root in b.expressions():
                for node in _walk(root):
                    if isinstance(node, ir.RuleRef):
                        reads[node.name] = 2
        return {name for name, rule in self.p.rules.items()
                if reads.get(name) == 1 and not rule.is_output and ("rule", name) not in self.may_na}

    def _may_na(self) -> set:
        """Rules and inputs whose value can be NotApplicable; only their reads pay for a check."""
        result = {("input", n) for n, i in self.p.inputs.items() if i.optional}
        result |= {("acc", n) for n in self.p.accumulators}  # a year-to-date may be unknown (unknown_after)
        for name, rule in self.p.rules.items():
            if len(rule.versions) > 1 or any(v.validity != ir.ALWAYS for v in rule.versions) \
                    or any(self._expr_may_na(v.expr, result) for v in rule.versions):
                result.add(("rule", name))
        return result

    def _expr_may_na(self, e, known) -> bool:
        if isinstance(e, (ir.NotApplicable, ir.TableRef, ir.BracketsRef)):
            return True
        if isinstance(e, ir.InputRef):
            return ("input", e.name) in known
        if isinstance(e, ir.RuleRef):
            return ("rule", e.name) in known
        if isinstance(e, ir.AccRef):
            return ("acc", e.name) in known
        return any(self._expr_may_na(c, known) for c in _children(e))

    # ---- constants
    def constant(self, value) -> py.expr:
        if isinstance(value, bool) or isinstance(value, str) or value is None:
            return _const(value)
        key = (type(value).__name__, str(value))
        if key not in self.constants:
            ident = f"K{len(self.constants)}"
            self.constants[key] = ident
            if isinstance(value, Decimal):
                init = _call("Decimal", _const(str(value)))
            elif isinstance(value, datetime.date):
                init = py.Call(py.Attribute(_name("datetime"), "date", py.Load()),
                               [_const(value.year), _const(value.month), _const(value.day)], [])
            elif isinstance(value, NotApplicable):
                init = _call("NotApplicable", _const(value.reason))
            elif isinstance(value, frozenset):
                init = _call("frozenset", py.Tuple([self.constant(v) for v in sorted(value, key=str)], py.Load()))
            else:
                raise TypeError(f"cannot hoist constant {value!r}")
            self.header.append(_assign(ident, init))
        return _name(self.constants[key])

    # ---- expressions
    def expr(self, e: ir.Expr) -> py.expr:
        kind = type(e)
        if kind is ir.Const:
            if e.type == ir.MONEY and e.value.as_tuple().exponent > -2:
                return self.constant(e.value.quantize(Decimal("0.01")))
            return self.constant(e.value)
        if kind is ir.InputRef:
            return self._read(self.input_ids[e.name], ("input", e.name))
        if kind is ir.RuleRef:
            if e.name in self.inlined:
                rule = self.p.rules[e.name]
                body = rule.versions[0].expr
                return self.rounded(body, rule.rounding) if rule.type == ir.MONEY else self.expr(body)
            return self._read(self.rule_ids[e.name], ("rule", e.name))
        if kind is ir.AccRef:
            return self._read(self.acc_ids[e.name], ("acc", e.name))
        if kind in (ir.TableRef, ir.BracketsRef):
            return _call("check", self.lookup(e))
        if kind is ir.Arith:
            return _exact(_ARITH[e.op], self.expr(e.left), self.expr(e.right))
        if kind is ir.Compare:
            return py.Compare(self.expr(e.left), [_CMP[e.op]()], [self.expr(e.right)])
        if kind is ir.InSet:
            op = py.NotIn() if e.negated else py.In()
            return py.Compare(self.expr(e.operand), [op], [self.constant(frozenset(e.items))])
        if kind is ir.Logic:
            return py.BoolOp(py.And() if e.op == "and" else py.Or(), [self.expr(e.left), self.expr(e.right)])
        if kind is ir.Not:
            return py.UnaryOp(py.Not(), self.expr(e.operand))
        if kind is ir.Neg:
            return _exact("minus", self.expr(e.operand))
        if kind is ir.If:
            return py.IfExp(self.expr(e.cond), self.expr(e.then), self.expr(e.otherwise))
        if kind is ir.MinMax:
            if len(e.args) == 2:
                return self.min_max(e.op, self.expr(e.args[0]), self.expr(e.args[1]))
            return _call(e.op, *[self.expr(a) for a in e.args]) if len(e.args) > 1 else self.expr(e.args[0])
        if kind is ir.Round:
            return self.rounded(e.operand, e.mode)
        if kind is ir.NotApplicable:
            return _call("na", _const(e.reason))
        raise TypeError(f"unknown IR node {kind.__name__}")

    def _read(self, ident: str, key) -> py.expr:
        return _call("check", _name(ident)) if key in self.may_na and not self.plain_reads else _name(ident)

    plain_reads = False  # inside a guarded leaf every may-NA read has already been checked

    def lookup(self, e) -> py.expr:
        """A table or brackets call; it returns a value or a NotApplicable."""
        if isinstance(e, ir.TableRef):
            day = [_name("day")] if _dated(self.p.tables[e.name]) else []
            return _call(self.table_ids[e.name], *day, *[self.expr(a) for a in e.args])
        b = self.p.brackets[e.name]
        base = self.expr(b.cumulative) if b.cumulative is not None else self.constant(Decimal(0))
        day = [_name("day")] if _dated(b) else []
        if b.constant:
            return _call(self.bracket_ids[e.name], *day, self.expr(b.on), base)
        return _call(self.bracket_ids[e.name], *day, self.expr(b.on), base, self.band_values(b))

    def band_values(self, b: ir.Brackets) -> py.expr:
        """The bands of the version in force, evaluated here, after `on` and `cumulative` and in band order
        as the interpreter does: ((low, high, rate), …), or None when no version is in force."""
        def bands(version):
            return py.Tuple([py.Tuple([self.expr(band.low), self.expr(band.high) if band.high is not None
                                       else _const(None), self.expr(band.rate)], py.Load())
                             for band in version.bands], py.Load())

        if not _dated(b):
            return bands(b.versions[0])
        chosen = _const(None)
        for version in reversed(b.versions):
            test = self._validity_test(version.validity)
            chosen = bands(version) if test is None else py.IfExp(test, bands(version), chosen)
        return chosen

    def min_max(self, op: str, left: py.expr, right: py.expr) -> py.expr:
        """min/max of two as a conditional expression: as exact as the builtin, without the call.

        Walrus temporaries keep each argument evaluated once, left first; on a tie the first
        argument wins, as with the builtins.
        """
        a, b = f"m{next(self.temps)}", f"m{next(self.temps)}"
        test = py.Compare(py.NamedExpr(_name(a, True), left), [py.LtE() if op == "min" else py.GtE()],
                          [py.NamedExpr(_name(b, True), right)])
        return py.IfExp(test, _name(a), _name(b))

    def rounded(self, e: ir.Expr, mode: str) -> py.expr:
        """Quantize to the fen inline, unless the value is already in fen."""
        value = self.expr(e)
        if ir.in_fen(e):
            return value
        method = py.Attribute(value, "quantize", py.Load())
        return py.Call(method, [_name("FEN"), _const(MODES[mode]), _name("ROUNDING")], [])

    # ---- versions
    def _validity_test(self, v: ir.Validity) -> py.expr | None:
        tests = []
        if v.start is not None:
            tests.append(py.Compare(_name("day"), [py.GtE()], [self.constant(v.start)]))
        if v.end is not None:
            tests.append(py.Compare(_name("day"), [py.LtE()], [self.constant(v.end)]))
        if not tests:
            return None
        return tests[0] if len(tests) == 1 else py.BoolOp(py.And(), tests)

    def versioned(self, name: str, versions, body) -> list:
        """if/elif over versions by service date; body(version) gives the statements of one."""
        if len(versions) == 1 and versions[0].validity == ir.ALWAYS:
            return body(versions[0])
        missing = [missing_version(name)]
        chain = missing
        for v in reversed(versions):
            test = self._validity_test(v.validity)
            chain = body(v) if test is None else [py.If(test, body(v), chain)]
        return chain

    # ---- tables and brackets
    def table_function(self, table: ir.Table) -> py.FunctionDef:
        args = [f"c{i}" for i in range(len(table.columns))]

        def body(version: ir.TableVersion) -> list:
            out: list = []
            if table.hit == "unique":
                out.append(_assign("hits", py.List([], py.Load())))
            for row in version.rows:
                tests = [t for t in (self.cell(c, _name(a)) for c, a in zip(row.cells, args)) if t is not None]
                test = _const(True) if not tests else tests[0] if len(tests) == 1 else py.BoolOp(py.And(), tests)
                if table.hit == "unique":
                    append = py.Call(py.Attribute(_name("hits"), "append", py.Load()), [_const(row.index)], [])
                    out.append(py.If(test, [py.Expr(append)], []))
                else:
                    out.append(py.If(test, self.row_result(row), []))
            if table.hit == "unique":
                out.append(py.If(py.Compare(_call("len", _name("hits")), [py.Gt()], [_const(1)]),
                                 [py.Return(_call("overlap", _const(table.name), _name("hits")))], []))
                for row in version.rows:
                    out.append(py.If(py.Compare(_name("hits"), [py.Eq()], [py.List([_const(row.index)], py.Load())]),
                                     self.row_result(row), []))
            if version.default is not None:
                out.extend(self.row_result(version.default))
            else:
                tup = py.Tuple([_name(a) for a in args], py.Load())
                out.append(py.Return(_call("no_row", _const(table.name), tup)))
            return out

        return _function(self.table_ids[table.name], (["day"] if _dated(table) else []) + args,
                         self.versioned(table.name, table.versions, body))

    def row_result(self, row: ir.Row) -> list:
        if isinstance(row.output, ir.NotApplicable):
            return [py.Return(self.constant(NotApplicable(row.output.reason)))]
        return [py.Return(self.expr(row.output))]

    def cell(self, cell: ir.Cell, arg: py.expr) -> py.expr | None:
        if cell.kind == "any":
            return None
        if cell.kind == "eq":
            return py.Compare(arg, [py.Eq()], [self.constant(cell.values[0])])
        if cell.kind == "cmp":
            return py.Compare(arg, [_CMP[cell.op]()], [self.constant(cell.values[0])])
        if cell.kind == "range":
            low, high = cell.values
            if high is None:
                return py.Compare(arg, [py.GtE()], [self.constant(low)])
            return py.Compare(self.constant(low), [py.LtE(), py.Lt()], [arg, self.constant(high)])
        op = py.In() if cell.kind == "in" else py.NotIn()
        return py.Compare(arg, [op], [self.constant(frozenset(cell.values))])

    def brackets_function(self, b: ir.Brackets) -> py.FunctionDef:
        def total(bands: py.expr) -> list:
            top = _call("bracket_sum", py.BinOp(_name("base"), py.Add(), _name("amount")), bands)
            low = _call("bracket_sum", _name("base"), bands)
            value = _exact("subtract", top, low)
            method = py.Attribute(value, "quantize", py.Load())
            return [py.Return(py.Call(method, [_name("FEN"), _const(MODES[b.rounding]), _name("ROUNDING")], []))]

        def body(version: ir.BracketsVersion) -> list:
            return total(py.Tuple([py.Tuple([self.constant(v) if v is not None else _const(None)
                                             for v in band.values], py.Load())
                                   for band in version.bands], py.Load()))

        args = (["day"] if _dated(b) else []) + ["amount", "base"]
        if b.constant:
            return _function(self.bracket_ids[b.name], args, self.versioned(b.name, b.versions, body))
        # bands evaluated per claim arrive as `bands` (None: no version in force); out of order, NA
        stmts: list = []
        if _dated(b):
            stmts.append(py.If(py.Compare(_name("bands"), [py.Is()], [_const(None)]), [missing_version(b.name)], []))
        stmts.append(_assign("disorder", _call("band_order", _const(b.name), _name("bands"))))
        stmts.append(py.If(py.Compare(_name("disorder"), [py.IsNot()], [_const(None)]),
                           [py.Return(_name("disorder"))], []))
        return _function(self.bracket_ids[b.name], args + ["bands"], stmts + total(_name("bands")))

    # ---- the entry point
    def evaluate_function(self) -> py.FunctionDef:
        p = self.p
        body: list = [_assign("day", py.Subscript(_name("claim"), _const(p.service_date), py.Load()))]
        reads: list = []
        for name, ident in self.input_ids.items():
            if p.inputs[name].optional:
                missing = self.constant(missing_input(name))
                value = py.Call(py.Attribute(_name("claim"), "get", py.Load()), [_const(name), missing], [])
            else:
                value = py.Subscript(_name("claim"), _const(name), py.Load())
            reads.append((ident, _assign(ident, value), name))
        for name, ident in self.acc_ids.items():
            get = py.Call(py.Attribute(_name("state"), "get", py.Load()),
                          [_const(name), self.constant(p.accumulators[name].initial)], [])
            body.append(_assign(ident, get))
        in_force, requirements = self.scope()
        body.extend(in_force)
        # A requirement that reads a rule must come after the rules; each rule settles its own
        # NotApplicable, so computing rules for a claim that is then out of scope is harmless.
        reads_rules = any(isinstance(n, ir.RuleRef) for r in p.scope for n in _walk(r.expr))
        if not reads_rules:
            body.extend(requirements)
        for name, rule in p.rules.items():
            if name not in self.inlined:
                body.extend(self.rule(name, rule))
        if reads_rules:
            body.extend(requirements)
        outputs = py.Dict([_const(r.name) for r in p.outputs], [_name(self.rule_ids[r.name]) for r in p.outputs])
        after = {}
        for update in p.updates:
            body.extend(self.update(update, after))
        state = py.Dict([_const(n) for n in self.acc_ids],
                        [_name(after.get(n, ident)) for n, ident in self.acc_ids.items()])
        body.append(py.Return(_call("Outcome", _const(True), _const(None), outputs, state)))
        used = {n.id for stmt in body for n in py.walk(stmt) if isinstance(n, py.Name)}
        body[1:1] = [stmt for ident, stmt, _ in reads if ident in used]
        return _function("evaluate", ["claim", "state"], body)

    def scope(self) -> tuple[list, list]:
        """(the in-force date check, the requirements); both return an out-of-scope Outcome."""
        p = self.p
        state = py.Dict([_const(n) for n in self.acc_ids], [_name(i) for i in self.acc_ids.values()])

        def reject(reason: py.expr) -> py.Return:
            return py.Return(_call("Outcome", _const(False), reason, py.Dict([], []), state))

        checks: list = []
        test = self._validity_test(p.meta.in_force)
        if test is not None:
            reason = _call("out_of_force", _name("day"), _const(str(p.meta.in_force)))
            checks.append(py.If(py.UnaryOp(py.Not(), test), [reject(reason)], []))
        if not p.scope:
            return checks, []
        inner = [py.If(py.UnaryOp(py.Not(), self.expr(r.expr)), [reject(_const(r.message))], []) for r in p.scope]
        handler = py.ExceptHandler(_name("NotApplicable"), "exc",
                                   [reject(py.Attribute(_name("exc"), "reason", py.Load()))])
        return checks, [py.Try(inner, [handler], [], [])]

    def rule(self, name: str, rule: ir.Rule) -> list:
        ident = self.rule_ids[name]
        money = rule.type == ir.MONEY

        def body(version: ir.RuleVersion) -> list:
            if ("rule", name) in self.may_na:
                stmts = self.statements(version.expr, ident, money, rule.rounding)
                if stmts is not None:
                    return stmts
            value = self.rounded(version.expr, rule.rounding) if money else self.expr(version.expr)
            return [_assign(ident, value)]

        if ("rule", name) not in self.may_na:
            return self.versioned(name, rule.versions, body)
        missing = self.versioned_values(name, rule.versions, body, ident)
        if all(self.statements(v.expr, ident, money, rule.rounding) is not None for v in rule.versions):
            return missing
        handler = py.ExceptHandler(_name("NotApplicable"), "exc", [_assign(ident, _name("exc"))])
        return [py.Try(missing, [handler], [], [])]

    def versioned_values(self, name, versions, body, ident) -> list:
        """Versions for a rule that may be NA: a missing version is assigned, not raised."""
        chain = self.versioned(name, versions, body)
        return _replace_raise(chain, ident)

    def statements(self, e: ir.Expr, target: str, money: bool, mode: str) -> list | None:
        """A rule as if/else statements that assign a value or a NotApplicable; None if its shape needs try."""
        if isinstance(e, ir.NotApplicable):
            return [_assign(target, self.constant(NotApplicable(e.reason)))]
        if isinstance(e, ir.If) and self.strict(e.cond):
            then = self.statements(e.then, target, money, mode)
            other = self.statements(e.otherwise, target, money, mode)
            if then is None or other is None:
                return None
            return self.guarded(e.cond, target, [py.If(self.plain(e.cond), then, other)])
        if isinstance(e, (ir.TableRef, ir.BracketsRef)) and all(self.strict(a) for a in _lookup_args(e, self.p)) \
                and (isinstance(e, ir.TableRef) or self.p.brackets[e.name].constant):  # bands per claim: try
            lookup = self.plain_lookup(e)
            if money and not ir.in_fen(e):
                return None
            return self.guarded_all(_lookup_args(e, self.p), target, [_assign(target, lookup)])
        if self.strict(e):
            value = self.plain_rounded(e, mode) if money else self.plain(e)
            return self.guarded(e, target, [_assign(target, value)])
        return None

    def strict(self, e: ir.Expr) -> bool:
        """No NotApplicable, lookup or lazy construct around a may-NA read: all reads can be checked first."""
        for node in _walk(e):
            if isinstance(node, (ir.NotApplicable, ir.TableRef, ir.BracketsRef)):
                return False
            if isinstance(node, (ir.If, ir.Logic)) and any(self.na_reads(c) for c in _children(node)[1:]):
                return False
        return True

    def na_reads(self, e: ir.Expr) -> list:
        """Identifiers of may-NA inputs and rules that e reads, in evaluation order, once each."""
        out = []
        for node in _walk(e):
            key = ("input", node.name) if isinstance(node, ir.InputRef) else \
                ("rule", node.name) if isinstance(node, ir.RuleRef) else \
                ("acc", node.name) if isinstance(node, ir.AccRef) else None
            if key in self.may_na:
                ident = {"input": self.input_ids, "rule": self.rule_ids, "acc": self.acc_ids}[key[0]][node.name]
                if ident not in out:
                    out.append(ident)
        return out

    def guarded(self, e: ir.Expr, target: str, body: list) -> list:
        return self.guarded_all([e], target, body)

    def guarded_all(self, exprs, target: str, body: list) -> list:
        reads = [i for e in exprs for i in self.na_reads(e)]
        for ident in reversed(list(dict.fromkeys(reads))):
            body = [py.If(_is_na(_name(ident)), [_assign(target, _name(ident))], body)]
        return body

    def plain(self, e: ir.Expr) -> py.expr:
        self.plain_reads = True
        try:
            return self.expr(e)
        finally:
            self.plain_reads = False

    def plain_rounded(self, e: ir.Expr, mode: str) -> py.expr:
        self.plain_reads = True
        try:
            return self.rounded(e, mode)
        finally:
            self.plain_reads = False

    def plain_lookup(self, e) -> py.expr:
        self.plain_reads = True
        try:
            return self.lookup(e)
        finally:
            self.plain_reads = False

    def update(self, update: ir.Update, after: dict) -> list:
        """The interpreter's update: a not-applicable condition, or amount where the condition holds,
        makes the year-to-date unknown (unknown_after); an unknown year-to-date is left as it is."""
        acc = self.acc_ids[update.target]
        target = after.setdefault(update.target, "n" + acc[1:])
        stmts: list = []
        if target not in {s.targets[0].id for s in self._declared}:
            decl = _assign(target, _name(acc))
            self._declared.append(decl)
            stmts.append(decl)
        body = self.settled(update.amount, update, target, False,
                            lambda amount: [_assign(target, _exact("add", _name(target), amount))])
        if update.when is not None:
            body = self.settled(update.when, update, target, True, lambda holds: [py.If(holds, body, [])])
        known = py.Compare(py.Attribute(_name(target), "__class__", py.Load()), [py.IsNot()], [_name("NotApplicable")])
        if update.once is not None:  # not again for a later part of an admission it counted (year.Ledger.view)
            counted = py.Call(py.Attribute(_name("state"), "get", py.Load()), [_const(COUNTED), py.Tuple([], py.Load())], [])
            fresh = py.Compare(_const(update.target), [py.NotIn()], [counted])
            known = py.BoolOp(py.And(), [known, fresh])
        return stmts + [py.If(known, body, [])]

    def settled(self, e: ir.Expr, update: ir.Update, target: str, condition: bool, use) -> list:
        """Statements that evaluate a part of an update: use(value), or the accumulator becomes unknown."""
        def unknown(reason: py.expr) -> list:
            return [_assign(target, _call("unknown_after", _const(update.target), _name("day"), reason,
                                          _const(condition)))]

        if self.strict(e):
            body = use(self.plain(e))
            for ident in reversed(self.na_reads(e)):
                body = [py.If(_is_na(_name(ident)), unknown(py.Attribute(_name(ident), "reason", py.Load())), body)]
            return body
        temp = f"u{next(self.temps)}"
        handler = py.ExceptHandler(_name("NotApplicable"), "exc", [_assign(temp, _name("exc"))])
        return [py.Try([_assign(temp, self.expr(e))], [handler], [], []),
                py.If(_is_na(_name(temp)), unknown(py.Attribute(_name(temp), "reason", py.Load())), use(_name(temp)))]

    _declared: list

    def module(self) -> py.Module:
        self._declared = []
        functions = [self.table_function(t) for t in self.p.tables.values()]
        functions += [self.brackets_function(b) for b in self.p.brackets.values()]
        entry = self.evaluate_function()
        doc = py.Expr(_const(f"Generated by policylang from {self.p.file}; do not edit."))
        imports = [
            py.Import([py.alias("datetime")]),
            py.ImportFrom("decimal", [py.alias("Decimal")], 0),
            py.ImportFrom("policylang.runtime", [py.alias(n) for n in RUNTIME_NAMES], 0),
        ]
        tree = py.Module([doc] + imports + self.header + functions + [entry], [])
        return py.fix_missing_locations(tree)


def _is_na(value: py.expr) -> py.Compare:
    """value.__class__ is NotApplicable: the may-NA test, cheaper than isinstance."""
    return py.Compare(py.Attribute(value, "__class__", py.Load()), [py.Is()], [_name("NotApplicable")])


def _exact(method: str, *args) -> py.Call:
    """EXACT.add(a, b) …: exact arithmetic without switching the thread's decimal context."""
    return py.Call(py.Attribute(_name("EXACT"), method, py.Load()), list(args), [])


def missing_version(name: str) -> py.Return:
    return py.Return(_call("no_version", _const(name), _name("day")))


def _replace_raise(stmts: list, ident: str) -> list:
    """In a rule's version chain, a missing version assigns its NotApplicable instead of returning it."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, py.Return):
            out.append(_assign(ident, stmt.value))
        elif isinstance(stmt, py.If):
            out.append(py.If(stmt.test, _replace_raise(stmt.body, ident), _replace_raise(stmt.orelse, ident)))
        else:
            out.append(stmt)
    return out


def _dated(definition) -> bool:
    """Whether a table or brackets has versions by date, so its function needs the service date."""
    return len(definition.versions) > 1 or definition.versions[0].validity != ir.ALWAYS


def _walk(e):
    yield e
    for child in _children(e):
        yield from _walk(child)


def _lookup_args(e, policy) -> list:
    if isinstance(e, ir.TableRef):
        return list(e.args)
    b = policy.brackets[e.name]
    return [b.on] + ([b.cumulative] if b.cumulative is not None else [])


_CMP = {"==": py.Eq, "!=": py.NotEq, "<": py.Lt, "<=": py.LtE, ">": py.Gt, ">=": py.GtE}


def _function(name: str, args: list, body: list) -> py.FunctionDef:
    arguments = py.arguments(posonlyargs=[], args=[py.arg(a) for a in args], vararg=None, kwonlyargs=[],
                             kw_defaults=[], kwarg=None, defaults=[])
    return py.FunctionDef(name=name, args=arguments, body=body, decorator_list=[], returns=None, lineno=0)


def _children(e) -> list:
    out = []
    for attr in ("left", "right", "operand", "cond", "then", "otherwise"):
        if hasattr(e, attr):
            out.append(getattr(e, attr))
    if isinstance(e, (ir.MinMax, ir.TableRef)):
        out.extend(e.args)
    return out


def generate_source(policy: ir.Policy) -> str:
    """The Python source of the policy's evaluator module."""
    return py.unparse(_Generator(policy).module()) + "\n"


_COMPILED: dict = {}  # id(policy) -> (a weak reference to it, its evaluate)


def compile_policy(policy: ir.Policy):
    """The policy's `evaluate(claim, state) -> Outcome`, built once per policy object: the checker, the
    examples, coverage and `eval` of one run each ask for it (an IR is never changed after it is built)."""
    key = id(policy)
    known = _COMPILED.get(key)
    if known is not None and known[0]() is policy:
        return known[1]
    evaluate = _build(policy)
    _COMPILED[key] = (weakref.ref(policy, lambda _, key=key: _COMPILED.pop(key, None)), evaluate)
    return evaluate


def _build(policy: ir.Policy):
    source = generate_source(policy)
    namespace: dict = {"__name__": f"policylang_generated_{abs(hash(policy.file))}"}
    exec(compile(source, f"<policylang {policy.file}>", "exec"), namespace)  # noqa: S102 - our own AST
    return namespace["evaluate"]
