"""Typical claims for the report: per 险种 and 就诊类型, the most ordinary claim of 1000 元 both policies pay
for, with its fund payment and patient payment before and after.

Why: totals say how much; a reader also asks "what does an ordinary visit get now". The claim is the one
the ratio matrix and the payment chart would show (publish/representative.py: `Search.first` in the order
of `Preferences`), evaluated by both policies with an empty year-to-date.
"""
from __future__ import annotations

from decimal import Decimal
from itertools import product

from policylang import ir
from policylang.evaluators import evaluator
from policylang.platform import is_fund, sources
from policylang.publish import values
from policylang.publish.representative import ABSENT, AMOUNT, Preferences, Search
from policylang.runtime import NotApplicable
from policylang.simulate.report import yuan

AXES = ("insutype", "med_type")  # 险种, 就诊类型 by their platform fields
AMOUNT_INPUT = "政策范围内费用"
LIMIT = 300  # claims tried per row


def _payments(policy: ir.Policy, evaluate, claim: dict):
    """(fund total, patient payment) in fen, or None when the policy does not pay it fully."""
    values_ = {k: v for k, v in claim.items() if k in policy.inputs}
    outcome = evaluate(values_, {n: a.initial for n, a in policy.accumulators.items()})
    if not outcome.applicable:
        return None
    fund = Decimal(0)
    for source in sources(policy):
        if not is_fund(source.platform):
            continue
        if source.kind != "output":
            return None
        value = outcome.outputs[source.name]
        if isinstance(value, NotApplicable):
            return None
        fund += value
    return int(fund * 100), int((claim[AMOUNT_INPUT] - fund) * 100)


def typical_claims(baseline: ir.Policy, reform: ir.Policy) -> list[dict]:
    if AMOUNT_INPUT not in baseline.inputs or AMOUNT_INPUT not in reform.inputs:
        return []
    prefs = Preferences(reform)
    search = Search(reform, prefs)
    by_field = {i.field: i for i in reform.inputs.values() if i.field}
    axes = [by_field[f] for f in AXES if f in by_field and by_field[f].type.name == "enum"]
    skip = {i.name for i in axes} | {reform.service_date, reform.person, AMOUNT_INPUT}
    others = [i for n, i in reform.inputs.items() if n not in skip]
    evaluate = (evaluator(baseline), evaluator(reform))
    rows = []
    for labels in product(*(reform.enums[a.type.enum].member_names() for a in axes)):
        fixed = {a.name: m for a, m in zip(axes, labels)}
        fixed[AMOUNT_INPUT] = AMOUNT
        if search.excluded(fixed):
            continue
        domains = [prefs.order(i, fixed=fixed) for i in others]

        def accept(claim: dict):
            before = _payments(baseline, evaluate[0], claim)
            after = _payments(reform, evaluate[1], claim) if before is not None else None
            return (before, after) if after is not None else None

        found = search.first(fixed, others, domains, accept, LIMIT)
        if found is None:
            continue
        claim, (before, after) = found
        held = "，".join(f"{i.name}={values.short(claim[i.name], i.type)}" for i in others
                        if i.name in claim and claim[i.name] is not ABSENT and len(prefs.domain(i)) > 1)
        rows.append({"axes": {a.name: m for a, m in zip(axes, labels)}, "held": held, "amount": yuan(int(AMOUNT * 100)),
                     "baseline_fund": yuan(before[0]), "reform_fund": yuan(after[0]),
                     "baseline_psn": yuan(before[1]), "reform_psn": yuan(after[1]),
                     "psn_difference": yuan(after[1] - before[1])})
    return rows
