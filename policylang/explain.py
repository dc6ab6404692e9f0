"""Render an interpreter trace as the `explain` part of a result: what fired and why."""
from __future__ import annotations

from policylang import ir
from policylang.claims import format_state, format_typed
from policylang.runtime import NotApplicable, format_value


def explain_events(policy: ir.Policy, trace) -> list:
    """Rules with their values and clauses, table rows, bands, versions, scope and updates, in order."""
    out = []
    for event in trace.events:
        kind = event[0]
        if kind == "rule":
            _, name, value, clause = event
            item = {"rule": name, "clause": clause or None}
            if isinstance(value, NotApplicable):
                item["not_applicable"] = value.reason
            else:
                item["value"] = format_typed(value, policy.rules[name].type)
            out.append(item)
        elif kind == "row":
            _, table, index, clause, args = event
            out.append({"table": table, "row": index if index else "default", "clause": clause,
                        "columns": [format_value(a) for a in args]})
        elif kind == "band":
            _, name, index, clause = event
            out.append({"brackets": name, "band": index, "clause": clause})
        elif kind == "version":
            _, name, index, validity, clause = event
            out.append({"version": name, "index": index + 1, "valid": validity, "clause": clause})
        elif kind == "require":
            _, index, ok = event
            out.append({"scope": index, "satisfied": ok, "clause": policy.scope_clause})
        elif kind == "scope":
            out.append({"scope": "out", "reason": event[2]})
        elif kind == "update":
            if event[2] is None:
                out.append({"update": event[1], "skipped": event[3]})
            else:
                acc = policy.accumulators[event[1]]
                out.append({"update": event[1], "before": format_state(event[2], acc.type),
                            "after": format_state(event[3], acc.type), "clause": event[4]})
    return out
