"""Render an interpreter trace as the `explain` part of a result: what fired and why."""
from __future__ import annotations

from decimal import Decimal

from policylang import ir
from policylang.claims import format_state, format_typed
from policylang.runtime import NotApplicable, format_value


def explain_events(policy: ir.Policy, trace) -> list:
    """Rules with their values and clauses, table rows, bands, versions, scope and updates, in order: the
    `steps` of a `policylang.trace/1` document (policylang/trace/), each named by its `kind`.

    Each band a claim reaches shows its amount, rate, pay and that band's arithmetic; then the brackets'
    sum as an auditor checks it ("6269.00 × 55% + 3731.00 × 65% = 5873.10"). A rule carries its type so
    a reader (the zh-CN narrative) can show 70% and 700.00 元 without the policy at hand."""
    out = []
    bands: list = []  # (amount, rate, pay) of the bands since the last brackets total
    for event in trace.events:
        kind = event[0]
        if kind == "rule":
            _, name, value, clause = event
            item = {"kind": "rule", "rule": name, "clause": clause or None, **type_of(policy.rules[name].type)}
            if isinstance(value, NotApplicable):
                item["not_applicable"] = value.reason
            else:
                item["value"] = format_typed(value, policy.rules[name].type)
            out.append(item)
        elif kind == "row":
            _, table, index, clause, args = event
            out.append({"kind": "row", "table": table, "row": index if index else "default", "clause": clause,
                        "columns": [{"name": n, "value": format_value(a)}
                                    for n, a in zip(column_names(policy.tables[table]), args)]})
        elif kind == "band":
            _, name, index, clause, part, rate, pay = event
            bands.append((part, rate, pay))
            out.append({"kind": "band", "brackets": name, "band": index, "clause": clause,
                        "amount": money_text(part), "rate": rate_text(rate), "pays": money_text(pay),
                        "arithmetic": f"{money_text(part)} × {rate_text(rate)} = {money_text(pay)}"})
        elif kind == "brackets":
            _, name, value = event
            out.append({"kind": "brackets", "brackets": name, "value": format_typed(value, ir.MONEY),
                        "arithmetic": arithmetic(bands, value)})
            bands = []
        elif kind == "version":
            _, name, index, validity, clause = event
            out.append({"kind": "version", "version": name, "index": index + 1, "valid": validity, "clause": clause})
        elif kind == "require":
            _, index, ok = event
            out.append({"kind": "scope", "scope": index, "satisfied": ok, "clause": policy.scope_clause})
        elif kind == "scope":
            out.append({"kind": "out_of_scope", "scope": "out", "reason": event[2]})
        elif kind == "update":
            if event[2] is None:
                out.append({"kind": "update", "update": event[1], "skipped": event[3]})
            else:
                acc = policy.accumulators[event[1]]
                out.append({"kind": "update", "update": event[1], "before": format_state(event[2], acc.type),
                            "after": format_state(event[3], acc.type), "clause": event[4], **type_of(acc.type)})
    return out


def type_of(t: ir.Type) -> dict:
    """A value's type as the trace names it: {"type": "money"}, or {"type": "enum", "enum": "机构级别"}."""
    return {"type": t.name, "enum": t.enum} if t.enum else {"type": t.name}


def column_names(table: ir.Table) -> list:
    """What each column of a table reads: the input or rule it names, else `第 N 列`."""
    return [getattr(c, "name", None) or f"第 {i} 列" for i, c in enumerate(table.columns, 1)]


def arithmetic(bands: list, value) -> str:
    """The brackets' sum with the claim's numbers: each band's amount × rate, then the total (and the
    rounded total when rounding to the fen changed it). `bands` holds (amount, rate, pay) per band."""
    if not bands:
        return f"0.00 = {money_text(value)}"
    exact = sum((pay for _, _, pay in bands), Decimal(0))
    terms = " + ".join(f"{money_text(part)} × {rate_text(rate)}" for part, rate, _ in bands)
    if exact == value:
        return f"{terms} = {money_text(value)}"
    return f"{terms} = {money_text(exact)} ≈ {money_text(value)}"


def money_text(value: Decimal) -> str:
    """An amount with two decimals, or every decimal it has when it has more (a band's pay before rounding)."""
    value = value.normalize() if value.as_tuple().exponent < -2 else value
    return format(value.quantize(Decimal("0.01")) if value.as_tuple().exponent >= -2 else value, "f")


def rate_text(rate: Decimal) -> str:
    """55% (0.55), 62.5% (0.625)."""
    return f"{format((rate * 100).normalize(), 'f')}%"
