"""Build a `policylang.trace/1` document from one evaluated claim (evaluators.Evaluated with its Trace).

The document stands alone: who computed it (engine version), with what (the policy's title, document
number, in-force dates and content hash), on what (the claim as read, with the year-to-date it carried),
each step the reference interpreter took (explain.explain_events), and the result a settlement system
stores (outputs, setlinfo, year-to-date before and after). The narrative is rendered from it alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from policylang import __version__, ir
from policylang.claims import format_state, format_totals, format_typed
from policylang.explain import explain_events
from policylang.trace.formula import Formulas
from policylang.trace.identity import content_hash
from policylang.year import Totals

FORMAT = "policylang.trace/1"
RESULT_KEYS = ("year", "applicable", "reason", "outputs", "not_applicable", "setlinfo", "state")


@dataclass(frozen=True)
class Identity:
    """What a trace says about the policy; computed once per loaded policy (hashing reads its files)."""

    id: str
    title: str
    document: str | None
    in_force: dict
    content_hash: str
    assume: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        out = {"id": self.id, "title": self.title, "document": self.document, "in_force": self.in_force,
               "content_hash": self.content_hash}
        if self.assume:
            out["assume"] = dict(self.assume)
        return out


def identity(policy: ir.Policy, assume: dict | None = None, policy_id: str | None = None) -> Identity:
    """The policy's identity; `policy_id` defaults to the file's stem (`shaoxing-2024`), as the service names it."""
    valid = policy.meta.in_force
    return Identity(policy_id or Path(policy.file).stem, policy.meta.title, policy.meta.document,
                    {"start": valid.start.isoformat() if valid.start else None,
                     "end": valid.end.isoformat() if valid.end else None},
                    content_hash(policy, assume), dict(assume or {}))


def claim_as_read(policy: ir.Policy, claim) -> dict:
    """The claim after the edge read it: typed values in the policy's names (codes already matched), the
    identifiers passed through, the year-to-date it carried, and how any field was read (notes)."""
    inputs = {name: format_typed(value, policy.inputs[name].type) for name, value in claim.values.items()}
    out = {"position": claim.position, "inputs": inputs}
    if claim.extra:
        out["identifiers"] = dict(claim.extra)
    if claim.state:
        out["state"] = {name: (format_totals(policy, policy.accumulators[name], value) if isinstance(value, Totals)
                               else format_state(value, policy.accumulators[name].type))
                        for name, value in claim.state.items()}
    if claim.notes:
        out["notes"] = dict(claim.notes)
    return out


def trace(policy: ir.Policy, ident: Identity, evaluated, record: dict) -> dict:
    """The trace of one claim: `evaluated` carries the interpreter's Trace, `record` is the claim's result
    (claims.result_record), whose outcome the trace repeats so it can be read and checked on its own."""
    steps = explain_events(policy, evaluated.trace)
    formulas = Formulas(policy, evaluated.claim.values, evaluated.state_before)
    for step in steps:
        if step["kind"] == "rule" and "value" in step:
            text = formulas.of(step["rule"])
            if text is not None:
                step["formula"] = text
    doc = {"format": FORMAT, "engine": {"name": "policylang", "version": __version__},
           "policy": ident.as_json(), "claim": claim_as_read(policy, evaluated.claim), "steps": steps}
    doc.update({key: record[key] for key in RESULT_KEYS if key in record})
    return doc
