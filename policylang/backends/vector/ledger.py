"""The state columns of an accumulator kept `per` keys or counted `once per` an input: the whole year's
totals as JSON text (claims.format_totals), before and after each claim.

The numbers come from the rank passes; this walks the sorted claims once, person-year by person-year,
keeping each year's keys in the order the year met them (year.Ledger.record files every claim's key, in
scope or not) and the ids each key counted, and writes the text of the claims in scope. It is the one
per-claim Python loop of the back end, and only policies with such an accumulator pay for it.
"""
from __future__ import annotations

import json
from decimal import Decimal

import numpy as np

from policylang import ir
from policylang.backends.vector.evaluate import number_text
from policylang.claims import UNKNOWN


def ledger_texts(plan, res, inputs: dict, rows: np.ndarray, group: np.ndarray, reasons) -> None:
    p = plan.policy
    texts = reasons.texts
    n = len(res.applicable)
    for name in plan.ledgers:
        acc = p.accumulators[name]
        keys = [_names(plan, p.inputs[k], inputs[k], rows) for k in acc.keys]
        once = plan.once.get(name)
        ids = _names(plan, p.inputs[once[0]], inputs[once[0]], rows) if once else None
        scale, exp = plan.acc_scale[name], plan.acc_exponent[name]

        def show(v: int, exp=-2 if acc.type == ir.MONEY else exp) -> str:
            return format(Decimal(number_text(v, scale, exp)), "f")

        def leaf(entry):
            value, na, ids_ = entry
            if na:
                return {UNKNOWN: texts[na]}
            if once:
                return {"value": show(value), "counted": list(ids_)}
            return show(value)

        def render(year: dict):
            if not acc.keys:
                return leaf(year.get((), (plan.acc_initial[name], 0, [])))
            out: dict = {}
            for key, entry in year.items():
                level = out
                for part in key[:-1]:
                    level = level.setdefault(part, {})
                level[key[-1]] = leaf(entry)
            return out

        before_text = np.full(n, None, dtype=object)
        after_text = np.full(n, None, dtype=object)
        a_val, a_na = res.state[(name, "after")]
        fresh = res.counted.get(name)
        year: dict = {}
        last = -1
        for j, row in enumerate(rows.tolist()):
            g = int(group[j])
            if g != last:
                year, last = {}, g
            key = tuple(k[j] for k in keys)
            ok = res.applicable[row]
            if ok:
                before_text[row] = json.dumps(render(year), ensure_ascii=False)
            entry = year.get(key)
            counted = list(entry[2]) if entry is not None else []
            na = int(a_na[row])
            if fresh is not None and fresh[row]:
                counted.append(ids[j])
            if na:
                counted = []
            year[key] = (int(a_val[row]), na, counted)
            if ok:
                after_text[row] = json.dumps(render(year), ensure_ascii=False)
        res.texts[(name, "before")] = before_text
        res.texts[(name, "after")] = after_text


def _names(plan, inp: ir.Input, col, rows: np.ndarray) -> list:
    """The key's value per sorted row as the state text names it: a member, or the text itself."""
    if inp.type.name == "enum":
        names = plan.members[inp.type.enum]
        return [names[int(c)] for c in col.data[rows]]
    return [str(v) for v in col.data[rows]]
