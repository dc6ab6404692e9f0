"""Hypothesis strategies that generate claims and year states for any policy, from its IR."""
from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import strategies as st

from policylang import ir
from policylang.runtime import COUNTED, NotApplicable
from policylang.testing import mentioned_members

PERSONS = ("p1", "p2", "p3")


def money(max_yuan: int = 60000):
    # Mostly small round-ish amounts near the policies' thresholds, sometimes anything up to max_yuan.
    fen = st.one_of(st.integers(0, max_yuan * 100),
                    st.sampled_from([0, 1, 5, 50, 99, 100, 101, 10000, 100000, 120000, 1000000, 3000000]),
                    st.integers(0, 2000).map(lambda y: y * 100))
    return fen.map(lambda f: Decimal(f) / 100)


def value_of(policy: ir.Policy, t: ir.Type, name: str):
    if t == ir.MONEY:
        return money()
    if t == ir.NUMBER:
        return st.integers(0, 20).map(Decimal)
    if t in (ir.RATE, ir.POINTS):
        return st.integers(0, 100).map(lambda p: Decimal(p) / 100)
    if t == ir.BOOL:
        return st.booleans()
    if t == ir.DATE:
        start = policy.meta.in_force.start or datetime.date(2023, 1, 1)
        end = policy.meta.in_force.end or start + datetime.timedelta(days=3 * 366)
        return st.dates(start - datetime.timedelta(days=60), end + datetime.timedelta(days=60))
    if t == ir.TEXT:
        return st.sampled_from(PERSONS)
    members = st.sampled_from(policy.enums[t.enum].member_names())
    mentioned = sorted(mentioned_members(policy, t))
    if not mentioned:
        return members
    # Mostly members the policy names (where its behaviour changes), sometimes any member.
    return st.integers(0, 2).flatmap(lambda i: members if i == 2 else st.sampled_from(mentioned))


@st.composite
def claims(draw, policy: ir.Policy):
    """A claim with every required input and each optional one present or absent."""
    claim = {}
    for name, inp in policy.inputs.items():
        if inp.optional and draw(st.booleans()):
            continue
        claim[name] = draw(value_of(policy, inp.type, name))
    return claim


def year_to_date(policy: ir.Policy, name: str):
    """An accumulator's value before a claim: mostly known, sometimes unknown (as a broken chain leaves it)."""
    unknown = st.just(NotApplicable(f"累计值 `{name}` 未知：2024-03-01 的就诊无法计算本次累加的金额（测试）"))
    return st.one_of(value_of(policy, policy.accumulators[name].type, name), unknown)


@st.composite
def states(draw, policy: ir.Policy, unknown: bool = True, counted: bool = True):
    """Year-to-date values before a claim; unknown=False for encodings of known states only (smt.Run), and
    counted=False for claims no once-per update has counted yet (the encoding's case, see smt.Run.after)."""
    value = (lambda name: year_to_date(policy, name)) if unknown else \
        (lambda name: value_of(policy, policy.accumulators[name].type, name))
    state = {name: draw(value(name)) for name in policy.accumulators if draw(st.booleans())}
    once = [u.target for u in policy.updates if u.once is not None]
    if counted and once and draw(st.booleans()):  # a later part of an admission its once-per update already counted
        state[COUNTED] = frozenset(draw(st.lists(st.sampled_from(once), min_size=1)))
    return state


@st.composite
def person_year(draw, policy: ir.Policy, max_size: int = 8):
    """One person's claims in one calendar year, so updates (and unknown year-to-dates) carry between them."""
    start = policy.meta.in_force.start or datetime.date(2024, 1, 1)
    year = draw(st.integers(start.year, start.year + 1))
    days = st.dates(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    out = []
    for claim in draw(st.lists(claims(policy), min_size=1, max_size=max_size)):
        claim[policy.service_date] = draw(days)
        if policy.year.date != policy.service_date:  # 出院日期: the same day or up to 40 days later (next year too)
            claim[policy.year.date] = claim[policy.service_date] + datetime.timedelta(days=draw(st.integers(0, 40)))
        if policy.person in policy.inputs:
            claim[policy.person] = PERSONS[0]
        out.append(claim)
    return out
