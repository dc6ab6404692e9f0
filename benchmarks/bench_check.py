"""How long does `policylang check` take on each policy, and which checks cost the time?

Why this exists: `policylang check` runs in CI on every change to a policy, so the whole
run should stay under 10 s (target) on a laptop or a CI runner. This script runs the
checker on every policy in policies/ and on tests/policies/constructs.pol (the policy that
uses every construct), and prints for each policy:

  - the wall time of the whole check (load + encode + solve + counterexamples), and the sum
    of the per-check times the report shows in its header line (Result.seconds: the solver
    calls only, so it is smaller);
  - a table of every check: rule id, name, status and seconds (Result.seconds), slowest first.

Then it runs the real command (`policylang check PATHS`, a new Python process: start-up,
imports and Z3 included) once over all of them, and says whether that run is under the
target. Timings are only reported, never asserted: a benchmark measures, it does not fail.
Findings are expected on some inputs (constructs.pol has a table gap on purpose) and are
counted, not treated as errors.

Run:  .venv/bin/python benchmarks/bench_check.py [--timeout S] [--no-cli] [PATH ...]
"""
from __future__ import annotations

import argparse
import platform
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


def run_cli(paths: list[Path], timeout: float) -> tuple[float, int]:
    """The real command in a fresh process, as CI runs it; its wall time and exit code."""
    command = [sys.executable, "-c", "from policylang.cli import main; main()", "check",
               "--timeout", str(timeout), *[str(p) for p in paths]]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - started, done.returncode


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="policies or folders (default: policies/ and tests/policies/constructs.pol)")
    parser.add_argument("--timeout", type=float, default=10.0, help="solver seconds per check (as check --timeout)")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end `policylang check` run")
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
    if not args.no_cli:
        wall, code = run_cli(files, args.timeout)
        print(f"end to end: `policylang check {' '.join(shown_path(p) for p in files)}` took {wall:.2f} s, "
              f"exit {code} (target < {TARGET_SECONDS:g} s: {verdict(wall)})")


if __name__ == "__main__":
    sys.exit(main())
