"""What a simulation keeps of a batch: exact sums (int fen) and per person-year arrays, mergeable.

A batch holds whole person-years (the batch contract), so a person-year's totals are final when its batch
is tallied; tallies of batches, or of partitions on other machines, merge by adding sums and joining
arrays (`merge`). Only the person-year and per-claim changes are kept as arrays (int64: 8 bytes a value),
which the percentiles and the deciles need in full; everything else is a sum.

Which claims are compared: both sides read the row, both find it applicable and both compute the
patient payment (psn_part_amt). The totals and differences are over those claims, so the sum of the
per-claim differences is the difference of the totals. A claim that only one side covers is an
applicability change (counted, its amounts summed, the first LISTED listed); an applicable claim whose
patient payment a side leaves not applicable is counted with that side's reason and its cost.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policylang.simulate.columns import LIMIT, Side, exact_sum

LISTED = 1000  # applicability changes kept in the JSON and the report (all of them are counted)
SIDES = ("baseline", "reform")


@dataclass
class Thresholds:
    yuan_fen: int = 100  # ±1 元
    percent: int = 5  # ±5 %


def _add(into: dict, key, values: list) -> None:
    have = into.get(key)
    into[key] = list(values) if have is None else [a + b for a, b in zip(have, values)]


@dataclass
class Tally:
    stages: list  # fund names compared (union of both sides, settlement order)
    thresholds: Thresholds = field(default_factory=Thresholds)
    rows: int = 0  # rows given to the engines (rows the reader refused are counted by the run)
    rejected: dict = field(default_factory=lambda: {"baseline": 0, "reform": 0, "either": 0})
    applicability: dict = field(default_factory=lambda: {"both": 0, "baseline_only": 0, "reform_only": 0,
                                                         "neither": 0})
    changed: list = field(default_factory=list)  # the first LISTED applicability changes, by row
    one_side: dict = field(default_factory=dict)  # baseline_only|reform_only -> [claims, medfee, fund, psn]
    not_applicable: dict = field(default_factory=lambda: {"baseline": {}, "reform": {}})  # reason -> [claims, medfee]
    compared: int = 0
    totals: dict = field(default_factory=lambda: {"baseline": {}, "reform": {}})  # name -> fen
    claim_delta: list = field(default_factory=list)  # int64 arrays: psn_part_amt change per compared claim
    claim_base: list = field(default_factory=list)  # int64 arrays: baseline psn_part_amt per compared claim
    persons: dict = field(default_factory=lambda: {k: [] for k in PERSON_COLUMNS})
    breakdowns: dict = field(default_factory=dict)  # dimension -> member -> [claims, base fund, reform fund, base psn, reform psn]
    persons_without: int = 0  # person-years none of whose claims is compared

    def merge(self, other: "Tally") -> "Tally":
        self.rows += other.rows
        for k in self.rejected:
            self.rejected[k] += other.rejected[k]
        for k in self.applicability:
            self.applicability[k] += other.applicability[k]
        self.changed = sorted(self.changed + other.changed, key=lambda c: c["row"])[:LISTED]
        for k, v in other.one_side.items():
            _add(self.one_side, k, v)
        for s in SIDES:
            for k, v in other.not_applicable[s].items():
                _add(self.not_applicable[s], k, v)
            for k, v in other.totals[s].items():
                self.totals[s][k] = self.totals[s].get(k, 0) + v
        self.compared += other.compared
        self.claim_delta += other.claim_delta
        self.claim_base += other.claim_base
        for k in self.persons:
            self.persons[k] += other.persons[k]
        for dim, members in other.breakdowns.items():
            mine = self.breakdowns.setdefault(dim, {})
            for member, values in members.items():
                _add(mine, member, values)
        self.persons_without += other.persons_without
        return self

    def column(self, name: str) -> np.ndarray:
        parts = self.persons[name]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def deltas(self) -> tuple[np.ndarray, np.ndarray]:
        cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)  # noqa: E731
        return cat(self.claim_delta), cat(self.claim_base)


PERSON_COLUMNS = ("spend", "base_psn", "reform_psn", "base_fund", "reform_fund", "claims", "first_row")


def tally_batch(stages: list, base: Side, reform: Side, dims: dict, rows: np.ndarray, claim_ids: pa.Array,
                dates: pa.Array, thresholds: Thresholds | None = None) -> Tally:
    """The tally of one batch of whole person-years (both sides aligned to `rows`)."""
    t = Tally(list(stages), thresholds or Thresholds())
    t.rows = len(rows)
    read = base.accepted & reform.accepted
    t.rejected = {"baseline": int((~base.accepted).sum()), "reform": int((~reform.accepted).sum()),
                  "either": int((~read).sum())}
    both = read & base.applicable & reform.applicable
    only_b = read & base.applicable & ~reform.applicable
    only_r = read & ~base.applicable & reform.applicable
    t.applicability = {"both": int(both.sum()), "baseline_only": int(only_b.sum()), "reform_only": int(only_r.sum()),
                       "neither": int((read & ~base.applicable & ~reform.applicable).sum())}
    for key, mask, s, other in (("baseline_only", only_b, base, reform), ("reform_only", only_r, reform, base)):
        if not mask.any():
            continue
        _add(t.one_side, key, [int(mask.sum()), exact_sum(s.money["medfee_sumamt"][0][mask]),
                               exact_sum(s.money["fund_pay_sumamt"][0][mask]), exact_sum(s.money["psn_part_amt"][0][mask])])
        at = pa.array(np.nonzero(mask)[0][:LISTED])
        person = pc.coalesce(base.person.take(at), reform.person.take(at)).to_pylist()
        for i, row, cid, who, day, why in zip(at.to_pylist(), rows[at.to_numpy()].tolist(), claim_ids.take(at).to_pylist(),
                                              person, dates.take(at).to_pylist(), other.reason.take(at).to_pylist()):
            t.changed.append({"row": row, "claim_id": cid, "person": who, "date": day, "change": key, "reason": why})
    known = {}
    for name, s in (("baseline", base), ("reform", reform)):
        ok = s.money["psn_part_amt"][1]
        known[name] = ok
        missing = np.nonzero(both & ~ok)[0]
        if len(missing):  # counted and summed per distinct reason (a city's inpatient claims: millions of rows)
            reasons = s.na_reason.take(pa.array(missing)).fill_null("不适用").dictionary_encode()
            which = reasons.indices.to_numpy(zero_copy_only=False)
            costs = s.money["medfee_sumamt"][0][missing]
            for k, why in enumerate(reasons.dictionary.to_pylist()):
                hit = which == k
                _add(t.not_applicable[name], why, [int(hit.sum()), exact_sum(costs[hit])])
    cmp = both & known["baseline"] & known["reform"]
    t.compared = int(cmp.sum())
    for name, s in (("baseline", base), ("reform", reform)):
        t.totals[name] = {k: exact_sum(s.money[k][0][cmp]) for k in stages + ["psn_part_amt", "medfee_sumamt"]}
    b_psn, r_psn = base.money["psn_part_amt"][0], reform.money["psn_part_amt"][0]
    t.claim_delta.append((r_psn - b_psn)[cmp])
    t.claim_base.append(b_psn[cmp])
    b_fund, r_fund = base.money["fund_pay_sumamt"][0], reform.money["fund_pay_sumamt"][0]
    sums = [np.ones(int(cmp.sum()), np.int64), b_fund[cmp], r_fund[cmp], b_psn[cmp], r_psn[cmp]]
    for dim, (codes, members) in dims.items():
        table = t.breakdowns.setdefault(dim, {})
        c = codes[cmp]
        for j, member in enumerate(members):
            hit = c == j
            if hit.any():
                _add(table, member, [exact_sum(v[hit]) for v in sums])
    _persons(t, base, reform, read, cmp, b_psn, r_psn, b_fund, r_fund, rows)
    return t


def _persons(t: Tally, base: Side, reform: Side, read, cmp, b_psn, r_psn, b_fund, r_fund, rows) -> None:
    """Per person-year sums over its compared claims; spend is the cost of every claim it has that either
    side covers (medfee_sumamt). A claim without a person is a person-year of its own."""
    covered = read & (base.applicable | reform.applicable)
    idx = np.nonzero(covered)[0]
    if not len(idx):
        return
    at = pa.array(idx)
    person = pc.coalesce(base.person.take(at), reform.person.take(at))
    year = pc.coalesce(base.year.take(at), reform.year.take(at), pa.scalar(""))
    key = pc.binary_join_element_wise(person, year, "\x1f").dictionary_encode()
    group = key.indices.to_numpy(zero_copy_only=False)
    nulls = key.indices.is_null().to_numpy(zero_copy_only=False)
    group = np.where(nulls, 0, group).astype(np.int64)
    m = len(key.dictionary)
    group[nulls] = m + np.arange(int(nulls.sum()))
    m += int(nulls.sum())
    b_cost, b_ok = base.money["medfee_sumamt"]
    r_cost, _ = reform.money["medfee_sumamt"]
    cost = np.where(b_ok, b_cost, r_cost)[idx]
    if int(np.abs(cost).max(initial=0)) >= LIMIT // len(idx):
        raise OverflowError("a person-year's amounts are too large to sum in int64 fen")
    c = cmp[idx]

    def per(values: np.ndarray) -> np.ndarray:
        out = np.zeros(m, np.int64)
        np.add.at(out, group, values)
        return out

    claims = per(c.astype(np.int64))
    cols = {"spend": per(cost), "base_psn": per(np.where(c, b_psn[idx], 0)), "reform_psn": per(np.where(c, r_psn[idx], 0)),
            "base_fund": per(np.where(c, b_fund[idx], 0)), "reform_fund": per(np.where(c, r_fund[idx], 0)),
            "claims": claims}
    first = np.full(m, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, group, rows[idx].astype(np.int64))
    cols["first_row"] = first  # orders ties of spend the same however the claims were partitioned
    keep = claims > 0
    t.persons_without += int((~keep).sum())
    for k, v in cols.items():
        t.persons[k].append(v[keep])
