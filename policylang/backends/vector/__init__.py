"""The vectorized back end: columns in, columns out, one numpy operation per IR node over a batch.

`compile_engine(policy)` gives a VectorEngine, or, when some construct cannot be carried exactly in int64
columns, the scalar engine with the reason (`fallback`), named at compile time: never a wrong number.
docs/vectorized.md explains the representation (fen, scales, bounds, rounding) and the rank passes.
"""
from __future__ import annotations

from policylang import ir
from policylang.batch.scalar import ScalarEngine
from policylang.backends.vector.engine import VectorEngine
from policylang.backends.vector.plan import compile_plan
from policylang.backends.vector.values import Unvectorizable


def compile_engine(policy: ir.Policy, source: str = "claims"):
    try:
        plan = compile_plan(policy)
    except Unvectorizable as exc:
        return ScalarEngine(policy, fallback=exc.reason, source=source)
    return VectorEngine(policy, plan, source)


__all__ = ["VectorEngine", "compile_engine", "Unvectorizable"]
