"""The Z3 encoding, evaluated on concrete claims, gives the interpreter's results."""
from __future__ import annotations

from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang import ir
from policylang.backends.interpreter import Interpreter
from policylang.backends.smt import SCALE, Encoder, Run, reason_key
from policylang.pipeline import load_policy, policy_files
from policylang.runtime import NotApplicable
from strategies import claims, states

ROOT = Path(__file__).resolve().parent.parent
POLICIES = policy_files([ROOT / "policies", ROOT / "tests" / "policies"])


@pytest.fixture(scope="module", params=POLICIES, ids=lambda p: p.name)
def encoded(request):
    policy = load_policy(request.param)
    enc = Encoder(policy)
    run = Run(enc, "c:")
    outputs = {r.name: run.rule(r.name) for r in policy.outputs}
    return policy, enc, run, run.applicable(), outputs, run.after()


def bind(policy, run, claim, state) -> list:
    """Equalities that fix the run's symbols to a concrete claim and state."""
    eqs = []
    for name, inp in policy.inputs.items():
        present = run.present[name]
        if name not in claim:
            if present is not None:
                eqs.append(z3.Not(present))
            continue
        if present is not None:
            eqs.append(present)
        value = claim[name]
        if name in run.scaled:
            n, scale = run.scaled[name]
            eqs.append(n == int(value * scale))
        else:
            eqs.append(run.inputs[name] == run.enc.const(value, inp.type))
    for name, acc in policy.accumulators.items():
        n, scale = run.state_scaled[name]
        eqs.append(n == int(state.get(name, acc.initial) * scale))
    return eqs


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_encoding_matches_interpreter(encoded, data):
    policy, enc, run, applicable, outputs, after = encoded
    claim = data.draw(claims(policy))
    state = {k: v for k, v in data.draw(states(policy, unknown=False, counted=False)).items()}
    expected = Interpreter(policy).evaluate(claim, state)
    broken = {name: z3.Or(*[run.breaks(u) for u in policy.updates if u.target == name]) for name in expected.state}
    solver = z3.Solver()
    solver.add(*bind(policy, run, claim, state), *run.definitions)  # unsat if a money rule were not whole fen
    assert solver.check() == z3.sat
    model = solver.model()
    assert z3.is_true(model.eval(applicable, model_completion=True)) == expected.applicable
    if not expected.applicable:
        return
    for name, value in expected.outputs.items():
        got = outputs[name]
        na = z3.is_true(model.eval(got.na, model_completion=True))
        assert na == isinstance(value, NotApplicable), name
        if na:
            why = model.eval(got.why, model_completion=True).as_long()
            assert enc.reasons.text(why) == reason_key(value.reason)
        else:
            t = policy.rules[name].type
            term = model.eval(got.v, model_completion=True)
            if t.name in SCALE:
                fraction = term.as_fraction()
                assert fraction == value.as_integer_ratio() or \
                    fraction.numerator * value.as_integer_ratio()[1] == value.as_integer_ratio()[0] * fraction.denominator
            else:
                assert str(term) == str(enc.const(value, t)), name
    for name, value in expected.state.items():
        assert z3.is_true(model.eval(broken[name], model_completion=True)) == isinstance(value, NotApplicable), name
        if isinstance(value, NotApplicable):
            continue  # unknown from here on: PL105's business; after() keeps the known states' invariants
        fraction = model.eval(after[name], model_completion=True).as_fraction()
        num, den = value.as_integer_ratio()
        assert fraction.numerator * den == num * fraction.denominator, name
