"""`policylang check`: prove built-in checks and the policy's properties with Z3.

Each check is a goal: a formula that is satisfiable exactly when the check is violated by a
valid claim in scope and a reachable state of the year. Unsat is a proof; sat gives a model,
which becomes a believable counterexample (small round amounts first), which is replayed
through the compiled evaluator; 'unknown' (a timeout) is its own outcome, never success.
"""
from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from decimal import Decimal

import z3

from policylang import ir
from policylang.backends.interpreter import Interpreter
from policylang.backends.memo import CachedRun
from policylang.backends.python import compile_policy
from policylang.backends.smt import (Encoder, Run, cell_match, definitions, read_claim, rounding_lemmas, shift_lemmas,
                                     sort_of, validity_test)
from policylang.backends.solving import RLIMIT_PER_SECOND, SPENT, Budget, decide
from policylang.diagnostics import Span
from policylang.platform import OUTPUT_NAMES
from policylang.runtime import NotApplicable
from policylang.testing import guarded, policy_expressions, run_examples, show, walk

# Stable rule ids (SARIF ruleId): never renumber, only add.
RULES = {
    "PL001": ("example", "An example's expected value differs from the computed one."),
    "PL002": ("example-invalid", "An example's claim breaks a constraint or the claim rules: `eval` would refuse it."),
    "PL101": ("rate-range", "A rate lies outside [0%, 100%]."),
    "PL102": ("fund-range", "A fund payment lies outside [0, 政策范围内费用]."),
    "PL103": ("negative-amount", "An amount of money is negative."),
    "PL104": ("accumulator-negative", "An accumulator can become negative."),
    "PL105": ("update-not-applicable", "An update can add a not-applicable amount: the year-to-date becomes unknown."),
    "PL201": ("table-overlap", "Two rows of a unique table match the same claim with different outputs."),
    "PL202": ("table-gap", "A claim reaches a table that has no matching row and no default."),
    "PL203": ("table-shadowed", "A row of a first-hit table can never fire."),
    "PL204": ("version-gap", "A claim's service date falls where no version of a rule applies."),
    "PL205": ("band-order", "A claim's band bounds (evaluated per claim) are out of order: a band ends below its "
                            "start, or does not start where the previous one ends, so the brackets are not applicable."),
    "PL301": ("monotonicity", "More 政策范围内费用 lowers a fund payment."),
    "PL401": ("property", "A property of the policy does not hold."),
    "PL402": ("invariant", "A state invariant (such as an annual limit) does not hold from claim to claim."),
    "PL403": ("vacuous", "A property's premise (its `vary`, `when` and the claims' constraints and scope) admits no "
                         "claim, so its proof would prove nothing."),
    "PL404": ("accumulator-never-updated", "An accumulator the policy reads is never changed by any claim in scope, "
                                           "so every claim reads its initial value."),
    "PL900": ("unknown", "The solver could not decide within the time limit (kept for old reports: an "
                         "undecided check now keeps its own id with level warning)."),
    "PL901": ("internal-error", "A counterexample did not reproduce: a bug in policylang."),
}


DEFAULT_BUDGET = 60.0  # seconds of solver work one policy's check may spend in all (--budget)
NICER_SHARE = 40  # each question of the search for a believable counterexample gets this fraction of --timeout
SMALL_FEN = 10 ** 7  # 10 万元: what a believable counterexample's amounts stay within, if they can
SHRINK_STEPS = 4  # bisection steps on the counterexample's total amount, after its order of magnitude
STEP_SHARE = 5  # each step of a goal gets this fraction of --timeout: a step is one stage, far smaller than the goal
# asked first, before the inductions: cheap, and what a hurried edit breaks (a ratio of 180%) is reported at
# once; the rest keep their order, each amount's bound before the goals that assume it (cheapest on 淄博)
CHEAP_FIRST = {"PL101", "PL204"}
GOAL_NAMES = {"PL101": "lies in [0%, 100%]", "PL102": "lies in [0, 政策范围内费用]", "PL103": "is never negative"}


@dataclass
class Counterexample:
    claims: list  # typed claim dicts: one, or left and right
    state: dict  # the state before the (first) claim
    outcomes: list  # compiled evaluator's Outcome per claim
    detail: str
    states: list = field(default_factory=list)  # one per claim when they start from different states, else empty


@dataclass
class Result:
    rule: str
    name: str
    span: Span
    status: str  # proved | violated | vacuous | not-applicable | unknown | internal-error
    message: str = ""
    counterexample: Counterexample | None = None
    seconds: float = 0.0
    notes: list = field(default_factory=list)  # what a proof does not cover (a branch no compared pair reaches)
    believable: bool = True  # a counterexample the search could make readable (not the solver's first answer)

    @property
    def is_finding(self) -> bool:
        """A guideline's property about claims this policy does not cover is not applicable here: said, not a finding."""
        return self.status not in ("proved", "not-applicable")


@dataclass
class Report:
    policy: ir.Policy
    results: list = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole check

    @property
    def findings(self) -> list:
        return [r for r in self.results if r.is_finding]


@dataclass
class Step:
    """A lemma on the way to a goal: proved (its violation unsat) under the goal's hypotheses."""

    what: str
    violation: object
    lemma: object


@dataclass
class Goal:
    rule: str
    name: str
    span: Span
    runs: list  # [(role, Run)]
    violation: object  # z3 Bool
    replay: object  # (claims, state, outcomes, values) -> (violated, detail)
    assume_state: bool = True
    fact: object = None  # run -> what holds of every claim once this goal is proved (a lemma for later goals)
    # lemmas about the goal's own runs, each tried in order before the goal; a proved one is assumed by
    # the steps after it and by the goal (its hypotheses are the goal's)
    steps: list = field(default_factory=list)
    # what the goal assumes of its claims without the negated conclusion: a proof is vacuous if nothing meets it,
    # or if its conclusion is not applicable for everything that does
    premise: object = None
    concluded: object = None  # the conclusion is applicable (not NA)
    origin: str | None = None  # the guideline a conformance property comes from
    # branches a relational property's pairs should reach: (span, what, reached by a pair, reached by one claim)
    branches: list = field(default_factory=list)
    own_states: bool = False  # the runs start from different states (a `vary` over an accumulator): replay gets them


