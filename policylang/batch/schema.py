"""The columns of a batch result: one JSON result record (claims.result_record) laid flat.

Column names: `row` (1-based row in the input file), the pass-through identifiers, `psn_no`, `begntime`,
`year`, `applicable`, `reason`; `out.<output>` per output, `setl.<platform name>` per settlement name,
`state.<accumulator>.before|after`; `na.<column>` holds the reason where that column is not applicable
(its value is then null; an unknown accumulator is null with its reason), `notes` the claim's reading notes
as JSON. Money is decimal128(20, 2) (written as "650.00" in CSV/JSONL); a rate, points or number is its
exact decimal text (0.65); an accumulator kept `per` keys or counted `once per` an input is the JSON text of
the state a claim's `state` field takes.
"""
from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pyarrow as pa

from policylang import ir
from policylang.claims import PASS_THROUGH
from policylang.platform import is_fund, sources
from policylang.year import once_update

MONEY = pa.decimal128(20, 2)
IDENTIFIERS = tuple(k for k in PASS_THROUGH if k != "state")


def _arrow(type_: ir.Type) -> pa.DataType:
    return MONEY if type_ == ir.MONEY else pa.string()


def plain(acc: ir.Accumulator, policy: ir.Policy) -> bool:
    """One value per person-year (no keys, no `once per`): a typed column, not JSON text."""
    return not acc.keys and once_update(policy, acc.name) is None


def setl_fields(policy: ir.Policy) -> list[tuple[str, pa.DataType]]:
    fields = []
    if "政策范围内费用" in policy.inputs:
        fields += [("inscp_scp_amt", MONEY), ("medfee_sumamt", MONEY)]
    funds = False
    for source in sources(policy):
        owner = policy.inputs[source.name] if source.kind == "input" else policy.rules[source.name]
        fields.append((source.platform, _arrow(owner.type)))
        funds = funds or is_fund(source.platform)
    if funds:
        fields.append(("fund_pay_sumamt", MONEY))
        if "政策范围内费用" in policy.inputs:
            fields.append(("psn_part_amt", MONEY))
    return fields


def result_schema(policy: ir.Policy) -> pa.Schema:
    cols: list[tuple[str, pa.DataType]] = [("row", pa.int64())]
    cols += [(k, pa.string()) for k in IDENTIFIERS]
    cols += [("psn_no", pa.string()), ("begntime", pa.date32()), ("year", pa.string()),
             ("applicable", pa.bool_()), ("reason", pa.string())]
    for rule in policy.outputs:
        cols += [(f"out.{rule.name}", _arrow(rule.type)), (f"na.out.{rule.name}", pa.string())]
    for name, type_ in setl_fields(policy):
        cols += [(f"setl.{name}", type_), (f"na.setl.{name}", pa.string())]
    for name, acc in policy.accumulators.items():
        type_ = _arrow(acc.type) if plain(acc, policy) else pa.string()
        for when in ("before", "after"):
            cols += [(f"state.{name}.{when}", type_), (f"na.state.{name}.{when}", pa.string())]
    cols.append(("notes", pa.string()))
    return pa.schema(cols)


def _cell(value, type_: pa.DataType):
    if value is None:
        return None
    if type_ == MONEY:
        return Decimal(value)
    if type_ == pa.string() and not isinstance(value, str):  # a keyed or counted state: its JSON text
        return json.dumps(value, ensure_ascii=False)
    return value


def flatten(policy: ir.Policy, record: dict, row: int, schema: pa.Schema) -> dict:
    """One result record (claims.result_record, with the year's totals) as a row of `schema`."""
    flat: dict = {"row": row, "applicable": record["applicable"], "reason": record.get("reason"),
                  "psn_no": record.get("psn_no"), "year": record.get("year"),
                  "begntime": datetime.date.fromisoformat(record["begntime"])}
    for key in IDENTIFIERS:
        flat[key] = record.get(key)
    na = record.get("not_applicable", {})
    for name, value in record.get("outputs", {}).items():
        flat[f"out.{name}"] = None if name in na else value
        flat[f"na.out.{name}"] = na.get(name)
    for name, value in record.get("setlinfo", {}).items():
        flat[f"setl.{name}"] = value
        flat[f"na.setl.{name}"] = na.get(name)
    for name, sides in record.get("state", {}).items():
        for when, value in sides.items():
            if plain(policy.accumulators[name], policy) and isinstance(value, dict):  # {"unknown": why}
                flat[f"na.state.{name}.{when}"] = value["unknown"]
                value = None
            flat[f"state.{name}.{when}"] = value
    if record.get("notes"):
        flat["notes"] = json.dumps(record["notes"], ensure_ascii=False)
    return {f.name: _cell(flat.get(f.name), f.type) for f in schema}
