"""How long does `policylang check` take on each policy, and which checks cost the time?

Why this exists: `policylang check` runs in CI on every change to a policy, so the whole
run should stay under 10 s (target) on a laptop or a CI runner. This script runs the
checker on every policy in policies/ and on tests/policies/constructs.pol (the policy that
uses every construct), and prints for each policy:

  - the wall time of the whole check (load + encode + solve + counterexamples), and the sum
    of the per-check times the report shows in its header line (Result.seconds: the solver
    calls only, so it is smaller);
  - a table of every check: rule id, name, status and seconds (Result.seconds), slowest first.

Then, side by side for each policy, wall and CPU seconds of the check with every rule encoded
afresh in every run and with the shared encodings (backends/memo.py), and their ratio; and it
runs the real command (`policylang check PATHS`, a new Python process: start-up, imports and Z3
included) with `--jobs 1` and with the default (one worker per CPU), wall and CPU (the workers'
included), and says whether the default run is under the target. CPU is the figure to compare
on a machine others share: wall time there depends on their load. Timings are only reported,
never asserted: a benchmark measures, it does not fail.
Findings are expected on some inputs (constructs.pol has a table gap on purpose) and are
counted, not treated as errors.

Run:  .venv/bin/python benchmarks/bench_check.py [--timeout S] [--no-cli] [--no-compare] [PATH ...]
"""
from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = [ROOT / "policies", ROOT / "tests" / "policies" / "constructs.pol"]
TARGET_SECONDS = 10.0  # the whole `policylang check` run


def policy_paths(paths: list[Path]) -> list[Path]:
    from policylang.pipeline import policy_files

    return [Path(p) for p in policy_files([str(p) for p in paths])]


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    """Left-align text in a fixed-width column, counting CJK characters as two columns."""
    return text + " " * max(columns - width(text), 0)


def clip(text: str, columns: int) -> str:
    if width(text) <= columns:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > columns - 1:
            break
        out += ch
    return out + "…"


def shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def bench_policy(path: Path, timeout: float) -> tuple[float, list]:
    """Load and check one policy in this process; the wall time and its results."""
    from policylang.check import check_policy
    from policylang.pipeline import load_policy

    started = time.perf_counter()
    report = check_policy(load_policy(str(path)), timeout)
    return time.perf_counter() - started, report.results


def timed_check(path: Path, timeout: float, shared: bool) -> tuple[float, float]:
    """Wall and CPU seconds of one policy's check, with or without the shared encodings."""
    from policylang.backends.memo import CachedRun
    from policylang.check import check_policy
    from policylang.pipeline import load_policy

    policy = load_policy(str(path))
    CachedRun.enabled = shared
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        check_policy(policy, timeout)
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        CachedRun.enabled = True


def print_comparison(files: list[Path], timeout: float) -> None:
    """Each policy checked with every rule encoded afresh and with the shared encodings, side by side."""
    print("encoding each rule once per kind of run (backends/memo.py): seconds afresh → shared (ratio)")
    print(f"  {pad('policy', 44)} {'wall':>24} {'CPU':>24}")
    totals = [0.0, 0.0, 0.0, 0.0]
    for path in files:
        fresh = timed_check(path, timeout, shared=False)
        shared = timed_check(path, timeout, shared=True)
        totals = [t + x for t, x in zip(totals, (*fresh, *shared))]
        print(f"  {pad(shown_path(path), 44)} {side_by_side(fresh[0], shared[0]):>24} {side_by_side(fresh[1], shared[1]):>24}")
    print(f"  {pad('all', 44)} {side_by_side(totals[0], totals[2]):>24} {side_by_side(totals[1], totals[3]):>24}\n")


def side_by_side(before: float, after: float) -> str:
    return f"{before:6.2f} → {after:6.2f} ({after / before if before else 0:4.2f})"


def print_policy(path: Path, wall: float, results: list) -> None:
    from policylang.check import RULES

    solver = sum(r.seconds for r in results)
    findings = [r for r in results if r.is_finding]
    print(f"{shown_path(path)}: {len(results)} checks, {len(findings)} finding(s); "
          f"wall {wall:.2f} s (checks' own seconds: {solver:.2f} s)")
    header = f"  {'id':<6} {pad('check', 20)} {pad('name', 62)} {'status':<15} {'seconds':>8}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in sorted(results, key=lambda r: r.seconds, reverse=True):
        print(f"  {r.rule:<6} {pad(RULES[r.rule][0], 20)} {pad(clip(r.name, 62), 62)} {r.status:<15} "
              f"{r.seconds:>8.3f}")
    print()


def run_cli(paths: list[Path], timeout: float, jobs: int | None = None) -> tuple[float, float, int]:
    """The real command in a fresh process, as CI runs it; its wall time, CPU time (its workers' included)
    and exit code."""
    command = [sys.executable, "-c", "from policylang.cli import main; main()", "check",
               "--timeout", str(timeout), *(["--jobs", str(jobs)] if jobs else []), *[str(p) for p in paths]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="policies or folders (default: policies/ and tests/policies/constructs.pol)")
    parser.add_argument("--timeout", type=float, default=10.0, help="solver seconds per check (as check --timeout)")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end `policylang check` runs")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip checking each policy again with every rule encoded afresh")
    args = parser.parse_args(argv)

    import z3

    files = policy_paths(args.paths or DEFAULT_PATHS)
    if not files:
        raise SystemExit("no .pol files found")
    print(f"Python {platform.python_version()} ({platform.python_implementation()}); Z3 {z3.get_version_string()}; "
          f"--timeout {args.timeout:g} s per check\n")

    from policylang.diagnostics import DiagnosticError, render_all

    total, checked = 0.0, []
    for path in files:
        try:
            wall, results = bench_policy(path, args.timeout)
        except DiagnosticError as exc:  # a policy with errors: `policylang check` would exit 2
            print(f"{shown_path(path)}: not checked, the policy has errors:\n{render_all(exc.diagnostics)}\n")
            continue
        total += wall
        checked.append(path)
        print_policy(path, wall, results)

    def verdict(seconds: float) -> str:
        return "under the target" if seconds < TARGET_SECONDS else "NOT under the target"

    print(f"in process: {len(checked)} of {len(files)} polic{'y' if len(files) == 1 else 'ies'} checked in {total:.2f} s "
          f"(target < {TARGET_SECONDS:g} s: {verdict(total)})")
    if not args.no_compare:
        print()
        print_comparison(checked, args.timeout)
    if not args.no_cli:
        from policylang.workers import cpus

        shown = " ".join(shown_path(p) for p in files)
        one_wall, one_cpu, _ = run_cli(files, args.timeout, jobs=1)
        wall, cpu, code = run_cli(files, args.timeout)
        print(f"end to end: `policylang check {shown}`, one policy at a time → one worker per CPU ({cpus()}): "
              f"wall {side_by_side(one_wall, wall)}, CPU {side_by_side(one_cpu, cpu)}")
        print(f"  exit {code}; wall {wall:.2f} s (target < {TARGET_SECONDS:g} s: {verdict(wall)})")


if __name__ == "__main__":
    sys.exit(main())
