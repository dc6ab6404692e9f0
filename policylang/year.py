"""The 医保年度 and one person's year of totals: per accumulator, per key, and the ids counted once.

Every back end takes one value per accumulator: the year-to-date this claim reads. `Ledger` keeps the
whole year around them: it hands a claim its own key's total (`view`) and files the back end's state
after the claim under that key (`record`), so keyed totals and once-per counting are the same for the
interpreter and the compiled evaluator by construction, and the Z3 encoding's one variable per
accumulator is exactly what a claim can see.

Counting once (`update 住院次数 += 1 once per 就诊ID`): the year remembers, per accumulator and key, the
ids it has counted. A later part of a counted admission (中途结算, the same 就诊ID) does not count again,
and it reads the total without its own count: the admissions other than its own, as the first part
read them. The resolver makes this exact: a counted accumulator has that one update, adding a positive
constant (E0445, E0446).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from policylang import ir
from policylang.runtime import COUNTED, NotApplicable


def year_start(year: ir.Year, day: datetime.date) -> datetime.date:
    """The first day of the 医保年度 that contains `day`."""
    start = datetime.date(day.year, year.month, year.day)
    return start if day >= start else datetime.date(day.year - 1, year.month, year.day)


def year_label(year: ir.Year, day: datetime.date) -> str:
    """The year a reader cannot misread: "2024" for a calendar year, else "2024-07-01..2025-06-30"."""
    start = year_start(year, day)
    if year.calendar:
        return str(start.year)
    end = datetime.date(start.year + 1, year.month, year.day) - datetime.timedelta(days=1)
    return f"{start.isoformat()}..{end.isoformat()}"


def claim_year(policy: ir.Policy, claim: dict) -> str:
    return year_label(policy.year, claim[policy.year.date])


@dataclass
class Totals:
    """One accumulator's year: a value per key (a tuple of the key inputs' values; () when unkeyed), the
    value of a key not listed (`default`), and for a counted accumulator the ids counted under each key."""

    default: object
    values: dict = field(default_factory=dict)
    counted: dict = field(default_factory=dict)

    def copy(self) -> "Totals":
        return Totals(self.default, dict(self.values), {k: list(v) for k, v in self.counted.items()})


def key_of(acc: ir.Accumulator, claim: dict) -> tuple:
    return tuple(claim[k] for k in acc.keys)


def once_update(policy: ir.Policy, name: str) -> ir.Update | None:
    """The accumulator's `once per` update (the resolver allows it no other)."""
    return next((u for u in policy.updates if u.target == name and u.once is not None), None)


class Ledger:
    """One person's 医保年度: every accumulator's Totals."""

    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.totals = {name: Totals(acc.initial) for name, acc in policy.accumulators.items()}
        self.once = {name: once_update(policy, name) for name in policy.accumulators}

    def seed(self, state: dict) -> None:
        """The year-to-date a claim carries (`state`) replaces what the year holds for those accumulators:
        Totals from claims.py's reader, or one value (Decimal or unknown) for every key, as an example's
        `state` block or a caller of the Python API gives it."""
        for name, value in state.items():
            if name not in self.totals:
                raise ValueError(f"`{name}` is not an accumulator of this policy")
            self.totals[name] = value.copy() if isinstance(value, Totals) else Totals(value)

    def snapshot(self) -> dict:
        return {name: t.copy() for name, t in self.totals.items()}

    def view(self, claim: dict) -> dict:
        """The state a back end takes for this claim: each accumulator's value under the claim's key; a
        later part of a counted admission reads it less its own count, and COUNTED names the
        accumulators whose once-per update must not apply again."""
        state, counted = {}, set()
        for name, acc in self.p.accumulators.items():
            totals, key = self.totals[name], key_of(acc, claim)
            value = totals.values.get(key, totals.default)
            update = self.once[name]
            if (update is not None and not isinstance(value, NotApplicable)
                    and claim[update.once] in totals.counted.get(key, ())):
                value = value - update.amount.value
                counted.add(name)
            state[name] = value
        if counted:
            state[COUNTED] = frozenset(counted)
        return state

    def record(self, claim: dict, view: dict, after: dict) -> None:
        """File a back end's state after the claim under the claim's key, and the id it counted."""
        for name, acc in self.p.accumulators.items():
            totals, key = self.totals[name], key_of(acc, claim)
            value, update = after[name], self.once[name]
            if name in view.get(COUNTED, ()):
                # its update did not apply: the year keeps the admission's count it read without
                value = value if isinstance(value, NotApplicable) else value + update.amount.value
            elif update is not None and not isinstance(value, NotApplicable) and value != view[name]:
                totals.counted.setdefault(key, []).append(claim[update.once])
            if isinstance(value, NotApplicable):
                totals.counted.pop(key, None)  # an unknown total: which ids it counted no longer matters
            totals.values[key] = value


__all__ = ["COUNTED", "Ledger", "Totals", "claim_year", "key_of", "year_label", "year_start"]
