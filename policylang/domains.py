"""What a claim's number may be: one table that the checker assumes and the claim edge enforces.

`check` proves a property for every claim whose inputs lie in these ranges; `eval` refuses any claim
outside them, with the range in the message. Both read `domain(inp)`, so what is proved and what is
accepted cannot drift apart (tests/test_domains.py asks Z3 and the edge the same questions).

An input may narrow its type's range (`input 中治率: rate in 0%..100%`, `input 住院天数: number in 0..365`);
it can never widen it past the limits below.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from policylang import ir
from policylang.runtime import EXACT

# The largest amount one claim may carry: 1,000 万元. Checked counterexamples stay believable and the
# vectorized back end's int64 fen have room for every product of an amount and a rate.
MONEY_LIMIT = Decimal("10000000.00")
NUMBER_LIMIT = Decimal("10000")

# Per numeric type: (lowest, highest, decimal places of the value itself). A rate of 12.34% is 0.1234.
LIMITS = {
    "money": (Decimal(0), MONEY_LIMIT, 2),
    "rate": (Decimal(0), Decimal(1), 4),
    "points": (Decimal(0), Decimal(1), 4),
    "number": (Decimal(0), NUMBER_LIMIT, 4),
}


@dataclass(frozen=True)
class Domain:
    low: Decimal
    high: Decimal
    places: int
    declared: bool  # narrowed by the input's `in low..high`

    def scaled(self) -> tuple[int, int, int]:
        """(low, high, scale): the range as integers in units of 10^-places, as the SMT encoding holds it."""
        scale = 10 ** self.places
        return int(self.low * scale), int(self.high * scale), scale

    def problem(self, value: Decimal) -> str | None:
        """Why a value is outside the domain, or None (no arithmetic: a value may have any number of digits)."""
        if value < self.low or value > self.high:
            return "is outside"
        if decimals(value) > self.places:
            return f"has more than {self.places} decimal places"
        return None


def decimals(value: Decimal) -> int:
    """Decimal places a value needs (1.50 needs 1), read from its digits, never rounded by a context."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    fraction = "".join(map(str, digits)).rjust(-exponent, "0")[exponent:].rstrip("0")
    return len(fraction)


def domain(inp: ir.Input) -> Domain | None:
    """The range of a numeric input (None for dates, members, text and bools)."""
    limits = LIMITS.get(inp.type.name)
    if limits is None:
        return None
    low, high, places = limits
    if inp.domain is not None:
        return Domain(inp.domain[0], inp.domain[1], places, True)
    return Domain(low, high, places, False)


def show(value: Decimal, t: ir.Type) -> str:
    """A bound as the author writes it: 100%, 1000万 as 10000000元, 365."""
    if abs(value.adjusted()) > 20:
        return f"{'-' if value < 0 else ''}a number of {value.adjusted() + 1} digits"
    with localcontext(EXACT):
        if t == ir.MONEY:
            return f"{value.quantize(Decimal('0.01'))}元"
        if t in (ir.RATE, ir.POINTS):
            text = format((value * 100).normalize(), "f")
            return text + ("%" if t == ir.RATE else "pp")
        return format(value.normalize(), "f")


def describe(inp: ir.Input) -> str:
    d = domain(inp)
    where = f"declared at {inp.span}" if d.declared else f"every {inp.type} input"
    return f"{show(d.low, inp.type)}..{show(d.high, inp.type)} ({where})"


# A year-to-date the checker reasons about: never negative (PL104 proves no claim makes it so), at most ten
# claims' worth of the largest amount, whole for a count that only ever adds whole numbers (ir.whole_count).
STATE_LIMIT = MONEY_LIMIT * 10


def state_problem(policy: ir.Policy, name: str, value: Decimal) -> str | None:
    """Why a year-to-date given with a claim is not one the year can reach, or None."""
    acc = policy.accumulators[name]
    places = LIMITS.get(acc.type.name, LIMITS["money"])[2]
    if decimals(value) > places:
        return f"{value} has more than {places} decimal places"
    if value < 0:
        return f"negative year-to-date {value} (no claim lowers it below its start)"
    if value > STATE_LIMIT:
        return f"{value} is above the largest year-to-date, {show(STATE_LIMIT, acc.type)}"
    if ir.whole_count(policy, name) and decimals(value) > 0:
        return f"{value} is not a whole count (every update adds whole numbers)"
    return None


def state_scaled(acc: ir.Accumulator) -> tuple[int, int]:
    """(largest value, scale) of a year-to-date as the SMT encoding holds it: an integer in units of
    10^-places, between −largest and largest (that it is never negative is proved, PL104, not assumed)."""
    places = LIMITS.get(acc.type.name, LIMITS["money"])[2]
    return int(STATE_LIMIT * 10 ** places), 10 ** places
