"""IR → Z3: a claim (or two) and the year's state as formulas with the interpreter's exact semantics.

Every value is a triple: its Z3 term, a Bool saying it is not applicable, and an Int naming
the reason (static reasons by their text, run-time ones by their kind and definition), so
checks can reason about 'not applicable' exactly as the interpreter does. Money inputs and
accumulators are integers of fen; numbers, rates and points are integers of 1/10000, so a
model always reads back as an exact Decimal. Rounding uses to_int, mode by mode, the same
way runtime.round_money does.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

import z3

from policylang import ir
from policylang.domains import LIMITS, MONEY_LIMIT, domain, state_scaled
from policylang.runtime import missing_input

MAX_FEN = int(MONEY_LIMIT * 100)  # the claim edge's largest amount, in fen (domains.py)
LAST_DAY = datetime.date(2099, 12, 31)  # the last service date a proof covers (docs/claims.md, limits)
SCALE = {name: 10 ** places for name, (_, _, places) in LIMITS.items()}


@dataclass
class V:
    """An encoded value: term, 'not applicable' flag, reason id."""

    v: object
    na: object
    why: object


class Reasons:
    """Reason texts ↔ Int ids. Run-time reasons (no row, overlap, no version) are keyed by kind."""

    def __init__(self):
        self.ids: dict[str, int] = {}

    def id(self, key: str) -> z3.ArithRef:
        if key not in self.ids:
            self.ids[key] = len(self.ids) + 1
        return z3.IntVal(self.ids[key])

    def text(self, number: int) -> str:
        return next((k for k, v in self.ids.items() if v == number), "?")


_DYNAMIC = [(re.compile(r"^表 `(.+?)` 没有与"), "no_row:{}"), (re.compile(r"^表 `(.+?)` 第 .* 行同时命中"), "overlap:{}"),
            (re.compile(r"^`(.+?)` 在 \d{4}-\d{2}-\d{2} 没有有效版本"), "no_version:{}"),
            (re.compile(r"^分段 `(.+?)` 第 \d+ 段"), "band_order:{}")]


def reason_key(reason: str) -> str:
    """The key the encoding uses for an interpreter reason (run-time texts lose their values)."""
    for pattern, key in _DYNAMIC:
        m = pattern.match(reason)
        if m:
            return key.format(m.group(1))
    return reason


def sort_of(t: ir.Type):
    if t.name in ("money", "number", "rate", "points"):
        return z3.RealSort()
    if t.name == "bool":
        return z3.BoolSort()
    if t.name == "text":
        return z3.StringSort()
    return z3.IntSort()  # date (ordinal), enum (member index)


def dummy(t: ir.Type):
    s = sort_of(t)
    return z3.RealVal(0) if s == z3.RealSort() else z3.BoolVal(False) if s == z3.BoolSort() else \
        z3.StringVal("") if s == z3.StringSort() else z3.IntVal(0)


def first_reason(values: list) -> object:
    why = z3.IntVal(0)
    for value in reversed(values):
        why = z3.If(value.na, value.why, why)
    return why


def any_na(values: list) -> object:
    return z3.Or(*[v.na for v in values]) if values else z3.BoolVal(False)


class Encoder:
    """Shared across the runs of one check: the policy, reason ids and constant encoding."""

    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.reasons = Reasons()
        self.members = {name: {m: i for i, m in enumerate(e.member_names())} for name, e in policy.enums.items()}
        self.runs = 0

    def serial(self) -> int:
        """A number for each run: runs with the same prefix in different goals name their rules apart."""
        self.runs += 1
        return self.runs

    def const(self, value, t: ir.Type):
        if t.name in ("money", "number", "rate", "points"):
            return z3.RealVal(str(value))
        if t.name == "bool":
            return z3.BoolVal(bool(value))
        if t.name == "date":
            return z3.IntVal(value.toordinal())
        if t.name == "text":
            return z3.StringVal(value)
        return z3.IntVal(self.members[t.enum][value])


class Run:
    """One claim: its input symbols, the state before it, and memoised rule encodings."""

    def __init__(self, enc: Encoder, prefix: str, state: dict | None = None, shared: dict | None = None,
                 in_force_dates: bool = True):
        self.enc, self.p, self.prefix = enc, enc.p, prefix
        self.in_force_dates = in_force_dates  # False: any date (a diff compares policies of different periods)
        self.sides: dict = {}  # left/right runs, for a property that compares two claims
        self.domain: list = []
        self.scaled: dict = {}  # input name -> (Int var, scale) for reading models
        self.present: dict = {}
        self.inputs = {}
        for name, inp in self.p.inputs.items():
            if shared and name in shared:
                self.inputs[name], self.present[name] = shared[name]
            else:
                self.inputs[name], self.present[name] = self.symbol(name, inp)
        if state is not None:
            self.state, self.state_scaled = state
        else:
            self.state, self.state_scaled = self.state_symbols(prefix)
        self.rules: dict = {}
        self.bracket_values: dict = {}
        self.bracket_sites: list = []  # (BracketsRef, guard) at every use, for PL205
        self.disorder: dict = {}  # brackets name -> when its bands are out of order for this claim
        self.roundings: dict = {}  # rule name -> (exact value, value rounded to the fen, mode)
        self.definitions: list = []  # fen = its formula, for each money rule this run has encoded
        self.serial = enc.serial()
        self.sites: list = []  # (table name, guard, args) for gap checks
        self.guard = z3.BoolVal(True)

    # ---- symbols
    def symbol(self, name: str, inp: ir.Input):
        t = inp.type
        ident = f"{self.prefix}{name}"
        present = z3.Bool(f"{ident}?") if inp.optional else None
        if t.name in SCALE:
            n = z3.Int(ident)
            low, high, scale = domain(inp).scaled()  # what the claim edge enforces, nothing more
            self.scaled[name] = (n, scale)
            self.domain += [n >= low, n <= high]
            value = z3.ToReal(n) / scale
        elif t.name == "enum":
            value = z3.Int(ident)
            self.domain += [value >= 0, value < len(self.enc.members[t.enum])]
        elif t.name == "date":
            value = z3.Int(ident)
            start = self.p.meta.in_force.start or datetime.date(2020, 1, 1)
            end = self.p.meta.in_force.end or LAST_DAY  # eval settles any later claim: so must the proof
            if not self.in_force_dates:
                start, end = datetime.date(2000, 1, 1), LAST_DAY
            self.domain += [value >= start.toordinal(), value <= end.toordinal()]
        elif t.name == "bool":
            value = z3.Bool(ident)
        else:
            value = z3.String(ident)
        return value, present

    def given(self, name: str):
        """Whether the claim carries an input (always, unless the input is optional)."""
        present = self.present[name]
        return present if present is not None else z3.BoolVal(True)

    def state_symbols(self, prefix: str) -> tuple[dict, dict]:
        """The year-to-date before the claim: scaled integers, bounded; that they are never negative
        is an invariant the checker proves (PL104) before it assumes it."""
        state, scaled = {}, {}
        for name in self.p.accumulators:
            state[name], scaled[name] = self.state_symbol(prefix, name)
        return state, scaled

    def state_symbol(self, prefix: str, name: str) -> tuple:
        """One accumulator's year-to-date before the claim (its value, its scaled Int), bounded."""
        n = z3.Int(f"{prefix}state:{name}")
        largest, scale = state_scaled(self.p.accumulators[name])  # the claim edge refuses a state outside it
        self.domain += [n >= -largest, n <= largest]
        return z3.ToReal(n) / scale, (n, scale)

    def shared_state(self) -> tuple[dict, dict]:
        return self.state, self.state_scaled

    def own_state(self, name: str) -> None:
        """This claim's own year-to-date of one accumulator, every other one still shared: the right side
        of a property that varies an accumulator. Call it before encoding anything of the claim."""
        self.state, self.state_scaled = dict(self.state), dict(self.state_scaled)
        self.state[name], self.state_scaled[name] = self.state_symbol(self.prefix, name)

    # ---- the claim
    def applicable(self):
        """In force on the service date and every requirement true (an NA requirement: out of scope)."""
        day = self.inputs[self.p.service_date]
        validity = self.p.meta.in_force
        conds = []
        if validity.start:
            conds.append(day >= validity.start.toordinal())
        if validity.end:
            conds.append(day <= validity.end.toordinal())
        for req in self.p.scope:
            value = self.expr(req.expr)
            conds.append(z3.And(z3.Not(value.na), value.v))
        return z3.And(*conds) if conds else z3.BoolVal(True)

    def valid(self):
        """The policy's constraints on claims (an NA constraint is not checked, as at the edge)."""
        conds = []
        for c in self.p.constraints:
            value = self.expr(c.expr)
            conds.append(z3.Or(value.na, value.v))
        return z3.And(*conds) if conds else z3.BoolVal(True)

    def after(self) -> dict:
        """The state after the claim, for the invariants over known states: an update adds its amount when
        its condition holds. Where the interpreter would make the year-to-date unknown (a condition, or an
        amount where the condition holds, not applicable) this keeps the value before: the checks about
        states reason about known ones, and PL105 (check.update_goals) reports each update that can.

        The year's keys and once-per counting need no more symbols than one value per accumulator:
        - An accumulator kept `per 机构级别` is, for one claim, its own key's total: the claim reads only
          that one and updates only that one (year.Ledger.view/record), so one claim is one step of one
          key's totals, and an invariant, which the resolver lets compare only accumulators kept per the
          same keys (E0447), is proved for every key by the same induction (other keys do not move).
        - A claim whose once-per update already counted its id (a later part of a 中途结算 admission:
          runtime.COUNTED in the state) is not encoded: its update does not apply, so its step leaves
          the year's totals as they were, which keeps every invariant and every total ≥ 0; and the total
          it reads, less its own count (a positive constant, E0445, the accumulator's only update,
          E0446), is the total of a year without that admission, which the induction covers too.
        """
        after = dict(self.state)
        for u in self.p.updates:
            after[u.target] = after[u.target] + z3.If(self.adds(u), self.expr(u.amount).v, z3.RealVal(0))
        return after

    def adds(self, u: ir.Update):
        """Whether the update adds its amount to a known year-to-date: its condition holds (or it has none)
        and its amount is applicable."""
        amount = self.expr(u.amount)
        if u.when is None:
            return z3.Not(amount.na)
        when = self.expr(u.when)
        return z3.And(z3.Not(when.na), when.v, z3.Not(amount.na))

    def breaks(self, u: ir.Update):
        """Whether the update leaves its accumulator unknown from a known state (runtime.unknown_after): its
        condition is not applicable, or its amount is where the condition holds. PL105's goal."""
        amount = self.expr(u.amount)
        if u.when is None:
            return amount.na
        when = self.expr(u.when)
        return z3.Or(when.na, z3.And(when.v, amount.na))

    # ---- definitions
    def rule(self, name: str) -> V:
        if name not in self.rules:
            rule = self.p.rules[name]
            saved, self.guard = self.guard, z3.BoolVal(True)
            value = self.versioned(name, rule.versions, lambda v: self.expr(v.expr), rule.type)
            self.guard = saved
            if rule.type == ir.MONEY:
                exact, rounds = value.v, not all(ir.in_fen(v.expr) for v in rule.versions)
                if rounds:
                    value = V(round_fen(value.v, rule.rounding), value.na, value.why)
                value = self.named(name, value)
                if rounds:
                    self.roundings[name] = (exact, value.v, rule.rounding)
            self.rules[name] = value
        return self.rules[name]

    def named(self, name: str, value: V) -> V:
        """A money rule as an integer of fen with its formula as a definition.

        Every money rule is a whole number of fen (rounded, or built from whole fen), so naming it
        keeps a stage chain linear over integers: the next stage reads one Int atom instead of the
        whole formula of the previous one, and the rounding of `amount × rate` divides a sum of
        atoms. A definition only fixes a fresh variable, so adding it never changes a verdict.
        """
        n = z3.Int(f"{self.prefix}{self.serial}:{name}")
        self.definitions.append(z3.ToReal(n) == value.v * 100)
        return V(z3.ToReal(n) / 100, value.na, value.why)

    def versioned(self, name, versions, body, t: ir.Type) -> V:
        if len(versions) == 1 and versions[0].validity == ir.ALWAYS:
            return body(versions[0])
        day = self.inputs[self.p.service_date]
        result = V(dummy(t), z3.BoolVal(True), self.enc.reasons.id(f"no_version:{name}"))
        for version in reversed(versions):
            test = validity_test(version.validity, day)
            value = body(version)
            result = V(z3.If(test, value.v, result.v), z3.If(test, value.na, result.na),
                       z3.If(test, value.why, result.why))
        return result

    def table(self, e: ir.TableRef) -> V:
        table = self.p.tables[e.name]
        args = [self.expr(a) for a in e.args]
        self.sites.append((e, self.guard, args))
        bad = any_na(args)
        inner = self.versioned(table.name, table.versions, lambda v: self.table_version(table, v, args), table.type)
        return V(inner.v, z3.Or(bad, inner.na), z3.If(bad, first_reason(args), inner.why))

    def table_version(self, table: ir.Table, version: ir.TableVersion, args) -> V:
        matches = [z3.And(*[cell_match(self.enc, c, a.v, t) for c, a, t in zip(row.cells, args, table.column_types)])
                   for row in version.rows]
        if version.default is not None:
            result = self.row_value(version.default, table.type)
        else:
            result = V(dummy(table.type), z3.BoolVal(True), self.enc.reasons.id(f"no_row:{table.name}"))
        for row, match in reversed(list(zip(version.rows, matches))):
            out = self.row_value(row, table.type)
            result = V(z3.If(match, out.v, result.v), z3.If(match, out.na, result.na), z3.If(match, out.why, result.why))
        if table.hit == "unique" and len(matches) > 1:
            count = z3.Sum([z3.If(m, 1, 0) for m in matches])
            result = V(result.v, z3.Or(count > 1, result.na),
                       z3.If(count > 1, self.enc.reasons.id(f"overlap:{table.name}"), result.why))
        return result

    def row_value(self, row: ir.Row, t: ir.Type) -> V:
        if isinstance(row.output, ir.NotApplicable):
            return V(dummy(t), z3.BoolVal(True), self.enc.reasons.id(row.output.reason))
        return V(self.enc.const(row.output.value, t), z3.BoolVal(False), z3.IntVal(0))

    def brackets(self, e: ir.BracketsRef) -> V:
        """Named and remembered like a money rule: a bracket reads the same amounts wherever it is used.

        Its `on` and `cumulative` are encoded at every use all the same: a table they read records its
        site under the guard of each use, so a gap reached only through a later use is still checked.
        Bands evaluated per claim are encoded once, in band order after `on` and `cumulative`, as the
        interpreter reads them; bounds out of order make the value not applicable (runtime.band_order),
        and `disorder[name]` says when that happens to a claim whose bands are all applicable (PL205).
        """
        b = self.p.brackets[e.name]
        amount = self.expr(b.on)
        base = self.expr(b.cumulative) if b.cumulative is not None else V(z3.RealVal(0), z3.BoolVal(False),
                                                                           z3.IntVal(0))
        self.bracket_sites.append((e, self.guard))
        if e.name not in self.bracket_values:
            exact, disorder = {}, []
            day = self.inputs[self.p.service_date]

            def body(version):
                if b.constant:
                    bands = [tuple(z3.RealVal(str(x)) if x is not None else None for x in band.values)
                             for band in version.bands]
                    na, why = z3.BoolVal(False), z3.IntVal(0)
                else:
                    parts = [[self.expr(band.low), self.expr(band.high) if band.high is not None else None,
                              self.expr(band.rate)] for band in version.bands]
                    flat = [x for triple in parts for x in triple if x is not None]
                    bands = [tuple(x.v if x is not None else None for x in triple) for triple in parts]
                    bad = out_of_order(bands)
                    disorder.append(z3.And(validity_test(version.validity, day), z3.Not(any_na(flat)), bad))
                    na = z3.Or(any_na(flat), bad)
                    why = z3.If(any_na(flat), first_reason(flat), self.enc.reasons.id(f"band_order:{b.name}"))
                exact[version] = bracket_sum(base.v + amount.v, bands) - bracket_sum(base.v, bands)
                return V(round_fen(exact[version], b.rounding), na, why)

            inner = self.named(b.name, self.versioned(b.name, b.versions, body, ir.MONEY))
            if len(exact) == 1 and b.versions[0].validity == ir.ALWAYS:
                # one undated version: the named value is round(exact) on every date, so its rounding can
                # take part in the lemmas of rounded rules (a dated one is 0 outside its dates)
                self.roundings[b.name] = (*exact.values(), inner.v, b.rounding)
            parts = [amount, base]
            self.disorder[e.name] = z3.And(z3.Not(any_na(parts)), z3.Or(*disorder)) if disorder else z3.BoolVal(False)
            self.bracket_values[e.name] = V(inner.v, z3.Or(any_na(parts), inner.na),
                                            z3.If(any_na(parts), first_reason(parts), inner.why))
        return self.bracket_values[e.name]

    # ---- expressions
    def expr(self, e: ir.Expr) -> V:
        F, ZERO = z3.BoolVal(False), z3.IntVal(0)
        kind = type(e)
        if kind is ir.Const:
            return V(self.enc.const(e.value, e.type), F, ZERO)
        if kind is ir.InputRef:
            value, present = self.inputs[e.name], self.present[e.name]
            if present is None:
                return V(value, F, ZERO)
            return V(value, z3.Not(present), self.enc.reasons.id(missing_input(e.name).reason))
        if kind is ir.RuleRef:
            return self.rule(e.name)
        if kind is ir.AccRef:
            return V(self.state[e.name], F, ZERO)
        if kind is ir.TableRef:
            return self.table(e)
        if kind is ir.BracketsRef:
            return self.brackets(e)
        if kind is ir.Arith:
            l, r = self.expr(e.left), self.expr(e.right)
            value = l.v + r.v if e.op == "+" else l.v - r.v if e.op == "-" else mul(l.v, r.v)
            return V(value, z3.Or(l.na, r.na), first_reason([l, r]))
        if kind is ir.Compare:
            l, r = self.expr(e.left), self.expr(e.right)
            return V(compare(e.op, l.v, r.v), z3.Or(l.na, r.na), first_reason([l, r]))
        if kind is ir.InSet:
            x = self.expr(e.operand)
            inside = z3.Or(*[x.v == self.enc.const(i, e.operand.type) for i in e.items]) if e.items else F
            return V(z3.Not(inside) if e.negated else inside, x.na, x.why)
        if kind is ir.Logic:
            l = self.expr(e.left)
            saved = self.guard
            self.guard = z3.And(saved, l.v if e.op == "and" else z3.Not(l.v))
            r = self.expr(e.right)
            self.guard = saved
            if e.op == "and":
                return V(z3.And(l.v, r.v), z3.Or(l.na, z3.And(l.v, r.na)), z3.If(l.na, l.why, r.why))
            return V(z3.Or(l.v, r.v), z3.Or(l.na, z3.And(z3.Not(l.v), r.na)), z3.If(l.na, l.why, r.why))
        if kind is ir.Not:
            x = self.expr(e.operand)
            return V(z3.Not(x.v), x.na, x.why)
        if kind is ir.Neg:
            x = self.expr(e.operand)
            return V(-x.v, x.na, x.why)
        if kind is ir.If:
            c = self.expr(e.cond)
            saved = self.guard
            self.guard = z3.And(saved, c.v)
            t = self.expr(e.then)
            self.guard = z3.And(saved, z3.Not(c.v))
            o = self.expr(e.otherwise)
            self.guard = saved
            return V(z3.If(c.v, t.v, o.v), z3.Or(c.na, z3.If(c.v, t.na, o.na)),
                     z3.If(c.na, c.why, z3.If(c.v, t.why, o.why)))
        if kind is ir.MinMax:
            args = [self.expr(a) for a in e.args]
            value = args[0].v
            for a in args[1:]:
                value = z3.If(a.v < value, a.v, value) if e.op == "min" else z3.If(a.v > value, a.v, value)
            return V(value, any_na(args), first_reason(args))
        if kind is ir.Round:
            x = self.expr(e.operand)
            return V(x.v if ir.in_fen(e.operand) else round_fen(x.v, e.mode), x.na, x.why)
        if kind is ir.NotApplicable:
            return V(dummy(e.type), z3.BoolVal(True), self.enc.reasons.id(e.reason))
        if kind is ir.Side:
            return self.sides[e.side].expr(e.ref)
        raise TypeError(f"unknown IR node {kind.__name__}")


