"""Accumulators per person per 医保年度 without a loop over claims: the rank passes.

Claims are sorted as evaluators.claim_order sorts them (person, the date that places a claim in its year,
the service date, input position); each claim gets its rank inside its person-year, and pass k evaluates
the k-th claim of every person-year at once, reading the states pass k−1 left. Passes = the most claims a
person has in one year; any IR works unchanged (updates that read their own total, versions, not
applicable). A claim without 人员编号 is its own person-year, as in evaluators.year_key.
"""
from __future__ import annotations

import dataclasses
import datetime

import numpy as np

from policylang import ir
from policylang.backends.vector.evaluate import Ctx, date_of, day_of
from policylang.backends.vector.values import Reasons, V
from policylang.domains import domain
from policylang.runtime import missing_input, out_of_force, unknown_after


class StateOverflow(Exception):
    """A year-to-date grew past what the plan's bounds allow: this batch is evaluated by the scalar engine."""


class Inputs(dict):
    """The inputs of the rows one pass evaluates, sliced from the batch's columns when first read."""

    def __init__(self, plan, columns: dict, idx: np.ndarray, reasons: Reasons):
        super().__init__()
        self.plan, self.columns, self.idx, self.reasons = plan, columns, idx, reasons

    def __missing__(self, name: str) -> V:
        col, inp = self.columns[name], self.plan.policy.inputs[name]
        rows = (lambda a: a) if self.idx is None else (lambda a: a[self.idx])  # None: every row, no copy
        present = rows(col.present)
        na = None if present.all() else \
            np.where(present, 0, self.reasons.id(missing_input(name).reason)).astype(np.int32)
        t = inp.type.name
        if t in ("money", "rate", "points", "number"):
            low, high, _ = domain(inp).scaled()
            exps = rows(col.exps) if col.exps is not None else None
            value = V("num", rows(col.data), na, col.scale, max(abs(low), abs(high)), exps)
        else:
            value = V({"bool": "bool", "enum": "enum", "date": "date", "text": "text"}[t], rows(col.data), na)
        self[name] = value
        return value


def input_values(plan, inputs: dict, idx: np.ndarray | None, reasons: Reasons) -> dict:
    """The inputs of rows idx (None: every row of the batch), each read when an expression first asks."""
    return Inputs(plan, inputs, idx, reasons)


class Results:
    """Per row of the batch: applicable, reason id, each output's value and reason, each state before/after."""

    def __init__(self, plan, n: int):
        p = plan.policy
        self.applicable = np.zeros(n, dtype=bool)
        self.reason = np.zeros(n, dtype=np.int32)
        self.out = {r.name: [None, np.zeros(n, dtype=np.int32)] for r in p.outputs}
        self.out_scale: dict = {}
        self.state = {(a, w): [np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int32)]
                      for a in p.accumulators for w in ("before", "after")}
        self.year = np.full(n, -1, dtype=np.int64)  # the calendar year its 医保年度 starts in
        self.counted = {name: np.zeros(n, dtype=bool) for name in plan.once}  # the claim's id was counted
        self.texts: dict = {}  # (accumulator, before|after) -> the year's totals as JSON text (keyed or counted)

    def put_out(self, name: str, rows: np.ndarray, v: V, n_rows: int):
        slot = self.out[name]
        data = np.broadcast_to(v.data, (n_rows,))
        if slot[0] is None:
            slot[0] = np.zeros(len(self.applicable), dtype=data.dtype)
            self.out_scale[name] = v.scale
        if v.kind == "num" and v.scale != self.out_scale[name]:
            # a rule's scale is fixed by the IR; keep one per column (align upward when passes differ)
            raise AssertionError("a rule changed scale between passes")
        slot[0][rows] = data
        slot[1][rows] = 0 if v.na is None else v.na  # a row evaluated again (settle.py) drops an earlier reason


def year_starts(policy: ir.Policy, days: np.ndarray) -> np.ndarray:
    """The calendar year in which each claim's 医保年度 begins (year.year_start, column-wise): the last
    first-day of a year on or before the claim's day. Found once per day of the batch's span of days (a
    year's claims span a few hundred), then looked up per claim."""
    if len(days) == 0:
        return days.astype(np.int64)
    first, last = int(days.min()), int(days.max())
    if last - first < 1 << 22:
        return _year_starts(policy, np.arange(first, last + 1, dtype=np.int64))[days - first]
    return _year_starts(policy, days)


