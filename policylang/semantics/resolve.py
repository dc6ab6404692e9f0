"""Surface AST → IR: collect declarations, group versions, check every expression, order rules.

All errors of a file are collected and raised together as one DiagnosticError.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from decimal import Decimal

from policylang import ir
from policylang.diagnostics import Diagnostic, DiagnosticError, Span, did_you_mean
from policylang.domains import LIMITS, show
from policylang.platform import OUTPUT_NAMES
from policylang.semantics.expressions import (ERROR, Env, ExprChecker, constant, describe, mismatch_hint,
                                              unknown_name_hint)
from policylang.semantics import precision
from policylang.syntax import ast, limits

PER_WHO = ("person", "个人", "每人")
PER_PERIOD = ("医保年度", "year")


class Resolver:
    def __init__(self, module: ast.Module, prelude: ast.Module | None):
        self.module = module
        self.prelude = prelude
        self.errors: list[Diagnostic] = []
        self.ids = itertools.count(1)
        self.names: dict[str, Span] = {}
        self.unused_prelude: frozenset = frozenset()
        self.bad_use = False

    def error(self, code: str, span: Span, **args):
        self.errors.append(Diagnostic(code, span, args))

    def declare(self, name: str, span: Span, namespace: dict | None = None) -> bool:
        """Values and types live in separate namespaces (input 险种 has type 险种)."""
        names = self.names if namespace is None else namespace
        if name in names:
            self.error("E0202", span, name=name, first=self.where(names[name]))
            return False
        names[name] = span
        return True

    def where(self, span: Span) -> str:
        """A location for a hint. The prelude's path is the installation's, so name it by line."""
        if self.prelude is not None and span.file == self.prelude.file:
            return f"line {span.line} of the prelude"
        return f"{span.file}:{span.line}:{span.col}"

    # ------------------------------------------------------------------ entry
    def run(self) -> ir.Policy:
        decls = self.module.decls
        by_kind = defaultdict(list)
        for d in decls:
            by_kind[type(d)].append(d)
        meta = self.header(by_kind[ast.PolicyHeader])
        uses = by_kind[ast.Use]
        for use in uses:
            if use.name != "prelude":
                self.error("E0206", use.span, name=use.name)
                self.bad_use = True
        base = self.prelude.decls if (self.prelude and any(u.name == "prelude" for u in uses)) else ()
        if self.prelude and not base:
            # So that `unknown name 险种` can say where 险种 comes from.
            self.unused_prelude = frozenset(
                itertools.chain.from_iterable([d.name, *(m.name for m in getattr(d, "members", ()))]
                                              for d in self.prelude.decls if hasattr(d, "name")))
        base_kind = defaultdict(list)
        for d in base:
            base_kind[type(d)].append(d)

        enums = self.enums(base_kind[ast.EnumDecl] + by_kind[ast.EnumDecl])
        inputs = self.inputs(base_kind[ast.InputDecl] + by_kind[ast.InputDecl], enums)
        groups = self.group(by_kind[ast.RuleDecl] + by_kind[ast.TableDecl] + by_kind[ast.BracketsDecl])
        accumulators = self.accumulators(by_kind[ast.AccumulatorDecl], enums, inputs)
        year = self.year(by_kind[ast.YearDecl], inputs)

        rule_types, table_sigs, bracket_types = {}, {}, {}
        for name, versions in groups.items():
            first = versions[0]
            t = self.type_of(first.type_name, first.type_span, enums)
            if isinstance(first, ast.RuleDecl):
                rule_types[name] = t
            elif isinstance(first, ast.TableDecl):
                table_sigs[name] = (first.columns, None, t)
            else:
                bracket_types[name] = t
        env = Env(enums, inputs, rule_types, table_sigs, bracket_types,
                  {n: a.type for n, a in accumulators.items()}, unused_prelude=self.unused_prelude)
        # A guideline names outputs by their platform names (pool_prop_selfpay …), so they resolve too.
        env.platform = {v[0].options.platform[0]: n for n, v in groups.items()
                        if isinstance(v[0], ast.RuleDecl) and v[0].options.platform}
        fact_decls = [f for f in by_kind[ast.FactDecl] if self.declare(f.name, f.span)]
        env.facts = {f.name: self.where(f.span) for f in fact_decls}  # so a rule naming one is told why not
        self.env = env
        deps: dict[str, set] = {}
        # Column types come from the default column expressions.
        for name, (columns, _, t) in list(table_sigs.items()):
            checker = self.checker()
            table_sigs[name] = (columns, tuple(checker.check(c).type for c in columns), t)

        rules, tables, brackets = {}, {}, {}
        for name, versions in groups.items():
            checker = self.checker()
            first = versions[0]
            if isinstance(first, ast.RuleDecl):
                rules[name] = self.rule(name, versions, rule_types[name], checker)
            elif isinstance(first, ast.TableDecl):
                tables[name] = self.table(name, versions, table_sigs[name], checker)
            else:
                brackets[name] = self.brackets(name, versions, checker)
            deps[name] = checker.rule_deps | checker.table_deps | checker.bracket_deps
        inputs_used = set(self._inputs_used)

        updates = tuple(self.update(u, inputs) for u in by_kind[ast.UpdateDecl])
        self.counted_alone(updates, accumulators)
        scope, scope_clause = self.scope(by_kind[ast.ScopeDecl])
        order = self.order(rules, deps, groups)
        service_date, person = self.edge_inputs(inputs, meta)
        inputs_used |= set(self._inputs_used) | {service_date, person} | self._year_inputs
        # Prelude inputs the policy does not read stay acceptable in claims, but never required.
        used = {n: i if (n in inputs_used or n not in self._prelude_inputs) else dataclasses.replace(i, optional=True)
                for n, i in inputs.items()}
        examples = tuple(self.example(e, used, rules, accumulators) for e in by_kind[ast.ExampleDecl])
        constraints = tuple(self.constraint(c) for c in by_kind[ast.ConstraintDecl])
        self.defs = (rules, tables, brackets)  # what a `vary` over a rule can vary instead (E0314's hint)
        properties = tuple(self.property(p, inputs) for p in by_kind[ast.PropertyDecl])
        for prop in properties:
            self.one_key(prop, accumulators)
        property_names: dict = {}
        for prop in by_kind[ast.PropertyDecl]:  # reports and SARIF name a property by its name
            self.declare(prop.name, prop.span, property_names)
        self.check_platform_names(rules, inputs)
        facts = tuple(self.fact(f, enums) for f in fact_decls)
        page = self.page(by_kind[ast.PageDecl], inputs, inputs_used | set(self._inputs_used))
        quotes = self.quotes(by_kind[ast.QuoteDecl], cited_clauses(rules, tables, brackets, accumulators, updates,
                                                                    scope_clause, properties, facts))
        if self.errors:
            raise DiagnosticError(self.errors)
        policy = ir.Policy(meta=meta, file=self.module.file, enums=enums, inputs=used,
                         accumulators=accumulators, rules={n: rules[n] for n in order}, tables=tables,
                         brackets=brackets, updates=updates, scope=scope, scope_clause=scope_clause,
                         examples=examples, service_date=service_date, person=person,
                         properties=properties, constraints=constraints, quotes=quotes, page=page, facts=facts,
                         year=year)
        digits = precision.problems(policy)  # what the evaluators' exact context cannot carry (E0473, E0474)
        if digits:
            raise DiagnosticError(digits)
        return policy

    _inputs_used: set
    _prelude_inputs: set

    def checker(self) -> ExprChecker:
        checker = ExprChecker(self.env, self.errors, self.ids)
        checker.inputs_used = self._inputs_used
        return checker

    # ------------------------------------------------------------------ header
    def header(self, headers) -> ir.Meta:
        if not headers:
            self.error("E0401", Span(self.module.file, 1, 1, 1, 2))
            return ir.Meta("?", None, None, None, None, ir.ALWAYS, None, Span(self.module.file, 1, 1, 1, 1))
        for extra in headers[1:]:
            self.error("E0402", extra.span)
        h = headers[0]
        if h.in_force_from and h.in_force_until and h.in_force_until < h.in_force_from:
            self.error("E0406", h.span, until=h.in_force_until, start=h.in_force_from)
        return ir.Meta(h.title, h.document, h.full_title, h.issuer, h.issued,
                       ir.Validity(h.in_force_from, h.in_force_until), h.source, h.span, h.assumed)

    # ------------------------------------------------------------------ vocabulary
    def enums(self, decls) -> dict:
        enums, type_names = {}, {}
        for d in decls:
            if not self.declare(d.name, d.span, type_names):
                continue
            seen = {}
            members = []
            for m in d.members:
                if m.name in seen:
                    self.error("E0202", m.span, name=m.name, first=self.where(seen[m.name]))
                    continue
                seen[m.name] = m.span
                members.append(ir.Member(m.name, m.label, m.codes, m.span))
            enums[d.name] = ir.Enum(d.name, d.field, tuple(members), d.span)
        return enums

    def type_of(self, name: str, span: Span, enums: dict) -> ir.Type:
        if name in ir.SCALARS:
            return ir.SCALARS[name]
        if name in enums:
            return ir.enum_type(name)
        if name in self.unused_prelude:
            hint = f"`{name}` is declared in the prelude: add `use prelude`"
        else:
            hint = (did_you_mean(name, list(ir.SCALARS) + list(enums))
                    or f"types: {', '.join(ir.SCALARS)} or an enumeration")
        self.error("E0203", span, name=name, hint=hint)
        return ERROR

    def inputs(self, decls, enums) -> dict:
        inputs = {}
        self._inputs_used = set()
        self._prelude_inputs = set()
        prelude_decls = set(self.prelude.decls) if self.prelude else set()
        for d in decls:
            if not self.declare(d.name, d.span):
                continue
            t = self.type_of(d.type_name, d.type_span, enums)
            inputs[d.name] = ir.Input(d.name, t, d.field, d.optional, d.doc, d.span,
                                      self.input_domain(d, t) if d.domain else None)
            if d in prelude_decls:
                self._prelude_inputs.add(d.name)
        return inputs

    def input_domain(self, d: ast.InputDecl, t: ir.Type) -> tuple | None:
        """`in low..high`: constants of the input's type inside the type's own limits (domains.LIMITS)."""
        low_node, high_node, span = d.domain
        limits = LIMITS.get(t.name)
        if limits is None:
            if t != ERROR:
                self.error("E0450", span, name=d.name, problem=f"a {t} input has no range",
                           hint="a range narrows money, rate, points or number inputs")
            return None
        env = Env({}, {}, {}, {}, {}, {})
        bounds = []
        for node in (low_node, high_node):
            literal = node.operand if isinstance(node, ast.UnaryOp) else node
            if not isinstance(literal, ast.Literal):
                self.error("E0450", node.span, name=d.name, problem="its range must be written with literals",
                           hint=f"the claim edge checks it before any rule runs: e.g. `input {d.name}: "
                           f"{t} in {show(limits[0], t)}..{show(limits[1], t)}`")
                return None
            before = len(self.errors)
            value = ExprChecker(env, self.errors, self.ids).expect(node, t)
            if len(self.errors) > before:
                return None  # one type error for the range, not one per bound
            try:
                bounds.append(constant(value))
            except ValueError:
                self.error("E0450", node.span, name=d.name, problem="its range must be written with literals",
                           hint=f"e.g. `input {d.name}: rate in 0%..100%`")
                return None
        low, high = bounds
        if low is None or high is None:
            return None
        lowest, highest, _ = limits
        if low > high:
            self.error("E0450", span, name=d.name, problem=f"the range starts at {show(low, t)}, above its end "
                       f"{show(high, t)}", hint="write the smaller bound first")
            return None
        if low < lowest or high > highest:
            self.error("E0450", span, name=d.name, problem=f"the range leaves {show(lowest, t)}..{show(highest, t)}, "
                       f"the range of every {t} input", hint="a declared range can only narrow it "
                       "(docs/claims.md, limits)")
            return None
        return (low, high)

    def edge_inputs(self, inputs, meta) -> tuple:
        """The service date and the person's id: the prelude's 就诊日期 and 人员编号."""
        if ("就诊日期" not in inputs or "人员编号" not in inputs) and not self.bad_use:
            self.error("E0410", meta.span)  # not again when a misspelt `use` was already reported
        return "就诊日期", "人员编号"

    # ------------------------------------------------------------------ definitions
    def group(self, decls) -> dict:
        groups: dict[str, list] = {}
        for d in decls:
            if d.name in groups:
                first = groups[d.name][0]
                if type(first) is not type(d) or first.type_name != d.type_name:
                    if _undated(first) and _undated(d):  # not meant as versions: a name reused
                        self.error("E0202", d.span, name=d.name, first=self.where(first.span))
                    else:
                        self.error("E0404", d.span, name=d.name)
                    continue
                groups[d.name].append(d)
            elif self.declare(d.name, d.span):
                groups[d.name] = [d]
        return groups

    def validities(self, name: str, versions) -> list:
        result = []
        for v in versions:
            start = v.options.valid_from[0] if v.options.valid_from else None
            end = v.options.valid_until[0] if v.options.valid_until else None
            if start and end and end < start:
                self.error("E0406", v.span, until=end, start=start)
            result.append(ir.Validity(start, end))
        duplicates = set()
        for (a, da), (b, db) in itertools.combinations(zip(result, versions), 2):
            a_start, b_start = a.start or _MIN, b.start or _MIN
            a_end, b_end = a.end or _MAX, b.end or _MAX
            if a_start <= b_end and b_start <= a_end:
                if _undated(da) and _undated(db):  # a pasted duplicate, not a new version
                    if id(db) not in duplicates:  # the third copy is reported once, not per earlier copy
                        duplicates.add(id(db))
                        self.error("E0202", db.span, name=name, first=self.where(da.span))
                    continue
                self.error("E0403", db.span, name=name, date=max(a_start, b_start).isoformat()
                           if max(a_start, b_start) != _MIN else "every date")
        return result

    def rule(self, name, versions, type_, checker) -> ir.Rule:
        out = []
        for validity, d in zip(self.validities(name, versions), versions):
            expr = checker.expect(d.expr, type_) if type_ != ERROR else checker.check(d.expr)
            out.append(ir.RuleVersion(validity, expr, d.options.clause, d.span))
        first = versions[0]
        self.same_options(name, versions, lambda d: (d.is_output, d.assumption, _opt(d.options.platform),
                                                     _opt(d.options.rounding)))
        rounding = self.rounding_mode(first.options.rounding, name, type_)
        platform = None
        if first.options.platform:
            platform, span = first.options.platform
            if platform not in OUTPUT_NAMES:
                self.error("E0409", span, name=name, platform=platform, known=", ".join(OUTPUT_NAMES))
            elif not first.is_output:
                self.error("E0312", span, what="a platform name", value=f"`{platform}`",
                           hint=f"only an `output` appears in results; write `output {name}: …`")
            elif type_ not in (PLATFORM_TYPES[OUTPUT_NAMES[platform][1]], ERROR):
                self.error("E0312", span, what=f"`{platform}` ({OUTPUT_NAMES[platform][0]})", value=f"a {type_}",
                           hint=f"`{platform}` is {PLATFORM_TYPES[OUTPUT_NAMES[platform][1]]}")
        out.sort(key=lambda v: v.validity.start or _MIN)
        return ir.Rule(name, type_, tuple(out), first.is_output, platform, rounding,
                       first.options.doc, first.span, first.options.clause, first.assumption)

    def same_options(self, name, versions, key):
        """Versions differ only in dates and bodies: kind, platform name, rounding and columns agree."""
        for d in versions[1:]:
            if key(d) != key(versions[0]):
                self.error("E0404", d.span, name=name)

    def rounding_mode(self, option, name, type_) -> str:
        if not option:
            return "half_up"
        mode, span = option
        if mode not in ir.ROUNDING_MODES:
            self.error("E0309", span, name=mode, known=", ".join(ir.ROUNDING_MODES))
            return "half_up"
        if type_ not in (ir.MONEY, ERROR):
            self.error("E0311", span, name=name, found=f"a {type_}")
        return mode

    def const(self, checker, node, want) -> object:
        value = checker.expect(node, want) if want not in (None, ERROR) else checker.check(node)
        return self.value_of(node, value)

    def value_of(self, node, value) -> object:
        if isinstance(value, ir.NotApplicable):
            return value
        try:
            return constant(value)
        except ValueError:
            self.error("E0304", node.span, func="a table", expected="constant values",
                       hint="cells and outputs are literals or members; compute with a rule instead")
            return None

    def table(self, name, versions, sig, checker) -> ir.Table:
        columns_ast, column_types, type_ = sig
        columns = tuple(checker.check(c) for c in columns_ast)
        self.same_options(name, versions, lambda d: tuple(_shape(c) for c in d.columns))
        for d in versions:
            for option, what in ((d.options.platform, "a platform name"), (d.options.rounding, "`round`")):
                if option:
                    self.error("E0312", option[1], what=what, value="given", hint="a table gives rates or "
                               "values to rules; put `as` or `round` on the rule that uses the table")
        hit = next((v.options.hit for v in versions if v.options.hit), None)
        if hit is None:
            self.error("E0407", versions[0].span, name=name)
            hit = "first"
        out = []
        for validity, d in zip(self.validities(name, versions), versions):
            count = len(d.rows) + (d.default is not None)
            if count > limits.TABLE_ROWS:
                self.error("E0470", d.span, name=name, count=count, most=limits.TABLE_ROWS)
            rows = []
            for index, row in enumerate(d.rows, 1):
                if len(row.cells) != len(columns):
                    self.error("E0306", row.span, name=name, cols=_count(len(columns), "column"),
                               cells=_count(len(row.cells), "cell"))
                    continue
                cells = tuple(self.cell(checker, c, t) for c, t in zip(row.cells, column_types))
                output = self.const(checker, row.output, type_)
                rows.append(ir.Row(index, cells, self.output_value(output, type_, row), row.clause or d.options.clause,
                                   row.span))
            default = None
            if d.default:
                output = self.const(checker, d.default.output, type_)
                default = ir.Row(0, (), self.output_value(output, type_, d.default), d.default.clause, d.default.span)
            out.append(ir.TableVersion(validity, tuple(rows), default, d.options.clause, d.span))
        out.sort(key=lambda v: v.validity.start or _MIN)
        return ir.Table(name, columns, column_types, type_, hit, tuple(out), versions[0].options.doc,
                        versions[0].span)

    @staticmethod
    def output_value(value, type_, row) -> ir.Expr:
        if isinstance(value, ir.NotApplicable):
            return ir.NotApplicable(value.reason, type_, value.span)
        return ir.Const(value, type_, row.output.span)

    def cell(self, checker, cell: ast.Cell, column_type) -> ir.Cell:
        if cell.kind == "any":
            return ir.Cell("any", None, (), cell.span)
        values = tuple(self.const(checker, v, column_type) if v is not None else None for v in cell.values)
        for v, node in zip(values, cell.values):
            if isinstance(v, ir.NotApplicable):
                self.error("E0312", node.span, what="a table cell", value="`not applicable`",
                           hint="cells match claim values; put `not applicable` on the row's output")
        if cell.kind == "cmp" and cell.op in ("==", "!="):
            return ir.Cell("eq" if cell.op == "==" else "not_in", None, values, cell.span)
        if cell.kind in ("cmp", "range") and column_type not in ir.NUMERIC + (ir.DATE, ERROR):
            self.error("E0302", cell.span, op=cell.op or "..", left=str(column_type), right=str(column_type),
                       hint="only money, rates, numbers and dates are ordered")
        return ir.Cell(cell.kind, cell.op, values, cell.span)

    def brackets(self, name, versions, checker) -> ir.Brackets:
        first = versions[0]
        if self.env.brackets[name] not in (ir.MONEY, ERROR):
            self.error("E0301", first.type_span, expected="money", found=str(self.env.brackets[name]),
                       hint="brackets pay money")
        on = checker.expect(first.on, ir.MONEY)
        cumulative = checker.expect(first.cumulative, ir.MONEY) if first.cumulative else None
        out = []
        for validity, d in zip(self.validities(name, versions), versions):
            bands, prev, prev_known, prev_open = [], None, True, False
            for index, b in enumerate(d.bands, 1):
                low = self.band_bound(checker, b.low)
                high = self.band_bound(checker, b.high) if b.high is not None else None
                rate = self.band_rate(checker, name, b.rate)
                lo, hi = _known(low), _known(high)
                backwards = lo is not None and hi is not None and hi <= lo
                if backwards:
                    self.error("E0414", b.span, name=name, lo=f"{lo}元", hi=f"{hi}元")
                elif index > 1 and (prev_open or (lo is not None and prev_known and prev != lo)):
                    self.error("E0412", b.span, name=name, lo=f"{lo}元" if lo is not None else _text(b.low),
                               prev=f"{prev}元" if prev is not None else "∞")
                # Bounds evaluated per claim are checked per claim (runtime.band_order); a bound that is
                # itself wrong (already reported) says nothing about where the next band starts.
                prev, prev_known, prev_open = hi, not backwards and hi is not None, b.high is None
                bands.append(ir.Band(index, low, high, rate, b.clause or d.options.clause, b.span))
            out.append(ir.BracketsVersion(validity, tuple(bands), d.options.clause, d.span))
        out.sort(key=lambda v: v.validity.start or _MIN)
        self.same_options(name, versions, lambda d: (_opt(d.options.rounding), _shape(d.on), _shape(d.cumulative)))
        rounding = self.rounding_mode(first.options.rounding, name, ir.MONEY)
        if first.options.platform:
            self.error("E0312", first.options.platform[1], what="a platform name", value="given",
                       hint="put `as` on the output that uses the brackets")
        return ir.Brackets(name, on, cumulative, tuple(out), rounding, first.options.doc, first.span)

    def band_bound(self, checker, node) -> ir.Expr:
        """A band's bound: a money expression, evaluated per claim (a constant is folded to one)."""
        value = checker.check(node, ir.MONEY)
        if isinstance(value, ir.NotApplicable):
            self.error("E0312", node.span, what="a band's bound", value="`not applicable`",
                       hint="a bound is an amount of money; to pay nothing below a point, start the first band there")
            return ir.Const(None, ERROR, node.span)
        if value.type not in (ir.MONEY, ERROR):
            self.error("E0301", node.span, expected="money", found=str(value.type),
                       hint="a band's bounds are amounts on the brackets' `on` amount, e.g. "
                            "`起付线 .. 起付线 + 50000元`")
            return ir.Const(None, ERROR, node.span)
        return _folded(value)

    def band_rate(self, checker, name, node) -> ir.Expr:
        """A band's rate: a rate expression, evaluated per claim; money or a number gets E0307."""
        value = checker.check(node, ir.RATE)
        if isinstance(value, ir.NotApplicable):
            self.error("E0312", node.span, what="a band's rate", value="`not applicable`",
                       hint="every band pays a rate; use 0% for a band that pays nothing")
            return ir.Const(None, ERROR, node.span)
        if value.type not in (ir.RATE, ERROR):
            self.error("E0307", node.span, name=name, found=str(value.type))
            return ir.Const(None, ERROR, node.span)
        return _folded(value)

    def accumulators(self, decls, enums, inputs) -> dict:
        result = {}
        self._year_inputs = set()
        for d in decls:
            if not self.declare(d.name, d.span):
                continue
            if d.per_who not in PER_WHO or d.per_period not in PER_PERIOD:
                self.error("E0405", d.span, name=d.name)
            t = self.type_of(d.type_name, d.type_span, enums)  # an enum is known, only not allowed here
            if t not in (ir.MONEY, ir.NUMBER, ERROR):
                self.error("E0301", d.type_span, expected="money or number", found=str(t),
                           hint="an accumulator adds up amounts or counts")
                t = ERROR  # reported once here, not again at every use
            initial = Decimal(0)
            if d.initial is not None:
                env = Env({}, {}, {}, {}, {}, {})
                value = ExprChecker(env, self.errors, self.ids).expect(d.initial, t) if t != ERROR else None
                try:
                    initial = constant(value) if value is not None else initial
                except ValueError:
                    self.error("E0304", d.initial.span, func="an accumulator's start", expected="a constant",
                               hint="write a literal such as 0元")
                initial = initial if initial is not None else Decimal(0)
            keys = self.keys(d, inputs)
            result[d.name] = ir.Accumulator(d.name, t, initial, d.options.clause, d.options.doc, d.span, keys)
        return result

    def keys(self, d: ast.AccumulatorDecl, inputs) -> tuple:
        """`per 机构级别 …`: inputs whose value picks the claim's own total (enum or text, each once)."""
        keys = []
        for name, span in d.keys:
            inp = inputs.get(name)
            if inp is None:
                hint = did_you_mean(name, list(inputs))
                self.error("E0480", span, name=d.name, key=name,
                           what="which is not an input" + (f" ({hint})" if hint else ""))
            elif inp.type.name not in ("enum", "text") and inp.type != ERROR:
                self.error("E0480", span, name=d.name, key=name, what=f"a {inp.type} input: a total per amount "
                           "or per date would be a new total for almost every claim")
            elif name in keys:
                self.error("E0480", span, name=d.name, key=name, what="which is given twice")
            elif inp.optional:
                self.error("E0480", span, name=d.name, key=name, what="an optional input: a claim without it "
                           "would have no total to read")
            else:
                keys.append(name)
                self._year_inputs.add(name)
        return tuple(keys)

    def year(self, decls, inputs) -> ir.Year:
        """The 医保年度 (`year by … from MM-DD`): one declaration; an extending file's replaces its base's."""
        if not decls:
            return ir.Year()
        for earlier, later in zip(decls, decls[1:]):
            if earlier.span.file == later.span.file:
                self.error("E0483", later.span, first=self.where(earlier.span))
        d = decls[-1]
        inp = inputs.get(d.date)
        if inp is None:
            hint = did_you_mean(d.date, list(inputs))
            self.error("E0481", d.date_span, name=d.date, what="not an input" + (f" ({hint})" if hint else ""))
        elif inp.type != ir.DATE:
            self.error("E0481", d.date_span, name=d.date, what=f"a {inp.type} input, not a date")
        elif inp.optional:
            self.error("E0481", d.date_span, name=d.date, what="an optional input: a claim without it would "
                       "have no year")
        else:
            self._year_inputs.add(d.date)  # required: a claim with no such date has no year (refused at the edge)
        month, day = 1, 1
        if d.start is not None:
            month, day, span = d.start
            try:
                datetime.date(2023, month, day)  # 2023 has no 02-29: a year must start on a day every year has
            except ValueError:
                self.error("E0482", span, text=f"{month:02d}-{day:02d}")
                month, day = 1, 1
        return ir.Year(d.date, month, day, d.clause, d.span)

    def update(self, d: ast.UpdateDecl, inputs) -> ir.Update:
        checker = self.checker()
        acc_type = self.env.accumulators.get(d.target)
        if acc_type is None:
            self.error("E0205", d.target_span, name=d.target)
            amount = checker.check(d.amount)
        else:
            amount = checker.expect(d.amount, acc_type)
            if acc_type == ir.MONEY and not ir.in_fen(amount):  # 政策范围内费用 × 50% can be 0.005 元
                self.error("E0423", d.amount.span, name=d.target)
        when = checker.condition(d.when) if d.when is not None else None
        once = None
        if d.once is not None:
            once, span = d.once
            inp = inputs.get(once)
            if inp is None:
                hint = did_you_mean(once, list(inputs))
                self.error("E0484", span, key=once, what="not an input" + (f" ({hint})" if hint else ""))
            elif inp.type.name not in ("text", "enum") and inp.type != ERROR:
                self.error("E0484", span, key=once, what=f"a {inp.type} input; what is counted once is named "
                           "by an identifier (text)")
            elif inp.optional:
                self.error("E0484", span, key=once, what="an optional input: a claim without it could not be "
                           "told apart from another")
            else:
                self._year_inputs.add(once)  # required: a counted claim must say what it counts
            positive = isinstance(amount, ir.Const) and isinstance(amount.value, Decimal) and amount.value > 0
            if acc_type not in (None, ERROR) and not positive:
                self.error("E0485", d.amount.span, name=d.target, key=once)
        return ir.Update(d.target, amount, when, d.clause, d.span, once)

    def counted_alone(self, updates, accumulators):
        """An accumulator counted `once per …` has that one update: a later part of a counted admission then
        reads the total less its own count, and nothing else moved it in between (see docs/language.md)."""
        for u in updates:
            if u.once is None:
                continue
            others = [o for o in updates if o.target == u.target and o is not u]
            if others:
                self.error("E0486", others[0].span if others[0].once is None else u.span, name=u.target,
                           key=u.once, other=(u if others[0].once is None else others[0]).span.line)
                return

    def one_key(self, prop: ir.Property, accumulators):
        """An invariant of the year's state is proved by induction over one claim, which changes one key's
        totals: it may only compare accumulators kept per the same keys (else E0447)."""
        if prop.vary is not None or prop.when is not None:
            return
        refs = [n for n in _walk(prop.holds) if isinstance(n, (ir.InputRef, ir.RuleRef, ir.AccRef, ir.Side))]
        if not refs or not all(isinstance(r, ir.AccRef) for r in refs):
            return
        keys = {accumulators[r.name].keys for r in refs if r.name in accumulators}
        if len(keys) > 1:
            shown = "; ".join(sorted(f"per {' per '.join(k)}" if k else "per person per 医保年度" for k in keys))
            self.error("E0487", prop.span, name=prop.name, keys=shown)

    def scope(self, decls) -> tuple:
        reqs = []
        clause = None
        for d in decls:
            clause = clause or d.clause
            checker = self.checker()
            for r in d.requirements:
                reqs.append(ir.Requirement(checker.condition(r.expr), r.message, r.span))
        return tuple(reqs), clause

    def constraint(self, d: ast.ConstraintDecl) -> ir.Constraint:
        return ir.Constraint(self.checker().condition(d.expr), d.message, d.span)

    def property(self, d: ast.PropertyDecl, inputs) -> ir.Property:
        checker = self.checker()
        vary = self.vary(checker, d.vary, inputs) if d.vary is not None else None
        # A `vary` that names something else is one error: left./right. still read their claim, so
        # `holds left.X >= right.X` does not add an error of its own for each side.
        checker.allow_sides = d.vary is not None
        checker.varied = vary.input if vary is not None else None
        when = checker.condition(d.when) if d.when is not None else None
        holds = checker.condition(d.holds)
        return ir.Property(d.name, d.clause, vary, when, holds, d.span, d.origin)

    def vary(self, checker, d: ast.Vary, inputs) -> ir.Vary | None:
        """What two claims of a relational property differ in: an input (two claims), or an accumulator
        (one claim from two states of the year). Cells left out mean any value on either side."""
        name = d.field
        if name in inputs:
            t, accumulator = inputs[name].type, False
        elif name in self.env.accumulators:
            t, accumulator = self.env.accumulators[name], True
        else:
            self.not_variable(d, inputs)
            return None
        if t == ERROR:
            return None  # the accumulator's type is already reported
        left, right = (self.vary_cell(checker, c, t, name) if c is not None else ir.Cell("any", None, (), d.field_span)
                       for c in (d.left, d.right))
        return ir.Vary(name, left, right, d.span, accumulator, t)

    def vary_cell(self, checker, cell: ast.Cell, t: ir.Type, name: str) -> ir.Cell:
        """A cell of `vary`: a value of the varied field, said so with the field's name when it is not."""
        for node in cell.values:
            if node is None:
                continue
            scratch: list = []
            found = ExprChecker(self.env, scratch, self.ids).check(node, t).type
            if not scratch and found not in (t, ERROR):
                self.error("E0317", node.span, name=name, expected=describe_type(t), found=describe(found),
                           hint=mismatch_hint(t, found, node) or cell_examples(t, self.env))
                return ir.Cell("any", None, (), cell.span)
        return self.cell(checker, cell, t)

    def not_variable(self, d: ast.Vary, inputs) -> None:
        """E0314 / E0315: what the name is, and what could be varied instead."""
        env, name = self.env, d.field
        own = [n for n in inputs if n in self._inputs_used or n not in self._prelude_inputs]
        variable = [*own, *env.accumulators]
        if name in env.rules or name in env.tables or name in env.brackets:
            what = "a rule" if name in env.rules else "a table" if name in env.tables else "a brackets block"
            reads = [n for n in self.reads(name) if n in inputs or n in env.accumulators]
            hint = (f"its value follows from the claim and the year's state; vary what it reads: "
                    f"{_listed(reads)}" if reads else
                    f"it is the same for every claim; vary an input or an accumulator: {_listed(variable)}")
            self.error("E0314", d.field_span, name=name, what=what, hint=hint)
        elif name in env.members:
            enum = env.members[name][0]
            fields = [n for n, i in inputs.items() if i.type.name == "enum" and i.type.enum == enum]
            field = next((f for f in fields if f in own), fields[0] if fields else enum)
            self.error("E0314", d.field_span, name=name, what=f"a member of {enum}",
                       hint=f"vary the input that holds it: `vary {field}: {name} vs …`")
        else:
            hint = did_you_mean(name, [*inputs, *env.accumulators])
            hint = f"{hint} " if hint else ""
            self.error("E0315", d.field_span, name=name,
                       hint=f"{hint}vary an input or an accumulator: {_listed(variable)}")

    def reads(self, name: str) -> list:
        """The inputs and accumulators a rule, table or brackets block reads, itself or through others."""
        rules, tables, brackets = self.defs
        found, todo, seen = [], [name], set()
        while todo:
            current = todo.pop(0)
            if current in seen:
                continue
            seen.add(current)
            if current in rules:
                exprs = [v.expr for v in rules[current].versions]
            elif current in tables:
                exprs = list(tables[current].columns)
            elif current in brackets:
                b = brackets[current]
                exprs = [b.on, *([b.cumulative] if b.cumulative is not None else [])]
            else:
                continue
            for ref in (r for e in exprs for r in _names_read(e)):
                (found if isinstance(ref, (ir.InputRef, ir.AccRef)) else todo).append(ref.name)
        return list(dict.fromkeys(found))

    # ------------------------------------------------------------------ ordering
    def order(self, rules, deps, groups) -> list:
        """Rules in dependency order (tables and brackets count through their expressions)."""
        order, state = [], {}

        def visit(name, path):
            if state.get(name) == "done":
                return
            if state.get(name) == "active":
                cycle = path[path.index(name):] + [name]
                through = [n for n in cycle if isinstance(groups[n][0], ast.BracketsDecl)]
                hint = (f"a band's bound or rate cannot read what the brackets `{through[0]}` pay: compute it "
                        "from inputs, accumulators and rules that do not read the brackets" if through
                        else "a rule cannot depend on its own value")
                self.error("E0207", groups[name][0].span, name=name, cycle=" → ".join(cycle), hint=hint)
                return
            state[name] = "active"
            for dep in sorted(deps.get(name, ())):
                visit(dep, path + [name])
            state[name] = "done"
            if name in rules:
                order.append(name)

        for name in deps:
            visit(name, [])
        return order

    # ------------------------------------------------------------------ examples
    def example(self, d: ast.ExampleDecl, inputs, rules, accumulators) -> ir.Example:
        checker = self.checker()
        state = []
        for a in d.state:
            if a.name not in accumulators:
                self.error("E0208", a.span, name=a.name)
                continue
            state.append((a.name, self.const(checker, a.expr, accumulators[a.name].type), a.span))
        steps = []
        required = {n for n, i in inputs.items() if not i.optional and n != "人员编号"}
        for step in d.steps:
            given, seen = [], set()
            for a in step.inputs:
                name = a.name
                field_names = {i.field: n for n, i in inputs.items() if i.field}
                name = field_names.get(name, name)
                if name in seen:
                    self.error("E0408", a.span, name=d.name, field=a.name,
                               hint=f"`{a.name}` is the platform field of `{name}`" if a.name != name else "")
                seen.add(name)
                if name not in inputs:
                    if name in self.env.inputs:
                        given.append((name, self.const(checker, a.expr, self.env.inputs[name].type), a.span))
                        continue
                    hint = (unknown_name_hint(a.name, self.env) if a.name in self.unused_prelude
                            else did_you_mean(a.name, list(inputs)) or "an example sets the policy's inputs")
                    self.error("E0201", a.span, name=a.name, hint=hint)
                    continue
                given.append((name, self.const(checker, a.expr, inputs[name].type), a.span))
            for missing in sorted(required - seen):
                self.error("E0411", step.span, name=d.name, field=missing)
            expect = None
            if step.expect is not None:
                expect = []
                for a in step.expect:
                    if a.name not in rules:
                        self.error("E0209", a.span, name=a.name)
                        continue
                    if isinstance(a.expr, ast.NotApplicable):
                        expect.append((a.name, ir.NotApplicable(a.expr.reason, rules[a.name].type, a.span), a.span))
                    else:
                        expect.append((a.name, self.const(checker, a.expr, rules[a.name].type), a.span))
                expect = tuple(expect)
            steps.append(ir.ExampleStep(tuple(given), expect, step.out_of_scope_reason, step.span))
        return ir.Example(d.name, tuple(state), tuple(steps), d.span)

    # ------------------------------------------------------------------ the docs page
    def fact(self, d: ast.FactDecl, enums) -> ir.Fact:
        """A fact's value is a constant of its declared type; no rule reads it (E0441)."""
        t = self.type_of(d.type_name, d.type_span, enums)
        checker = self.checker()
        value = checker.expect(d.value, t) if t != ERROR else checker.check(d.value)
        return ir.Fact(d.name, t, self.constant_or_error(value, d.value, f"fact `{d.name}`"), d.clause, d.text,
                       d.span)

    def constant_or_error(self, value: ir.Expr, node, what: str) -> object:
        if value.type == ERROR:
            return None  # reported where it was checked
        try:
            return constant(value)
        except ValueError:
            self.error("E0445", node.span, what=what)
            return None

    def page(self, decls, inputs: dict, read: set) -> ir.Page | None:
        """The author's representative values (typed as the inputs) and extra matrix axes (enumeration
        inputs the policy reads, not already an axis)."""
        if not decls:
            return None
        for extra in decls[1:]:
            self.error("E0440", extra.span, first=self.where(decls[0].span))
        d = decls[0]
        named: dict = {}
        representative = []
        checker = self.checker()
        for a in d.representative:
            if a.name in named:
                self.error("E0444", a.span, name=a.name, first=self.where(named[a.name]))
                continue
            named[a.name] = a.span
            inp = inputs.get(a.name)
            if inp is None:
                hint = did_you_mean(a.name, list(inputs)) or "a representative value is given for an input"
                self.error("E0442", a.span, name=a.name, hint=hint)
                continue
            value = checker.expect(a.expr, inp.type) if inp.type != ERROR else checker.check(a.expr)
            value = self.constant_or_error(value, a.expr, f"the representative value of `{a.name}`")
            if value is not None:
                representative.append((a.name, value, a.span))
        axes = []
        for name, span in d.axes:
            if name in named:
                self.error("E0444", span, name=name, first=self.where(named[name]))
                continue
            named[name] = span
            inp = inputs.get(name)
            if inp is None:
                self.error("E0443", span, name=name, reason=f"`{name}` is not an input",
                           hint=did_you_mean(name, [n for n, i in inputs.items() if i.type.name == "enum"])
                           or "an axis is an enumeration input, e.g. `axis 就医地`")
            elif inp.type.name != "enum":
                self.error("E0443", span, name=name, reason=f"`{name}` is {inp.type}, not an enumeration",
                           hint="the matrix gets one row per member of the axis: name an input whose type is an `enum`")
            elif inp.field in AXIS_FIELDS:
                self.error("E0443", span, name=name, reason="it is already an axis of the ratio matrix",
                           hint="险种, 就诊类型 and 机构级别 (fields insutype, med_type, dedc_hosp_lv) are always axes "
                                "when the policy reads them; name another enumeration input")
            elif name not in read:
                self.error("E0443", span, name=name, reason=f"no rule, scope or constraint reads `{name}`",
                           hint="every row of the axis would show the same ratios; drop the axis")
            else:
                axes.append((name, span))
        return ir.Page(tuple(representative), tuple(axes), d.span)

    def quotes(self, decls, cited: set) -> tuple:
        """One quote per clause, for a clause the policy cites. A policy that extends another may quote
        a clause again: its own quote (later in the merged module, from another file) replaces the base's."""
        quotes: dict = {}
        for d in decls:
            if d.clause not in cited:
                hint = did_you_mean(d.clause, cited) or (
                    "a quote gives the words of a clause that a rule, table, row, band, accumulator, update, "
                    "scope or property cites with `clause \"…\"`")
                self.error("E0421", d.clause_span, clause=d.clause, hint=hint)
                continue
            first = quotes.get(d.clause)
            if first is not None and first.span.file == d.span.file:
                self.error("E0422", d.clause_span, clause=d.clause, first=self.where(first.span))
                continue
            quotes[d.clause] = ir.Quote(d.clause, d.paragraphs, d.span)
        return tuple(quotes.values())

    def check_platform_names(self, rules, inputs):
        """Each settlement name has one source: one output (E0413), or one input's field (a field names one
        input, E0425), of the type the platform gives it (E0312), never both an input and an output
        (E0424): setlinfo would carry two different amounts under one name, and the stage would count
        twice or not at all."""
        seen = {}
        for r in rules.values():
            if r.platform:
                if r.platform in seen:
                    self.error("E0413", r.span, platform=r.platform, first=seen[r.platform], second=r.name)
                seen[r.platform] = r.name
        fields = {}
        for inp in inputs.values():
            if inp.field in fields:  # a claim's key would fill one of them, and setlinfo count the stage twice
                self.error("E0425", inp.span, field=inp.field, first=fields[inp.field].name, second=inp.name,
                           where=self.where(fields[inp.field].span))
            elif inp.field:
                fields[inp.field] = inp
            if inp.field not in OUTPUT_NAMES:
                continue
            chinese, kind = OUTPUT_NAMES[inp.field]
            if inp.type not in (PLATFORM_TYPES[kind], ERROR):
                self.error("E0312", inp.span, what=f"input `{inp.name}` read from `{inp.field}` ({chinese})",
                           value=f"a {inp.type}", hint=f"`{inp.field}` is {PLATFORM_TYPES[kind]}")
            if inp.field in seen:
                self.error("E0424", inp.span, platform=inp.field, input=inp.name, output=seen[inp.field],
                           where=self.where(rules[seen[inp.field]].span))