def definitions(runs) -> list:
    """The definitions of every money rule the runs (and the runs they compare with) encoded."""
    unique = {id(r): r for run in runs for r in [run, *run.sides.values()]}
    return [d for r in unique.values() for d in r.definitions]


def rounding_lemmas(a: "Run", b: "Run") -> list:
    """Rounding to the fen is monotone: x ≤ y implies round(x) ≤ round(y), for any x and y.

    Comparing two claims (or two policies) asks whether one rounded amount is at most another;
    the solver sees each rounding as an integer division and often cannot find that fact on its
    own. Stating it for each rule both runs round (same name, same mode) is sound and lets the
    comparison go through the exact values, which are linear.
    """
    lemmas = []
    for name, (x, rx, mode) in a.roundings.items():
        if name in b.roundings and b.roundings[name][2] == mode:
            y, ry, _ = b.roundings[name]
            lemmas += [z3.Implies(x <= y, rx <= ry), z3.Implies(y <= x, ry <= rx)]
    return lemmas


def shift_lemmas(a: "Run", b: "Run", name: str, growth) -> list:
    """Rounding a rule to the fen adds no more than a whole-fen growth of its exact value:
    y − x ≤ d implies round(y) − round(x) ≤ d, for d a whole number of fen and x, y ≥ 0.

    It holds for half_up, down and up (on amounts ≥ 0 each is floor or ceiling of a shifted
    value, and a whole shift passes through them), not for half_even (0.005 → 0.00, 0.015 →
    0.02), which gets no lemma.
    """
    if name not in a.roundings or name not in b.roundings or a.roundings[name][2] not in ("half_up", "down", "up"):
        return []
    (x, rx, _), (y, ry, _) = a.roundings[name], b.roundings[name]
    return [z3.Implies(z3.And(x >= 0, y >= 0, y - x <= growth), ry - rx <= growth)]


