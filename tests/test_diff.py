"""policylang diff: nobody worse off proved, or a claim that is; the largest change per output."""
import datetime
from decimal import Decimal
from pathlib import Path

from policylang.diff import Differ, diff_text
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "tests" / "composition"


def test_a_reform_that_only_raises_ratios_leaves_nobody_worse_off():
    report = Differ(load_policy(HERE / "base.pol"), load_policy(HERE / "reform.pol")).run()
    assert report.worse_status == "proved" and report.worse_off is None
    change = next(c for c in report.changes if c.output == "统筹支付")
    assert change.decrease.status == "none" and change.increase.status == "exact"
    amount, shown = change.increase.amount, change.increase.shown
    assert amount > 0 and shown.new.outputs["统筹支付"] - shown.old.outputs["统筹支付"] == amount


def test_a_rate_cut_shows_a_claim_that_is_worse_off_with_both_results():
    report = Differ(load_policy(HERE / "base.pol"), load_policy(HERE / "rate-cut.pol")).run()
    assert report.worse_status == "violated"
    shown = report.worse_off
    assert shown.new.outputs["统筹支付"] < shown.old.outputs["统筹支付"]
    assert shown.claim["政策范围内费用"] == 100  # the smallest round claim that shows it: 100 元
    assert report.exit_code == 1


def test_two_versions_inside_one_policy_by_effective_date():
    policy = load_policy(ROOT / "tests" / "policies" / "constructs.pol")
    report = Differ(policy, policy, old_date=datetime.date(2023, 12, 31), new_date=datetime.date(2024, 1, 1)).run()
    change = next(c for c in report.changes if c.output == "基本统筹")
    amount = change.increase.amount
    # 起付标准 fell from 800元 to 600元 (400元 for retirees) on 2024-01-01: 400元 at 92% at most
    assert change.increase.status in ("exact", "at-least") and 0 < amount <= Decimal("368")
    assert change.increase.status == "at-least" or amount == Decimal("368")


def test_an_assumption_that_moves_claims_in_opposite_directions():
    from policylang.diff import direction

    policy = load_policy(HERE / "split.pol")
    result = direction(policy, "基层比例")
    assert result.status == "opposite"
    (low, high), shown = result.claims
    gains = [after.outputs["统筹支付"] - before.outputs["统筹支付"] for _, _, before, after in shown]
    assert gains[0] > 0 > gains[1]


def test_raising_a_baseline_moves_everyone_the_same_way():
    from policylang.diff import direction

    assert direction(load_policy(HERE / "base.pol"), "普通门诊基础比例").status == "same-way"


def test_zhoushan_reform_against_its_declared_baseline():
    """The real reform (policies/zhoushan-2023.pol) over the baseline it extends: nobody's fund
    payment falls; the 基层 deductible is gone; ratios rise by at most the document's points."""
    policies = ROOT / "policies"
    report = Differ(load_policy(policies / "zhoushan-2023-baseline.pol"), load_policy(policies / "zhoushan-2023.pol")).run()
    assert report.worse_status == "proved" and report.worse_off is None
    changes = {c.output: c for c in report.changes}
    dedc = changes["起付线"]
    assert dedc.increase.status == "none"
    amount, shown = dedc.decrease.amount, dedc.decrease.shown
    claim, old, new = shown.claim, shown.old, shown.new
    assert claim["机构级别"] == "基层" and new.outputs["起付线"] == 0 and amount == -old.outputs["起付线"] < 0
    assert "门诊起付线累计" in shown.state  # the year-to-date it was found at is part of the claim
    ratio = changes["报销比例"]
    assert ratio.decrease.status == "none"
    amount, shown = ratio.increase.amount, ratio.increase.shown
    claim, new_day = shown.claim, shown.new_day
    # each side's claim falls in its own policy's period, and the report says so
    assert claim["就诊日期"] == datetime.date(2023, 1, 1) and new_day == datetime.date(2023, 10, 1)
    assert "# new side: 就诊日期 = 2023-10-01" in diff_text(report)
    # the most any ratio rises: 慢性病门诊 at 基层, 65% set by the reform plus the 签约 +3 points that now
    # apply at every in-city 基层 facility, over the baseline's assumed 60%
    assert amount == Decimal("0.08") and claim["机构级别"] == "基层" and claim["家庭医生签约"] is True
    assert changes["统筹支付"].decrease.status == "none"
    assert report.exit_code == 0


