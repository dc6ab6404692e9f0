"""The vectorized rounding is runtime.round_money on integers: every mode, negatives included (numpy's //
floors, so half up on −0.005 must still give −0.01), at every scale a product can have."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from policylang.backends.vector.values import round_scaled
from policylang.runtime import MODES, round_money


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(values=st.lists(st.integers(-10 ** 15, 10 ** 15), min_size=1, max_size=20), scale=st.integers(0, 8),
       mode=st.sampled_from(sorted(MODES)))
def test_round_scaled_is_round_money(values, scale, mode):
    data = np.array(values, dtype=np.int64)
    rounded, bound = round_scaled(data, scale, 10 ** 15, mode, None)
    expected = [round_money(Decimal(v).scaleb(-scale), mode) for v in values]
    assert [Decimal(int(r)).scaleb(-2) for r in rounded] == expected
    assert all(abs(int(r)) <= bound for r in rounded)


def test_halves_on_both_sides():
    data = np.array([5, -5, 15, -15, 25, -25, 4, -4, 6, -6], dtype=np.int64)  # thousandths of a yuan
    half_up, _ = round_scaled(data, 3, 100, "half_up", None)
    assert half_up.tolist() == [1, -1, 2, -2, 3, -3, 0, 0, 1, -1]
    half_even, _ = round_scaled(data, 3, 100, "half_even", None)
    assert half_even.tolist() == [0, 0, 2, -2, 2, -2, 0, 0, 1, -1]
    down, _ = round_scaled(data, 3, 100, "down", None)
    assert down.tolist() == [0, 0, 1, -1, 2, -2, 0, 0, 0, 0]
    up, _ = round_scaled(data, 3, 100, "up", None)
    assert up.tolist() == [1, -1, 2, -2, 3, -3, 1, -1, 1, -1]