# ---- helpers ------------------------------------------------------------------------------
def validity_test(v: ir.Validity, day):
    tests = []
    if v.start is not None:
        tests.append(day >= v.start.toordinal())
    if v.end is not None:
        tests.append(day <= v.end.toordinal())
    return z3.And(*tests) if tests else z3.BoolVal(True)


def compare(op: str, a, b):
    return {"==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
            ">": lambda: a > b, ">=": lambda: a >= b}[op]()


def cell_match(enc: Encoder, cell: ir.Cell, value, t: ir.Type):
    kind = cell.kind
    if kind == "any":
        return z3.BoolVal(True)
    consts = [enc.const(v, t) if v is not None else None for v in cell.values]
    if kind == "eq":
        return value == consts[0]
    if kind == "cmp":
        return compare(cell.op, value, consts[0])
    if kind == "range":
        low, high = consts
        return z3.And(value >= low, value < high) if high is not None else value >= low
    inside = z3.Or(*[value == c for c in consts]) if consts else z3.BoolVal(False)
    return inside if kind == "in" else z3.Not(inside)


def mul(a, b):
    """a × b, pushed into if-then-else branches so a rate chosen by a table stays linear."""
    if z3.is_app_of(b, z3.Z3_OP_ITE) and not z3.is_rational_value(a):
        return _map_ite(b, lambda branch: mul(a, branch))
    if z3.is_app_of(a, z3.Z3_OP_ITE) and not z3.is_rational_value(b):
        return _map_ite(a, lambda branch: mul(branch, b))
    return a * b