# ---- 第二次住院起付线减半: a change that only a year-to-date shows ---------------------------------
ADMISSIONS = ("admissions.pol", "second-admission-half.pol")


def _admissions_report():
    return Differ(*(load_policy(HERE / name) for name in ADMISSIONS)).run()


def test_the_largest_deductible_cut_is_shown_with_the_admissions_before_it():
    """The reform halves 起付线 from the second admission: the 750 元 cut exists only for a claim with
    住院次数 ≥ 1 before it, so the state is part of the claim diff shows (a first admission changes
    nothing), and the smallest such state is shown."""
    report = _admissions_report()
    dedc = next(c for c in report.changes if c.output == "起付线")
    assert dedc.increase.status == "none" and dedc.decrease.status == "exact"
    assert dedc.decrease.amount == Decimal("-750") and dedc.decrease.shown.state == {"住院次数": 1}
    text = diff_text(report)
    block = text[text.index("largest decrease: 750.00元"):].splitlines()
    assert block[1].strip() == "state { 住院次数 = 1 }" and block[2].strip().startswith("claim { ")
    assert block[3].strip() == "old 1500.00元 → new 750.00元"
    assert report.exit_code == 0


def test_replaying_a_printed_claim_with_its_state_gives_the_printed_change(tmp_path):
    """Every claim diff prints, pasted with its `state { … }` into an example block of each policy,
    gives the printed old and new values (`policylang test` runs the interpreter and the compiled
    evaluator and requires them to agree)."""
    import re

    from policylang.testing import run_examples

    text = diff_text(_admissions_report())
    shown = re.findall(r"largest (?:increase|decrease): [^\n]*\n\s*(state \{[^\n]*\})\n\s*(claim \{[^\n]*\})\n"
                       r"\s*old ([^ ]+) → new ([^ \n]+)", text)
    outputs = re.findall(r"^  (\S+):", text, re.M)
    assert len(shown) == 2 and outputs == ["起付线", "统筹支付"]  # 起付线 decrease, 统筹支付 increase
    for index, name in enumerate(ADMISSIONS):
        source = (HERE / name).read_text(encoding="utf-8")
        for number, ((state, claim, old, new), output) in enumerate(zip(shown, outputs)):
            source += f'example "replay {number}" {{\n  {state}\n  {claim}\n  expect {{ {output} = {(old, new)[index]} }}\n}}\n'
        (tmp_path / name).write_text(source, encoding="utf-8")
    for name in ADMISSIONS:
        results = run_examples(load_policy(tmp_path / name))
        replays = [r for r in results if r.example.name.startswith("replay")]
        assert len(replays) == 2 and all(r.passed for r in replays), [(r.example.name, r.steps) for r in replays]


