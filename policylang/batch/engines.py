"""Which batch engine evaluates a policy: the vectorized back end when it is installed, else the scalar one.

The choice is never silent: a scalar engine carries the reason it is used (`fallback`), which the run's
summary prints. The vectorized back end (policylang/backends/vector.py) may itself hand back a scalar engine
for a policy it cannot carry, with its own reason.
"""
from __future__ import annotations

import importlib

from policylang import ir
from policylang.batch.contract import Engine
from policylang.batch.scalar import ScalarEngine

VECTOR_MODULE = "policylang.backends.vector"
NOT_INSTALLED = "the vectorized back end is not installed"


def engine_for(policy: ir.Policy) -> Engine:
    """The engine a batch run of `policy` uses (vectorized when possible; the scalar fallback says why not)."""
    try:
        vector = importlib.import_module(VECTOR_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != VECTOR_MODULE:  # the module exists but something it imports does not: a real error
            raise
        return ScalarEngine(policy, fallback=NOT_INSTALLED)
    return vector.compile_engine(policy)