def _map_ite(x, f):
    """f applied to each branch of an if-then-else chain, the chain kept: a loop along the `else`
    branches, so a table of many rows (one `If` per row) does not recurse once per row."""
    tests, thens, last = _ite_spine(x)
    out = f(last)
    for test, then in zip(reversed(tests), reversed(thens)):
        out = z3.If(test, f(then), out)
    return out


def _ite_spine(x) -> tuple:
    """(tests, then-branches, the last else) of an if-then-else chain, walked along its `else`s."""
    tests, thens = [], []
    while z3.is_app_of(x, z3.Z3_OP_ITE):
        tests.append(x.arg(0))
        thens.append(x.arg(1))
        x = x.arg(2)
    return tests, thens, x


def round_fen(x, mode: str):
    """Round a Real to the fen like decimal's modes: half_up and up go away from zero.

    Rounding is pushed into if-then-else branches (a rate chosen by a table), so each branch is a
    floor of one linear term: much easier for the solver than a floor of a case split.
    """
    if z3.is_app_of(x, z3.Z3_OP_ITE):
        return _map_ite(x, lambda branch: round_fen(branch, mode))
    linear = _linear(x)
    if linear is not None and not linear[0]:
        return _round_constant(linear[1], mode)
    exact = _round_terms(linear, mode)
    if exact is not None:
        return exact
    leaves = _leaves(x, limit=16)
    if leaves is not None and len(leaves) > 1:
        rounded = [(cond, _round_linear(term, mode)) for cond, term in leaves]
        if all(r is not None for _, r in rounded):  # a sum of case splits (progressive bands): split first
            out = rounded[-1][1]
            for cond, r in reversed(rounded[:-1]):
                out = z3.If(cond, r, out)
            return out
    y = x * 100
    floor = z3.ToInt
    if mode == "half_up":
        n = z3.If(y >= 0, floor(y + z3.RealVal("1/2")), -floor(-y + z3.RealVal("1/2")))
    elif mode == "down":
        n = z3.If(y >= 0, floor(y), -floor(-y))
    elif mode == "up":
        n = z3.If(y >= 0, -floor(-y), floor(y))
    else:  # half_even
        low = floor(y)
        frac = y - z3.ToReal(low)
        n = z3.If(frac > z3.RealVal("1/2"), low + 1,
                  z3.If(frac < z3.RealVal("1/2"), low, z3.If(low % 2 == 0, low, low + 1)))
    return z3.ToReal(n) / 100