def test_a_claim_that_does_not_reproduce_is_an_internal_error(monkeypatch, capsys):
    """The new policy's evaluators are made to add one fen to 起付线 (both of them, so they agree with
    each other): the solver's largest cut no longer shows in the replay, which is a bug in policylang
    (PL901, exit 70), not a finding to print."""
    import policylang.diff as diff_module
    from policylang.backends.interpreter import Interpreter
    from policylang.cli import main

    def off_by_a_fen(evaluate, policy):
        def wrapped(claim, state, *rest):
            outcome = evaluate(claim, state, *rest)
            if policy.file.endswith("second-admission-half.pol") and outcome.applicable:
                outcome.outputs = {**outcome.outputs, "起付线": outcome.outputs["起付线"] + Decimal("0.01")}
            return outcome
        return wrapped

    compile_policy, evaluate = diff_module.compile_policy, Interpreter.evaluate
    monkeypatch.setattr(diff_module, "compile_policy", lambda p: off_by_a_fen(compile_policy(p), p))
    monkeypatch.setattr(Interpreter, "evaluate",
                        lambda self, claim, state, *rest: off_by_a_fen(lambda c, s: evaluate(self, c, s), self.policy)(claim, state))
    report = _admissions_report()
    dedc = next(c for c in report.changes if c.output == "起付线")
    assert dedc.decrease.status == "internal-error" and report.exit_code == 70
    assert "the largest decrease of `起付线`" in report.internal_errors[0]
    try:
        main(["diff", *(str(HERE / name) for name in ADMISSIONS)])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr().out
    assert code == 70 and "internal error[PL901]: the largest decrease of `起付线`" in out


def test_compiled_and_interpreter_disagreeing_on_a_shown_claim_is_an_internal_error(monkeypatch):
    import policylang.diff as diff_module

    compile_policy = diff_module.compile_policy

    def skewed(policy):
        evaluate = compile_policy(policy)

        def wrapped(claim, state):
            outcome = evaluate(claim, state)
            outcome.outputs = {**outcome.outputs, "起付线": Decimal("0.01") + outcome.outputs.get("起付线", 0)}
            return outcome
        return wrapped

    monkeypatch.setattr(diff_module, "compile_policy", skewed)
    report = _admissions_report()
    assert report.exit_code == 70 and "disagrees with the interpreter" in report.internal_errors[0]


def test_an_undecided_search_is_a_lower_bound_and_exits_1(monkeypatch):
    """The solver is made to give up once it has found a claim: the change found is printed as a lower
    bound ('at least'), the output as undecided, and the exit code is 1, never 0."""
    import z3

    import policylang.diff as diff_module

    decide, calls = diff_module.decide, []

    def gives_up_after_the_first_claim(formulas, budget, *rest):
        calls.append(1)
        verdict, model, why = decide(formulas, budget, *rest)
        if "起付线" in str(formulas[-1]) and len(calls) > 2 and verdict != z3.sat:
            return z3.unknown, None, "budget"
        return verdict, model, why

    monkeypatch.setattr(diff_module, "decide", gives_up_after_the_first_claim)
    report = _admissions_report()
    dedc = next(c for c in report.changes if c.output == "起付线")
    assert dedc.decrease.status == "at-least" and not dedc.decided and report.exit_code == 1
    text = diff_text(report)
    assert "  起付线: (undecided)" in text and "largest decrease: at least " in text and "lower bound" in text


DETERMINISM = r"""
import hashlib, sys, z3
import policylang.diff as diff
from policylang.pipeline import load_policy

digest = hashlib.sha256()
decide = diff.decide

def recording(formulas, budget, *rest):
    solver = z3.Solver()
    solver.add(*formulas)
    digest.update(f"{budget}:{solver.sexpr()}".encode())
    return decide(formulas, budget, *rest)

diff.decide = recording
report = diff.Differ(load_policy(sys.argv[1]), load_policy(sys.argv[2])).run()
print(digest.hexdigest())
print(diff.diff_text(report))
"""


def test_diff_asks_the_same_questions_in_every_process():
    """The verdicts follow the questions: the same formulas, in the same order, with the same budget,
    under every PYTHONHASHSEED (a set of names iterated while building them would change them)."""
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("0", "1", "2"):
        done = subprocess.run([sys.executable, "-c", DETERMINISM, *(str(HERE / name) for name in ADMISSIONS)],
                              env=dict(os.environ, PYTHONHASHSEED=seed), capture_output=True, text=True,
                              cwd=ROOT, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs
