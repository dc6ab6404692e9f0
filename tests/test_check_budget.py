"""Budgets: a review pipeline's run always ends, and more budget never decides less.

`--timeout` bounds one solver question and `--budget` all the questions about one policy, both in the
solver's resource count. A 淄博 with a ratio of 180% once ran past five minutes of CPU (an Optimize
query ignored the resource limit); a goal once needed a *larger* --timeout than what deciding it took,
because each strategy had a fixed share of the budget.
"""
from pathlib import Path

import pytest

from policylang.backends.solving import RLIMIT_PER_SECOND, Budget
from policylang.check import Checker, check_policy
from policylang.cli import main
from policylang.pipeline import load_policy, load_text

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "seeded" / "pl101-zibo-ratio-180.pol"


def test_the_run_budget_ends_a_hard_check_and_says_which_goals_it_left():
    budget = Budget(3.0)
    report = Checker(load_policy(BROKEN), 10.0, budget).run()
    assert budget.spent <= 3.0 * RLIMIT_PER_SECOND
    rates = [r for r in report.results if r.rule == "PL101" and r.status == "violated"]
    assert rates, "the ratio of 180% is asked first, so even a tiny budget finds it"
    left = [r for r in report.results if r.status == "unknown"]
    assert left and all("raise --budget" in r.message for r in left)
    again = Checker(load_policy(BROKEN), 10.0, Budget(3.0)).run()
    assert [(r.name, r.status, r.message) for r in again.results] == [(r.name, r.status, r.message) for r in report.results]


def test_budget_option_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--budget", "0.5", str(BROKEN)])
    assert exit_info.value.code == 1 and "the run's --budget is spent" in capsys.readouterr().out


def test_what_a_small_timeout_decides_a_larger_one_decides_too():
    policy = load_policy(ROOT / "policies" / "zibo-2023.pol")
    small = {r.name: r.status for r in check_policy(policy, 1.0).results}
    large = {r.name: r.status for r in check_policy(policy, 10.0).results}
    decided_small = {n for n, s in small.items() if s != "unknown"}
    assert decided_small <= {n for n, s in large.items() if s != "unknown"}
    assert all(s == "proved" for s in large.values())
    assert len(decided_small) >= len(small) - 1  # 淄博 needs --timeout 2 for one goal: 1 is a tenth of the default


def test_a_bill_read_only_in_a_constraint_bounds_claims_that_carry_it():
    """政策范围内费用 optional (read only by a constraint): the fund bound is asked of claims that give it
    (this crashed with KeyError in the replay)."""
    text = """
policy "示例：只在约束里读费用" {
  document "示例〔2024〕1号"
  issuer "policylang tests"
  in force from 2024-01-01
}

use prelude

input 其他应付: money "按其他规定计算的应付"

constraint 其他应付 <= 政策范围内费用 else "应付不能超过政策范围内费用"

scope {
  require 险种 == 城乡居民 else "只规定城乡居民医保"
}

output 统筹支付: money as hifp_pay clause "一" = 其他应付 × 110%
"""
    report = check_policy(load_text(text, "t.pol"), 5.0)
    bound = next(r for r in report.results if r.rule == "PL102")
    assert bound.status == "violated"
    assert bound.counterexample.claims[0]["政策范围内费用"] < bound.counterexample.outcomes[0].outputs["统筹支付"]


def test_the_progress_line_names_the_question_with_the_solver():
    seen = []
    check_policy(load_policy(ROOT / "policies" / "shaoxing-2024.pol"), 10.0, progress=lambda q, d: seen.append((q, d)))
    questions = {q for q, _ in seen}
    assert "`报销比例` lies in [0%, 100%]" in questions
    assert any(q.startswith("累计净报销不超过 1200 元") for q in questions)
    assert all(d.endswith(("round 1", "round 2", "round 3")) for _, d in seen)
