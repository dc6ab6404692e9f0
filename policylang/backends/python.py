"""IR → Python source: one module per policy with an `evaluate(claim, state)` entry point.

The module is built as a Python `ast` tree and unparsed; text from the policy
(names, members, reasons) only ever becomes an `ast.Constant`, and every
identifier in the generated code is synthetic (r0, t1, K2 …), so nothing a
policy author writes can become executable code. The source that
`policylang compile` prints is exactly the source that runs.
"""
from __future__ import annotations

import ast as py
import datetime
from decimal import Decimal

from policylang import ir
from policylang.runtime import round_money

RUNTIME_NAMES = ("EXACT", "Missing", "NotApplicable", "Outcome", "bracket_sum", "check", "na",
                 "no_row", "no_version", "out_of_force", "overlap", "round_money")


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

    # ---- analysis
    def _may_na(self) -> set:
        """Rules and inputs whose value can be NotApplicable; only their reads pay for a check."""
        result = {("input", n) for n, i in self.p.inputs.items() if i.optional}
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
            return self.constant(e.value)
        if kind is ir.InputRef:
            return self._read(self.input_ids[e.name], ("input", e.name))
        if kind is ir.RuleRef:
            return self._read(self.rule_ids[e.name], ("rule", e.name))
        if kind is ir.AccRef:
            return _name(self.acc_ids[e.name])
        if kind is ir.TableRef:
            return _call(self.table_ids[e.name], _name("day"), *[self.expr(a) for a in e.args])
        if kind is ir.BracketsRef:
            b = self.p.brackets[e.name]
            base = self.expr(b.cumulative) if b.cumulative is not None else self.constant(Decimal(0))
            return _call(self.bracket_ids[e.name], _name("day"), self.expr(b.on), base)
        if kind is ir.Arith:
            op = {"+": py.Add(), "-": py.Sub(), "*": py.Mult()}[e.op]
            return py.BinOp(self.expr(e.left), op, self.expr(e.right))
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
            return py.UnaryOp(py.USub(), self.expr(e.operand))
        if kind is ir.If:
            return py.IfExp(self.expr(e.cond), self.expr(e.then), self.expr(e.otherwise))
        if kind is ir.MinMax:
            return _call(e.op, *[self.expr(a) for a in e.args]) if len(e.args) > 1 else self.expr(e.args[0])
        if kind is ir.Round:
            return _call("round_money", self.expr(e.operand), _const(e.mode))
        if kind is ir.NotApplicable:
            return _call("na", _const(e.reason))
        raise TypeError(f"unknown IR node {kind.__name__}")

    def _read(self, ident: str, key) -> py.expr:
        return _call("check", _name(ident)) if key in self.may_na else _name(ident)

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
        missing = [_raise(_call("no_version", _const(name), _name("day")))]
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
                                 [_raise(_call("overlap", _const(table.name), _name("hits")))], []))
                for row in version.rows:
                    out.append(py.If(py.Compare(_name("hits"), [py.Eq()], [py.List([_const(row.index)], py.Load())]),
                                     self.row_result(row), []))
            if version.default is not None:
                out.extend(self.row_result(version.default))
            else:
                tup = py.Tuple([_name(a) for a in args], py.Load())
                out.append(_raise(_call("no_row", _const(table.name), tup)))
            return out

        return _function(self.table_ids[table.name], ["day"] + args,
                         self.versioned(table.name, table.versions, body))

    def row_result(self, row: ir.Row) -> list:
        if isinstance(row.output, ir.NotApplicable):
            return [_raise(_call("NotApplicable", _const(row.output.reason)))]
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
        def body(version: ir.BracketsVersion) -> list:
            bands = py.Tuple([py.Tuple([self.constant(band.low), self.constant(band.high) if band.high is not None
                                        else _const(None), self.constant(band.rate)], py.Load())
                              for band in version.bands], py.Load())
            top = _call("bracket_sum", py.BinOp(_name("base"), py.Add(), _name("amount")), bands)
            low = _call("bracket_sum", _name("base"), bands)
            return [py.Return(_call("round_money", py.BinOp(top, py.Sub(), low), _const(b.rounding)))]

        return _function(self.bracket_ids[b.name], ["day", "amount", "base"],
                         self.versioned(b.name, b.versions, body))

    # ---- the entry point
    def evaluate_function(self) -> py.FunctionDef:
        p = self.p
        body: list = [_assign("day", py.Subscript(_name("claim"), _const(p.service_date), py.Load()))]
        reads: list = []
        for name, ident in self.input_ids.items():
            if p.inputs[name].optional:
                missing = f"M{ident[1:]}"
                value = py.Call(py.Attribute(_name("claim"), "get", py.Load()), [_const(name), _name(missing)], [])
            else:
                value = py.Subscript(_name("claim"), _const(name), py.Load())
            reads.append((ident, _assign(ident, value), name))
        for name, ident in self.acc_ids.items():
            get = py.Call(py.Attribute(_name("state"), "get", py.Load()),
                          [_const(name), self.constant(p.accumulators[name].initial)], [])
            body.append(_assign(ident, get))
        in_force, requirements = self.scope()
        body.extend(in_force)
        # Rules first: a requirement may read a rule. Every rule catches its own NotApplicable,
        # so computing them for a claim that turns out to be out of scope is harmless.
        for name, rule in p.rules.items():
            body.extend(self.rule(name, rule))
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
        self.header += [_assign(f"M{ident[1:]}", _call("Missing", _const(name)))
                        for ident, _, name in reads if ident in used and p.inputs[name].optional]
        with_ctx = py.With([py.withitem(_call("localcontext", _name("EXACT")), None)], body)
        return _function("evaluate", ["claim", "state"], [with_ctx])

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

        def body(version: ir.RuleVersion) -> list:
            if rule.type == ir.MONEY and isinstance(version.expr, ir.Const):
                return [_assign(ident, self.constant(round_money(version.expr.value, rule.rounding)))]
            value = self.expr(version.expr)
            if rule.type == ir.MONEY:
                value = _call("round_money", value, _const(rule.rounding))
            return [_assign(ident, value)]

        stmts = self.versioned(name, rule.versions, body)
        if ("rule", name) not in self.may_na:
            return stmts
        handler = py.ExceptHandler(_name("NotApplicable"), "exc", [_assign(ident, _name("exc"))])
        return [py.Try(stmts, [handler], [], [])]

    def update(self, update: ir.Update, after: dict) -> list:
        acc = self.acc_ids[update.target]
        target = after.setdefault(update.target, "n" + acc[1:])
        stmts: list = []
        if target not in {s.targets[0].id for s in self._declared}:
            decl = _assign(target, _name(acc))
            self._declared.append(decl)
            stmts.append(decl)
        add = _assign(target, py.BinOp(_name(target), py.Add(), self.expr(update.amount)))
        inner = [add] if update.when is None else [py.If(self.expr(update.when), [add], [])]
        handler = py.ExceptHandler(_name("NotApplicable"), None, [py.Pass()])
        return stmts + [py.Try(inner, [handler], [], [])]

    _declared: list

    def module(self) -> py.Module:
        self._declared = []
        functions = [self.table_function(t) for t in self.p.tables.values()]
        functions += [self.brackets_function(b) for b in self.p.brackets.values()]
        entry = self.evaluate_function()
        doc = py.Expr(_const(f"Generated by policylang from {self.p.file}; do not edit."))
        imports = [
            py.Import([py.alias("datetime")]),
            py.ImportFrom("decimal", [py.alias("Decimal"), py.alias("localcontext")], 0),
            py.ImportFrom("policylang.runtime", [py.alias(n) for n in RUNTIME_NAMES], 0),
        ]
        tree = py.Module([doc] + imports + self.header + functions + [entry], [])
        return py.fix_missing_locations(tree)


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


def compile_policy(policy: ir.Policy):
    """Build the evaluator module and return its `evaluate(claim, state) -> Outcome`."""
    source = generate_source(policy)
    namespace: dict = {"__name__": f"policylang_generated_{abs(hash(policy.file))}"}
    exec(compile(source, f"<policylang {policy.file}>", "exec"), namespace)  # noqa: S102 - our own AST
    return namespace["evaluate"]
