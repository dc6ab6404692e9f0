"""Every policy's examples pass, through the interpreter and the compiled evaluator alike."""
import shutil
from pathlib import Path

import pytest

from policylang.pipeline import load_policy, policy_files
from policylang.testing import run_examples

ROOT = Path(__file__).resolve().parent.parent
POLICIES = policy_files([ROOT / "policies", ROOT / "tests" / "policies"])


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_examples_pass(path):
    policy = load_policy(path)
    assert policy.examples, "every policy carries worked examples"
    failures = [(r.example.name, s.number, str(p)) for r in run_examples(policy) for s in r.steps for p in s.problems]
    assert not failures


def test_shaoxing_has_at_least_ten_examples_and_reaches_the_cap():
    policy = load_policy(ROOT / "policies" / "shaoxing-2024.pol")
    assert len(policy.examples) >= 10
    assert any(len(e.steps) > 1 for e in policy.examples)


def test_a_wrong_expectation_fails(tmp_path):
    text = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    (tmp_path / "policies").mkdir()
    shutil.copytree(ROOT / "guidelines", tmp_path / "guidelines")  # 绍兴 conforms to ../guidelines/…
    bad = tmp_path / "policies" / "bad.pol"
    bad.write_text(text.replace("统筹支付 = 650元 }", "统筹支付 = 651元 }", 1), encoding="utf-8")
    results = run_examples(load_policy(bad, root=tmp_path))  # no repository here: the copy is the root
    failed = [r for r in results if not r.passed]
    assert len(failed) == 1
    mismatch = failed[0].steps[0].mismatches[0]
    assert (mismatch.name, mismatch.expected, mismatch.actual) == ("统筹支付", "651.00元", "650.00元")
