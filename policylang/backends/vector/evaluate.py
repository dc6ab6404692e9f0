"""One numpy operation per IR node over a batch of claims: the interpreter's meaning, column-wise.

Every branch is computed for every row and the row's own branch is selected, so not-applicable follows
the interpreter's evaluation order: an operand evaluated first gives its reason first, an `if` takes the
reason of the branch the row takes, `and`/`or` read their right side only where the left does not decide.
Values under a not-applicable row are meaningless and never read.
"""
from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np

from policylang import ir
from policylang.backends.vector.values import LIMIT, Reasons, Unvectorizable, V, check, first_na, round_scaled
from policylang.runtime import _yuan, no_row, no_version, overlap

EPOCH = datetime.date(1970, 1, 1)
CMP = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
       ">=": np.greater_equal}


def day_of(d: datetime.date) -> int:
    return (d - EPOCH).days


def date_of(days) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(days))


def places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent)


def scaled(value: Decimal, scale: int) -> int:
    return int(value.scaleb(scale))


def exponent(policy: ir.Policy, e, seen=None):
    """The Decimal exponent a numeric expression's value always has, or None when it depends on the claim
    (a number as the claim wrote it, 5 or 5.0): the text of a number, unlike money and rates, shows it."""
    seen = seen or set()
    k = type(e)
    if k is ir.Const:
        return e.value.as_tuple().exponent if isinstance(e.value, Decimal) else 0
    if k in (ir.Round, ir.BracketsRef) or (k is ir.RuleRef and e.type == ir.MONEY):
        return -2
    if k is ir.InputRef:
        return None
    if k is ir.NotApplicable:
        return "any"
    if k is ir.RuleRef:
        if e.name in seen:
            return None
        return _same([exponent(policy, v.expr, seen | {e.name}) for v in policy.rules[e.name].versions])
    if k is ir.AccRef:
        acc = policy.accumulators[e.name]
        parts = [acc.initial.as_tuple().exponent] + [exponent(policy, u.amount, seen) for u in policy.updates
                                                      if u.target == e.name]
        return _same(parts)
    if k is ir.Arith:
        a, b = exponent(policy, e.left, seen), exponent(policy, e.right, seen)
        if a is None or b is None:
            return None
        if a == "any" or b == "any":
            return b if a == "any" else a
        return min(a, b) if e.op in "+-" else a + b
    if k is ir.Neg:
        return exponent(policy, e.operand, seen)
    if k is ir.MinMax:
        return _same([exponent(policy, a, seen) for a in e.args])
    if k is ir.If:
        return _same([exponent(policy, e.then, seen), exponent(policy, e.otherwise, seen)])
    if k is ir.TableRef:
        t = policy.tables[e.name]
        return _same([exponent(policy, r.output, seen) for v in t.versions
                      for r in list(v.rows) + ([v.default] if v.default else [])])
    return None


def _same(parts):
    known = [p for p in parts if p != "any"]
    if any(p is None for p in known):
        return None
    if not known:
        return "any"
    return known[0] if all(p == known[0] for p in known) else None


def number_text(data: int, scale: int, exp) -> str:
    value = Decimal(int(data)).scaleb(-scale)
    if exp is not None and exp != "any":
        value = value.quantize(Decimal(1).scaleb(exp))
    return str(value)


