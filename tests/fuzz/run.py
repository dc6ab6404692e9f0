"""Run the fuzzer: `python -m tests.fuzz.run -n 1000 [--jobs 2]` (or `--seconds 50`), from the repository root.

Each input (tests/fuzz/mutate.py) goes through every command (tests/fuzz/harness.py); an internal error
is minimised and saved to tests/fuzz/corpus/ (or --corpus DIR), which tests/test_fuzz_corpus.py replays.
Prints the figures at the end: inputs, how far they got, time, internal errors. Exit 1 if any.
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

from tests.fuzz import corpus, harness, mutate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=None, help="inputs to run (default: until --seconds)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--seed", type=int, default=None, help="the run's seed (printed; default: from the clock)")
    parser.add_argument("--charts", type=float, default=0.02, help="share of inputs whose docs draw the chart")
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS)
    parser.add_argument("--report-every", type=int, default=1000)
    parser.add_argument("--each-alone", action="store_true",
                        help="run every input in its own directory, no IR dedupe or remembered parses (slower)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes, one per core: job i takes seed + i and its share of -n (figures summed)")
    args = parser.parse_args(argv)
    if args.n is None and args.seconds is None:
        parser.error("give -n N or --seconds S")
    seed = args.seed if args.seed is not None else int(time.time())
    if args.jobs > 1:
        return _jobs(args, seed)
    return _one(args, seed)[0]


def _one(args, seed) -> tuple:
    rng = random.Random(seed)
    print(f"fuzz: seed {seed}", flush=True)
    with harness.Session(dedupe=not args.each_alone) as session:
        return _loop(args, rng, session, seed)


def _job(args, seed, n) -> tuple:
    args = argparse.Namespace(**{**vars(args), "n": n, "jobs": 1})
    return _one(args, seed)


def _jobs(args, seed) -> int:
    """The run split over processes (inputs and seeds apart; each saves what it finds in the same corpus)."""
    from concurrent.futures import ProcessPoolExecutor

    shares = [None] * args.jobs if args.n is None else \
        [args.n // args.jobs + (1 if i < args.n % args.jobs else 0) for i in range(args.jobs)]
    start = time.monotonic()
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(_job, [args] * args.jobs, [seed + i for i in range(args.jobs)], shares))
    reached = sum((r for _, r, _ in done), collections.Counter())
    signatures = {s for _, _, found in done for s in found}
    count, elapsed = sum(reached.values()), time.monotonic() - start
    print(f"fuzz: all {args.jobs} jobs: seeds {seed}..{seed + args.jobs - 1}, {count} inputs in {elapsed:.0f} s "
          f"({count / max(elapsed, 1e-9):.1f}/s), {reached['internal error']} internal errors, {len(signatures)} "
          f"distinct; {reached['docs']} through every command", flush=True)
    return 1 if signatures else 0


def _loop(args, rng, session, seed) -> tuple:
    start, count, reached = time.monotonic(), 0, collections.Counter()
    signatures: dict = {}
    while (args.n is None or count < args.n) and (args.seconds is None or time.monotonic() - start < args.seconds):
        case = mutate.generate(rng)
        stage, failure = harness.outcome(case, charts=rng.random() < args.charts, session=session)
        count += 1
        reached["internal error" if failure else stage] += 1
        if failure and failure.signature not in signatures:
            small = corpus.minimise(case, failure)
            path = corpus.save(small, failure, args.corpus)
            signatures[failure.signature] = path
            print(f"fuzz: input {count}: {failure.signature}: {failure.message}\n  saved {path}", flush=True)
        elif failure:
            print(f"fuzz: input {count}: {failure.signature} again", flush=True)
        if count % args.report_every == 0:
            print(f"fuzz: {count} inputs, {time.monotonic() - start:.0f} s, {dict(reached)}", flush=True)
    elapsed = time.monotonic() - start
    print(f"fuzz: done: seed {seed}, {count} inputs in {elapsed:.0f} s ({count / max(elapsed, 1e-9):.1f}/s), "
          f"{reached['internal error']} internal errors, {len(signatures)} distinct; "
          f"{reached['docs']} through every command, {reached['same IR']} with the IR of an earlier one, "
          f"{reached['diagnostic']} stopped at a diagnostic", flush=True)
    return (1 if signatures else 0), reached, sorted(signatures)


if __name__ == "__main__":
    sys.exit(main())