def _round_constant(value, mode: str):
    """A constant (a Fraction) rounded to the fen exactly as runtime.round_money does."""
    from policylang.runtime import round_money

    if (value * 100).denominator == 1:
        return z3.RealVal(value)
    return z3.RealVal(str(round_money(Decimal(value.numerator) / Decimal(value.denominator), mode)))


def _leaves(term, limit: int):
    """term as [(path condition, branch without if-then-else)], lifting case splits out of sums and
    products by constants; None when there would be more than `limit` branches."""
    if z3.is_app_of(term, z3.Z3_OP_ITE) and not z3.is_bool(term):
        if len(_ite_spine(term)[0]) > limit:  # a long table chain: too many branches, found without recursing
            return None
        cond = term.arg(0)
        yes, no = _leaves(term.arg(1), limit), _leaves(term.arg(2), limit)
        if yes is None or no is None or len(yes) + len(no) > limit:
            return None
        return [(z3.And(cond, c), t) for c, t in yes] + [(z3.And(z3.Not(cond), c), t) for c, t in no]
    if z3.is_add(term) or z3.is_sub(term) or (z3.is_mul(term) and term.num_args() == 2
                                             and (z3.is_rational_value(term.arg(0)) or z3.is_rational_value(term.arg(1)))):
        combined = [(z3.BoolVal(True), [])]
        for i in range(term.num_args()):
            part = _leaves(term.arg(i), limit)
            if part is None or len(combined) * len(part) > limit:
                return None
            combined = [(z3.And(c1, c2), args + [t]) for c1, args in combined for c2, t in part]
        if z3.is_add(term):
            return [(c, z3.Sum(args)) for c, args in combined]
        if z3.is_sub(term):
            return [(c, args[0] - z3.Sum(args[1:])) for c, args in combined]
        return [(c, args[0] * args[1]) for c, args in combined]
    return [(z3.BoolVal(True), term)]


