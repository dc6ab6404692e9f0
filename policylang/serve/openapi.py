"""The OpenAPI 3.1 document of the service, generated from each policy's inputs.

Each policy gets its own paths (`/policies/shaoxing-2024/evaluate`) whose request schema lists that
policy's inputs under both their names and platform field names, enumerations as `enum`s of member names
and platform codes (a code ending in * matches by prefix: a pattern), money as text or a JSON number with
at most two decimals. Schemas are JSON Schema 2020-12, as OpenAPI 3.1 takes them. The claim edge still
decides: it also accepts what the coding standard lets it normalise, and it checks ranges and constraints.
"""
from __future__ import annotations

import re

from policylang import __version__, ir
from policylang.claims import PASS_THROUGH
from policylang.domains import domain
from policylang.serve.registry import Entry, Registry
from policylang.trace.schema import schema as trace_schema

MONEY = r"^\d+(\.\d{1,2})?$"
NUMBER = r"^-?\d+(\.\d+)?$"
DATE = r"^(\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?|\d{8})$"


def document(registry: Registry, only: str | None = None) -> dict:
    """The whole service's document, or one policy's (`only`)."""
    entries = [e for e in registry.entries.values() if only is None or e.id == only]
    paths: dict = {}
    schemas: dict = {"Error": ERROR, "Trace": _trace_schema(), "Explained": EXPLAINED, "Result": RESULT,
                     "PolicySummary": SUMMARY}
    if only is None:
        paths["/healthz"] = {"get": _op("Liveness and the number of policies served", {"200": _json({"type": "object"})})}
        paths["/policies"] = {"get": _op("Every policy served", {"200": _json({"type": "array", "items": _ref("PolicySummary")})})}
        paths["/openapi.json"] = {"get": _op("This document", {"200": _json({"type": "object"})})}
    for entry in entries:
        key = _key(entry.id)
        schemas[f"{key}.Claim"] = claim_schema(entry.policy)
        schemas[f"{key}.Request"] = request_schema(key)
        base = f"/policies/{entry.id}"
        paths[base] = {"get": _op(f"{entry.identity.title}: inputs, members and codes, outputs, assumptions",
                                  {"200": _json({"type": "object"}), "404": _error()})}
        paths[f"{base}/openapi.json"] = {"get": _op("This policy's part of the document", {"200": _json({"type": "object"})})}
        paths[f"{base}/evaluate"] = {"post": _op(
            f"Evaluate claims against {entry.identity.title}", _responses(
                {"oneOf": [_ref("Result"), {"type": "array", "items": _ref("Result")}]}),
            body=_ref(f"{key}.Request"))}
        paths[f"{base}/explain"] = {"post": _op(
            f"The trace (policylang.trace/1) and zh-CN narrative of each claim under {entry.identity.title}",
            _responses({"oneOf": [_ref("Explained"), {"type": "array", "items": _ref("Explained")}]}),
            body=_ref(f"{key}.Request"))}
    title = "policylang" if only is None else f"policylang: {entries[0].identity.title}"
    return {"openapi": "3.1.0",
            "info": {"title": title, "version": __version__,
                     "description": "Medical-insurance reimbursement policies as a service (docs/serve.md)."},
            "paths": paths, "components": {"schemas": schemas}}


def claim_schema(policy: ir.Policy) -> dict:
    """One claim of this policy: each input under its name and its platform field name."""
    props: dict = {}
    all_of = []
    for inp in policy.inputs.values():
        s = value_schema(policy, inp)
        names = [inp.name] + ([inp.field] if inp.field and inp.field != inp.name else [])
        for name in names:
            props[name] = s
        if not inp.optional:
            all_of.append({"anyOf": [{"required": [n]} for n in names]} if len(names) > 1 else {"required": names})
    for key in PASS_THROUGH:
        if key == "state":
            props[key] = {"type": "object", "description": "the year-to-date before this claim, by accumulator "
                          + "(" + ", ".join(policy.accumulators) + ")" if policy.accumulators else "no accumulators"}
        elif key not in props:
            props[key] = {"type": ["string", "number"], "description": "copied into the result"}
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if all_of:
        out["allOf"] = all_of
    return out


