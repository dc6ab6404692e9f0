"""Claims in bulk: the batch engine next to the compiled scalar evaluator, a hand-written numpy kernel and an
OpenFisca model of the same 绍兴 rules, on the same synthetic claims, then 淄博 streamed end to end.

Why this exists: issue 14's targets, measured side by side in one run on this machine:
  - engine_for(绍兴) vs the compiled scalar evaluator, per claim, at 1M claims      target ≥ 30×
  - engine_for(绍兴) vs numpy_shaoxing.py (the same rules by hand, cap included)    target ≤ 2× its time
  - engine_for(绍兴) vs openfisca_shaoxing.py (OpenFisca, float)                    target ≥ 20× faster,
    and how many claims OpenFisca's floats pay differently by a fen or more
  - 10M claims of 淄博 (the longest stage chain), `policylang eval --claims X.parquet --out Y.parquet` in a
    fresh process: wall time and peak RSS                                           target < 60 s, < 1 GB
Before timing, the numpy kernel must agree with policylang claim for claim (applicable and 统筹支付 in fen);
a difference stops the script. Timings are only reported, never asserted. Until the vectorized back end is
installed, engine_for is the scalar engine and says so; the figures then show the gap this issue closes.

Run:  make bench   or   .venv/bin/python benchmarks/bench_batch.py [--claims N] [--big N] [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import numpy_shaoxing  # noqa: E402

SHAOXING = ROOT / "policies" / "shaoxing-2024.pol"
ZIBO = ROOT / "policies" / "zibo-2023.pol"
TARGETS = {"scalar": 30.0, "numpy": 2.0, "openfisca": 20.0, "seconds": 60.0, "rss_mb": 1024.0}


def timed(fn, repeat: int = 1):
    """(best CPU seconds of `repeat` runs, the last result). CPU, not wall: this machine is shared, and the
    wall time of a run depends on what else runs (the big run below reports both)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        result = fn()
        best = min(best, time.process_time() - started)
    return best, result


def engine_pass(policy, table, batch_size: int):
    """Every claim through engine_for's engine, a batch at a time with each person whole (run.Driver):
    (engine, seconds, applicable, 统筹支付 in fen or -1)."""
    from policylang.batch.columns import normalise
    from policylang.batch.engines import engine_for
    from policylang.batch.run import Driver

    engine = engine_for(policy)
    applicable = np.zeros(len(table), dtype=bool)
    pay = np.full(len(table), -1, dtype=np.int64)

    def keep(part, rows):
        out = engine.evaluate(part, rows)
        at = out.results.column("row").to_numpy() - 1
        applicable[at] = out.results.column("applicable").to_numpy(zero_copy_only=False)
        fen = numpy_shaoxing.fen_column(out.results.column("out.统筹支付"))
        pay[at] = fen
        if out.rejects:
            raise SystemExit(f"FAIL: the engine refused {len(out.rejects)} synthetic claims: {out.rejects[:3]}")

    def run():
        driver = Driver(policy, engine, keep, "bench")
        for start in range(0, len(table), batch_size):
            part = normalise(table.slice(start, batch_size), policy)
            driver.feed(part, np.arange(start + 1, start + len(part) + 1, dtype=np.int64))
        driver.close()

    seconds, _ = timed(run)
    return engine, seconds, applicable, pay


def read_and_evaluate(engine, table):
    """The vectorized back end from the file's columns to each claim's amounts, as the kernels are timed:
    the file's types made the edge's (columns.normalise), the claim edge (every rule of ClaimReader,
    column-wise) and the year-to-dates (rank passes, guess and check), over the whole table in
    one piece; no result table. (applicable, 统筹支付 in fen or -1)."""
    from policylang.backends.vector import passes
    from policylang.backends.vector.values import Reasons
    from policylang.batch.columns import normalise

    n = len(table)
    edge = engine.edge.read(normalise(table, engine.policy), np.arange(1, n + 1, dtype=np.int64))
    res = passes.run(engine.plan, edge.inputs, np.flatnonzero(edge.valid), n, Reasons())
    data, na = res.out["统筹支付"]
    paid = res.applicable & (na == 0)
    return res.applicable, np.where(paid, data * 10 ** (2 - res.out_scale["统筹支付"]), -1)


def long_years(engine, table, busiest: int) -> tuple[float, float]:
    """(CPU seconds with guess and check, with the rank passes alone; best of 3) for the first 100k claims of `table`
    in which one person has `busiest` claims in 2024: a pass per claim of the longest year, or a few rounds
    (docs/vectorized.md, "Long years"). Both must give the same amounts, else the script stops."""
    import pyarrow as pa
    from policylang.backends.vector import settle

    part = table.slice(0, 100_000)
    person = np.array(part.column("psn_no").to_pylist(), dtype=object)
    days = part.column("begntime").cast(pa.int32()).to_numpy().copy()
    person[:busiest] = "BUSIEST"
    days[:busiest] = np.datetime64("2024-01-01", "D").astype(np.int64) + (np.arange(busiest) * 366) // busiest
    part = part.set_column(part.schema.get_field_index("psn_no"), "psn_no", pa.array(person.tolist()))
    part = part.set_column(part.schema.get_field_index("begntime"), "begntime",
                           pa.array(days.astype(np.int32)).cast(pa.date32()))
    rounds_s, rounds = timed(lambda: read_and_evaluate(engine, part), repeat=3)
    saved, settle.RANKED = settle.RANKED, 1 << 62
    try:
        ranks_s, ranks = timed(lambda: read_and_evaluate(engine, part), repeat=3)
    finally:
        settle.RANKED = saved
    if not all(np.array_equal(a, b) for a, b in zip(rounds, ranks)):
        raise SystemExit("FAIL: guess and check and the rank passes differ")
    return rounds_s, ranks_s