def _fen_int(term):
    """An Int k with term = k/100 when term is built from whole fen (inputs, rounded values,
    constants, if-then-else of them, sums): such a case split is then one integer atom."""
    from fractions import Fraction

    if z3.is_rational_value(term):
        cents = Fraction(term.as_fraction()) * 100
        return z3.IntVal(int(cents)) if cents.denominator == 1 else None
    if z3.is_div(term) and z3.is_to_real(term.arg(0)) and z3.is_rational_value(term.arg(1)) \
            and term.arg(1).as_fraction() == 100:
        return term.arg(0).arg(0)
    if z3.is_app_of(term, z3.Z3_OP_ITE) and not z3.is_bool(term):
        tests, thens, last = _ite_spine(term)  # a table's chain, one `If` per row: a loop, not recursion
        out = _fen_int(last)
        for test, then in zip(reversed(tests), reversed(thens)):
            k = _fen_int(then)
            if out is None or k is None:
                return None
            out = z3.If(test, k, out)
        return out
    if z3.is_add(term) or z3.is_sub(term):
        parts = [_fen_int(term.arg(i)) for i in range(term.num_args())]
        if any(p is None for p in parts):
            return None
        return z3.Sum(parts) if z3.is_add(term) else parts[0] - z3.Sum(parts[1:])
    return None


