"""The checker asks the solver the same questions in every process.

Within its budget the solver's verdict depends on the order of its assertions, so anything that
iterates a set of names while building goals makes `policylang check` prove a goal in one run and
leave it undecided in the next (it did: the accumulators proved never negative were a set). Python
orders sets of strings by PYTHONHASHSEED; this runs the checker under three seeds and compares a
digest of every formula it handed to the solver, in order.
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import hashlib, sys, z3
import policylang.check as check
from policylang.pipeline import load_policy

digest = hashlib.sha256()
solve = check.decide

def recording(formulas, timeout_ms, *args):
    solver = z3.Solver()
    solver.add(*formulas)
    digest.update(solver.sexpr().encode())
    return solve(formulas, timeout_ms, *args)

check.decide = recording
report = check.check_policy(load_policy(sys.argv[1]), 2.0)
print(digest.hexdigest(), [r.status for r in report.results])
"""


def _digest(policy: Path, seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(policy)], env=env, capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return done.stdout


def test_same_solver_questions_under_every_hash_seed():
    policy = ROOT / "policies" / "zhejiang-2022-outpatient.pol"  # two accumulators, both proved never negative
    runs = {seed: _digest(policy, seed) for seed in ("0", "1", "2")}
    assert len(set(runs.values())) == 1, runs
