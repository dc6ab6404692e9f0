"""A request's claims through the same edge as `policylang eval`: read, check, evaluate, write results.

The body is an object: `claim` (one claim, answered with one result) or `claims` (a list: a person's
claims, carried in date order as `eval` does, answered with a list), optional `state` (the year-to-date
before the earliest claim: one person's) and optional `explain` (add the policylang.trace/1 document to
each result). Every problem is a `BadRequest` holding the same ClaimErrors `eval` prints, each with its
position in the body ("body.claims[2]"), field and hint; nothing is evaluated unless every claim reads.
"""
from __future__ import annotations

import dataclasses

from policylang.claims import ClaimError, ClaimReader, load_json, result_record
from policylang.evaluators import claim_order, run_claims
from policylang.serve.registry import Entry
from policylang.trace import render, trace

BODY_KEYS = ("claim", "claims", "state", "explain")


class BadRequest(Exception):
    """A 4xx: `status`, a one-line summary and the claim edge's errors."""

    def __init__(self, status: int, message: str, errors: list[ClaimError] = ()):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, list(errors)

    def as_json(self) -> dict:
        return {"error": self.message, "errors": [error_json(e) for e in self.errors]}


def error_json(e: ClaimError) -> dict:
    return {"position": e.position, "field": e.field, "message": e.message, "hint": e.hint or None}


def parse_body(raw: bytes):
    """The body as exact JSON (money never through a float, duplicate keys remembered)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, "the body is not UTF-8", [ClaimError("body", None, f"not UTF-8 (byte {exc.start})",
                                                                   "send JSON encoded as UTF-8")]) from None
    try:
        return load_json(text)
    except ValueError as exc:
        raise BadRequest(400, "the body is not JSON", [ClaimError("body", None, f"invalid JSON: {exc}")]) from None


def read_request(entry: Entry, body) -> tuple[list, bool, bool]:
    """(claims, single, explain) from a parsed body, or BadRequest with every problem found."""
    errors: list[ClaimError] = []
    if not isinstance(body, dict):
        raise BadRequest(422, "the body must be a JSON object",
                         [ClaimError("body", None, "expected an object", '{"claim": {…}} or {"claims": [{…}, …]}')])
    for key in getattr(body, "duplicates", ()):
        errors.append(ClaimError("body", key, "given twice", "give each field once"))
    for key in body:
        if key not in BODY_KEYS:
            errors.append(ClaimError("body", key, "unknown field", f"the body takes {', '.join(BODY_KEYS)}"))
    if ("claim" in body) == ("claims" in body):
        errors.append(ClaimError("body", None, "give exactly one of `claim` (an object) or `claims` (a list)"))
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        errors.append(ClaimError("body", "explain", "must be true or false"))
    single = "claim" in body
    records = []
    if single:
        records = [("body.claim", body["claim"])]
    elif "claims" in body:
        if not isinstance(body["claims"], list):
            errors.append(ClaimError("body", "claims", "must be a list of claim objects", 'or send {"claim": {…}}'))
        elif not body["claims"]:
            errors.append(ClaimError("body", "claims", "is empty", "send at least one claim"))
        else:
            records = [(f"body.claims[{i}]", r) for i, r in enumerate(body["claims"], 1)]
    reader = entry.reader or ClaimReader(entry.policy)
    claims, claim_errors = reader.read_all(records)
    errors.extend(claim_errors)
    if "state" in body and not errors:
        claims = _with_state(entry, reader, claims, body["state"], errors)
    if errors:
        raise BadRequest(422, f"{len(errors)} error(s); no claim was evaluated", errors)
    return claims, single, explain


def _with_state(entry: Entry, reader: ClaimReader, claims: list, raw, errors: list) -> list:
    """The body's `state` is the year-to-date before the earliest claim, for one person's claims only."""
    state = reader.read_state(raw, "body", errors)
    if errors:
        return claims
    person = entry.policy.person
    people = {c.values.get(person) for c in claims}
    if len(claims) > 1 and (len(people) > 1 or None in people):
        errors.append(ClaimError("body", "state", "applies to one person's claims, and these are not all of one "
                                 f"`{person}`", "put each person's year-to-date in their first claim's `state`"))
        return claims
    first = claim_order(entry.policy, claims)[0]
    if claims[first].state:
        errors.append(ClaimError(claims[first].position, "state", "the body's `state` is also given here",
                                 "give the year-to-date once"))
        return claims
    claims = list(claims)
    claims[first] = dataclasses.replace(claims[first], state=state)
    return claims


def evaluate(entry: Entry, claims: list, explain: bool) -> list[dict]:
    """Results in input order, as `eval` writes them (with the trace under `explain` when asked)."""
    results = []
    for item in run_claims(entry.policy, claims, explain=explain, compiled=entry.compiled):
        record = result_record(entry.policy, item.claim, item.state_before, item.outcome, item.year,
                               (item.totals_before, item.totals_after))
        if explain:
            record["explain"] = trace(entry.policy, entry.identity, item, record)
        results.append(record)
    return results


def explained(entry: Entry, claims: list) -> list[dict]:
    """POST …/explain: each claim's trace and its narrative."""
    return [{"trace": r["explain"], "narrative": render(r["explain"])} for r in evaluate(entry, claims, True)]