def _linear(term):
    """term as Σ coefficient·atom + constant over Int atoms (fen, rounded values), or None."""
    from fractions import Fraction

    if z3.is_app_of(term, z3.Z3_OP_ITE) and not z3.is_bool(term):
        k = _fen_int(term)  # a case split between fen amounts (max(费用 − 起付线, 0) …): one Int atom
        return None if k is None else ({k.get_id(): (k, Fraction(1, 100))}, Fraction(0))
    if z3.is_rational_value(term):
        return {}, Fraction(term.as_fraction())
    if z3.is_int_value(term):
        return {}, Fraction(term.as_long())
    if z3.is_to_real(term):
        return {term.arg(0).get_id(): (term.arg(0), Fraction(1))}, Fraction(0)
    if z3.is_add(term) or z3.is_sub(term):
        parts = [_linear(term.arg(i)) for i in range(term.num_args())]
        if any(p is None for p in parts):
            return None
        atoms, const = dict(parts[0][0]), parts[0][1]
        for i, (a, c) in enumerate(parts[1:]):
            sign = -1 if z3.is_sub(term) else 1
            const += sign * c
            for key, (atom, k) in a.items():
                atoms[key] = (atom, atoms.get(key, (atom, Fraction(0)))[1] + sign * k)
        return atoms, const
    if z3.is_mul(term) or z3.is_div(term):
        left, right = _linear(term.arg(0)), _linear(term.arg(1))
        if left is None or right is None:
            return None
        if z3.is_div(term):
            if right[0] or right[1] == 0:
                return None
            right = ({}, 1 / right[1])
        if left[0] and right[0]:
            return None  # a product of two unknowns: not linear
        (atoms, const), (k_atoms, k) = (left, right) if not right[0] else (right, left)
        return {key: (atom, c * k) for key, (atom, c) in atoms.items()}, const * k
    if z3.is_app_of(term, z3.Z3_OP_UMINUS):
        inner = _linear(term.arg(0))
        return None if inner is None else ({k: (a, -c) for k, (a, c) in inner[0].items()}, -inner[1])
    return None


