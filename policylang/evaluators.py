"""Choosing a back end and running claims through it, a person's year at a time."""
from __future__ import annotations

from dataclasses import dataclass

from policylang import ir
from policylang.backends.interpreter import Interpreter, Trace
from policylang.backends.python import compile_policy
from policylang.claims import Claim
from policylang.runtime import Outcome

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
    state_before: dict
    outcome: Outcome
    trace: Trace | None


def year_key(policy: ir.Policy, claim: Claim, index: int):
    """Accumulators are per person per 医保年度 (the calendar year of the service date).

    A claim without 人员编号 is its own person: nothing is carried to or from it.
    """
    person = claim.values.get(policy.person)
    year = claim.values[policy.service_date].year
    return (person, year) if person is not None else (None, index)


def run_claims(policy: ir.Policy, claims: list[Claim], backend: str = "compiled",
               explain: bool = False) -> list[Evaluated]:
    """Evaluate claims person by person in service-date order, carrying the year's state.

    Results come back in input order. A claim that carries `state` sets the
    year-to-date values before it (what a settlement system already knows).
    """
    if explain:
        interpreter = Interpreter(policy)
        evaluate = None
    else:
        evaluate = evaluator(policy, backend)
    order = sorted(range(len(claims)), key=lambda i: (str(claims[i].values.get(policy.person, "")),
                                                       claims[i].values[policy.service_date], i))
    years: dict = {}
    results: list = [None] * len(claims)
    for i in order:
        claim = claims[i]
        key = year_key(policy, claim, i)
        state = {**years.get(key, {}), **claim.state}
        if explain:
            trace = Trace()
            outcome = interpreter.evaluate(claim.values, state, trace)
        else:
            trace = None
            outcome = evaluate(claim.values, state)
        years[key] = outcome.state
        results[i] = Evaluated(claim, state, outcome, trace)
    return results