class Checker:
    def __init__(self, policy: ir.Policy, timeout: float = 10.0, budget: Budget | None = None, progress=None):
        self.p = policy
        self.timeout_ms = int(timeout * 1000)
        self.budget = budget or Budget(None)  # the whole run's allowance, shared by every policy of the run
        self.progress = progress  # progress(goal name, what the solver is doing), for the progress line
        self.asking = ""  # the goal whose question is with the solver
        self.enc = Encoder(policy)
        self.interpreter = Interpreter(policy)
        self.compiled = compile_policy(policy)
        self.invariants: list = []  # proved state invariants (Property objects): assumed by later goals
        # accumulators proved never negative, assumed by later goals: a dict, so the lemmas reach the
        # solver in the same order in every process (a set's order follows PYTHONHASHSEED, and the
        # solver's verdict within its budget follows the order of its assertions)
        self.nonneg: dict = {}
        self.facts: list = []  # proved single-claim goals, as run -> formula: assumed by later goals
        self._reads: dict = {}  # (rule, input) -> whether the rule reads the input
        self._conditions: dict = {}  # (run, condition) -> its encoding, for branch coverage

    # ------------------------------------------------------------------ entry
    def run(self) -> Report:
        started = time.perf_counter()
        report = Report(self.p)
        report.results.extend(self.examples())
        undecided = []  # (place in the report, goal, what to learn when proved, what was known then)

        def settle(goal, learn, base_case=None):
            """Solve a goal (an induction's failed base case is final), record it, learn from a proof."""
            result = base_case or self.solve(goal)
            report.results.append(result)
            if result.status == "proved":
                learn()
            elif base_case is None and result.status in ("unknown", "violated"):  # perhaps only from an unreachable state
                undecided.append((len(report.results) - 1, goal, learn, self.known()))

        def learn_fact(goal):
            if goal.fact is not None:
                self.facts.append(goal.fact)

        goals = self.goals()
        for goal in goals:  # a ratio over 100% or a date with no version, reported before any induction
            if goal.rule in CHEAP_FIRST:
                settle(goal, lambda g=goal: learn_fact(g))
        report.results.extend(self.accumulators_updated())
        for name, goal in self.nonneg_goals():
            settle(goal, lambda n=name: self.nonneg.setdefault(n), self.initial(goal, lambda state, n=name: state[n] >= 0))
        for prop, goal in self.invariant_goals():
            check = lambda state, p=prop: self.interpreter.holds(p.holds, self.initial_claim(), state) is not False
            settle(goal, lambda p=prop: self.invariants.append(p), self.initial(goal, check))
        for goal in goals:
            if goal.rule not in CHEAP_FIRST:
                settle(goal, lambda g=goal: learn_fact(g))
        # A second pass over what was undecided or violated, with everything proved since as lemmas: a
        # stage's bounds, proved on their own, make the next stage's goals small (大病保险 ≤ what reaches
        # it gives 本次个人负担 ≥ 0), and an accumulator proved never negative removes counterexamples
        # that started from a negative year-to-date. Sound: each lemma holds of every claim from every
        # reachable state, and no goal is assumed before it is proved.
        for place, goal, learn, known in undecided:
            if self.known() == known:
                continue  # nothing new to assume: the answer would be the same
            result = self.solve(goal)
            if result.status == "violated" and not result.believable and report.results[place].status == "violated":
                continue  # still violated: keep the first pass's counterexample, which could be made readable
            if result.status != "unknown":
                report.results[place] = result
                if result.status == "proved":
                    learn()
        report.results.extend(self.shadowed_rows())
        report.seconds = time.perf_counter() - started
        return report

    def accumulators_updated(self) -> list:
        """Each accumulator the policy reads must change for some claim in scope: a dropped `update`, or one
        whose condition never holds, leaves every claim reading the initial value, and every proof about
        the cap it carries holds trivially (six mutants that dropped an update passed every proof)."""
        exprs = [*policy_expressions(self.p), *[e for p in self.p.properties for e in (p.when, p.holds) if e is not None]]
        read = {n.name for e in exprs for n in walk(e) if isinstance(n, ir.AccRef)}
        out = []
        for name, acc in self.p.accumulators.items():
            if name not in read:
                continue
            started = time.perf_counter()
            what = f"accumulator `{name}` is changed by some claim"
            updates = [u for u in self.p.updates if u.target == name]
            if not updates:
                out.append(Result("PL404", what, acc.span, "violated", f"no `update` changes `{name}`: every claim "
                                  f"reads its initial value {show(acc.initial, acc.type)}; add the `update` its clause "
                                  f"describes", seconds=time.perf_counter() - started))
                continue
            run = self.new_run("u:")
            takes = [z3.And(run.adds(u), run.expr(u.amount).v != 0) for u in updates]
            self.asking = what
            verdict, _, why = self.decide([*self.base(run), *self.reachable(run), z3.Or(*takes), *definitions([run])],
                                          self.timeout_ms)
            seconds = time.perf_counter() - started
            lines = ", ".join(str(u.span.line) for u in updates)
            if verdict == z3.sat:
                out.append(Result("PL404", what, acc.span, "proved", seconds=seconds))
            elif verdict == z3.unsat:
                out.append(Result("PL404", what, acc.span, "violated",
                                  f"no valid claim in scope meets the condition of its `update` (line {lines}) with an "
                                  f"amount other than 0: every claim reads its initial value "
                                  f"{show(acc.initial, acc.type)}", seconds=seconds))
            else:
                out.append(Result("PL404", what, acc.span, "unknown", undecided(why),
                                  seconds=seconds))
        return out

    def known(self) -> int:
        """How much has been proved that later goals assume (it only grows)."""
        return len(self.facts) + len(self.nonneg) + len(self.invariants)

    def initial_claim(self) -> dict:
        return {self.p.service_date: self.p.meta.in_force.start or datetime.date(2000, 1, 1)}

    def initial(self, goal: "Goal", holds) -> "Result | None":
        """The base case of an induction: the state at the start of a 医保年度."""
        state = {name: acc.initial for name, acc in self.p.accumulators.items()}
        if holds(state):
            return None
        shown = ", ".join(f"{k} = {show(v, self.p.accumulators[k].type)}" for k, v in state.items())
        example = Counterexample([], state, [], f"the state at the start of the year breaks it: {shown}")
        return Result(goal.rule, goal.name, goal.span, "violated", example.detail, example)

    def examples(self) -> list:
        out = []
        results = run_examples(self.p)
        passed = sum(r.passed for r in results)
        if passed:
            out.append(Result("PL001", f"{passed} example(s) give their expected values", self.p.meta.span, "proved"))
            # (PL001 is the examples check; a failing example is its finding)
        for result in results:
            several = len(result.example.steps) > 1
            for rule, kind in (("PL002", "invalid"), ("PL001", "mismatches")):
                found = "; ".join(f"{f'claim {s.number}: ' if several else ''}{p}"
                                  for s in result.steps for p in getattr(s, kind))
                if found:
                    out.append(Result(rule, result.example.name, result.example.span, "violated", found))
        return out

    # ------------------------------------------------------------------ runs
    def new_run(self, prefix: str, state=None, shared=None) -> Run:
        """A run for one goal; its rules are copies of those an earlier run of the same kind encoded (memo.py)."""
        return CachedRun(self.enc, prefix, state, shared)

    def base(self, run: Run) -> list:
        """What makes a claim count: valid, in scope, and the state reachable."""
        return run.domain + [run.valid(), run.applicable()] + self.whole_counts(run)

    def whole_counts(self, run: Run) -> list:
        """A count that starts whole and only ever adds whole constants (住院次数 += 1) is whole in every
        reachable state: true by the policy's text alone, so assumed without a proof."""
        return [n % scale == 0 for name, (n, scale) in run.state_scaled.items()
                if scale > 1 and ir.whole_count(self.p, name)]

    def reachable(self, run: Run) -> list:
        conds = [run.state_scaled[name][0] >= 0 for name in self.nonneg]
        for prop in self.invariants:
            value = run.expr(prop.holds)
            conds.append(z3.Or(value.na, value.v))
        return conds

    # ------------------------------------------------------------------ goals
    def nonneg_goals(self) -> list:
        """Accumulators never negative, by induction: from a state ≥ 0, one more claim keeps it ≥ 0."""
        goals = []
        for name, acc in self.p.accumulators.items():
            run = self.new_run("c:")
            after = run.after()
            violation = z3.And(*self.base(run), run.state_scaled[name][0] >= 0, after[name] < 0)
            goals.append((name, Goal("PL104", f"accumulator `{name}` never becomes negative", acc.span,
                                     [("claim", run)], violation,
                                     self.replay_state(lambda s, n=name: s[n] < 0, f"{name} after the claim is negative"),
                                     assume_state=False)))
        return goals

    def invariant_goals(self) -> list:
        """Properties of the year's state, by induction: one more claim keeps them, from any state that
        satisfies them and the accumulators already proved never negative."""
        goals = []
        for prop in self.p.properties:
            if is_invariant(prop):
                run = self.new_run("c:")
                before = run.expr(prop.holds)
                after_run = self.new_run("after:", state=(run.after(), run.state_scaled), shared=_shared(run))
                after = after_run.expr(prop.holds)
                nonneg = [run.state_scaled[n][0] >= 0 for n in self.nonneg]
                violation = z3.And(*self.base(run), *nonneg, z3.Or(before.na, before.v), z3.Not(after.na),
                                   z3.Not(after.v))
                goals.append((prop, Goal("PL402", prop.name, prop.span, [("claim", run)], violation,
                                         self.replay_invariant(prop), assume_state=False,
                                         premise=z3.And(*self.base(run), *nonneg, z3.Or(before.na, before.v)))))
        return goals

    def goals(self) -> list:
        goals = []
        inscp = "政策范围内费用" if "政策范围内费用" in self.p.inputs else None
        for rule in self.p.rules.values():
            if rule.type == ir.RATE:
                goals.append(self.value_goal("PL101", rule, lambda v, r: z3.Or(v < 0, v > 1),
                                             lambda v, c: v < 0 or v > 1, "outside [0%, 100%]"))
            elif rule.type == ir.MONEY:
                fund = rule.platform and OUTPUT_NAMES[rule.platform][1] == "fund"
                if fund and inscp:
                    goals.append(self.value_goal(
                        "PL102", rule, lambda v, r: z3.Or(v < 0, z3.And(r.given(inscp), v > r.inputs[inscp])),
                        lambda v, c: v < 0 or (inscp in c and v > c[inscp]), f"outside [0, {inscp}]"))
                else:
                    goals.append(self.value_goal("PL103", rule, lambda v, r: v < 0, lambda v, c: v < 0, "negative"))
        if inscp:
            for rule in self.p.outputs:
                if rule.platform and OUTPUT_NAMES[rule.platform][1] == "fund":
                    goals.append(self.monotonicity_goal(rule, inscp))
        for table in self.p.tables.values():
            goals.extend(self.table_goals(table))
        for b in self.p.brackets.values():
            if b.bounds_vary:
                goals.extend(self.band_order_goals(b))
        for rule in self.p.rules.values():
            if len(rule.versions) > 1 or rule.versions[0].validity != ir.ALWAYS:
                run = self.new_run("c:")
                day = run.inputs[self.p.service_date]
                covered = z3.Or(*[validity_test(v.validity, day) for v in rule.versions])
                goals.append(Goal("PL204", f"`{rule.name}` has a version for every service date", rule.span,
                                  [("claim", run)], z3.And(*self.base(run), z3.Not(covered)),
                                  self.replay_reason(f"`{rule.name}` 在")))
        for prop in self.p.properties:
            if not is_invariant(prop):
                goals.append(self.property_goal(prop))
        goals.extend(self.update_goals())
        return goals

    def update_goals(self) -> list:
        """PL105: no claim in scope reaches an update whose condition is not applicable, or whose amount
        is not applicable while its condition holds: either leaves the year-to-date unknown
        (runtime.unknown_after) for the rest of the year, and every later claim that reads it."""
        goals = []
        for index, update in enumerate(self.p.updates, 1):
            run = self.new_run("c:")
            broken = run.breaks(update)
            name = f"update {index} of `{update.target}` always has an amount"

            def replay(claims, state, outcomes, values, target=update.target):
                after = outcomes[0].state[target]
                shown = after.reason if isinstance(after, NotApplicable) else show(after, self.p.accumulators[target].type)
                return isinstance(after, NotApplicable), f"{target} after the claim: {shown}"

            goals.append(Goal("PL105", name, update.span, [("claim", run)], z3.And(*self.base(run), broken), replay))
        return goals

    def value_goal(self, rule_id, rule: ir.Rule, bad, concrete_bad, what) -> Goal:
        run = self.new_run("c:")
        value = run.rule(rule.name)
        violation = z3.And(*self.base(run), z3.Not(value.na), bad(value.v, run))

        def replay(claims, state, outcomes, values):
            v = values[0].get(rule.name)
            ok = not isinstance(v, NotApplicable) and concrete_bad(v, claims[0])
            return ok, f"{rule.name} = {show(v, rule.type)}: {what}"

        def fact(other: Run):
            if rule.name not in other.rules:
                return None  # the goal never reads this rule: the lemma could not help, only cost
            v = other.rule(rule.name)
            return z3.Or(v.na, z3.Not(bad(v.v, other)))

        # a ratio's range is cheap to find again; an amount's bound is what the next stage needs
        return Goal(rule_id, f"`{rule.name}` {GOAL_NAMES[rule_id]}", rule.span, [("claim", run)], violation, replay,
                    fact=fact if rule.type == ir.MONEY else None)

    def monotonicity_goal(self, rule: ir.Rule, inscp: str) -> Goal:
        left = self.new_run("L:")
        shared = {n: v for n, v in _shared(left).items() if n != inscp}
        right = self.new_run("R:", state=left.shared_state(), shared=shared)
        a, b = left.rule(rule.name), right.rule(rule.name)
        # Compare the fen integers, not their Real values: the solver decides it far more easily.
        hypotheses = [*self.base(left), *self.base(right), left.given(inscp), right.given(inscp),
                      left.scaled[inscp][0] <= right.scaled[inscp][0],
                      *self.same_values(left, right, inscp)]
        violation = z3.And(*hypotheses, z3.Not(a.na), z3.Not(b.na), a.v > b.v)
        # A stage chain is monotone when each stage is, given the one before: prove the amounts it
        # reads one by one, in dependency order, each assuming the ones before (大病保险 reads
        # 基本医保后负担, which reads 统筹支付), so no single question spans the whole chain.
        # Monotone is not enough for a difference (基本医保后负担 = 费用 − 统筹支付): each amount also
        # grows by at most what each amount it reads grows by (and by at most the input's increase).
        steps = []
        for name, x in left.rules.items():
            if name == rule.name or self.p.rules[name].type != ir.MONEY or not self.reads(name, inscp):
                continue
            y = right.rules[name]
            both = [*hypotheses, z3.Not(x.na), z3.Not(y.na)]
            steps.append(Step(f"{name} never falls", z3.And(*both, x.v > y.v), z3.Or(x.na, y.na, x.v <= y.v)))
            growths = [(inscp, right.inputs[inscp] - left.inputs[inscp])]
            sources, brackets = self.direct(name)
            signs = self.signs(name)
            growths += [(s, right.rules[s].v - left.rules[s].v) for s in sources
                        if s in left.rules and s in right.rules and self.p.rules[s].type == ir.MONEY
                        and self.reads(s, inscp) and signs.get(s) != {-1}]
            for source, growth in growths:
                shift = [lemma for rounded in [name, *brackets] for lemma in shift_lemmas(left, right, rounded, growth)]
                steps.append(Step(f"{name} grows at most as {source} grows", z3.And(*both, *shift, y.v - x.v > growth),
                                  z3.Or(x.na, y.na, y.v - x.v <= growth)))

        def replay(claims, state, outcomes, values):
            x, y = values[0].get(rule.name), values[1].get(rule.name)
            ok = claims[0][inscp] <= claims[1][inscp] and not isinstance(x, NotApplicable) \
                and not isinstance(y, NotApplicable) and x > y
            return ok, (f"{inscp} {show(claims[0][inscp], ir.MONEY)} → {rule.name} {show(x, ir.MONEY)}, but "
                        f"{inscp} {show(claims[1][inscp], ir.MONEY)} → {rule.name} {show(y, ir.MONEY)}")

        return Goal("PL301", f"`{rule.name}` never falls as {inscp} rises", rule.span,
                    [("smaller", left), ("larger", right)], violation, replay, steps=steps)

    def signs(self, name: str) -> dict:
        """With which sign each rule a rule reads directly enters it: -1 only where it is subtracted
        (基本医保后负担 = 费用 − 统筹支付). "Grows at most as 统筹支付 grows" is false of such a rule, and asking
        the solver cost 淄博's check a fifth of its time (three satisfiable steps of 0.5–0.8 s each)."""
        found: dict = {}
        for version in self.p.rules[name].versions:
            _signs(version.expr, 1, found)
        return found

    def same_values(self, left: Run, right: Run, varied: str) -> list:
        """Two claims that differ in one input agree on every rule that does not read it (same
        inputs, same state): stated, so the solver need not rediscover it through two encodings."""
        return [z3.And(x.na == right.rules[name].na, x.v == right.rules[name].v)
                for name, x in left.rules.items() if name in right.rules and not self.reads(name, varied)]

    def direct(self, name: str) -> tuple[list, list]:
        """The rules a rule reads directly (through the brackets it reads too), and those brackets."""
        nodes = [n for v in self.p.rules[name].versions for n in self._nodes(v.expr)]
        rules = [n.name for n in nodes if isinstance(n, ir.RuleRef)]
        brackets = [n.name for n in nodes if isinstance(n, ir.BracketsRef)]
        return list(dict.fromkeys(rules)), list(dict.fromkeys(brackets))

    def reads(self, name: str, inp: str) -> bool:
        """Whether a rule reads an input, through the rules, tables and brackets it reads."""
        key = (name, inp)
        if key not in self._reads:
            self._reads[key] = any(self.decided_by(v.expr, inp) for v in self.p.rules[name].versions)
        return self._reads[key]

    def _nodes(self, e):
        """e's sub-expressions, and those of what each bracket it reads reads (on, cumulative, bands)."""
        for node in walk(e):
            yield node
            if isinstance(node, ir.BracketsRef):
                for root in self.p.brackets[node.name].expressions():
                    yield from walk(root)

    def table_goals(self, table: ir.Table) -> list:
        goals = []
        run = self.new_run("c:")
        for rule in self.p.rules:
            run.rule(rule)
        for site, guard, args in run.sites:
            if site.name != table.name:
                continue
            day = run.inputs[self.p.service_date]
            args_ok = z3.And(*[z3.Not(a.na) for a in args])
            if len(table.versions) > 1 or table.versions[0].validity != ir.ALWAYS:
                covered = z3.Or(*[validity_test(v.validity, day) for v in table.versions])
                violation = z3.And(*self.base(run), guard, args_ok, z3.Not(covered))
                goals.append(Goal("PL202", f"table `{table.name}` has a version for every date that reaches it",
                                  site.span, [("claim", run)], violation, self.replay_reason(f"`{table.name}` 在")))
            for version in table.versions:
                in_version = validity_test(version.validity, day)
                matches = [z3.And(*[cell_match(self.enc, c, a.v, t) for c, a, t in
                                    zip(row.cells, args, table.column_types)]) for row in version.rows]
                args_ok = z3.And(*[z3.Not(a.na) for a in args])
                if version.default is None:
                    violation = z3.And(*self.base(run), guard, args_ok, in_version, z3.Not(z3.Or(*matches)))
                    goals.append(Goal("PL202", f"table `{table.name}` has a row for every claim that reaches it",
                                      site.span, [("claim", run)], violation,
                                      self.replay_reason(f"表 `{table.name}` 没有与")))
                if table.hit == "unique":
                    for i, j in _pairs(len(version.rows)):
                        ri, rj = version.rows[i], version.rows[j]
                        if _same_output(ri, rj):
                            continue
                        violation = z3.And(*self.base(run), guard, args_ok, in_version, matches[i], matches[j])
                        goals.append(Goal("PL201", f"table `{table.name}` rows {ri.index} and {rj.index} never "
                                          f"both match", rj.span, [("claim", run)], violation,
                                          self.replay_reason(f"表 `{table.name}` 第")))
        return goals

    def band_order_goals(self, b: ir.Brackets) -> list:
        """PL205: bounds evaluated per claim stay ascending and contiguous for every claim that reads them."""
        run = self.new_run("c:")
        for rule in self.p.rules:
            run.rule(rule)
        reached = [guard for ref, guard in run.bracket_sites if ref.name == b.name]
        if not reached:
            return []
        violation = z3.And(*self.base(run), z3.Or(*reached), run.disorder[b.name])
        return [Goal("PL205", f"the bands of `{b.name}` are in order for every claim", b.span, [("claim", run)],
                     violation, self.replay_reason(f"分段 `{b.name}` "))]

    def property_goal(self, prop: ir.Property) -> Goal:
        left = self.new_run("L:")
        runs = [("claim", left)]
        conds = self.base(left)
        vary = prop.vary
        if vary is not None:
            # Two claims equal but in one input, from one state; or one claim (every input shared) from two
            # states equal but in one accumulator. Each side is a claim of its own: valid, in scope, its
            # state reachable (base here; reachable() and whole counts in solve(), for every run).
            shared = {n: v for n, v in _shared(left).items() if vary.accumulator or n != vary.input}
            right = self.new_run("R:", state=left.shared_state(), shared=shared)
            if vary.accumulator:
                right.own_state(vary.input)
            left.sides = right.sides = {"left": left, "right": right}
            runs = [("left", left), ("right", right)]
            conds += self.base(right)[len(right.domain):] + right.domain
            t = vary.type or self.p.inputs[vary.input].type
            conds += [cell_match(self.enc, vary.left, self.varied(left, vary), t),
                      cell_match(self.enc, vary.right, self.varied(right, vary), t)]
            if not vary.accumulator and self.p.inputs[vary.input].optional:
                conds += [left.present[vary.input], right.present[vary.input]]
        if prop.when is not None:
            when = left.expr(prop.when)
            conds += [z3.Not(when.na), when.v]
        holds = left.expr(prop.holds)
        violation = z3.And(*conds, z3.Not(holds.na), z3.Not(holds.v))

        def replay(claims, state, outcomes, values, states=None):
            interp = self.interpreter
            states = states or [state] * len(claims)
            sides = None
            if len(claims) == 2:
                sides = {"left": interp.run(claims[0], states[0]), "right": interp.run(claims[1], states[1])}
            when_ok = prop.when is None or interp.holds(prop.when, claims[0], state, sides) is True
            result = interp.holds(prop.holds, claims[0], state, sides)
            names = {n.ref.name if isinstance(n, ir.Side) else n.name for n in _refs(prop.holds)}
            if vary is not None and vary.accumulator:
                names.add(vary.input)  # what the two states differ in, though `holds` may not read it
            detail = "; ".join(self.describe(n, claims, state, values, states) for n in sorted(names))
            return when_ok and result is False, detail

        reads = {n.name for n in _refs(prop.holds) if isinstance(n, ir.RuleRef)}

        def fact(other: Run):
            if not reads & other.rules.keys():
                return None  # about rules the goal never reads
            when = other.expr(prop.when) if prop.when is not None else None
            held = other.expr(prop.holds)
            return z3.Or(*([when.na, z3.Not(when.v)] if when is not None else []), held.na, held.v)

        branches = self.branches(prop, left, runs[-1][1]) if prop.vary is not None else []
        return Goal("PL401", prop.name, prop.span, runs, z3.And(violation), replay,
                    fact=fact if prop.vary is None else None, premise=z3.And(*conds), concluded=z3.Not(holds.na),
                    origin=prop.origin, branches=branches, own_states=vary is not None and vary.accumulator)

    def varied(self, run: Run, vary: ir.Vary):
        """The varied input's or accumulator's value in one run."""
        return run.state[vary.input] if vary.accumulator else run.inputs[vary.input]

    def branches(self, prop: ir.Property, left: Run, right: Run) -> list:
        """Each outcome of each `if` that the varied input decides, in the rules the property reads:
        (span, words, a pair of the property takes it on either side, one valid claim takes it).

        A pair that shares everything but the varied input can miss a branch every single claim can take
        (the 签约 bonus needs 在签约机构就诊, which a constraint allows only when signed): the proof is
        then silent about that branch, and the report must say so. A branch counts as taken only where
        its rule is used on the way to the property (its readers' `if`s lead to it)."""
        varied = prop.vary.input
        roots = {n.ref.name if isinstance(n, ir.Side) else n.name for n in _refs(prop.holds)
                 if isinstance(n, (ir.RuleRef, ir.Side))} & self.p.rules.keys()
        ifs = [(name, node, path) for name in self.closure(roots) for version in self.p.rules[name].versions
               for node, path in guarded(version.expr) if isinstance(node, ir.If) and self.decided_by(node.cond, varied)]
        if not ifs:
            return []
        alone = self.new_run("b:")
        # what `when` says of one claim: the parts that relate the two sides (left.X < right.X) say nothing of it
        plain = [c for c in _conjuncts(prop.when) if not any(isinstance(n, ir.Side) for n in _refs(c))] \
            if prop.when is not None else []
        whens = [alone.expr(c) for c in plain]
        t = prop.vary.type or self.p.inputs[varied].type
        one_side = z3.Or(cell_match(self.enc, prop.vary.left, self.varied(alone, prop.vary), t),
                         cell_match(self.enc, prop.vary.right, self.varied(alone, prop.vary), t))  # either side
        premise = [*self.base(alone), *self.reachable(alone), one_side,
                   *[z3.And(z3.Not(w.na), w.v) for w in whens]]
        used = {id(run): self.used(run, roots) for run in (left, right, alone)}

        def taken(run, name, node, path, outcome):
            return z3.And(used[id(run)].get(name, z3.BoolVal(False)), *[self.outcome(run, c, o) for c, o in path],
                          self.outcome(run, node.cond, outcome))

        out, seen = [], set()
        for name, node, path in ifs:
            if id(node) in seen:
                continue
            seen.add(id(node))
            for outcome in (True, False):
                words = f"`{name}` line {node.span.line}: the {'then' if outcome else 'else'} branch of its `if`"
                out.append((node.span, words,
                            z3.Or(taken(left, name, node, path, outcome), taken(right, name, node, path, outcome)),
                            z3.And(*premise, taken(alone, name, node, path, outcome), *definitions([alone]))))
        return out

    def outcome(self, run: Run, cond, value: bool):
        """cond is applicable and has this value in run (each condition encoded once per run)."""
        key = (id(run), id(cond))
        if key not in self._conditions:
            c = run.expr(cond)  # the run is kept so its id is not reused; both outcomes built once
            self._conditions[key] = (run, {True: z3.And(z3.Not(c.na), c.v), False: z3.And(z3.Not(c.na), z3.Not(c.v))})
        return self._conditions[key][1][value]

    def used(self, run: Run, roots: set) -> dict:
        """rule -> when its value is used on the way to the roots (through its readers' `if` outcomes)."""
        used = {name: z3.BoolVal(True) for name in roots}
        for name in reversed(list(self.p.rules)):  # readers before what they read
            if name not in used:
                continue
            for version in self.p.rules[name].versions:
                for node, path in guarded(version.expr):
                    if isinstance(node, ir.RuleRef):
                        way = z3.And(used[name], *[self.outcome(run, c, o) for c, o in path])
                        used[node.name] = z3.Or(used[node.name], way) if node.name in used else way
        return used

    def closure(self, names) -> list:
        """The rules named and every rule they read, in the policy's order."""
        todo, found = list(names), set()
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.direct(name)[0])
        return [n for n in self.p.rules if n in found]

    def decided_by(self, e, inp: str) -> bool:
        """Whether an expression reads an input (or an accumulator), directly or through the rules and brackets
        it reads."""
        return any((isinstance(n, (ir.InputRef, ir.AccRef)) and n.name == inp)
                   or (isinstance(n, ir.RuleRef) and self.reads(n.name, inp)) for n in self._nodes(e))

    def describe(self, name: str, claims: list, state: dict, values: list, states: list | None = None) -> str:
        """A name's value in each claim of a counterexample: a rule, an input or an accumulator (each claim's
        state before it)."""
        if name in self.p.rules:
            t, shown = self.p.rules[name].type, [v.get(name) for v in values]
        elif name in self.p.inputs:
            t, shown = self.p.inputs[name].type, [c.get(name, NotApplicable("not given")) for c in claims]
        else:
            t, shown = self.p.accumulators[name].type, [s.get(name) for s in (states or [state] * len(claims))]
        return f"{name} = {' vs '.join(show(v, t) for v in shown)}"

    # ------------------------------------------------------------------ replays
    def replay_state(self, bad, what):
        def replay(claims, state, outcomes, values):
            after = outcomes[0].state
            return bad(after), f"{what}: {', '.join(f'{k} = {v}' for k, v in after.items())}"
        return replay

    def replay_invariant(self, prop: ir.Property):
        def replay(claims, state, outcomes, values):
            before = self.interpreter.holds(prop.holds, claims[0], state)
            after = self.interpreter.holds(prop.holds, claims[0], outcomes[0].state)
            shown = ", ".join(f"{k}: {show(state.get(k), ir.MONEY)} → {show(v, ir.MONEY)}"
                              for k, v in outcomes[0].state.items())
            return before is not False and after is False, shown
        return replay

    def replay_reason(self, prefix: str):
        def replay(claims, state, outcomes, values):
            hit = [f"{n}: {v.reason}" for n, v in values[0].items() if isinstance(v, NotApplicable)
                   and v.reason.startswith(prefix)]
            return bool(hit), "; ".join(hit)
        return replay

    # ------------------------------------------------------------------ solving
    def solve(self, goal: Goal) -> Result:
        started = time.perf_counter()
        self.asking = goal.name
        extra = [c for _, run in goal.runs for c in self.reachable(run)] if goal.assume_state else []
        runs = [run for _, run in goal.runs]
        runs += [side for run in runs for side in run.sides.values() if side not in runs]
        extra += [lemma for i, a in enumerate(runs) for b in runs[i + 1:] for lemma in rounding_lemmas(a, b)]
        extra += [f for f in (fact(run) for fact in self.facts for run in runs) if f is not None]
        extra += definitions(runs)  # last: the facts above may have encoded more rules
        for step in goal.steps:
            if self.decide([*extra, step.violation], self.timeout_ms // STEP_SHARE, step.what)[0] == z3.unsat:
                extra.append(step.lemma)
        spent = self.budget.spent
        verdict, first_model, why = self.decide([*extra, goal.violation], self.timeout_ms)
        cost_ms = (self.budget.spent - spent) * 1000 // RLIMIT_PER_SECOND  # what finding the first answer took
        if verdict == z3.unsat:
            return self.proved(goal, extra, started)
        if verdict == z3.unknown:
            return Result(goal.rule, goal.name, goal.span, "unknown", undecided(why),
                          seconds=time.perf_counter() - started)
        nicer = self.nicer_model(goal, extra, cost_ms)
        model = nicer or first_model
        example = self.counterexample(goal, model)
        seconds = time.perf_counter() - started
        if not isinstance(example, Counterexample):
            raw = Counterexample(example, {}, [], "the solver's claim, kept for the bug report")
            return Result("PL901", goal.name, goal.span, "internal-error",
                          "the counterexample did not reproduce in the compiled evaluator: please report this "
                          "with the claim below", raw, seconds=seconds)
        return Result(goal.rule, goal.name, goal.span, "violated", example.detail, example, seconds,
                      believable=nicer is not None)

    def proved(self, goal: Goal, extra: list, started: float) -> Result:
        """A proof counts only if some claim (or pair) meets its premise; and it says which branches it
        never compared."""
        seconds = lambda: time.perf_counter() - started  # noqa: E731
        if goal.premise is None:
            return Result(goal.rule, goal.name, goal.span, "proved", seconds=seconds())
        pairs = "pair of claims" if len(goal.runs) == 2 else "claim"
        concluded = [goal.concluded] if goal.concluded is not None else []
        verdict, _, why = self.decide([*extra, goal.premise, *concluded], self.timeout_ms, "does any claim meet it")
        if verdict == z3.unsat:
            met = not concluded or self.decide([*extra, goal.premise], self.timeout_ms, "its premise alone")[0] == z3.sat
            why_empty = (f"for every valid {pairs} in scope that meets its premise, what it `holds` is not applicable"
                         if met else f"no valid {pairs} in scope meets its premise (`vary`, `when`, the constraints "
                         f"and the scope together)")
            if goal.origin is not None:  # a guideline's floor on claims this policy does not settle
                return Result("PL403", goal.name, goal.span, "not-applicable",
                              f"not applicable to this policy: {why_empty}; the guideline's property is about claims "
                              f"this policy does not settle", seconds=seconds())
            return Result("PL403", goal.name, goal.span, "vacuous",
                          f"{why_empty}, so the proof says nothing: check the `when`, the constraints and the scope",
                          seconds=seconds())
        if verdict == z3.unknown:
            return Result(goal.rule, goal.name, goal.span, "unknown", f"proved, but whether any {pairs} meets its "
                          f"premise: {undecided(why)}", seconds=seconds())
        notes = []
        small = self.timeout_ms // STEP_SHARE
        for span, words, by_pair, alone in goal.branches:
            if self.decide([*extra, goal.premise, by_pair], small, f"is {words} compared")[0] != z3.unsat:
                continue
            if self.decide([alone], small, f"can one claim take {words}")[0] == z3.sat:
                notes.append(f"not covered: {words} is taken by some valid claim but by no pair this property "
                             f"compares ({span.file}:{span.line})")
        return Result(goal.rule, goal.name, goal.span, "proved", seconds=seconds(), notes=notes)

    def decide(self, formulas, timeout_ms: int, what: str = ""):
        """decide() on the run's budget, telling the progress line which question is with the solver."""
        question = f"{self.asking}: {what}" if what else self.asking
        on_round = None
        if self.progress is not None:
            on_round = lambda strategy, rnd: self.progress(question, f"{strategy}, round {rnd + 1}")  # noqa: E731
        return decide(formulas, timeout_ms, self.budget, on_round)

    def nicer_model(self, goal: Goal, extra: list, cost_ms: int = 0):
        """Prefer optional inputs left out, whole hundreds of yuan, then whole yuan, then smaller amounts.

        A sequence of small solver questions, each on the budget like any other (an Optimize query
        ignored the resource limit and ran for minutes on a policy with many findings); the answer
        is the same every run because each question's answer is.
        """
        amounts = [n for _, run in goal.runs for name, (n, scale) in run.scaled.items()
                   if scale == 100 and self.p.inputs[name].type == ir.MONEY]
        states = _state_atoms(goal)  # each state's year-to-date once: two runs share all of it, or all but one
        amounts += [n for n, scale in states if scale == 100]
        if not amounts:
            return None
        absent = [z3.Not(present) for _, run in goal.runs for present in run.present.values() if present is not None]
        # a year-to-date below 0 is a state no claim sequence reaches unless the goal is about exactly that
        nonneg = [n >= 0 for n, _ in states]
        # and amounts within 10 万元: the solver's first answer sits on the search bounds (a vertex)
        modest = [z3.And(n >= -SMALL_FEN, n <= SMALL_FEN) for n in amounts]
        hundreds = [n % 10000 == 0 for n in amounts]
        whole = [n % 100 == 0 for n in amounts]
        # each wish list is dropped one wish at a time, the most cosmetic first
        tries = [[*absent, *nonneg, *modest, *hundreds], [*nonneg, *modest, *hundreds], [*modest, *hundreds],
                 [*modest, *whole], modest]
        # each question about as hard as finding the first answer was: twice what that took, within limits
        small = min(max(self.timeout_ms // NICER_SHARE, 2 * cost_ms, 100), self.timeout_ms // 10)
        found = None
        for wish in tries:
            formulas = [*extra, goal.violation, *wish]
            verdict, model, _ = self.decide(formulas, small, "a believable counterexample")
            if verdict == z3.sat:
                found = (formulas, model)
                break
        if found is None:  # the wishes cost more than the first answer did: one more try, with more room
            formulas = [*extra, goal.violation, *nonneg, *modest]
            verdict, model, _ = self.decide(formulas, self.timeout_ms // 4, "a believable counterexample")
            if verdict != z3.sat:
                return None
            found = (formulas, model)
        formulas, model = found
        size = z3.Sum([z3.If(n >= 0, n, -n) for n in amounts])  # a state may be negative: closest to 0
        high, low = model.eval(size, model_completion=True).as_long(), -1  # a model of size ≤ high exists
        for power in (10 ** 4, 10 ** 6, 10 ** 8):  # first the order of magnitude: 100 元, 1 万元, 100 万元 in all
            if power >= high:
                break
            verdict, smaller, _ = self.decide([*formulas, size <= power], small, "smaller amounts")
            if verdict == z3.sat:
                model, high = smaller, smaller.eval(size, model_completion=True).as_long()
                break
            low = power
        for _ in range(SHRINK_STEPS):  # then bisect the total towards the smallest the budget can show
            if high - low <= 1:
                break
            middle = (low + high) // 2
            verdict, smaller, _ = self.decide([*formulas, size <= middle], small, "smaller amounts")
            if verdict == z3.sat:
                model, high = smaller, smaller.eval(size, model_completion=True).as_long()
            else:
                low = middle
        return model

    def counterexample(self, goal: Goal, model) -> "Counterexample | list":
        """The model as typed claims, replayed; the bare claims if the replay does not show the violation."""
        claims = [read_claim(run, model) for _, run in goal.runs]
        states = [{name: Decimal(model.eval(n, model_completion=True).as_long()) / scale
                   for name, (n, scale) in run.state_scaled.items()} for _, run in goal.runs]
        state = states[0]
        outcomes, values = [], []
        for claim, before in zip(claims, states):
            outcome = self.compiled(claim, before)
            reference, all_values = self.interpreter.evaluate_all(claim, before)
            if outcome != reference:
                return claims
            outcomes.append(outcome)
            values.append(all_values)
        own = goal.own_states and any(s != state for s in states)
        violated, detail = goal.replay(claims, state, outcomes, values, *([states] if goal.own_states else []))
        if not violated:
            return claims
        return Counterexample(claims, state, outcomes, detail, states if own else [])

    # ------------------------------------------------------------------ shadowed rows
    def shadowed_rows(self) -> list:
        """First-hit rows that no column values can reach: provable without a claim."""
        out = []
        for table in self.p.tables.values():
            if table.hit != "first":
                continue
            for version in table.versions:
                cols = [z3.Const(f"col{i}", sort_of(t)) for i, t in enumerate(table.column_types)]
                domain = [c for col, t in zip(cols, table.column_types) for c in _domain(self.enc, col, t)]
                matches = [z3.And(*[cell_match(self.enc, c, col, t) for c, col, t in
                                    zip(row.cells, cols, table.column_types)]) for row in version.rows]
                missed = [z3.Not(m) for m in matches]  # built once: a row asks about every row above it
                for i, row in enumerate(version.rows):
                    started = time.perf_counter()
                    self.asking = f"table `{table.name}` row {row.index} can fire"
                    verdict, _, why = self.decide([*domain, matches[i], *missed[:i]], self.timeout_ms)
                    seconds = time.perf_counter() - started
                    dated = f" (version {version.validity})" if len(table.versions) > 1 else ""
                    name = f"table `{table.name}` row {row.index}{dated} can fire"
                    if verdict == z3.unsat:
                        earlier = ", ".join(str(r.index) for r in version.rows[:i])
                        rows = f"row {earlier} matches" if i == 1 else f"rows {earlier} match"
                        out.append(Result("PL203", name, row.span, "violated",
                                          f"row {row.index} never fires: {rows} every claim it would",
                                          seconds=seconds))
                    elif verdict == z3.unknown:
                        out.append(Result("PL203", name, row.span, "unknown", undecided(why),
                                          seconds=seconds))
                    else:
                        out.append(Result("PL203", name, row.span, "proved", seconds=seconds))
        return out


# ---- helpers ---------------------------------------------------------------------------------
def undecided(why: str) -> str:
    """An undecided goal's message: why, and which budget to raise."""
    return f"the solver could not decide ({why}); {'raise --budget' if SPENT in why else 'raise --timeout'}"


def is_invariant(prop: ir.Property) -> bool:
    """A property about the year's state alone: it reads accumulators and constants only."""
    if prop.vary is not None or prop.when is not None:
        return False
    refs = list(_refs(prop.holds))
    return bool(refs) and all(isinstance(r, ir.AccRef) for r in refs)


def _signs(e, sign: int, found: dict) -> None:
    """Collect the sign each rule reference enters `e` with: through +, −, negation, min/max, rounding and the
    branches of an if; under anything else (a product, a comparison, a table or bracket) both signs."""
    if isinstance(e, ir.RuleRef):
        found.setdefault(e.name, set()).add(sign)
    elif isinstance(e, ir.Arith) and e.op in "+-":
        _signs(e.left, sign, found)
        _signs(e.right, -sign if e.op == "-" else sign, found)
    elif isinstance(e, ir.Neg):
        _signs(e.operand, -sign, found)
    elif isinstance(e, ir.MinMax):
        for arg in e.args:
            _signs(arg, sign, found)
    elif isinstance(e, ir.Round):
        _signs(e.operand, sign, found)
    elif isinstance(e, ir.If):
        _signs(e.cond, 0, found)
        _signs(e.then, sign, found)
        _signs(e.otherwise, sign, found)
    else:
        for node in walk(e):
            if isinstance(node, ir.RuleRef):
                found.setdefault(node.name, set()).update((1, -1))


def _refs(e):
    for node in walk(e):
        if isinstance(node, (ir.InputRef, ir.RuleRef, ir.AccRef, ir.Side)):
            yield node


def _state_atoms(goal: Goal) -> list:
    """(scaled Int, scale) of each year-to-date the goal's runs start from, each once."""
    atoms = {}
    for _, run in goal.runs:
        for n, scale in run.state_scaled.values():
            atoms.setdefault(n.get_id(), (n, scale))
    return list(atoms.values())


def _conjuncts(e) -> list:
    """The parts of an `and` chain."""
    if isinstance(e, ir.Logic) and e.op == "and":
        return [*_conjuncts(e.left), *_conjuncts(e.right)]
    return [e]


def _shared(run: Run) -> dict:
    return {name: (run.inputs[name], run.present[name]) for name in run.inputs}


def _pairs(n: int):
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def _same_output(a: ir.Row, b: ir.Row) -> bool:
    if isinstance(a.output, ir.NotApplicable) or isinstance(b.output, ir.NotApplicable):
        return isinstance(a.output, ir.NotApplicable) and isinstance(b.output, ir.NotApplicable) \
            and a.output.reason == b.output.reason
    return a.output.value == b.output.value


def _domain(enc: Encoder, col, t: ir.Type) -> list:
    if t.name == "enum":
        return [col >= 0, col < len(enc.members[t.enum])]
    if t.name in ("money", "number", "rate", "points"):
        return [col >= 0]
    return []


def check_policy(policy: ir.Policy, timeout: float = 10.0, budget: float | None = DEFAULT_BUDGET,
                 progress=None) -> Report:
    """Check one policy: each solver question within `timeout`, the whole policy within `budget` (both in
    seconds of the calibrated resource count, so the verdicts are the same in every command and process)."""
    return Checker(policy, timeout, Budget(budget), progress).run()