def _round_linear(x, mode: str):
    """Round a linear combination of integers to the fen with integer division only.

    With y = 100·x = (Σ aᵢ·nᵢ + a₀) / D for integers aᵢ, D, half-up is (2·D·y + D) div 2D for
    y ≥ 0: pure linear integer arithmetic, which the solver decides quickly (to_int is far slower).
    """
    return _round_terms(_linear(x), mode)


def _round_terms(linear, mode: str):
    """_round_linear on what _linear gave: (atoms, constant), or None when not linear or constant."""
    import math

    if linear is None or not linear[0]:
        return None
    atoms, const = linear
    coefficients = [c * 100 for _, c in atoms.values()] + [const * 100]
    d = math.lcm(*[c.denominator for c in coefficients])
    scaled = z3.Sum([z3.IntVal(int(c * 100 * d)) * atom for atom, c in atoms.values()]) + int(const * 100 * d)
    if mode == "half_up":
        n = z3.If(scaled >= 0, (2 * scaled + d) / (2 * d), -((-2 * scaled + d) / (2 * d)))
    elif mode == "down":
        n = z3.If(scaled >= 0, scaled / d, -((-scaled) / d))
    elif mode == "up":
        n = z3.If(scaled >= 0, (scaled + d - 1) / d, -((-scaled + d - 1) / d))
    else:
        return None  # half_even: the general to_int encoding
    return z3.ToReal(n) / 100


def bracket_sum(amount, bands):
    """Σ rate × (part of amount in [low, high)) over (low, high or None, rate) terms."""
    total = z3.RealVal(0)
    for low, high, rate in bands:
        if high is None:
            part = z3.If(amount > low, amount - low, z3.RealVal(0))
        else:
            part = z3.If(amount <= low, z3.RealVal(0), z3.If(amount < high, amount - low, high - low))
        total = total + mul(part, rate)
    return total


def out_of_order(bands):
    """runtime.band_order as a formula: a band that ends below its start, or starts off the previous end."""
    bad = []
    for i, (low, high, _) in enumerate(bands):
        if i > 0:
            bad.append(low != bands[i - 1][1])
        if high is not None:
            bad.append(high < low)
    return z3.Or(*bad) if bad else z3.BoolVal(False)


def read_claim(run: Run, model) -> dict:
    """A model's claim for one run: typed inputs, optional ones left out when absent."""
    claim = {}
    for name, inp in run.p.inputs.items():
        present = run.present[name]
        if present is not None and not z3.is_true(model.eval(present, model_completion=True)):
            continue
        claim[name] = read_value(model, inp.type, run.inputs[name], run.enc, run.scaled.get(name))
    return claim


def read_value(model, t: ir.Type, term, enc: Encoder, scaled=None):
    """A model's value as the interpreter's: Decimal, date, member, bool or text."""
    if scaled is not None:
        n, scale = scaled
        return Decimal(model.eval(n, model_completion=True).as_long()) / scale
    value = model.eval(term, model_completion=True)
    if t.name == "bool":
        return z3.is_true(value)
    if t.name == "date":
        return datetime.date.fromordinal(value.as_long())
    if t.name == "enum":
        return enc.p.enums[t.enum].member_names()[value.as_long()]
    if t.name == "text":
        return value.as_string()
    fraction = value.as_fraction()
    return Decimal(fraction.numerator) / Decimal(fraction.denominator)
