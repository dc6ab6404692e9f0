"""The lemmas the checker assumes are true: proved here against the encoding's own rounding, and
sampled against the runtime's (a false lemma would let `policylang check` prove a false goal)."""
from decimal import Decimal

import pytest
import z3
from hypothesis import given
from hypothesis import strategies as st

from policylang.backends.smt import round_fen
from policylang.backends.solving import decide
from policylang.runtime import round_money

SHIFT_MODES = ("half_up", "down", "up")  # the modes shift_lemmas states its lemma for


def _amounts(*names):
    """Exact values as the checker builds them: integers over a fixed denominator (here 10⁻⁶ 元), so
    rounding is integer division, as in round_fen's linear case."""
    return [z3.ToReal(z3.Int(n)) / 10 ** 6 for n in names]


def _valid(claim) -> z3.CheckSatResult:
    """unsat when claim is valid; with the checker's own portfolio and a deterministic budget."""
    return decide([z3.Not(claim)], 30_000)[0]


# The solver proves these outright; for the rest (`up`'s shift, half_even's monotonicity) it gives up,
# and the sampled tests below check the arithmetic against the runtime, whose rounding the encoding
# matches exactly (tests/test_smt_differential.py).
@pytest.mark.parametrize("mode", SHIFT_MODES)
def test_rounding_is_monotone(mode):
    x, y = _amounts("x", "y")
    assert _valid(z3.Implies(x <= y, round_fen(x, mode) <= round_fen(y, mode))) == z3.unsat


@pytest.mark.parametrize("mode", ("half_up", "down"))
def test_a_whole_fen_growth_passes_through_rounding(mode):
    (x, y), fen = _amounts("x", "y"), z3.Int("d")
    d = z3.ToReal(fen) / 100
    claim = z3.Implies(z3.And(x >= 0, y >= 0, y - x <= d), round_fen(y, mode) - round_fen(x, mode) <= d)
    assert _valid(claim) == z3.unsat


def test_half_even_gets_no_shift_lemma_because_it_is_false():
    x, y, d = Decimal("0.005"), Decimal("0.015"), Decimal("0.01")
    assert y - x <= d and round_money(y, "half_even") - round_money(x, "half_even") > d  # 0.00 → 0.02


amounts = st.decimals(min_value=0, max_value=10 ** 6, places=6, allow_nan=False, allow_infinity=False)


@given(x=amounts, y=amounts, fen=st.integers(min_value=-10 ** 6, max_value=10 ** 8), mode=st.sampled_from(SHIFT_MODES))
def test_shift_lemma_against_the_runtime(x, y, fen, mode):
    d = Decimal(fen) / 100
    if y - x <= d:
        assert round_money(y, mode) - round_money(x, mode) <= d


@given(x=amounts, y=amounts, mode=st.sampled_from(SHIFT_MODES + ("half_even",)))
def test_rounding_monotone_against_the_runtime(x, y, mode):
    if x <= y:
        assert round_money(x, mode) <= round_money(y, mode)
