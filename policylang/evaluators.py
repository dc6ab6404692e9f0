"""Choosing a back end and running claims through it, a person's year at a time."""
from __future__ import annotations

from dataclasses import dataclass

from policylang import ir
from policylang.backends.interpreter import Interpreter, Trace
from policylang.backends.python import compile_policy
from policylang.claims import Claim
from policylang.runtime import Outcome
from policylang.year import Ledger, claim_year

BACKENDS = ("compiled", "interpreter")


def evaluator(policy: ir.Policy, backend: str = "compiled"):
    """A function (claim values, state) -> Outcome."""
    if backend == "interpreter":
        return Interpreter(policy).evaluate
    if backend == "compiled":
        return compile_policy(policy)
    raise ValueError(f"unknown back end {backend!r}; choose from {', '.join(BACKENDS)}")


@dataclass
class Evaluated:
    claim: Claim
    state_before: dict  # what the back end took: each accumulator's value under this claim's key
    outcome: Outcome
    trace: Trace | None
    year: str | None = None  # the 医保年度's label (year.year_label)
    totals_before: dict | None = None  # the person's whole year (year.Totals per accumulator), before
    totals_after: dict | None = None  # … and after the claim


def year_key(policy: ir.Policy, claim: Claim, index: int):
    """Accumulators are per person per 医保年度 (`year by …`; by default the calendar year of the service date).

    A claim without 人员编号 is its own person: nothing is carried to or from it.
    """
    person = claim.values.get(policy.person)
    year = claim_year(policy, claim.values)
    return (person, year) if person is not None else (None, index)


def claim_order(policy: ir.Policy, claims: list[Claim]) -> list[int]:
    """Person by person; within a year by the date that places a claim in it (出院日期 under `year by 出院日期`:
    settlements happen in that order), then the service date, then input position."""
    return sorted(range(len(claims)), key=lambda i: (str(claims[i].values.get(policy.person, "")),
                                                     claims[i].values[policy.year.date],
                                                     claims[i].values[policy.service_date], i))


def run_claims(policy: ir.Policy, claims: list[Claim], backend: str = "compiled",
               explain: bool = False, compiled=None) -> list[Evaluated]:
    """Evaluate claims person by person in year order (claim_order), carrying the year's totals.

    Results come back in input order. A claim that carries `state` sets the
    year-to-date values before it (what a settlement system already knows). `compiled` is an
    evaluator made once for many calls (the HTTP service's); without it one is made for this call.
    """
    if explain:
        interpreter = Interpreter(policy)
        evaluate = None
    else:
        evaluate = compiled or evaluator(policy, backend)
    years: dict = {}
    results: list = [None] * len(claims)
    for i in claim_order(policy, claims):
        claim = claims[i]
        key = year_key(policy, claim, i)
        ledger = years.setdefault(key, Ledger(policy))
        ledger.seed(claim.state)
        before = ledger.snapshot()
        state = ledger.view(claim.values)
        if explain:
            trace = Trace()
            outcome = interpreter.evaluate(claim.values, state, trace)
        else:
            trace = None
            outcome = evaluate(claim.values, state)
        ledger.record(claim.values, state, outcome.state)
        results[i] = Evaluated(claim, state, outcome, trace, claim_year(policy, claim.values), before,
                               ledger.snapshot())
    return results