def _year_starts(policy: ir.Policy, days: np.ndarray) -> np.ndarray:
    low = int(days.min()) // 365 + 1970 - 2
    high = int(days.max()) // 365 + 1970 + 2
    years = np.arange(low, high + 1)
    firsts = np.array([day_of(datetime.date(int(y), policy.year.month, policy.year.day)) for y in years],
                      dtype=np.int64)
    return years[np.searchsorted(firsts, days, side="right") - 1]


def order(plan, inputs: dict, idx: np.ndarray):
    """(sorted rows, group id per sorted row, rank per sorted row, year start per sorted row).

    Persons are grouped by a code, not sorted by name: person-years are independent, so only the order
    inside a person matters (the date that places a claim in its year, the service date, input position).
    The sort is skipped when the rows are already in that order."""
    p = plan.policy
    code = inputs[p.person].codes()[idx]
    alone = code < 0
    if alone.any():  # no 人员编号: each claim is its own person-year
        code = np.where(alone, code.max(initial=-1) + 1 + np.arange(len(idx)), code)
    y = inputs[p.year.date].data[idx]
    s = inputs[p.service_date].data[idx]
    y0, s0 = (y.min(), s.min()) if len(idx) else (0, 0)
    ybits, sbits = int(y.max(initial=0) - y0).bit_length(), int(s.max(initial=0) - s0).bit_length()
    cbits = int(code.max(initial=0)).bit_length()
    if cbits + ybits + sbits <= 62:
        key = (code << (ybits + sbits)) | ((y - y0) << sbits) | (s - s0)
        sort = None if np.all(key[1:] >= key[:-1]) else np.argsort(key, kind="stable")
    else:
        sort = np.lexsort((np.arange(len(idx)), s, y, code))
    if sort is not None:
        idx, y, code = idx[sort], y[sort], code[sort]
    rows = idx
    starts = year_starts(p, y)
    new = np.ones(len(rows), dtype=bool)
    if len(rows) > 1:
        new[1:] = (code[1:] != code[:-1]) | (starts[1:] != starts[:-1])
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    rank = np.arange(len(rows)) - first[group]
    return rows, group, rank, starts


def slots(plan, inputs: dict, rows: np.ndarray, group: np.ndarray):
    """Where each sorted row's year-to-date lives: per accumulator, its person-year (and, kept `per` keys, the
    key's slot in it); per counted accumulator, the (slot, id) pair whose count a `once per` update records."""
    p = plan.policy
    where, pairs = {}, {}
    for name, acc in p.accumulators.items():
        if not acc.keys:
            where[name] = group
        else:
            parts = [group] + [_codes(inputs[k], rows) for k in acc.keys]
            where[name] = np.unique(np.stack(parts, axis=1), axis=0, return_inverse=True)[1].reshape(-1)
        if name in plan.once:
            ids = _codes(inputs[plan.once[name][0]], rows)
            pairs[name] = np.unique(np.stack([where[name], ids], axis=1), axis=0, return_inverse=True)[1].reshape(-1)
    return where, pairs


def _codes(col, rows: np.ndarray) -> np.ndarray:
    if hasattr(col, "arrow") and (col.arrow is not None or col.data.dtype == object):
        return col.codes()[rows]
    return col.data[rows].astype(np.int64)


def run(plan, inputs: dict, idx: np.ndarray, n: int, reasons: Reasons) -> Results:
    """Evaluate the rows idx of a batch of n rows, carrying each person-year's state: by guess and check
    (settle.py) where no year-to-date is kept per key or counted once, else by the rank passes."""
    from policylang.backends.vector import settle  # settle.py builds on this module's passes

    p = plan.policy
    res = Results(plan, n)
    if len(idx) == 0:
        return res
    rows, group, rank, starts = order(plan, inputs, idx)
    if not p.accumulators:
        evaluate(plan, res, rows, {}, inputs, reasons)
        return res
    res.year[rows] = starts
    free = hoisted(plan, inputs, rows, reasons)
    if plan.ledgers:
        where, pairs = slots(plan, inputs, rows, group)
        state = {name: [np.full(int(where[name].max()) + 1, plan.acc_initial[name], dtype=np.int64),
                        np.zeros(int(where[name].max()) + 1, dtype=np.int32)] for name in p.accumulators}
        counted = {name: np.zeros(int(pairs[name].max()) + 1, dtype=bool) for name in pairs}
        ranked(plan, res, rows, rank, where, pairs, state, counted, inputs, reasons, free)
        from policylang.backends.vector.ledger import ledger_texts
        ledger_texts(plan, res, inputs, rows, group, reasons)
    else:
        settle.run(plan, res, rows, group, rank, inputs, reasons, free)
    return res


