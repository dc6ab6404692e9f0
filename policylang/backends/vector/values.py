"""A column of IR values over a batch, and the integer arithmetic that keeps it exact.

Numbers are int64 over a power of ten (`scale` decimal places): money in fen at scale 2, a rate at the
places its constants or its input domain need. `bound` is the largest absolute value the column can hold
at its scale, known from the IR and the input domains before any claim is read; an operation whose bound
could pass int64 raises Unvectorizable, so the policy runs on the scalar evaluator instead of wrapping.
`na` holds a reason id per row (0: the value is applicable), or None when no row can be not applicable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LIMIT = 2 ** 63 - 1


class Unvectorizable(Exception):
    """A construct the vectorized back end does not carry: the reason names it and where it is."""

    def __init__(self, what: str, span, why: str):
        where = f"{span.file}:{span.line}" if span is not None else "the policy"
        super().__init__(f"{what} at {where}: {why}")
        self.reason = str(self)


@dataclass
class V:
    kind: str  # num | bool | enum | date | text
    data: np.ndarray  # one value per row, or a 0-d array for a constant
    na: np.ndarray | None = None  # int32 reason id per row, 0 where applicable
    scale: int = 0  # num only: data is value × 10^scale
    bound: int = 0  # num only: |data| <= bound for every row
    exps: np.ndarray | None = None  # a numeric input: the Decimal exponent the claim wrote (5 → 0, 5.0 → −1)

    def rescaled(self, scale: int, span) -> np.ndarray:
        """The data at a larger scale, exactly (the bound is checked first)."""
        if scale == self.scale:
            return self.data
        if scale < self.scale:
            raise Unvectorizable("a value", span, f"has {self.scale} decimal places where {scale} are kept")
        factor = 10 ** (scale - self.scale)
        check(self.bound * factor, span, "aligning decimal places")
        return self.data * np.int64(factor)


def check(bound: int, span, what: str) -> int:
    if bound > LIMIT:
        raise Unvectorizable(what, span, f"an intermediate value can reach {bound}, past int64; "
                             "evaluated exactly by the scalar evaluator instead")
    return bound


def first_na(n: int, *values) -> np.ndarray | None:
    """The reason of the first operand that is not applicable, row by row (evaluation order)."""
    out = None
    for v in values:
        if v is None or v.na is None:
            continue
        out = v.na if out is None else np.where(out != 0, out, v.na)
    return out


def full(n: int, value, dtype) -> np.ndarray:
    return np.full(n, value, dtype=dtype)


def round_scaled(data: np.ndarray, scale: int, bound: int, mode: str, span, to: int = 2) -> tuple[np.ndarray, int]:
    """Round a value at `scale` places to `to` places exactly as runtime.round_money does (half up and
    up away from zero, down toward zero, half even): numpy's // floors, so work on the magnitude."""
    if scale <= to:
        factor = 10 ** (to - scale)
        return data * np.int64(factor), check(bound * factor, span, "rounding")
    d = 10 ** (scale - to)
    check(bound + d, span, "rounding")
    sign = np.sign(data)
    mag = np.abs(data)
    d64 = np.int64(d)
    if mode == "half_up":
        q = (mag + d64 // 2) // d64
    elif mode == "down":
        q = mag // d64
    elif mode == "up":
        q = (mag + (d64 - 1)) // d64
    elif mode == "half_even":
        q, r = np.divmod(mag, d64)
        twice = r * 2
        q = q + ((twice > d64) | ((twice == d64) & (q % 2 == 1)))
    else:
        raise ValueError(f"unknown rounding mode {mode}")
    return sign * q, bound // d + 1


class Reasons:
    """Reason texts interned as ids (0 means applicable), so a reason per row is one int32."""

    def __init__(self):
        self.texts: list = [None]
        self.ids: dict = {}

    def id(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.texts)
            self.texts.append(text)
        return found

    def per_row(self, keys: np.ndarray, make) -> np.ndarray:
        """Ids for rows whose reason is made from a per-row key (a day, values): one text per distinct key.
        Distinct keys are found by hashing (Arrow), the key columns packed into one int64 when they fit."""
        if keys.shape[0] == 0:
            return np.zeros(0, dtype=np.int32)
        table = keys.reshape(len(keys), -1).astype(np.int64)
        packed, shift = np.zeros(len(table), dtype=np.int64), 0
        for col in table.T:
            low = col.min()
            bits = int(col.max() - low).bit_length()
            if shift + bits > 62:
                packed = None
                break
            packed |= (col - low) << shift
            shift += bits
        if packed is None:
            uniq, inverse = np.unique(table, axis=0, return_inverse=True)
            firsts = [tuple(u) for u in uniq]
        else:
            encoded = pc.dictionary_encode(pa.array(packed))
            inverse = encoded.indices.to_numpy(zero_copy_only=False)
            first = np.full(len(encoded.dictionary), len(table), dtype=np.int64)
            np.minimum.at(first, inverse, np.arange(len(table)))
            firsts = [table[i] for i in first]
        one = keys.ndim == 1
        ids = np.array([self.id(make(k[0] if one else k)) for k in firsts], dtype=np.int32)
        return ids[np.asarray(inverse).reshape(-1)]

    def text(self, ids: np.ndarray) -> np.ndarray:
        return np.array(self.texts, dtype=object)[ids]
