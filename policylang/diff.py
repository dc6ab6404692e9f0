"""`policylang diff OLD NEW`: what a reform changes, over the same claims, proved with Z3.

Both policies are encoded over one set of claim symbols (inputs are shared by name) and one
year-to-date (every accumulator of either policy, any value ≥ 0), so a model is one claim seen by
both. The service date is the exception: each side's claim falls in its own policy's in-force
period (a reform and its baseline follow each other), or on the date `--old-date` / `--new-date`
fix, which compares two versions inside one policy (the 变化对照表 of an effective date). Each
side's scope and constraints apply. Every claim shown is replayed through both evaluators of both
policies and must show what the solver said (else PL901); docs/diff.md is the user's reference.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction

import z3

from policylang import ir
from policylang.domains import state_scaled
from policylang.backends.interpreter import Interpreter
from policylang.backends.python import compile_policy
from policylang.backends.smt import MAX_FEN, Encoder, Run, definitions, read_claim, rounding_lemmas
from policylang.backends.solving import Budget, decide
from policylang.platform import OUTPUT_NAMES
from policylang.report import claim_syntax, outputs_text, state_syntax
from policylang.runtime import EXACT, Outcome
from policylang.testing import show


class DiffError(Exception):
    """The two policies cannot be compared (their inputs differ in type)."""


class Irreproducible(Exception):
    """A claim the solver found does not show, replayed through the evaluators, what the solver
    said it shows: a bug in policylang (PL901), never something to print as a finding."""


@dataclass
class Shown:
    """A claim `diff` shows, replayed: what a reviewer pastes into `eval` to see the same numbers.

    `claim` holds every input either policy reads, with the old side's service date; `state` is the
    year-to-date before the claim for every accumulator of either policy (both sides share it)."""

    claim: dict
    state: dict
    old: Outcome  # the compiled evaluators' outcomes (the interpreters agree: replay checks it)
    new: Outcome
    new_day: datetime.date | None  # the new side's service date


@dataclass
class Largest:
    """The largest change of an output in one direction.

    status: none (proved: no claim changes it this way) | exact (proved: no claim changes it more) |
    at-least (a claim with this change, but the solver could not rule out a larger one: a lower bound) |
    undecided (no claim found, and none not proved) | internal-error (the claim did not reproduce)."""

    status: str
    amount: Decimal | None = None
    shown: Shown | None = None
    message: str = ""

    @property
    def decided(self) -> bool:
        return self.status in ("none", "exact")


@dataclass
class Change:
    output: str
    increase: Largest
    decrease: Largest

    @property
    def decided(self) -> bool:
        """Both directions proved (none or exact); an internal error is reported on its own."""
        return all(d.decided or d.status == "internal-error" for d in (self.increase, self.decrease))


@dataclass
class DiffReport:
    old: ir.Policy
    new: ir.Policy
    worse_off: Shown | None = None  # the smallest claim found worse off; None if proved or undecided
    worse_status: str = "proved"  # proved | violated | unknown | internal-error
    changes: list = field(default_factory=list)
    internal_errors: list = field(default_factory=list)  # what did not reproduce (PL901), for the bug report

    @property
    def exit_code(self) -> int:
        """70 a shown claim did not reproduce; 1 someone worse off or anything undecided; 0 otherwise."""
        if self.internal_errors:
            return 70
        if self.worse_status != "proved" or not all(c.decided for c in self.changes):
            return 1
        return 0


@dataclass
class Found:
    """What a search over one objective found: status as in Largest, the model and its value."""

    status: str
    model: object = None
    value: Fraction | None = None


def fund_total(policy: ir.Policy, run: Run):
    """Σ of the outputs the platform counts as fund payments, and whether any is not applicable."""
    funds = [run.rule(name) for name in fund_outputs(policy)]
    return z3.Sum([f.v for f in funds]), z3.Or(*[f.na for f in funds])


def fund_outputs(policy: ir.Policy) -> list:
    names = [r.name for r in policy.outputs if r.platform and OUTPUT_NAMES[r.platform][1] == "fund"]
    if not names:
        raise DiffError(f"{policy.file} has no fund output (as hifp_pay, hifmi_pay, maf_pay …) to compare")
    return names


MAX_STEPS = 64  # probes of one search; a search that runs out reports a lower bound, never an exact one
GRAIN = {"money": Fraction(1, 100)}  # the bisection stops at this width, then proves the bound exactly


class Differ:
    def __init__(self, old: ir.Policy, new: ir.Policy, timeout: float = 10.0,
                 old_date: datetime.date | None = None, new_date: datetime.date | None = None,
                 budget: float | None = None):
        self.old, self.new = old, new
        self.timeout_ms = int(timeout * 1000)
        self.budget = Budget(budget)  # the whole comparison's solver work (--budget)
        self.check_inputs()
        self.old_run = Run(Encoder(old), "c:")
        self.state = dict(self.old_run.state_scaled)  # every accumulator of either policy: (Int, scale)
        self.new_run = Run(Encoder(new), "new:", state=self.shared_state(), shared=self.shared_inputs())
        self.dates = [self.date_fix(self.old_run, old, old_date), self.date_fix(self.new_run, new, new_date)]
        self.base = self.old_run.domain + self.new_run.domain
        self.base += [self.old_run.valid(), self.new_run.valid(), self.old_run.applicable(), self.new_run.applicable()]
        self.base += self.state_domain() + self.dates
        self.compiled = (compile_policy(old), compile_policy(new))
        self.interpreters = (Interpreter(old), Interpreter(new))

    def check_inputs(self):
        for name, inp in self.new.inputs.items():
            other = self.old.inputs.get(name)
            if other is None:
                continue
            same_enum = inp.type.name != "enum" or (
                self.old.enums[other.type.enum].member_names() == self.new.enums[inp.type.enum].member_names())
            if other.type.name != inp.type.name or not same_enum:
                raise DiffError(f"input `{name}` is {other.type} in {self.old.file} but {inp.type} in {self.new.file}")

    def shared_state(self):
        """Accumulators both policies keep are one year-to-date; the new policy's own are a year-to-date
        too (any value ≥ 0, like the others), shown and replayed with the claim."""
        state, scaled = {}, {}
        for name, acc in self.new.accumulators.items():
            if name in self.old_run.state:
                state[name], scaled[name] = self.old_run.state[name], self.old_run.state_scaled[name]
            else:
                n = z3.Int(f"new:state:{name}")
                scale = state_scaled(acc)[1]
                state[name], scaled[name] = z3.ToReal(n) / scale, (n, scale)
                self.state[name] = (n, scale)
        return state, scaled

    def state_domain(self) -> list:
        """Every year-to-date value ≥ 0 (and within the encoder's bound), counts whole."""
        out = []
        for name, (n, scale) in self.state.items():
            largest = min(state_scaled(p.accumulators[name])[0] for p in (self.old, self.new) if name in p.accumulators)
            out += [n >= 0, n <= largest]
            owners = [p for p in (self.old, self.new) if name in p.accumulators]
            if scale > 1 and all(ir.whole_count(p, name) for p in owners):
                out.append(n % scale == 0)
        return out

    def shared_inputs(self) -> dict:
        """The new side reads the old side's symbols for every input both policies have, except the
        service date: each side's claim falls in its own policy's in-force period (and versions)."""
        return {n: (self.old_run.inputs[n], self.old_run.present[n]) for n in self.new.inputs
                if n in self.old.inputs and n != self.new.service_date}

    @staticmethod
    def date_fix(run: Run, policy: ir.Policy, day) -> object:
        return run.inputs[policy.service_date] == day.toordinal() if day else z3.BoolVal(True)

    # ------------------------------------------------------------------ questions
    def run(self) -> DiffReport:
        report = DiffReport(self.old, self.new)
        old_total, old_na = fund_total(self.old, self.old_run)
        new_total, new_na = fund_total(self.new, self.new_run)
        both = [*self.base, z3.Not(old_na), z3.Not(new_na)]
        loss = old_total - new_total
        # the question the reviewer asks first gets the whole --timeout, not a bisection step's share
        verdict, model = self.ask(both, loss, Fraction(0), self.timeout_ms)
        report.worse_status = "violated" if verdict == z3.sat else "proved" if verdict == z3.unsat else "unknown"
        if model is not None:
            model = self.believable(both + [loss > 0], model, money=True)
            try:
                report.worse_off = self.replay(model, lambda s: self.loss(s) == self.value(model, loss) > 0,
                                               "someone is worse off")
            except Irreproducible as exc:
                report.worse_status = "internal-error"
                report.internal_errors.append(str(exc))
        for rule in self.new.outputs:
            if rule.name in self.old.rules and rule.type in (ir.MONEY, ir.RATE):
                change = self.change(rule)
                report.internal_errors += [d.message for d in (change.increase, change.decrease) if d.message]
                report.changes.append(change)
        return report

    def change(self, rule: ir.Rule) -> Change:
        name = rule.name
        a, b = self.old_run.rule(name), self.new_run.rule(name)
        both = [*self.base, z3.Not(a.na), z3.Not(b.na)]
        out = []
        for what, objective in (("increase", b.v - a.v), ("decrease", a.v - b.v)):
            found = self.largest(both, objective, rule.type.name)
            if found.model is None:
                out.append(Largest(found.status))
                continue
            value = found.value
            model = self.believable(both + [self.above(objective, value, strict=False)], found.model)
            sign = 1 if what == "increase" else -1
            try:
                shown = self.replay(model, lambda s: self.moved(s, name) == sign * self.value(model, objective),
                                    f"the largest {what} of `{name}`")
            except Irreproducible as exc:
                out.append(Largest("internal-error", message=str(exc)))
                continue
            out.append(Largest(found.status, _decimal(self.moved(shown, name)), shown))
        return Change(name, *out)

    # ------------------------------------------------------------------ searches
    def ask(self, formulas, objective, bound: Fraction, budget_ms: int, strict: bool = True):
        """(verdict, model) of: some claim has objective > bound (≥ bound when not strict)."""
        verdict, model, _ = decide([*formulas, *self.lemmas(), self.above(objective, bound, strict)], budget_ms,
                                   self.budget)
        return verdict, model

    def lemmas(self) -> list:
        # rules are encoded as questions are asked, so the definitions are read each time
        return rounding_lemmas(self.old_run, self.new_run) + definitions([self.old_run, self.new_run])

    @staticmethod
    def above(objective, bound: Fraction, strict: bool = True):
        term = z3.ToReal(objective) if z3.is_int(objective) else objective
        value = z3.RealVal(f"{bound.numerator}/{bound.denominator}")
        return term > value if strict else term >= value

    @staticmethod
    def value(model, term) -> Fraction:
        v = model.eval(term, model_completion=True)
        return Fraction(v.as_long()) if z3.is_int_value(v) else Fraction(v.as_fraction())

    def step_budget(self) -> int:
        return max(self.timeout_ms // 4, 400)

    def largest(self, formulas, objective, kind: str) -> Found:
        """The largest value > 0 of objective, proved: a plain satisfiability question per step (the
        optimizer gives up on rounding, which is integer division; the solver does not).

        Each sat answer raises the lower bound to its model's value, each unsat lowers the upper
        bound. The first step after a claim is found asks for more than it (the solver's first model
        is often the largest: one proof ends the search); then it gallops up from the best value and
        bisects down to the grain, and ends by proving `objective > best` unsat, so an exact answer
        is a proof whatever the grain. Starting from the value found rather than from the largest
        claim (1000 万元) saves the dozen far-away questions a plain bisection asks first. A step the
        solver cannot decide ends the search: what it found is a lower bound (at-least), or nothing
        (undecided); a search that runs out of steps is a lower bound too."""
        verdict, model = self.ask(formulas, objective, Fraction(0), self.step_budget())
        if verdict == z3.unsat:
            return Found("none")
        if verdict != z3.sat:
            return Found("undecided")
        grain = GRAIN.get(kind, Fraction(1, 10000))
        # money changes are whole fen (every money rule is), so "more than x" is asked as "more than
        # x + half a fen": the same question, which the solver finds easier than a bound on the grid
        offset = grain / 2 if kind == "money" else Fraction(0)
        low, high, first = self.value(model, objective), None, True
        for _ in range(MAX_STEPS):
            if first or (high is not None and high - low <= grain):
                probe = low  # nothing above the best claim?
            elif high is None:
                probe = low * 2 + grain
            else:
                probe = _floor((low + high) / 2, grain)
            first = False
            verdict, candidate = self.ask(formulas, objective, probe + offset, self.step_budget())
            if verdict == z3.unsat:
                if probe == low:
                    return Found("exact", model, low)
                high = probe
            elif verdict == z3.sat:
                model, low = candidate, self.value(candidate, objective)
            else:
                break
        return Found("at-least", model, low)

    def smallest(self, formulas, term, model, step: Fraction = Fraction(1)):
        """A model whose term (≥ 0) is at most the first of 0, step, 10·step, 100·step … that some
        claim reaches: the order of magnitude, not the least value. For believable claims only, never
        a verdict, so it does not bisect: that would cost a dozen proofs that nothing smaller exists
        (on 淄博 at --timeout 60, 19 of them took 100 s) for a claim that is only easier to read."""
        threshold, current = Fraction(0), self.value(model, term)
        while threshold < current:
            verdict, found = self.ask(formulas, -term, -threshold, self.step_budget(), strict=False)
            if verdict == z3.sat:
                return found
            if verdict != z3.unsat:
                break
            threshold = threshold * 10 if threshold else step
        return model

    def believable(self, formulas, model, money: bool = False):
        """The model with the least year-to-date, then (money=True) the least claim amounts, whole
        hundreds of yuan first as the checker does: a reviewer believes a second admission more than a
        thirty-seventh, and 100 元 more than 3107.41 元. The claims behind a largest change keep the
        solver's amounts (only their state is made small): each costs a search of its own."""
        if self.state:
            state = z3.Sum([z3.ToReal(n) / scale for n, scale in self.state.values()])
            model = self.smallest(formulas, state, model)
            formulas = formulas + [z3.Not(self.above(state, self.value(model, state)))]
        amounts = [n for n, scale in self.old_run.scaled.values() if scale == 100]
        if not money or not amounts:
            return model
        total = z3.Sum([z3.ToReal(n) / 100 for n in amounts])
        for step in (10000, 100, 1):
            tier = formulas + [n % step == 0 for n in amounts]
            verdict, start, _ = decide([*tier, *self.lemmas()], self.step_budget(), self.budget)
            if verdict == z3.sat:
                return self.smallest(tier, total, start, Fraction(step, 100))
            if verdict != z3.unsat:
                break
        return model

    # ------------------------------------------------------------------ replay
    def replay(self, model, shows, what: str) -> Shown:
        """One claim (each side with its own service date and its own accumulators), run through both
        compiled evaluators and both interpreters; `shows(shown)` must hold of the replay, or the
        solver's claim is not what it said it was (Irreproducible)."""
        old_claim = read_claim(self.old_run, model)
        new_claim = {**old_claim, **read_claim(self.new_run, model)}
        new_claim = {k: v for k, v in new_claim.items() if k in self.new.inputs}
        state = {name: Decimal(model.eval(n, model_completion=True).as_long()) / scale
                 for name, (n, scale) in self.state.items()}
        sides = []
        for policy, claim, compiled, interpreter in zip((self.old, self.new), (old_claim, new_claim),
                                                        self.compiled, self.interpreters):
            own = {k: v for k, v in state.items() if k in policy.accumulators}
            outcome = compiled(claim, own)
            if outcome != interpreter.evaluate(claim, own):
                raise Irreproducible(self.bug(what, f"the compiled evaluator of {policy.file} disagrees with the "
                                                    "interpreter", old_claim, new_claim, state))
            sides.append(outcome)
        shown_claim = {**old_claim, **{k: v for k, v in new_claim.items() if k not in old_claim}}
        shown = Shown(shown_claim, state, *sides, new_claim.get(self.new.service_date))
        if not shows(shown):
            raise Irreproducible(self.bug(what, "replayed through the evaluators, the claim does not show it "
                                                f"(old: {outputs_text(self.old, shown.old)}; new: "
                                                f"{outputs_text(self.new, shown.new)})", old_claim, new_claim, state))
        return shown

    def bug(self, what: str, why: str, old_claim: dict, new_claim: dict, state: dict) -> str:
        claims = f"old side {old_claim}, new side {new_claim}, state {state}"
        return f"{what}: the solver's claim did not reproduce: {why}; please report this with the claim: {claims}"

    def loss(self, shown: Shown) -> Fraction | None:
        """The old fund total minus the new, as the evaluators give it (None: not applicable)."""
        totals = []
        for policy, outcome in ((self.old, shown.old), (self.new, shown.new)):
            values = [outcome.outputs.get(n) for n in fund_outputs(policy)] if outcome.applicable else [None]
            if any(not isinstance(v, Decimal) for v in values):
                return None
            totals.append(sum(values, Decimal(0)))
        return Fraction(totals[0] - totals[1])

    @staticmethod
    def moved(shown: Shown, name: str) -> Fraction | None:
        """new − old of one output, as the evaluators give it (None: not applicable on a side)."""
        if not (shown.old.applicable and shown.new.applicable):
            return None
        a, b = shown.old.outputs.get(name), shown.new.outputs.get(name)
        return Fraction(b - a) if isinstance(a, Decimal) and isinstance(b, Decimal) else None


def _floor(value: Fraction, grain: Fraction) -> Fraction:
    return (value // grain) * grain


def _decimal(value: Fraction) -> Decimal:
    """An exact Decimal for a value the evaluators produced (a terminating decimal)."""
    with localcontext(EXACT):
        return Decimal(value.numerator) / Decimal(value.denominator)


@dataclass
class Direction:
    """Whether raising an assumption moves every claim's fund payment the same way."""

    name: str
    status: str  # same-way | opposite | unknown
    claims: tuple | None = None  # (claim, state, before, after) × 2 when opposite


STEP = {"rate": Decimal("0.01"), "points": Decimal("0.01"), "money": Decimal(100), "number": Decimal(1)}


def direction(policy: ir.Policy, name: str, timeout: float = 10.0, budget: float | None = None) -> Direction:
    """Two claims, each at the assumption's value a and at a raised value a': can one gain while the
    other loses? a' is a + one step (1 percentage point, 100 元, 1): with both values fixed the
    formulas stay linear, which the solver decides; a symbolic a would multiply two unknowns."""
    from policylang.semantics.expressions import constant

    rule = policy.rules.get(name)
    try:
        current = constant(rule.versions[0].expr) if rule is not None and rule.assumption else None
    except ValueError:
        current = None
    if current is None:
        raise DiffError(f"{policy.file} has no assumption `{name}` with a constant value")
    low, high = z3.RealVal(str(current)), z3.RealVal(str(current + STEP[rule.type.name]))
    bound = []
    enc = Encoder(policy)
    formulas, deltas, runs = list(bound), [], []
    for claim in ("c1:", "c2:"):
        at_low = Run(enc, claim)
        at_high = Run(enc, f"{claim}high:", state=at_low.shared_state(),
                      shared={n: (at_low.inputs[n], at_low.present[n]) for n in policy.inputs})
        for run, value in ((at_low, low), (at_high, high)):
            run.rules[name] = _fixed(value)
            formulas += run.domain + [run.valid(), run.applicable()]
        formulas += [n >= 0 for n, _ in at_low.state_scaled.values()]
        formulas += [n % scale == 0 for acc, (n, scale) in at_low.state_scaled.items()
                     if scale > 1 and ir.whole_count(policy, acc)]
        (a, a_na), (b, b_na) = fund_total(policy, at_low), fund_total(policy, at_high)
        formulas += [z3.Not(a_na), z3.Not(b_na)]
        deltas.append(b - a)
        runs.append((at_low, at_high))
    formulas += definitions([run for pair in runs for run in pair])
    verdict, model, _ = decide([*formulas, deltas[0] > 0, deltas[1] < 0], int(timeout * 1000), Budget(budget))
    if verdict == z3.unsat:
        return Direction(name, "same-way")
    if verdict == z3.unknown:
        return Direction(name, "unknown")
    values = [current, current + STEP[rule.type.name]]
    evaluators = [compile_policy(_with_value(policy, name, v)) for v in values]
    shown = []
    for (at_low, _), sign in zip(runs, (1, -1)):
        claim = read_claim(at_low, model)
        state = {k: Decimal(model.eval(n, model_completion=True).as_long()) / s
                 for k, (n, s) in at_low.state_scaled.items()}
        before, after = (evaluate(claim, state) for evaluate in evaluators)
        moved = [sum((o.outputs.get(n) for n in fund_outputs(policy)), Decimal(0)) if o.applicable else None
                 for o in (before, after)]
        if None in moved or (moved[1] - moved[0]) * sign <= 0:
            raise Irreproducible(f"raising `{name}`: the solver's claim did not reproduce (before: "
                                 f"{outputs_text(policy, before)}; after: {outputs_text(policy, after)}); "
                                 f"please report this with the claim: {claim}, state {state}")
        shown.append((claim, state, before, after))
    return Direction(name, "opposite", (values, shown))


def _fixed(value):
    from policylang.backends.smt import V

    return V(value, z3.BoolVal(False), z3.IntVal(0))


def _with_value(policy: ir.Policy, name: str, value: Decimal) -> ir.Policy:
    import dataclasses

    rule = policy.rules[name]
    versions = tuple(dataclasses.replace(v, expr=ir.Const(value, rule.type, rule.span)) for v in rule.versions)
    return dataclasses.replace(policy, rules={**policy.rules, name: dataclasses.replace(rule, versions=versions)})


def direction_text(policy: ir.Policy, d: Direction) -> str:
    if d.status == "same-way":
        return f"  ✓ raising `{d.name}` moves every claim's fund payment the same way"
    if d.status == "unknown":
        return f"  ? undecided whether raising `{d.name}` moves every claim the same way: raise --timeout"
    (low, high), shown = d.claims
    t = policy.rules[d.name].type
    out = [f"  ✗ raising `{d.name}` from {show(low, t)} to {show(high, t)} moves two claims in opposite directions:"]
    for claim, state, before, after in shown:
        out += claim_lines(policy.inputs, policy.accumulators, claim, state, "      ")
        out.append(f"        before: {outputs_text(policy, before)}")
        out.append(f"        after:  {outputs_text(policy, after)}")
    return "\n".join(out)


def claim_lines(inputs: dict, accumulators: dict, claim: dict, state: dict, indent: str, comment: str = "") -> list:
    """A shown claim as an example block takes it: its year-to-date (`state { … }`), then the claim."""
    lines = [indent + state_syntax(accumulators, state)] if state else []
    return lines + [indent + claim_syntax(inputs, claim) + comment]


def diff_text(report: DiffReport) -> str:
    old, new = report.old, report.new
    inputs, accumulators = {**new.inputs, **old.inputs}, {**new.accumulators, **old.accumulators}
    out = [f"diff {old.file} → {new.file}"]
    if report.worse_status == "proved":
        out.append("  ✓ nobody's fund payment falls under the new policy (for every valid claim in both scopes, "
                   "from any year-to-date)")
    elif report.worse_status == "unknown":
        out.append("  ? undecided whether someone's fund payment falls: raise --timeout")
    elif report.worse_status == "internal-error":
        out.append("  ! someone is worse off, but the solver's claim did not reproduce (internal error PL901, below)")
    elif report.worse_status == "violated":
        s = report.worse_off
        out.append("  ✗ someone is worse off under the new policy:")
        out += claim_lines(inputs, accumulators, s.claim, s.state, "      ", _new_side_date(old, s.claim, s.new_day))
        out.append(f"      old: {outputs_text(old, s.old)}")
        out.append(f"      new: {outputs_text(new, s.new)}")
    for change in report.changes:
        t = new.rules[change.output].type
        out.append(f"  {change.output}:" + ("" if change.decided else " (undecided)"))
        for label, item in (("largest increase", change.increase), ("largest decrease", change.decrease)):
            out += _largest_lines(label, change.output, item, t, old, inputs, accumulators)
    for message in report.internal_errors:
        out.append(f"internal error[PL901]: {message}")
    return "\n".join(out)


LARGEST = {
    "none": "none",
    "undecided": "undecided (no claim found, and none not proved): raise --timeout",
    "internal-error": "internal error (PL901, below)",
}


def _largest_lines(label: str, name: str, item: Largest, t: ir.Type, old: ir.Policy, inputs: dict, accumulators: dict) -> list:
    if item.shown is None:
        return [f"    {label}: {LARGEST[item.status]}"]
    s = item.shown
    size = show(abs(item.amount), ir.POINTS if t == ir.RATE else t)  # a ratio changes by points
    at_bound = any(isinstance(v, Decimal) and v * 100 >= MAX_FEN * Decimal("0.99") for v in s.claim.values())
    note = " (it grows with the amount: shown at the search bound of 1000万元)" if at_bound else ""
    if item.status == "at-least":
        size, note = f"at least {size}", note + " (a lower bound: the solver could not rule out a larger one; raise --timeout)"
    out = [f"    {label}: {size}{note}"]
    out += claim_lines(inputs, accumulators, s.claim, s.state, "      ", _new_side_date(old, s.claim, s.new_day))
    out.append(f"      old {show(s.old.outputs[name], t)} → new {show(s.new.outputs[name], t)}")
    return out
def _new_side_date(old: ir.Policy, claim: dict, new_day) -> str:
    """The new side's service date when it is not the old side's: each side's claim falls in its own
    policy's period (a reform in force from 2023-10-01 against a baseline dated 2023-01-01)."""
    if new_day is None or new_day == claim.get(old.service_date):
        return ""
    return f"   # new side: {old.service_date} = {new_day.isoformat()}"