def ranked(plan, res: Results, rows: np.ndarray, rank: np.ndarray, where: dict, pairs: dict, state: dict,
           counted: dict, inputs: dict, reasons: Reasons, free: "Hoisted", at: np.ndarray | None = None):
    """The rank passes over sorted rows: pass k evaluates the k-th claim of every person-year (rank k) from
    the states pass k−1 left in `state` (indexed per row by `where`). `free` is hoisted over every sorted
    row of the batch; `at` says where each of `rows` is in it (None: the same positions)."""
    if not len(rows):
        return
    passes = int(rank.max()) + 1
    small = rank.astype(np.int16) if passes < 2 ** 15 else rank
    by_rank = np.argsort(small, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(passes + 1))
    for k in range(passes):
        pick = by_rank[bounds[k]:bounds[k + 1]]
        there = pick if at is None else at[pick]
        one_pass(plan, res, rows[pick], {name: w[pick] for name, w in where.items()},
                 {name: c[pick] for name, c in pairs.items()}, state, counted, inputs, reasons,
                 free.at(there))


@dataclasses.dataclass
class Hoisted:
    """What no year-to-date reaches, for a set of sorted rows: the free rules (plan.free), the scope when no
    `require` reads a total (applicable, reason), and the conditions of the updates that read none."""
    rules: dict
    scope: tuple | None
    when: dict  # update index -> V

    def at(self, pick: np.ndarray) -> "Hoisted":
        return Hoisted({name: gather(v, pick) for name, v in self.rules.items()},
                       None if self.scope is None else (self.scope[0][pick], self.scope[1][pick]),
                       {i: gather(v, pick) for i, v in self.when.items()})


def hoisted(plan, inputs: dict, rows: np.ndarray, reasons: Reasons) -> Hoisted:
    """What no year-to-date reaches, over every sorted row at once: a pass then reads its rows' values
    instead of evaluating them again, and only what reads the state is evaluated per rank."""
    p = plan.policy
    day = inputs[p.service_date].data[rows]
    ctx = Ctx(plan, len(rows), input_values(plan, inputs, rows, reasons), day,
              {}, reasons)  # no state: a free rule that read one would fail here, not read a wrong total
    return Hoisted({name: ctx.rule(name) for name in plan.free},
                   scope(plan, ctx, day, reasons) if plan.free_scope else None,
                   {i: ctx.eval(p.updates[i].when) for i in plan.free_when})


def gather(v: V, pick: np.ndarray) -> V:
    def take(a):
        return a if a is None or a.ndim == 0 else a[pick]
    return V(v.kind, take(v.data), take(v.na), v.scale, v.bound, take(v.exps))


def one_pass(plan, res: Results, rows: np.ndarray, where: dict, pairs: dict, state: dict, counted: dict,
             inputs: dict, reasons: Reasons, free: Hoisted | None = None):
    """The claims of one rank, one per person-year: year.Ledger's view, the policy, then Ledger.record.
    `free`: what no state reaches, for these rows, computed once for all ranks."""
    view, hit = {}, {}
    for name in plan.policy.accumulators:
        at = where[name]
        value, na = state[name][0][at], state[name][1][at]
        res.state[(name, "before")][0][rows] = value
        res.state[(name, "before")][1][rows] = na
        if name in plan.once:  # a later part of a counted admission reads the total less its own count
            hit[name] = counted[name][pairs[name]] & (na == 0)
            value = np.where(hit[name], value - plan.once[name][1], value)
        view[name] = (value, na)
    after = evaluate(plan, res, rows, view, inputs, reasons, free, hit)
    for name, (value, na) in after.items():
        if name in plan.once:
            amount = plan.once[name][1]
            fresh = ~hit[name] & (na == 0) & (value != view[name][0])
            counted[name][pairs[name][fresh]] = True
            res.counted[name][rows] = fresh
            value = np.where(hit[name] & (na == 0), value + amount, value)
        bounded(plan, name, value, na)
        at = where[name]
        state[name][0][at] = value
        state[name][1][at] = na
        res.state[(name, "after")][0][rows] = value
        res.state[(name, "after")][1][rows] = na


