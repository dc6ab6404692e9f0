"""Values as a published page shows them: 1,234.50元, 85%, 3个百分点, 2024年1月1日.

Money, rates, points and numbers are Decimals from the IR or the evaluator; nothing here converts
them to float, so a number on the page is exactly the number the policy computes.
"""
from __future__ import annotations

import datetime
from decimal import Decimal

from policylang import ir
from policylang.runtime import NotApplicable

FEN = Decimal("0.01")
NOT_GIVEN = "未规定"


def money(value: Decimal) -> str:
    """1234.5 → 1,234.50元 (two decimals, thousands separated)."""
    return f"{value.quantize(FEN):,f}元"


def rate(value: Decimal) -> str:
    """0.85 → 85%, 0.125 → 12.5%."""
    return f"{_plain(value * 100)}%"


def points(value: Decimal) -> str:
    """0.03 → 3个百分点."""
    return f"{_plain(value * 100)}个百分点"


def number(value: Decimal) -> str:
    return _plain(value)


def date(value: datetime.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def boolean(value: bool) -> str:
    return "是" if value else "否"


def show(value, type_: ir.Type | None = None) -> str:
    """Any value of a policy by its type; not applicable as 未规定（理由）."""
    if isinstance(value, (NotApplicable, ir.NotApplicable)):
        return f"{NOT_GIVEN}（{value.reason}）"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, Decimal):
        kind = type_.name if type_ is not None else "number"
        return {"money": money, "rate": rate, "points": points}.get(kind, number)(value)
    if isinstance(value, datetime.date):
        return date(value)
    if type_ is not None and type_.name == "text":
        return f"“{value}”"
    return str(value)


def short(value, type_: ir.Type | None = None) -> str:
    """Like show, but not applicable is just 未规定 (for table cells)."""
    if isinstance(value, (NotApplicable, ir.NotApplicable)):
        return NOT_GIVEN
    return show(value, type_)


def validity(v: ir.Validity) -> str:
    """The period a version or a policy applies: 2024年1月1日起 / 至 / 起至."""
    if v.start and v.end:
        return f"{date(v.start)}至{date(v.end)}"
    if v.start:
        return f"{date(v.start)}起"
    if v.end:
        return f"至{date(v.end)}"
    return "长期"


TYPE_NAMES = {"money": "金额", "rate": "比例", "points": "百分点", "number": "数值", "bool": "是/否",
              "date": "日期", "text": "文本"}


def type_name(t: ir.Type) -> str:
    return t.enum if t.name == "enum" else TYPE_NAMES.get(t.name, t.name)


ROUNDING_NAMES = {"half_up": "四舍五入到分", "half_even": "银行家舍入到分", "down": "舍去分以下",
                  "up": "分以下进位"}


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