import datetime as _dt  # noqa: E402

datetime = _dt


def _walk(e):
    """Every sub-expression of an IR expression (dataclass fields that are expressions or tuples of them)."""
    yield e
    for f in getattr(e, "__dataclass_fields__", ()):
        child = getattr(e, f)
        for c in (child if isinstance(child, tuple) else (child,)):
            if hasattr(c, "type") and hasattr(c, "span") and hasattr(c, "__dataclass_fields__"):
                yield from _walk(c)

_MIN, _MAX = _dt.date.min, _dt.date.max


def _folded(value: ir.Expr) -> ir.Expr:
    """A constant expression (`60% + 5pp` after an amendment) as its Const, so constant bands stay numbers;
    an amended `if` rate (`(if 贫困人员 then 60% else 55%) + 5pp`) with the constant taken into each branch,
    so the docs read 65% / 60% rather than a formula."""
    if isinstance(value, ir.Const):
        return value
    if isinstance(value, ir.Arith) and isinstance(value.left, ir.If) and isinstance(value.right, ir.Const):
        branch = lambda e: _folded(dataclasses.replace(value, left=e))  # noqa: E731
        return dataclasses.replace(value.left, then=branch(value.left.then), otherwise=branch(value.left.otherwise),
                                   type=value.type)
    try:
        folded = constant(value)
    except ValueError:
        return value
    return ir.Const(folded, value.type, value.span) if folded is not None else value