def compiled_pass(policy, table, sample: int) -> float:
    """µs per claim of the compiled evaluator alone (claims already read by the edge) on the first `sample`."""
    from policylang.claims import ClaimReader, Record
    from policylang.evaluators import run_claims

    reader = ClaimReader(policy)
    claims = []
    for record in table.slice(0, sample).to_pylist():
        raw = Record((k, v.isoformat() if hasattr(v, "isoformat") else v) for k, v in record.items() if v is not None)
        claim, errors = reader.read(raw, "bench")
        if claim is not None:
            claims.append(claim)
    seconds, _ = timed(lambda: run_claims(policy, claims, "compiled"))
    return seconds / len(claims) * 1e6


def big_run(n: int, folder: Path, batch_size: int) -> tuple[float, float, float, float, str]:
    """(synth CPU seconds, eval wall seconds, eval CPU seconds, eval peak RSS in MB, the summary) for n 淄博
    claims, Parquet → Parquet, in a fresh process."""
    from policylang.batch.synth import synthesize
    from policylang.pipeline import load_policy

    claims, out = folder / "zibo.parquet", folder / "zibo-results.parquet"
    synth_s, _ = timed(lambda: synthesize(load_policy(str(ZIBO)), n, 11, claims))
    command = [str(Path(sys.executable).with_name("policylang")), "eval", str(ZIBO), "--claims", str(claims),
               "--out", str(out), "--quiet", "--batch-size", str(batch_size)]
    started = time.perf_counter()
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    peak = [0]
    watcher = threading.Thread(target=_watch_peak, args=(child.pid, peak), daemon=True)
    watcher.start()
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    watcher.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"FAIL: policylang eval exited {os.waitstatus_to_exitcode(status)}\n{stderr}")
    return synth_s, wall, usage.ru_utime + usage.ru_stime, peak[0] / 1024, stderr.strip()


