"""Values shared by every back end at run time: 'not applicable', rounding, exact arithmetic.

Generated modules import this and nothing else from policylang, so the
semantics of NA and rounding live in exactly one place.
"""
from __future__ import annotations

import decimal
from decimal import Decimal

# Arithmetic on money and rates must be exact: any operation that would round
# raises instead. Rounding happens only in round_money, where the policy says.
EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow,
                                        decimal.DivisionByZero])
ROUNDING = decimal.Context(prec=60, traps=[decimal.InvalidOperation])
FEN = Decimal("0.01")
ZERO = Decimal("0")
MODES = {"half_up": decimal.ROUND_HALF_UP, "half_even": decimal.ROUND_HALF_EVEN,
         "down": decimal.ROUND_DOWN, "up": decimal.ROUND_UP}


class NotApplicable(Exception):
    """A value the policy does not give for this claim, with the reason why.

    It is raised while evaluating and stored as a rule's value; reading a rule
    whose value is NotApplicable re-raises it, so the reason travels to the output.
    Stored as an accumulator's value in a state, it means the year-to-date is
    unknown (see unknown_after): reading it makes the reader not applicable.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __eq__(self, other):
        return isinstance(other, NotApplicable) and other.reason == self.reason

    def __hash__(self):
        return hash(self.reason)

    def __repr__(self):
        return f"NotApplicable({self.reason!r})"


def na(reason: str):
    raise NotApplicable(reason)


def check(value):
    """Raise a stored NotApplicable as a fresh copy (stored ones may be shared constants); else return value."""
    if value.__class__ is NotApplicable:
        raise NotApplicable(value.reason)
    return value


def round_money(value: Decimal, mode: str = "half_up") -> Decimal:
    return value.quantize(FEN, MODES[mode], ROUNDING)


def bracket_sum(amount: Decimal, bands) -> Decimal:
    """Progressive bands: Σ rate × (part of amount inside [low, high))."""
    total = ZERO
    for low, high, rate in bands:
        if amount <= low:
            break
        top = amount if high is None or amount < high else high
        total = EXACT.add(total, EXACT.multiply(EXACT.subtract(top, low), rate))
    return total


def band_order(name: str, bands) -> NotApplicable | None:
    """Bounds evaluated per claim must still make ascending, contiguous bands; else the brackets give no
    number for the claim (never a silent one), and the reason names the band and the values.

    A band may be empty (high equal to low): it pays nothing. The first band's low is where paying starts.
    """
    prev = None
    for index, (low, high, _) in enumerate(bands, 1):
        if index > 1 and low != prev:
            return NotApplicable(f"分段 `{name}` 第 {index} 段起于 {_yuan(low)}，但第 {index - 1} 段止于 "
                                 f"{_yuan(prev)}：各段须首尾相接")
        if high is not None and high < low:
            return NotApplicable(f"分段 `{name}` 第 {index} 段止于 {_yuan(high)}，低于其起点 {_yuan(low)}")
        prev = high
    return None


def band_part(base: Decimal, amount: Decimal, low: Decimal, high) -> Decimal:
    """The part of the claim's amount (from base to base + amount) that falls in [low, high)."""
    def clamp(x):
        x = low if x < low else x
        return x if high is None or x < high else high
    return EXACT.subtract(clamp(EXACT.add(base, amount)), clamp(base))


def _yuan(value: Decimal) -> str:
    """Money in a reason, the same in every back end whatever the Decimal's exponent (250 vs 250.00)."""
    if value.as_tuple().exponent >= -2:
        value = value.quantize(FEN)
    return f"{format(value, 'f')}元"


def format_value(value) -> object:
    """A JSON-friendly rendering: Decimal as a plain string, dates ISO, NA as null."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, NotApplicable):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class Outcome:
    """The result of one claim: in scope or not (with why), every output, the state after."""

    __slots__ = ("applicable", "reason", "outputs", "state")

    def __init__(self, applicable: bool, reason, outputs: dict, state: dict):
        self.applicable = applicable
        self.reason = reason
        self.outputs = outputs
        self.state = state

    def __eq__(self, other):
        return (isinstance(other, Outcome) and self.applicable == other.applicable
                and self.reason == other.reason and self.outputs == other.outputs and self.state == other.state)

    def __repr__(self):
        return f"Outcome({self.applicable}, {self.reason!r}, {self.outputs!r}, {self.state!r})"


def no_row(table: str, args) -> NotApplicable:
    shown = "，".join(str(a) for a in args)
    return NotApplicable(f"表 `{table}` 没有与（{shown}）匹配的行")


def overlap(table: str, rows) -> NotApplicable:
    return NotApplicable(f"表 `{table}` 第 {'、'.join(str(r) for r in rows)} 行同时命中（unique 命中策略）")


def no_version(name: str, day) -> NotApplicable:
    return NotApplicable(f"`{name}` 在 {day.isoformat()} 没有有效版本")


# The state entry naming the accumulators whose `once per` update already counted this claim's id (a later
# part of a 中途结算 admission): the update does not apply again. Not a name a policy can write (year.py).
COUNTED = "once per: counted"

MISSING_INPUT = "缺少输入"


def missing_input(name: str) -> NotApplicable:
    return NotApplicable(f"{MISSING_INPUT} `{name}`")


def is_missing_input(value) -> bool:
    """Whether a value is not applicable only because the claim did not give an input."""
    return isinstance(value, NotApplicable) and value.reason.startswith(f"{MISSING_INPUT} `")


def unknown_after(accumulator: str, day, reason: str, condition: bool) -> NotApplicable:
    """The year-to-date once an update could not be settled: unknown, never taken as 'nothing added'.

    An update whose condition is not applicable (it may or may not apply) or whose amount is not
    applicable (it applies, by how much is unknown) leaves its accumulator unknown for the rest of
    the year; the reason names the claim (its service date) that broke the chain and why.
    """
    what = "无法判断本次是否累加" if condition else "无法计算本次累加的金额"
    return NotApplicable(f"累计值 `{accumulator}` 未知：{day.isoformat()} 的就诊{what}（{reason}）")


def out_of_force(day, in_force) -> str:
    return f"就诊日期 {day.isoformat()} 不在政策施行期内（{in_force}）"