def _known(e) -> Decimal | None:
    """A bound's value when it is a constant, else None (evaluated per claim, or already wrong)."""
    return e.value if isinstance(e, ir.Const) and isinstance(e.value, Decimal) else None


def _text(node) -> str:
    """Short words for a bound the author wrote as an expression, for E0412."""
    return f"`{node.name}`" if isinstance(node, ast.Name) else "a bound computed per claim"


def cited_clauses(rules, tables, brackets, accumulators, updates, scope_clause, properties) -> set:
    """Every clause reference the policy makes: definitions, their versions, rows and bands."""
    cited = {scope_clause}
def cited_clauses(rules, tables, brackets, accumulators, updates, scope_clause, properties, facts=()) -> set:
    """Every clause reference the policy makes: definitions, their versions, rows and bands, facts."""
    cited = {scope_clause} | {f.clause for f in facts}
    for r in rules.values():
        cited |= {r.clause, *(v.clause for v in r.versions)}
    for t in tables.values():
        for v in t.versions:
            cited |= {v.clause, *(row.clause for row in v.rows), v.default.clause if v.default else None}
    for b in brackets.values():
        for v in b.versions:
            cited |= {v.clause, *(band.clause for band in v.bands)}
    cited |= {a.clause for a in accumulators.values()} | {u.clause for u in updates}
    cited |= {p.clause for p in properties}
    return cited - {None}