def _watch_peak(pid: int, peak: list) -> None:
    """The child's VmHWM (peak RSS of its own program, in KB), read until it exits. wait4's ru_maxrss is not
    used: on Linux it counts the RSS of the forked copy of this process before exec, which is this script's."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak[0] = max(peak[0], int(line.split()[1]))
        if "State:\tZ" in text:
            return
        time.sleep(0.05)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--claims", type=int, default=1_000_000, help="绍兴 claims for the side-by-side (1M)")
    parser.add_argument("--big", type=int, default=10_000_000, help="淄博 claims streamed end to end (10M; 0: skip)")
    parser.add_argument("--scalar-sample", type=int, default=100_000,
                        help="claims the compiled scalar evaluator is timed on (per claim)")
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--no-openfisca", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20k claims, 50k streamed")
    args = parser.parse_args(argv)
    if args.quick:
        args.claims, args.big, args.scalar_sample = 20_000, 50_000, 5_000

    from policylang.batch.synth import synthesize
    from policylang.pipeline import load_policy

    policy = load_policy(str(SHAOXING))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = Path(tmp)
        path = folder / "shaoxing.parquet"
        synth_s, _ = timed(lambda: synthesize(policy, args.claims, 1, path))
        table = pq.read_table(path)
        n = len(table)
        print(f"绍兴: {n} synthetic claims (synth {synth_s:.1f} s CPU); times below are CPU\n")

        engine, engine_s, applicable, pay = engine_pass(policy, table, args.batch_size)
        label = engine.name + (f" ({engine.fallback})" if engine.fallback else "")
        whole = table.combine_chunks()  # what the stage-A timings below all start from
        columns = numpy_shaoxing.columns(whole)
        kernel = numpy_shaoxing.evaluate(columns)
        expected = np.where(kernel["applicable"], kernel["pay"], -1)
        differ = int((kernel["applicable"] != applicable).sum() + (expected != np.where(applicable, pay, -1)).sum())
        if differ:
            raise SystemExit(f"FAIL: the numpy kernel and policylang differ on {differ} claims")
        print(f"verified: numpy_shaoxing equals policylang on all {n} claims (applicable, 统筹支付 to the fen)")

        # stage A: the same Arrow table in, each claim's applicability and 统筹支付 out, best of 3
        kernel_s, _ = timed(lambda: numpy_shaoxing.evaluate(numpy_shaoxing.columns(whole)), repeat=3)
        vector_s, amounts = (None, None) if engine.name != "vectorized" else \
            timed(lambda: read_and_evaluate(engine, whole), repeat=3)
        if amounts is not None and not (np.array_equal(amounts[0], applicable)
                                        and np.array_equal(amounts[1], np.where(applicable, pay, -1))):
            raise SystemExit("FAIL: the vectorized back end in one piece differs from its batched run")
        sample = min(args.scalar_sample, n)
        scalar_us = compiled_pass(policy, table, sample)
        engine_us = engine_s / n * 1e6
        vector_us = vector_s / n * 1e6 if vector_s else engine_us
        rows = [("A  vectorized: claim edge + year-to-dates", vector_us),
                ("A  numpy_shaoxing.py: its column reads + kernel", kernel_s / n * 1e6)]
        differs_fen = None
        if not args.no_openfisca:
            import openfisca_shaoxing

            of_s, of_pay = timed(lambda: openfisca_shaoxing.simulate(numpy_shaoxing.columns(whole)))
            of_fen = np.where(of_pay < 0, -1, np.rint(of_pay.astype(np.float64) * 100)).astype(np.int64)
            exact = np.where(applicable, pay, -1)
            paid = exact >= 0
            differs_fen = int((np.abs(of_fen[paid] - exact[paid]) >= 1).sum() + ((of_fen >= 0) != paid).sum())
            rows.append(("A  openfisca_shaoxing.py: column reads + OpenFisca (float32)", of_s / n * 1e6))
        rows += [(f"   compiled scalar evaluator alone (first {sample} claims, already read)", scalar_us),
                 (f"B  engine_for ({label}): raw batches → result table, as eval --out", engine_us),
                 ("   numpy_shaoxing.py kernel alone (columns already numpy)", timed(
                     lambda: numpy_shaoxing.evaluate(columns), repeat=3)[0] / n * 1e6)]
        width = max(len(name) for name, _ in rows)
        print(f"\n{'':{width}} {'µs/claim':>10} {'s total':>9}")
        for name, us in rows:
            print(f"{name:{width}} {us:>10.3f} {us * n / 1e6:>9.3f}")
        print("\nA: the same Arrow table in, each claim's amounts out (numpy); B: the whole eval --out path"
              " but the file\n")
        vs_scalar = scalar_us / vector_us
        vs_numpy = vector_us / (kernel_s / n * 1e6)
        print(f"target: compiled scalar / vectorized (A) ≥ {TARGETS['scalar']:g}×   measured {vs_scalar:8.2f}×  "
              f"{verdict(vs_scalar >= TARGETS['scalar'])}   (result table included, B: {scalar_us / engine_us:.2f}×)")
        print(f"target: vectorized / numpy kernel (A) ≤ {TARGETS['numpy']:g}×        measured {vs_numpy:8.2f}×  "
              f"{verdict(vs_numpy <= TARGETS['numpy'])}")
        if differs_fen is not None:
            vs_of = (of_s / n * 1e6) / vector_us
            print(f"target: OpenFisca / vectorized (A) ≥ {TARGETS['openfisca']:g}×          measured {vs_of:8.2f}×  "
                  f"{verdict(vs_of >= TARGETS['openfisca'])}")
            of_kernel = of_s / kernel_s
            print(f"  OpenFisca / numpy kernel (A) = {of_kernel:.2f}×: meeting ≥ {TARGETS['openfisca']:g}× needs the "
                  f"vectorized back end at {of_kernel / TARGETS['openfisca']:.2f}× the hand-written kernel's time")
            print(f"OpenFisca's 统筹支付 differs from the exact amount by ≥ 1 fen on {differs_fen} of {n} claims "
                  f"({int(paid.sum())} paid by the fund)")
        if engine.name == "vectorized":
            print(f"\nlong years: the first {min(n, 100_000):,} claims, of which one person's N fall in 2024 (A, CPU)")
            for busiest in (1_000, 10_000):
                if busiest < n:
                    rounds_s, ranks_s = long_years(engine, whole, busiest)
                    print(f"  N = {busiest:>6}: guess and check {rounds_s:.3f} s, rank passes alone {ranks_s:.3f} s "
                          f"({ranks_s / rounds_s:.1f}×)")
        if args.big:
            synth_big, wall, cpu, rss, summary = big_run(args.big, folder, args.batch_size)
            print(f"\n淄博: {args.big} claims, Parquet → Parquet (synth {synth_big:.1f} s CPU); "
                  f"eval {wall:.1f} s wall, {cpu:.1f} s CPU")
            print("\n".join("  " + line for line in summary.splitlines()))
            print(f"target: wall < {TARGETS['seconds']:g} s   measured {wall:8.1f} s   {verdict(wall < TARGETS['seconds'])}")
            print(f"target: peak RSS < {TARGETS['rss_mb']:g} MB  measured {rss:8.0f} MB  "
                  f"{verdict(rss < TARGETS['rss_mb'])}")


if __name__ == "__main__":
    sys.exit(main())
