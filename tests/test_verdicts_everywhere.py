"""The same file and budget give the same verdicts in every command and every process.

`policylang docs` once proved a goal that `check` left undecided at the same --timeout: the solver's
answer followed what the process had asked before (Z3's global context numbers terms in creation
order) and the wall clock. Here one policy is checked by `check` in fresh processes under different
hash seeds, by the docs builder in a process that first checked other policies, and compared to the
last detail (status, message, counterexample); `diff` likewise, fresh and after other work (before each
question had its own context, the diff after two checks showed other claims and one change "at the
search bound of 1000万元").
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = "policies/zhoushan-2023.pol"
BASELINE = "policies/zhoushan-2023-baseline.pol"

CHECK = r"""
import json, sys
from policylang.check import check_policy
from policylang.pipeline import load_policy
from policylang.report import as_json
print(as_json([check_policy(load_policy(sys.argv[1]), 10.0)]))
"""

# The docs builder after two other policies were checked in the same process (as `docs policies/` does).
DOCS = r"""
import sys
import policylang.publish.site as site
from policylang.check import check_policy
from policylang.pipeline import load_policy
from policylang.report import as_json
for other in ("policies/shaoxing-2024.pol", "policies/zhejiang-2022-outpatient.pol"):
    check_policy(load_policy(other), 10.0)
reports = []
import policylang.check as check
original = check.check_policy
def recording(*args, **kwargs):
    report = original(*args, **kwargs)
    reports.append(report)
    return report
check.check_policy = recording
site.build_pages([load_policy(sys.argv[1])], check=True, timeout=10.0, charts=False)
print(as_json(reports))
"""

DIFF = r"""
import sys
from policylang.cli import main
if sys.argv[3] == "after-other-work":
    from policylang.check import check_policy
    from policylang.pipeline import load_policy
    for other in ("policies/shaoxing-2024.pol", "policies/zhejiang-2022-outpatient.pol"):
        check_policy(load_policy(other), 10.0)
main(["diff", sys.argv[1], sys.argv[2]])
"""


def _run(script: str, *args: str, seed: str = "0") -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def _verdicts(output: str) -> list:
    """Every result with everything but its wall time."""
    return [{k: v for k, v in item.items() if k != "seconds"} for report in json.loads(output)
            for item in report["results"]]


def test_check_and_docs_give_the_same_verdicts_in_any_process():
    first = _verdicts(_run(CHECK, POLICY, seed="1"))
    assert first and all(r["status"] == "proved" or r["status"] == "not-applicable" for r in first)
    assert _verdicts(_run(CHECK, POLICY, seed="2")) == first
    assert _verdicts(_run(DOCS, POLICY, seed="3")) == first


def test_diff_gives_the_same_report_fresh_and_after_other_work():
    fresh = _run(DIFF, BASELINE, POLICY, "fresh", seed="1")
    assert "nobody's fund payment falls" in fresh
    assert _run(DIFF, BASELINE, POLICY, "after-other-work", seed="2") == fresh