def _undated(decl) -> bool:
    return decl.options.valid_from is None and decl.options.valid_until is None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def resolve(module: ast.Module, prelude: ast.Module | None = None) -> ir.Policy:
    return Resolver(module, prelude).run()


PLATFORM_TYPES = {"fund": ir.MONEY, "amount": ir.MONEY, "ratio": ir.RATE}
AXIS_FIELDS = ("insutype", "med_type", "dedc_hosp_lv")  # the ratio matrix's own axes (publish/matrix.py)


def _opt(option):
    """An option's value without its span, for comparing versions."""
    return option[0] if option else None


def _shape(node):
    """An AST node without its spans, for comparing the columns of versions."""
    if node is None or not hasattr(node, "__dataclass_fields__"):
        return node
    return tuple((f, _shape(getattr(node, f)) if not isinstance(getattr(node, f), tuple)
                  else tuple(_shape(x) for x in getattr(node, f)))
                 for f in node.__dataclass_fields__ if f != "span")


def _names_read(e):
    """The references in an IR expression (inputs, rules, accumulators, tables, brackets), in order."""
    if isinstance(e, (ir.InputRef, ir.RuleRef, ir.AccRef, ir.TableRef, ir.BracketsRef)):
        yield e
    if dataclasses.is_dataclass(e) and not isinstance(e, (ir.Type, Span)):
        for f in dataclasses.fields(e):
            value = getattr(e, f.name)
            for child in (value if isinstance(value, tuple) else (value,)):
                if dataclasses.is_dataclass(child):
                    yield from _names_read(child)


def _listed(names) -> str:
    """a, b or c."""
    names = list(names)
    if len(names) < 2:
        return names[0] if names else "none"
    return f"{', '.join(names[:-1])} or {names[-1]}"


def describe_type(t: ir.Type) -> str:
    """A cell's expected type as E0317 names it: `a 机构级别 member`, `money`, `a number`."""
    return f"a {t.enum} member" if t.name == "enum" else describe(t)


def cell_examples(t: ir.Type, env: Env) -> str:
    """What a cell of this type looks like, for E0317's hint."""
    if t.name == "enum":
        members = env.enums[t.enum].member_names()
        return (f"write a member ({members[0]}), a set ({{{', '.join(members[:2])}}}), `not {{…}}` or `_` (any); "
                f"members: {', '.join(members)}")
    if t.name == "bool":
        return "write true, false or `_` (any)"
    low, high = {"money": ("0元", "1000元"), "rate": ("50%", "60%"), "points": ("0pp", "2pp"), "number": ("0", "1"),
                 "date": ("2024-01-01", "2024-07-01")}.get(t.name, ("…", "…"))
    return f"write a value ({high}), a comparison (>= {high}), a range ({low} .. {high}) or `_` (any)"
