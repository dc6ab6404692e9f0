"""The compiled evaluator gives exactly the interpreter's results, on random claims and sequences."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from policylang.backends.interpreter import Interpreter
from policylang.backends.python import compile_policy
from policylang.claims import Claim, result_record
from policylang.evaluators import run_claims
from policylang.pipeline import load_policy, policy_files
from policylang.runtime import NotApplicable
from strategies import claims, person_year, states

ROOT = Path(__file__).resolve().parent.parent
POLICIES = policy_files([ROOT / "policies", ROOT / "tests" / "policies"])
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", params=POLICIES, ids=lambda p: p.name)
def pair(request):
    policy = load_policy(request.param)
    return policy, Interpreter(policy).evaluate, compile_policy(policy)


def test_there_are_policies():
    assert any(p.parent.name == "policies" and p.parent.parent == ROOT for p in POLICIES)


@SETTINGS
@given(data=st.data())
def test_one_claim_agrees(pair, data):
    policy, interpret, compiled = pair
    claim = data.draw(claims(policy))
    state = data.draw(states(policy))
    assert compiled(claim, state) == interpret(claim, state)


@SETTINGS
@given(data=st.data())
def test_claim_sequences_agree(pair, data):
    """A person's year: both back ends carry the same accumulators from claim to claim."""
    policy, _, _ = pair
    raw = data.draw(st.lists(claims(policy), min_size=1, max_size=8))
    batch = [Claim(f"#{i}", c, {}, {}) for i, c in enumerate(raw)]
    by_interpreter = run_claims(policy, batch, "interpreter")
    by_compiled = run_claims(policy, batch, "compiled")
    for a, b in zip(by_interpreter, by_compiled):
        assert a.state_before == b.state_before
        assert a.outcome == b.outcome


@SETTINGS
@given(data=st.data())
def test_person_years_agree(pair, data):
    """One person's year, sometimes seeded with a state (known or unknown): both back ends carry the same
    accumulators, an unknown year-to-date included, and print the same results."""
    policy, _, _ = pair
    raw = data.draw(person_year(policy))
    seed = data.draw(states(policy, counted=False))  # a year's totals (COUNTED is a claim's view, not a seed)
    batch = [Claim(f"#{i}", c, seed if i == 0 else {}, {}) for i, c in enumerate(raw)]
    by_interpreter = run_claims(policy, batch, "interpreter")
    by_compiled = run_claims(policy, batch, "compiled")
    for a, b in zip(by_interpreter, by_compiled):
        assert a.state_before == b.state_before
        assert a.outcome == b.outcome
        assert a.totals_after == b.totals_after
        assert result_record(policy, a.claim, a.state_before, a.outcome, a.year, (a.totals_before, a.totals_after)) == \
            result_record(policy, b.claim, b.state_before, b.outcome, b.year, (b.totals_before, b.totals_after))


def test_person_years_reach_an_unknown_year_to_date():
    """The strategy reaches the case the tests above must cover: from a known start, a claim's update breaks
    the chain and a later claim of the same year reads the unknown year-to-date."""
    policy = load_policy(ROOT / "tests" / "policies" / "unknown-year-to-date.pol")

    def reads_unknown(raw) -> bool:
        results = run_claims(policy, [Claim(f"#{i}", c, {}, {}) for i, c in enumerate(raw)], "interpreter")
        return any(r.outcome.applicable and isinstance(r.state_before.get("净报销"), NotApplicable) for r in results)

    found = find(person_year(policy), reads_unknown,
                 settings=settings(database=None, derandomize=True, max_examples=2000))
    assert reads_unknown(found)


def test_explain_gives_the_same_outcome(pair):
    """--explain runs the interpreter; its numbers must be the compiled ones."""
    policy, _, _ = pair
    for example in policy.examples:
        batch = [Claim(f"#{i}", {n: v for n, v, _ in s.inputs}, {}, {}) for i, s in enumerate(example.steps)]
        plain = run_claims(policy, batch, "compiled")
        explained = run_claims(policy, batch, explain=True)
        assert [r.outcome for r in plain] == [r.outcome for r in explained]
        assert all(r.trace is not None and r.trace.events for r in explained)
