"""Engine time only (no file I/O): the vectorized engine on N 绍兴 claims, against the scalar engine on a sample.

    PYTHONPATH=. python benchmarks/vector_engine_only.py [N] [policy]

Claims come from tests/vector_gen.py; the rows the edge refuses are dropped first (a refused row is read
again by ClaimReader for its exact message, which is the scalar cost), then the good rows are repeated
with fresh person ids up to N. Times are CPU seconds of this process (the machine is shared: wall time
is not the engine's), for text columns as a CSV gives them and again with money as decimal128 columns as a
Parquet file gives them. Prints; asserts nothing about time.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policylang.batch.scalar import ScalarEngine
from policylang.backends.vector import compile_engine
from policylang.pipeline import load_policy
from tests.vector_gen import table


def claims(policy, n: int) -> pa.Table:
    base, rows = table(policy, 20000, seed=7, persons=4000)
    engine = compile_engine(policy)
    bad = {r.row for r in engine.evaluate(base, rows).rejects}
    keep = np.array([i for i, r in enumerate(rows.tolist()) if r not in bad])
    good = base.take(pa.array(keep))
    parts, made = [], 0
    copy = 0
    while made < n:
        part = good.slice(0, min(good.num_rows, n - made))
        person = pc.binary_join_element_wise(part.column(policy.person), pa.scalar(f"-{copy}"), "")
        parts.append(part.set_column(part.schema.get_field_index(policy.person), policy.person, person))
        made += part.num_rows
        copy += 1
    return pa.concat_tables(parts).combine_chunks()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    policy = load_policy(sys.argv[2] if len(sys.argv) > 2 else "policies/shaoxing-2024.pol")
    claims_table = claims(policy, n)
    rows = np.arange(2, n + 2, dtype=np.int64)
    engine = compile_engine(policy)
    print(f"engine: {engine.name} {engine.fallback or ''}")
    money = [name for name, inp in policy.inputs.items() if inp.type.name == "money" and name in claims_table.column_names]
    typed = claims_table
    for name in money:
        typed = typed.set_column(typed.schema.get_field_index(name), name,
                                 pc.cast(typed.column(name), pa.decimal128(20, 2)))
    for label, data in (("text columns", claims_table), ("decimal money", typed)):
        start = time.process_time()
        out = engine.evaluate(data, rows)
        took = time.process_time() - start
        print(f"vectorized, {label}: {n} claims in {took:.3f} CPU s ({n / took:,.0f} claims/s), "
              f"{out.results.num_rows} results, {len(out.rejects)} rejects")
    sample = min(n, 20000)
    start = time.process_time()
    ScalarEngine(policy).evaluate(claims_table.slice(0, sample), rows[:sample])
    scalar = (time.process_time() - start) / sample
    print(f"scalar (compiled, {sample} claims): {scalar * 1e6:.1f} µs per claim; vectorized "
          f"{took / n * 1e6:.2f} µs per claim ({scalar / (took / n):.0f}×)")


if __name__ == "__main__":
    main()
