"""The merged Tally as the JSON document `simulate` writes (schema: simulate.schema.json).

Money is text with two decimals ("1234.56", exact: every figure is a sum of int fen); a percentage is
rounded half up to two decimals and says so by being text too. Percentiles are nearest-rank (a value that
occurs), so they are exact fen as well, never interpolated.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from policylang import ir
from policylang.platform import OUTPUT_NAMES
from policylang.publish.model import _parameters
from policylang.simulate.tally import Tally

SCHEMA_ID = "policylang-simulate/1"
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
LABELS = dict({k: v[0] for k, v in OUTPUT_NAMES.items()}, fund_pay_sumamt="基金支付合计", psn_part_amt="个人负担",
              medfee_sumamt="医疗费总额")
CHANGE_LABELS = {"baseline_only": "改革前适用、改革后不适用", "reform_only": "改革前不适用、改革后适用"}


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def percent(part: int, whole: int) -> str | None:
    """part / whole as a percentage rounded half up to 0.01 (None when whole is 0)."""
    if whole == 0:
        return None
    return str((Decimal(int(part)) * 100 / Decimal(int(whole))).quantize(Decimal("0.01"), ROUND_HALF_UP))


def nearest_rank(sorted_values: np.ndarray, p: int) -> int:
    n = len(sorted_values)
    k = max(1, -(-p * n // 100))  # ceil(p·n/100), at least 1
    return int(sorted_values[k - 1])


def assumptions(policy: ir.Policy) -> list[dict]:
    return [{"name": p.name, "value": p.value, "clause": p.clause, "note": p.doc}
            for p in _parameters(policy, None) if p.assumption]


def policy_entry(policy: ir.Policy, engine) -> dict:
    return {"title": policy.meta.title, "file": policy.file, "engine": engine.name, "fallback": engine.fallback,
            "assumptions": assumptions(policy)}


def _categories(delta: np.ndarray, base: np.ndarray, tally: Tally) -> dict:
    th = tally.thresholds
    big = np.abs(delta) >= th.yuan_fen
    # |delta| ≥ percent% of the baseline payment, in integers: 100·|delta| ≥ percent·|base|
    rel = 100 * np.abs(delta) >= th.percent * np.abs(base)
    out = {"count": int(len(delta)), "fall": int((delta < 0).sum()), "same": int((delta == 0).sum()),
           "rise": int((delta > 0).sum()), "total_change": yuan(_sum(delta)),
           "thresholds": [
               {"kind": "yuan", "value": yuan(th.yuan_fen), "fall": int(((delta < 0) & big).sum()),
                "within": int((~big).sum()), "rise": int(((delta > 0) & big).sum())},
               {"kind": "percent", "value": str(th.percent), "fall": int(((delta < 0) & rel).sum()),
                "within": int(((delta == 0) | ~rel).sum()), "rise": int(((delta > 0) & rel).sum())}]}
    ordered = np.sort(delta)
    out["percentiles"] = [{"p": p, "change": yuan(nearest_rank(ordered, p))} for p in PERCENTILES] if len(delta) else []
    out["min"] = yuan(int(ordered[0])) if len(delta) else None
    out["max"] = yuan(int(ordered[-1])) if len(delta) else None
    return out


def _sum(values: np.ndarray) -> int:
    return sum(values.tolist()) if len(values) else 0


def _deciles(t: Tally) -> list[dict]:
    spend = t.column("spend")
    n = len(spend)
    if not n:
        return []
    order = np.lexsort((t.column("first_row"), spend))
    decile = np.empty(n, np.int64)
    decile[order] = np.arange(n) * 10 // n
    cols = {k: t.column(k) for k in ("base_psn", "reform_psn", "base_fund", "reform_fund")}
    delta = cols["reform_psn"] - cols["base_psn"]
    out = []
    for d in range(10):
        m = decile == d
        if not m.any():
            continue
        b, r = _sum(cols["base_psn"][m]), _sum(cols["reform_psn"][m])
        bf, rf = _sum(cols["base_fund"][m]), _sum(cols["reform_fund"][m])
        out.append({"decile": d + 1, "persons": int(m.sum()), "spend_from": yuan(int(spend[m].min())),
                    "spend_to": yuan(int(spend[m].max())), "baseline_psn": yuan(b), "reform_psn": yuan(r),
                    "psn_difference": yuan(r - b), "psn_percent": percent(r - b, b), "baseline_fund": yuan(bf),
                    "reform_fund": yuan(rf), "fund_difference": yuan(rf - bf),
                    "fall": int((delta[m] < 0).sum()), "same": int((delta[m] == 0).sum()),
                    "rise": int((delta[m] > 0).sum())})
    return out


def _nice(step: int) -> int:
    """The smallest 1, 2 or 5 × 10^k fen not below step."""
    k = 1
    while True:
        for m in (1, 2, 5):
            if m * k >= step:
                return m * k
        k *= 10


def histogram(delta: np.ndarray, bins: int = 20) -> dict:
    """Person-years by their change in patient payment: the zero change apart, the rest in equal bins of a
    round width in yuan (edges in fen, so a person sits in exactly one bin)."""
    nonzero = delta[delta != 0]
    out = {"zero": int((delta == 0).sum()), "bins": []}
    if not len(nonzero):
        return out
    lo, hi = int(nonzero.min()), int(nonzero.max())
    width = _nice(max(1, -(-(hi - lo + 1) // bins)))
    start = (lo // width) * width
    edges = start + width * np.arange(0, (hi - start) // width + 2)
    counts, _ = np.histogram(nonzero, bins=edges)
    out["bins"] = [{"from": yuan(int(a)), "to": yuan(int(b)), "persons": int(c)}
                   for a, b, c in zip(edges[:-1], edges[1:], counts)]
    return out


def build(t: Tally, baseline: dict, reform: dict, rows: dict, keep_in_force: bool, claims: Path | str,
          seconds: float | None = None, typical: list | None = None) -> dict:
    names = t.stages + ["psn_part_amt", "medfee_sumamt"]
    spend = []
    for k in names:
        b, r = t.totals["baseline"].get(k, 0), t.totals["reform"].get(k, 0)
        spend.append({"name": k, "label": LABELS.get(k, k), "baseline": yuan(b), "reform": yuan(r),
                      "difference": yuan(r - b), "percent": percent(r - b, b)})
    claim_delta, claim_base = t.deltas()
    person_delta = t.column("reform_psn") - t.column("base_psn")
    applicability = dict(t.applicability)
    applicability["amounts"] = {k: {"label": CHANGE_LABELS[k], "claims": v[0], "cost": yuan(v[1]), "fund": yuan(v[2]),
                                    "psn": yuan(v[3])} for k, v in sorted(t.one_side.items())}
    applicability["listed"] = [dict(c, change_label=CHANGE_LABELS[c["change"]]) for c in t.changed]
    applicability["listed_all"] = len(t.changed) == t.applicability["baseline_only"] + t.applicability["reform_only"]
    breakdowns = {}
    for dim, members in t.breakdowns.items():
        breakdowns[dim] = [{"member": m, "claims": v[0], "baseline_fund": yuan(v[1]), "reform_fund": yuan(v[2]),
                            "fund_difference": yuan(v[2] - v[1]), "baseline_psn": yuan(v[3]), "reform_psn": yuan(v[4]),
                            "psn_difference": yuan(v[4] - v[3])} for m, v in sorted(members.items())]
    return {
        "schema": SCHEMA_ID,
        "claims_file": str(claims),
        "baseline": baseline,
        "reform": reform,
        "in_force": "kept" if keep_in_force else "ignored",
        "rows": rows,
        "compared_claims": t.compared,
        "spend": spend,
        "applicability": applicability,
        "not_applicable": {side: [{"reason": why, "claims": v[0], "cost": yuan(v[1])}
                                  for why, v in sorted(t.not_applicable[side].items(), key=lambda kv: -kv[1][0])]
                           for side in ("baseline", "reform")},
        "winners_losers": {"claims": _categories(claim_delta, claim_base, t),
                           "persons": _categories(person_delta, t.column("base_psn"), t)},
        "persons_without_compared_claims": t.persons_without,
        "breakdowns": breakdowns,
        "deciles": _deciles(t),
        "histogram": histogram(person_delta),
        "typical": typical or [],
        "seconds": None if seconds is None else round(seconds, 3),
    }
