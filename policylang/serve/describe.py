"""What GET /policies and GET /policies/{id} say about a policy: identity, inputs with their types,
enumeration members and platform codes, outputs, assumptions, year-to-date totals, and reload status."""
from __future__ import annotations

import time

from policylang import ir
from policylang.claims import format_typed
from policylang.domains import domain
from policylang.folding import rule_constant
from policylang.serve.registry import Entry


def summary(entry: Entry) -> dict:
    out = {**entry.identity.as_json(), "status": "ok" if entry.problem is None else "stale"}
    return out


def detail(entry: Entry) -> dict:
    p = entry.policy
    return {**summary(entry), "file": entry.path, "reload": reload_status(entry),
            "service_date": p.service_date, "person": p.person,
            "inputs": [input_json(p, i) for i in p.inputs.values()],
            "outputs": [{"name": r.name, **type_json(r.type), "platform": r.platform, "clause": r.clause,
                         "doc": r.doc} for r in p.outputs],
            "assumptions": [assumption_json(p, r) for r in p.assumptions],
            "accumulators": [{"name": a.name, **type_json(a.type), "initial": format_typed(a.initial, a.type),
                              "per": list(a.keys), "clause": a.clause} for a in p.accumulators.values()],
            "year": {"by": p.year.date, "from": f"{p.year.month:02d}-{p.year.day:02d}"}}


def reload_status(entry: Entry) -> dict:
    loaded = _when(entry.loaded_at)
    if entry.problem is None:
        return {"status": "ok", "loaded_at": loaded}
    return {"status": "stale", "loaded_at": loaded, "failed_at": _when(entry.problem_at),
            "error": entry.problem, "serving": entry.identity.content_hash}


def type_json(t: ir.Type) -> dict:
    return {"type": t.name, "enum": t.enum} if t.enum else {"type": t.name}


def input_json(p: ir.Policy, inp: ir.Input) -> dict:
    out = {"name": inp.name, "field": inp.field, **type_json(inp.type), "required": not inp.optional,
           "doc": inp.doc}
    d = domain(inp)
    if d is not None:
        out["range"] = {"min": format(d.low, "f"), "max": format(d.high, "f"), "decimal_places": d.places}
    if inp.type.enum:
        enum = p.enums[inp.type.enum]
        out["members"] = [{"name": m.name, "label": m.label, "codes": list(m.codes)} for m in enum.members]
        out["code_field"] = enum.field
    return out


def assumption_json(p: ir.Policy, rule: ir.Rule) -> dict:
    value = rule_constant(rule, p)
    return {"name": rule.name, **type_json(rule.type), "value": None if value is None else format_typed(value, rule.type),
            "clause": rule.clause, "doc": rule.doc}


def _when(stamp: float | None) -> str | None:
    return None if stamp is None else time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(stamp))