class Ctx:
    """One evaluation over n rows: typed inputs, the service day, the state before, memoised rules."""

    def __init__(self, plan, n: int, inputs: dict, day: np.ndarray, state: dict, reasons: Reasons):
        self.plan, self.p, self.n = plan, plan.policy, n
        self.inputs, self.day, self.state, self.reasons = inputs, day, state, reasons
        self.rules: dict = {}

    # ---- helpers
    def na_const(self, reason: str) -> np.ndarray:
        return np.full(self.n, self.reasons.id(reason), dtype=np.int32)

    def const(self, value, type_: ir.Type) -> V:
        if type_.name == "enum":
            return V("enum", np.array(self.plan.codes[type_.enum][value], dtype=np.int16))
        if type_ == ir.BOOL:
            return V("bool", np.array(bool(value)))
        if type_ == ir.DATE:
            return V("date", np.array(day_of(value), dtype=np.int64))
        if type_ == ir.TEXT:
            return V("text", np.array(value, dtype=object))
        s = places(value)
        n = scaled(value, s)
        check(abs(n), None, "a constant")
        return V("num", np.array(n, dtype=np.int64), None, s, abs(n))

    def by_version(self, versions, name: str, build) -> V:
        """The value of the version in force on each row's service day; no_version where none is."""
        chosen = np.full(self.n, -1, dtype=np.int64)
        for i, v in reversed(list(enumerate(versions))):
            inside = np.ones(self.n, dtype=bool)
            if v.validity.start is not None:
                inside &= self.day >= day_of(v.validity.start)
            if v.validity.end is not None:
                inside &= self.day <= day_of(v.validity.end)
            chosen = np.where(inside, i, chosen)
        values = [build(v) for v in versions]
        out = values[0] if len(values) == 1 else self.select(chosen, values)
        missing = chosen < 0
        if missing.any():
            na = np.zeros(self.n, dtype=np.int32)
            na[missing] = self.reasons.per_row(self.day[missing],
                                              lambda d: no_version(name, date_of(d)).reason)
            out = V(out.kind, out.data, na if out.na is None else np.where(missing, na, out.na), out.scale, out.bound)
        return out

    def select(self, chosen: np.ndarray, values: list, span=None) -> V:
        """values[chosen[row]] row by row (chosen is -1 or an index into values; -1, and a chosen index
        outside the list, leave garbage, masked by the caller). A bool `chosen` picks between two values
        (True: the first), with no index array built: what an `if` asks for."""
        kind = values[0].kind
        scale = max(v.scale for v in values) if kind == "num" else 0
        datas = [v.rescaled(scale, span) if kind == "num" else v.data for v in values]
        masks = {}  # chosen == i, computed once for the data and the reasons

        def mask(i):
            if i not in masks:
                masks[i] = chosen if chosen.dtype == bool else chosen == i
            return masks[i]

        if len(datas) > 2 and all(np.ndim(d) == 0 for d in datas):  # a table's constant outputs: one gather
            data = np.stack(datas)[chosen]  # stack, not array: 0-d object arrays (texts) are unwrapped
        else:
            data = np.broadcast_to(datas[-1], (self.n,))
            for i in range(len(values) - 2, -1, -1):
                data = np.where(mask(i), datas[i], data)
        nas = [v.na for v in values]
        na = None
        if any(x is not None for x in nas):
            na = nas[-1] if nas[-1] is not None else np.zeros(self.n, dtype=np.int32)
            for i in range(len(values) - 2, -1, -1):
                if nas[i] is not None or nas[-1] is not None:
                    na = np.where(mask(i), 0 if nas[i] is None else nas[i], na)
            na = na.astype(np.int32, copy=False)
        bound = max((v.bound * 10 ** (scale - v.scale) for v in values), default=0) if kind == "num" else 0
        return V(kind, np.asarray(data), na, scale, bound)

    # ---- rules
    def rule(self, name: str) -> V:
        found = self.rules.get(name)
        if found is None:
            rule = self.p.rules[name]
            found = self.by_version(rule.versions, name, lambda v: self.eval(v.expr))
            if rule.type == ir.MONEY:
                data, bound = round_scaled(np.asarray(found.data), found.scale, found.bound, rule.rounding, rule.span)
                found = V("num", data, found.na, 2, bound)
            self.rules[name] = found
        return found

    # ---- expressions
    def eval(self, e) -> V:
        k = type(e)
        if k is ir.Const:
            return self.const(e.value, e.type)
        if k is ir.InputRef:
            return self.inputs[e.name]
        if k is ir.RuleRef:
            return self.rule(e.name)
        if k is ir.AccRef:
            return self.state[e.name]
        if k is ir.Arith:
            a, b = self.eval(e.left), self.eval(e.right)
            na = first_na(self.n, a, b)
            if e.op == "*":
                bound = check(a.bound * b.bound, e.span, "a product")
                return V("num", a.data * b.data, na, a.scale + b.scale, bound)
            s = max(a.scale, b.scale)
            x, y = a.rescaled(s, e.span), b.rescaled(s, e.span)
            bound = check(a.bound * 10 ** (s - a.scale) + b.bound * 10 ** (s - b.scale), e.span, "a sum")
            return V("num", x + y if e.op == "+" else x - y, na, s, bound)
        if k is ir.Neg:
            a = self.eval(e.operand)
            return V("num", -a.data, a.na, a.scale, a.bound)
        if k is ir.Compare:
            a, b = self.eval(e.left), self.eval(e.right)
            x, y = self.aligned(a, b, e.span)
            return V("bool", CMP[e.op](x, y), first_na(self.n, a, b))
        if k is ir.InSet:
            a = self.eval(e.operand)
            items = [self.const(item, e.operand.type) for item in e.items]
            hit = np.zeros(np.shape(a.data), dtype=bool)
            for item in items:
                x, y = self.aligned(a, item, e.span)
                hit = hit | (x == y)
            return V("bool", hit != e.negated, a.na)
        if k is ir.Logic:
            a, b = self.eval(e.left), self.eval(e.right)
            if e.op == "and":
                data = a.data & b.data
                right_read = a.data  # the right side is evaluated only where the left is true
            else:
                data = a.data | b.data
                right_read = ~a.data
            na = None
            if b.na is not None:
                na = np.where(np.broadcast_to(right_read, (self.n,)), b.na, 0).astype(np.int32)
            if a.na is not None:
                na = a.na if na is None else np.where(a.na != 0, a.na, na)
            return V("bool", data, na)
        if k is ir.Not:
            a = self.eval(e.operand)
            return V("bool", ~a.data, a.na)
        if k is ir.If:
            c, t, o = self.eval(e.cond), self.eval(e.then), self.eval(e.otherwise)
            out = self.select(np.broadcast_to(np.asarray(c.data, dtype=bool), (self.n,)), [t, o], e.span)
            if c.na is not None:
                na = c.na if out.na is None else np.where(c.na != 0, c.na, out.na)
                out = V(out.kind, out.data, na, out.scale, out.bound)
            return out
        if k is ir.MinMax:
            args = [self.eval(a) for a in e.args]
            s = max(a.scale for a in args)
            datas = [a.rescaled(s, e.span) for a in args]
            data = (np.minimum if e.op == "min" else np.maximum).reduce(np.broadcast_arrays(*datas))
            bound = max(a.bound * 10 ** (s - a.scale) for a in args)
            return V("num", data, first_na(self.n, *args), s, bound)
        if k is ir.Round:
            a = self.eval(e.operand)
            data, bound = round_scaled(a.data, a.scale, a.bound, e.mode, e.span)
            return V("num", data, a.na, 2, bound)
        if k is ir.NotApplicable:
            blank = self.blank(e.type)
            return V(blank.kind, blank.data, self.na_const(e.reason), blank.scale, 0)
        if k is ir.TableRef:
            return self.table(e)
        if k is ir.BracketsRef:
            return self.brackets(e)
        raise Unvectorizable(f"{k.__name__} expression", getattr(e, "span", None), "not part of a rule")

    def blank(self, type_: ir.Type) -> V:
        if type_.name == "enum":
            return V("enum", np.array(0, dtype=np.int16))
        kind = {"bool": "bool", "date": "date", "text": "text"}.get(type_.name, "num")
        zero = {"bool": np.array(False), "text": np.array("", dtype=object)}.get(kind, np.array(0, dtype=np.int64))
        return V(kind, zero)

    def aligned(self, a: V, b: V, span):
        if a.kind == "num":
            s = max(a.scale, b.scale)
            return a.rescaled(s, span), b.rescaled(s, span)
        return a.data, b.data

    # ---- tables
    def table(self, ref: ir.TableRef) -> V:
        table = self.p.tables[ref.name]
        args = [self.eval(a) for a in ref.args]
        args_na = first_na(self.n, *args)
        out = self.by_version(table.versions, table.name, lambda v: self.table_version(table, ref, v, args))
        if args_na is not None:  # the arguments are read before the version
            na = args_na if out.na is None else np.where(args_na != 0, args_na, out.na)
            out = V(out.kind, out.data, na, out.scale, out.bound)
        return out

    def cell(self, cell: ir.Cell, arg: V, type_: ir.Type, span) -> np.ndarray:
        if cell.kind == "any":
            return np.ones(self.n, dtype=bool)
        consts = [self.const(v, type_) if v is not None else None for v in cell.values]
        if cell.kind in ("eq", "cmp"):
            x, y = self.aligned(arg, consts[0], span)
            return np.broadcast_to(CMP["==" if cell.kind == "eq" else cell.op](x, y), (self.n,))
        if cell.kind == "range":
            low, high = consts
            x, y = self.aligned(arg, low, span)
            hit = x >= y
            if high is not None:
                x, y = self.aligned(arg, high, span)
                hit = hit & (x < y)
            return np.broadcast_to(hit, (self.n,))
        hit = np.zeros(self.n, dtype=bool)
        for c in consts:
            x, y = self.aligned(arg, c, span)
            hit = hit | (x == y)
        return hit if cell.kind == "in" else ~hit

    def table_version(self, table: ir.Table, ref: ir.TableRef, version: ir.TableVersion, args: list) -> V:
        matches = [np.logical_and.reduce([self.cell(c, a, t, row.span) for c, a, t in
                                          zip(row.cells, args, table.column_types)] + [np.ones(self.n, bool)])
                   for row in version.rows]
        rows = list(version.rows)
        outputs = [self.eval(r.output) for r in rows]
        fallback = len(rows)
        if version.default is not None:
            outputs.append(self.eval(version.default.output))
        else:
            outputs.append(self.blank(table.type))
        chosen = np.full(self.n, fallback, dtype=np.int64)
        for i in range(len(rows) - 1, -1, -1):
            chosen = np.where(matches[i], i, chosen)
        out = self.select(chosen, outputs, table.span)
        na = out.na
        problems = np.zeros(self.n, dtype=np.int32)
        if table.hit == "unique" and rows:
            count = np.sum(matches, axis=0)
            many = np.flatnonzero(count > 1)
            if many.size:
                pattern = np.stack([m[many] for m in matches], axis=1)
                problems[many] = self.reasons.per_row(
                    pattern, lambda p: overlap(table.name, [r.index for r, hit in zip(rows, p) if hit]).reason)
        if version.default is None:
            texts = self.arg_texts(table, ref, args)  # checked on every call, so compiling finds the limits
            none = np.flatnonzero(chosen == fallback)
            if none.size:
                columns = []
                for a, f in zip(args, texts):
                    columns.append(np.broadcast_to(a.data, (self.n,))[none].astype(np.int64))
                    if f is None:
                        exps = a.exps if a.exps is not None else np.zeros(self.n, dtype=np.int8)
                        columns.append(exps[none].astype(np.int64))
                problems[none] = self.reasons.per_row(
                    np.stack(columns, axis=1), lambda key: no_row(table.name, self.shown(args, texts, key)).reason)
        if problems.any():
            na = problems if na is None else np.where(problems != 0, problems, na)
        return V(out.kind, out.data, na, out.scale, out.bound)

    def shown(self, args, texts, key) -> list:
        out, k = [], 0
        for a, f in zip(args, texts):
            if f is None:
                out.append(number_text(key[k], a.scale, int(key[k + 1])))
                k += 2
            else:
                out.append(f(key[k]))
                k += 1
        return out

    def arg_texts(self, table, ref, args) -> list:
        """How runtime.no_row prints each argument (str of the value), one function per argument."""
        texts = []
        for a, expr in zip(args, ref.args):
            if a.kind == "num":
                exp = exponent(self.p, expr)
                if exp is None and type(expr) is ir.InputRef:  # as the claim wrote it: the exponent read per row
                    self.plan.exps_needed.add(expr.name)
                    texts.append(None)
                    continue
                if exp is None:
                    raise Unvectorizable(f"table `{table.name}`", table.span, "a claim can match no row, and the "
                                         "reason prints a number computed from one as the claim wrote it")
                texts.append(lambda v, s=a.scale, x=exp: number_text(v, s, x))
            elif a.kind == "enum":
                names = self.plan.members[expr.type.enum]
                texts.append(lambda v, names=names: names[int(v)])
            elif a.kind == "bool":
                texts.append(lambda v: str(bool(v)))
            elif a.kind == "date":
                texts.append(lambda v: date_of(v).isoformat())
            else:
                raise Unvectorizable(f"table `{table.name}`", table.span, "a text argument in a missing-row reason")
        return texts

    # ---- brackets
    def brackets(self, ref: ir.BracketsRef) -> V:
        b = self.p.brackets[ref.name]
        amount = self.eval(b.on)
        base = self.eval(b.cumulative) if b.cumulative is not None else self.const(Decimal(0), ir.MONEY)
        head = first_na(self.n, amount, base)
        out = self.by_version(b.versions, b.name, lambda v: self.bracket_version(b, v, amount, base))
        if head is not None:
            na = head if out.na is None else np.where(head != 0, head, out.na)
            out = V(out.kind, out.data, na, out.scale, out.bound)
        return out

    def bracket_version(self, b: ir.Brackets, version: ir.BracketsVersion, amount: V, base: V) -> V:
        bands = [(self.eval(band.low), self.eval(band.high) if band.high is not None else None, self.eval(band.rate))
                 for band in version.bands]
        na = first_na(self.n, *[x for band in bands for x in band])
        ms = max([amount.scale, base.scale] + [x.scale for lo, hi, _ in bands for x in (lo, hi) if x is not None])
        rs = max(r.scale for _, _, r in bands)
        top = check(amount.bound * 10 ** (ms - amount.scale) + base.bound * 10 ** (ms - base.scale), b.span, "brackets")
        x_after = base.rescaled(ms, b.span) + amount.rescaled(ms, b.span)
        x_before = base.rescaled(ms, b.span)
        total = np.zeros(self.n, dtype=np.int64)
        bound = 0
        disorder = np.zeros(self.n, dtype=np.int32)
        prev = None
        for index, (lo, hi, rate) in enumerate(bands, 1):
            low = lo.rescaled(ms, b.span)
            reach = top + lo.bound * 10 ** (ms - lo.scale)
            if hi is not None:
                reach += hi.bound * 10 ** (ms - hi.scale)
            width = check(reach, b.span, "a band")
            r = rate.rescaled(rs, b.span)
            bound = check(bound + 2 * width * rate.bound * 10 ** (rs - rate.scale), b.span, "a bracket sum")

            def part(x, low=low, hi=hi):
                t = x if hi is None else np.minimum(x, hi.rescaled(ms, b.span))
                return np.maximum(t - low, 0)
            total = total + (part(x_after) - part(x_before)) * r
            if b.bounds_vary:
                for bad, make in self.band_problems(b, index, lo, hi, prev):
                    fresh = np.broadcast_to(bad, (self.n,)) & (disorder == 0)
                    if fresh.any():
                        idx = np.flatnonzero(fresh)
                        disorder[idx] = self.reasons.per_row(make(idx), make.text)
            prev = hi
        data, bound = round_scaled(total, ms + rs, bound, b.rounding, b.span)
        if disorder.any():
            na = disorder if na is None else np.where(na != 0, na, disorder)
        return V("num", data, na, 2, bound)

    def band_problems(self, b, index, lo, hi, prev):
        """runtime.band_order, vectorized: a band that does not start where the last ended, or ends below its start."""
        def money(v: V, idx):
            return np.broadcast_to(v.rescaled(2, b.span), (self.n,))[idx]
        for v in (lo, hi, prev):
            if v is not None and v.scale > 2:
                raise Unvectorizable(f"brackets `{b.name}`", b.span, "a band bound finer than a fen")
        out = []
        if index > 1:
            if prev is None:
                raise Unvectorizable(f"brackets `{b.name}`", b.span, "an open band before the last")
            x, y = self.aligned(lo, prev, b.span)

            def keys(idx, lo=lo, prev=prev):
                return np.stack([money(lo, idx), money(prev, idx)], axis=1)
            keys.text = lambda k: (f"分段 `{b.name}` 第 {index} 段起于 {_yuan(Decimal(int(k[0])).scaleb(-2))}，但第 "
                                   f"{index - 1} 段止于 {_yuan(Decimal(int(k[1])).scaleb(-2))}：各段须首尾相接")
            out.append((x != y, keys))
        if hi is not None:
            x, y = self.aligned(hi, lo, b.span)

            def keys2(idx, lo=lo, hi=hi):
                return np.stack([money(hi, idx), money(lo, idx)], axis=1)
            keys2.text = lambda k: (f"分段 `{b.name}` 第 {index} 段止于 {_yuan(Decimal(int(k[0])).scaleb(-2))}，"
                                    f"低于其起点 {_yuan(Decimal(int(k[1])).scaleb(-2))}")
            out.append((x < y, keys2))
        return out


__all__ = ["Ctx", "LIMIT", "date_of", "day_of", "exponent", "number_text"]
