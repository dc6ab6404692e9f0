"""Checking faster must not change a single question or verdict.

`policylang check policies/` took 16–25 s; two things made it fast, and each is held here to what it
must not change:

- rules and expressions encoded once per kind of run and copied, renamed, into later runs
  (backends/memo.py): the solver must be handed the very same formulas as when every run encodes
  everything afresh (Z3 shares equal terms, so "the same" is pointer equality, term by term);
- policies checked side by side in worker processes (workers.py): the reports must be those of one
  policy after another, in the files' order, and the progress line must still name the question.
"""
from pathlib import Path

import pytest

import policylang.check as check
from policylang.backends.memo import CachedRun
from policylang.backends.smt import Run
from policylang.pipeline import load_policy
from policylang.report import as_json

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / "policies").glob("*.pol")) + sorted((ROOT / "tests" / "policies").glob("*.pol"))
# seeded defects whose counterexample search asks many more questions, over brackets, versions and tables
SEEDED = [ROOT / "tests" / "seeded" / name for name in (
    "pl202-bracket-table-second-use.pol", "pl301-dated-bracket-shift-lemma.pol", "pl401-dated-bracket-rounding-lemma.pol",
    "pl202-version-gap-january.pol", "pl104-refund-makes-accumulator-negative.pol")]


def _questions(policy, monkeypatch, cached: bool) -> tuple[list, list]:
    """Every question handed to the solver, in order (the formulas themselves), and the results."""
    asked = []
    decide = check.decide

    def recording(formulas, timeout_ms, *args):
        asked.append(list(formulas))
        return decide(formulas, timeout_ms, *args)

    monkeypatch.setattr(check, "decide", recording)
    monkeypatch.setattr(CachedRun, "enabled", cached)
    report = check.check_policy(policy, 10.0)
    monkeypatch.undo()
    results = [{k: v for k, v in r.items() if k != "seconds"} for r in _json(report)]
    return asked, results


def _json(report) -> list:
    import json

    return json.loads(as_json([report]))[0]["results"]


@pytest.mark.parametrize("path", POLICIES + SEEDED, ids=lambda p: p.name)
def test_shared_encodings_ask_the_solver_exactly_the_same_questions(path, monkeypatch):
    policy = load_policy(path)
    fresh, fresh_results = _questions(policy, monkeypatch, cached=False)
    shared, shared_results = _questions(policy, monkeypatch, cached=True)
    assert len(shared) == len(fresh)
    for i, (a, b) in enumerate(zip(fresh, shared)):
        assert len(a) == len(b) and all(x.eq(y) for x, y in zip(a, b)), f"question {i} differs"
    assert shared_results == fresh_results


def test_the_cache_is_used(monkeypatch):
    """Most rule encodings are copies: on 淄博 far fewer rules are walked than with every run afresh."""
    walked = []
    encode = Run.rule

    def counting(self, name):
        if name not in self.rules:
            walked.append(name)
        return encode(self, name)

    monkeypatch.setattr(Run, "rule", counting)
    policy = load_policy(ROOT / "policies" / "zhejiang-2022-outpatient.pol")
    check.check_policy(policy, 10.0)
    shared = len(walked)
    walked.clear()
    monkeypatch.setattr(CachedRun, "enabled", False)
    check.check_policy(policy, 10.0)
    assert shared * 5 < len(walked), (shared, len(walked))


def test_a_rule_whose_encoding_changes_the_run_otherwise_is_encoded_afresh(monkeypatch):
    """The copy replays what it knows of a run (definitions, sites, roundings, brackets); a rule whose
    encoding changes anything else is never copied, so a new kind of side effect cannot be lost."""
    encode = Run.rule

    def marking(self, name):
        value = encode(self, name)
        self.__dict__.setdefault("marks", []).append(name)  # something the cache does not know
        return value

    monkeypatch.setattr(Run, "rule", marking)
    policy = load_policy(ROOT / "policies" / "shaoxing-2024.pol")
    checker = check.Checker(policy)
    first, second = checker.new_run("c:"), checker.new_run("c:")
    first.rule("统筹支付")
    second.rule("统筹支付")
    assert second.marks and "统筹支付" in second.marks  # walked again, not copied


def test_policies_checked_side_by_side_give_the_reports_of_one_after_another(monkeypatch):
    from policylang import workers

    policies = [load_policy(p) for p in sorted((ROOT / "policies").glob("*.pol"))[:3]]
    one_by_one = workers.check_all(policies, 10.0, 60.0, jobs=1)
    lines = []

    class Line:  # the progress line, as on a terminal
        def __enter__(self):
            return lambda label, question, detail: lines.append((label, question, detail))

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(workers, "shown", lambda: True)
    monkeypatch.setattr(workers, "solver_lines", Line)
    side_by_side = workers.check_all(policies, 10.0, 60.0, jobs=2)
    assert [r.policy for r in side_by_side] == policies
    strip = lambda report: [{k: v for k, v in r.items() if k != "seconds"} for r in _json(report)]  # noqa: E731
    assert [strip(r) for r in side_by_side] == [strip(r) for r in one_by_one]
    assert {label for label, _, _ in lines} == {Path(p.file).name for p in policies}
    assert any("round 1" in detail for _, _, detail in lines)


def test_no_growth_step_is_asked_about_a_subtracted_amount(monkeypatch):
    """基本医保后负担 = 费用 − 统筹支付 does not grow "at most as 统筹支付 grows": the solver found each such step
    satisfiable, in 0.5–0.8 s apiece, a fifth of `check policies/`; they are no longer asked, and the
    monotonicity of 医疗救助 they were asked for is still proved."""
    asked = []
    decide = check.Checker.decide

    def recording(self, formulas, timeout_ms, what=""):
        result = decide(self, formulas, timeout_ms, what)
        asked.append((self.asking, what, str(result[0])))
        return result

    monkeypatch.setattr(check.Checker, "decide", recording)
    report = check.check_policy(load_policy(ROOT / "policies" / "zibo-2023.pol"))
    growth = [(goal, what) for goal, what, _ in asked if "grows at most as" in what]
    assert growth, "the monotonicity goals still take their growth steps"
    for subtracted in ("基本医保后负担 grows at most as 统筹支付", "本次个人负担 grows at most as 统筹支付",
                       "本次个人负担 grows at most as 大病保险"):
        assert not [w for _, w in growth if w.startswith(subtracted)], subtracted
    assert [s for _, w, s in asked if "grows at most as" in w and s == "sat"] == []
    goal = next(r for r in report.results if r.name == "`医疗救助` never falls as 政策范围内费用 rises")
    assert goal.status == "proved"