def value_schema(policy: ir.Policy, inp: ir.Input) -> dict:
    t = inp.type
    doc = {"description": inp.doc} if inp.doc else {}
    if t.name == "enum":
        enum = policy.enums[t.enum]
        exact = [m.name for m in enum.members] + [c for m in enum.members for c in m.codes if not c.endswith("*")]
        prefixes = [c[:-1] for m in enum.members for c in m.codes if c.endswith("*")]
        members = {"x-members": [{"name": m.name, "label": m.label, "codes": list(m.codes)} for m in enum.members]}
        if prefixes:
            return {"anyOf": [{"enum": exact}, {"type": "string", "pattern": "^(" + "|".join(map(re.escape, prefixes)) + ")"}],
                    **members, **doc}
        return {"enum": exact, **members, **doc}
    if t.name == "bool":
        return {"type": ["boolean", "string"], "description": "true/false (or 是/否, 1/0)", **doc}
    if t.name == "date":
        return {"type": "string", "pattern": DATE, "description": "YYYY-MM-DD (or YYYYMMDD)", **doc}
    if t.name == "text":
        return {"type": "string", **doc}
    d = domain(inp)
    pattern = MONEY if t.name == "money" else NUMBER
    out = {"type": ["string", "number"], "pattern": pattern, **doc}
    if d is not None:
        out["x-range"] = {"min": format(d.low, "f"), "max": format(d.high, "f"), "decimal_places": d.places}
    return out


def request_schema(key: str) -> dict:
    return {"type": "object", "additionalProperties": False,
            "properties": {"claim": _ref(f"{key}.Claim"),
                           "claims": {"type": "array", "minItems": 1, "items": _ref(f"{key}.Claim")},
                           "state": {"type": "object", "description": "the year-to-date before the earliest claim"},
                           "explain": {"type": "boolean", "default": False}},
            "oneOf": [{"required": ["claim"]}, {"required": ["claims"]}]}


ERROR = {"type": "object", "required": ["error"],
         "properties": {"error": {"type": "string"}, "request_id": {"type": "string"},
                        "errors": {"type": "array", "items": {
                            "type": "object", "required": ["position", "field", "message", "hint"],
                            "properties": {"position": {"type": "string"}, "field": {"type": ["string", "null"]},
                                           "message": {"type": "string"}, "hint": {"type": ["string", "null"]}}}}}}
RESULT = {"type": "object", "required": ["position", "begntime", "applicable"],
          "properties": {"position": {"type": "string"}, "psn_no": {"type": ["string", "null"]},
                         "begntime": {"type": "string"}, "applicable": {"type": "boolean"},
                         "reason": {"type": "string"}, "year": {"type": "string"},
                         "outputs": {"type": "object"}, "setlinfo": {"type": "object"},
                         "not_applicable": {"type": "object"}, "state": {"type": "object"},
                         "explain": {"$ref": "#/components/schemas/Trace"}}}
EXPLAINED = {"type": "object", "required": ["trace", "narrative"],
             "properties": {"trace": {"$ref": "#/components/schemas/Trace"}, "narrative": {"type": "string"}}}
SUMMARY = {"type": "object", "required": ["id", "title", "document", "in_force", "content_hash", "status"],
           "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                          "document": {"type": ["string", "null"]}, "in_force": {"type": "object"},
                          "content_hash": {"type": "string"}, "status": {"enum": ["ok", "stale"]}}}


def _trace_schema() -> dict:
    """The trace schema inside the document: its $defs are rebased under the component."""
    text = trace_schema()
    body = {k: v for k, v in text.items() if k not in ("$schema", "$id")}
    return _rebase(body)


def _rebase(node):
    if isinstance(node, dict):
        return {k: (v.replace("#/$defs/", "#/components/schemas/Trace/$defs/") if k == "$ref" else _rebase(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def _key(policy_id: str) -> str:
    """A component name OpenAPI accepts (^[a-zA-Z0-9._-]+$) for any file stem."""
    return re.sub(r"[^A-Za-z0-9._-]", lambda m: f"_{ord(m.group()):x}", policy_id)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _error(text: str = "error") -> dict:
    return {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}


def _responses(ok: dict) -> dict:
    return {"200": _json(ok), "400": _error("the body is not JSON"), "404": _error("no such policy"),
            "413": _error("the body is over the size limit"), "422": _error("a claim the edge refuses, with every reason"),
            "500": _error("an internal error; the response carries the logged request id")}


def _op(summary: str, responses: dict, body: dict | None = None) -> dict:
    op = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op