def evaluate(plan, res: Results, rows: np.ndarray, view: dict, inputs: dict, reasons: Reasons,
             free: Hoisted | None = None, hit: dict | None = None) -> dict:
    """The policy over `rows`, each claim from its own year-to-date (`view`: accumulator -> (value, reason)
    per row): scope, outputs into `res`, then the updates. Returns each accumulator's [value, reason] after.
    `free`: what no state reaches, for these rows (else evaluated here); `hit`: per counted accumulator,
    the rows whose admission was already counted (its update is skipped)."""
    p = plan.policy
    m = len(rows)
    day = inputs[p.service_date].data[rows]
    before = {name: V("num", v, na if na.any() else None, plan.acc_scale[name], plan.acc_bound[name])
              for name, (v, na) in view.items()}
    ctx = Ctx(plan, m, input_values(plan, inputs, rows, reasons), day, before, reasons)
    if free is not None:
        ctx.rules.update(free.rules)
    hoisted_scope = free.scope if free is not None else None
    applicable, reason = hoisted_scope if hoisted_scope is not None else scope(plan, ctx, day, reasons)
    res.applicable[rows] = applicable
    res.reason[rows] = reason
    for rule in p.outputs:
        res.put_out(rule.name, rows, ctx.rule(rule.name), m)
    after = {name: [v.copy(), na.copy()] for name, (v, na) in view.items()}
    for i, u in enumerate(p.updates):
        allowed = applicable & ~hit[u.target] if u.once is not None else applicable
        when = free.when.get(i) if free is not None else None
        update(plan, ctx, u, after[u.target], allowed, day, reasons, when)
    return after


def bounded(plan, name: str, value: np.ndarray, na: np.ndarray) -> None:
    """A known year-to-date past the plan's bound: the batch goes to the scalar engine (StateOverflow)."""
    if np.any(np.abs(value[na == 0]) > plan.acc_bound[name]):
        raise StateOverflow(name)


def scope(plan, ctx: Ctx, day: np.ndarray, reasons: Reasons):
    """runtime.out_of_force, then each `require` in order: the first that fails (or is not applicable) says why."""
    p = plan.policy
    m = len(day)
    reason = np.zeros(m, dtype=np.int32)
    force = p.meta.in_force
    outside = np.zeros(m, dtype=bool)
    if force.start is not None:
        outside |= day < day_of(force.start)
    if force.end is not None:
        outside |= day > day_of(force.end)
    if outside.any():
        reason[outside] = reasons.per_row(day[outside], lambda d: out_of_force(date_of(d), force))
    for req in p.scope:
        v = ctx.eval(req.expr)
        open_ = reason == 0
        if v.na is not None:
            stuck = open_ & (v.na != 0)
            reason = np.where(stuck, v.na, reason)
            open_ = open_ & ~stuck
        fails = open_ & ~np.broadcast_to(v.data, (m,))
        reason = np.where(fails, reasons.id(req.message), reason).astype(np.int32)
    return reason == 0, reason


def update(plan, ctx: Ctx, u: ir.Update, slot: list, applicable: np.ndarray, day, reasons: Reasons,
           when: V | None = None):
    """_Run.update column-wise: an unknown total stays unknown; a not-applicable condition, or amount where the
    condition holds, makes it unknown (runtime.unknown_after); a false condition leaves it as it was.
    `when`: the condition's value for these rows when it was hoisted (it reads no total)."""
    value, na = slot
    m = len(value)
    active = applicable & (na == 0)
    unknown = np.zeros(m, dtype=np.int32)
    if u.when is not None:
        c = when if when is not None else ctx.eval(u.when)
        cond = np.broadcast_to(c.data, (m,))
        if c.na is not None:
            stuck = active & (c.na != 0)
            if stuck.any():
                unknown[stuck] = _unknown(u, day[stuck], c.na[stuck], True, reasons)
            active = active & (c.na == 0)
        active = active & cond
    a = ctx.eval(u.amount)
    amount = np.broadcast_to(a.rescaled(plan.acc_scale[u.target], u.span), (m,))
    if a.na is not None:
        stuck = active & (a.na != 0)
        if stuck.any():
            unknown[stuck] = _unknown(u, day[stuck], a.na[stuck], False, reasons)
        active = active & (a.na == 0)
    slot[0] = np.where(active, value + amount, value)
    slot[1] = np.where(unknown != 0, unknown, na).astype(np.int32)


def _unknown(u: ir.Update, day, why, condition: bool, reasons: Reasons) -> np.ndarray:
    keys = np.stack([day.astype(np.int64), why.astype(np.int64)], axis=1)
    return reasons.per_row(keys, lambda k: unknown_after(u.target, date_of(k[0]), reasons.texts[int(k[1])],
                                                         condition).reason)
