"""`policylang diff OLD NEW`: what a reform changes, over the same claims, proved with Z3.

Both policies are encoded over one set of claim symbols (inputs are shared by name), so a
model is one claim seen by both. The in-force periods are ignored — a reform and its baseline
usually follow each other in time — but each side's scope and constraints apply; `--old-date`
and `--new-date` fix the service date of each side, which compares two versions inside one
policy (the 变化对照表 of an effective date).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import z3

from policylang import ir
from policylang.backends.python import compile_policy
from policylang.backends.smt import MAX_FEN, Encoder, Run, decide, definitions, read_claim, rounding_lemmas
from policylang.platform import OUTPUT_NAMES
from policylang.testing import show


class DiffError(Exception):
    """The two policies cannot be compared (their inputs differ in type)."""


@dataclass
class Change:
    output: str
    largest_increase: tuple | None = None  # (amount, claim, state, old outcome, new outcome, new side's date)
    largest_decrease: tuple | None = None
    status: str = "ok"  # ok | unknown


@dataclass
class DiffReport:
    old: ir.Policy
    new: ir.Policy
    worse_off: tuple | None = None  # (claim, state, old outcome, new outcome, new side's date); None if proved
    worse_status: str = "proved"  # proved | violated | unknown
    changes: list = field(default_factory=list)
    parameter: dict | None = None


def fund_total(policy: ir.Policy, run: Run):
    """Σ of the outputs the platform counts as fund payments, and whether any is not applicable."""
    funds = [run.rule(r.name) for r in policy.outputs if r.platform and OUTPUT_NAMES[r.platform][1] == "fund"]
    if not funds:
        raise DiffError(f"{policy.file} has no fund output (as hifp_pay, hifmi_pay, maf_pay …) to compare")
    return z3.Sum([f.v for f in funds]), z3.Or(*[f.na for f in funds])


class Differ:
    def __init__(self, old: ir.Policy, new: ir.Policy, timeout: float = 10.0,
                 old_date: datetime.date | None = None, new_date: datetime.date | None = None):
        self.old, self.new = old, new
        self.timeout_ms = int(timeout * 1000)
        self.check_inputs()
        self.old_run = Run(Encoder(old), "c:")
        self.new_run = Run(Encoder(new), "new:", state=self.shared_state(), shared=self.shared_inputs())
        self.dates = [self.date_fix(self.old_run, old, old_date), self.date_fix(self.new_run, new, new_date)]
        self.base = self.old_run.domain + self.new_run.domain
        self.base += [self.old_run.valid(), self.new_run.valid(), self.old_run.applicable(), self.new_run.applicable()]
        self.base += [n >= 0 for n, _ in self.old_run.state_scaled.values()] + self.dates
        self.compiled = (compile_policy(old), compile_policy(new))

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
        """Accumulators both policies keep are one year-to-date; the new policy's own start at 0."""
        state, scaled = {}, {}
        for name, acc in self.new.accumulators.items():
            if name in self.old_run.state:
                state[name], scaled[name] = self.old_run.state[name], self.old_run.state_scaled[name]
            else:
                n = z3.Int(f"new:state:{name}")
                state[name], scaled[name] = z3.ToReal(n) / 100, (n, 100)
        return state, scaled

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
        # the question the reviewer asks first gets the whole --timeout, not a bisection step's share
        model, decided = self.maximize(both, old_total - new_total, steps=1, budget_ms=self.timeout_ms)
        report.worse_status = "violated" if model is not None else "proved" if decided else "unknown"
        if model is not None:
            # A reviewer believes a small claim: the least money that still shows the loss.
            amounts = [n for name, (n, scale) in self.old_run.scaled.items() if scale == 100]
            smaller = None
            for step in (10000, 100, 1):  # whole hundreds of yuan first, as the checker does
                round_ = [n % step == 0 for n in amounts]
                smaller, _ = self.maximize(both + round_ + [old_total > new_total],
                                           -z3.Sum(amounts) if amounts else z3.IntVal(0), low=Decimal(-10 ** 12))
                if smaller is not None:
                    break
            report.worse_off = self.replay(smaller or model)
        for rule in self.new.outputs:
            if rule.name in self.old.rules and rule.type in (ir.MONEY, ir.RATE):
                report.changes.append(self.change(rule.name))
        return report

    def change(self, name: str) -> Change:
        a, b = self.old_run.rule(name), self.new_run.rule(name)
        both = [*self.base, z3.Not(a.na), z3.Not(b.na)]
        change = Change(name)
        for attr, objective in (("largest_increase", b.v - a.v), ("largest_decrease", a.v - b.v)):
            model, exact = self.maximize(both, objective)
            if model is not None:
                claim = self.replay(model)
                old_v, new_v = claim[2].outputs.get(name), claim[3].outputs.get(name)
                setattr(change, attr, (new_v - old_v, *claim))
            if not exact:
                change.status = "unknown"
        return change

    def maximize(self, formulas, objective, steps: int = 40, low: Decimal = Decimal(0), budget_ms: int | None = None):
        """The model with the largest objective > 0, by bisection over the objective's value.

        Returns (model or None, decided): the optimizer gives up on rounding (integer division),
        plain satisfiability does not, and 40 halvings of 1,000 万元 reach the fen.
        """
        high, best = Decimal(10 ** 7), None
        decided = True
        lemmas = rounding_lemmas(self.old_run, self.new_run) + definitions([self.old_run, self.new_run])
        for _ in range(steps):
            if high - low < Decimal("0.005"):
                break
            mid = (low + high) / 2 if best is not None else low
            bound = z3.ToReal(objective) > z3.RealVal(str(mid)) if z3.is_int(objective) \
                else objective > z3.RealVal(str(mid))
            verdict, model, _ = decide([*formulas, *lemmas, bound], budget_ms or max(self.timeout_ms // 4, 400))
            if verdict == z3.sat:
                best = model
                value = best.eval(objective, model_completion=True)
                fraction = value.as_fraction() if z3.is_rational_value(value) else value.as_long()
                low = Decimal(fraction.numerator) / Decimal(fraction.denominator) \
                    if hasattr(fraction, "numerator") else Decimal(fraction)
            elif verdict == z3.unsat:
                if best is None:
                    return None, True
                high = mid
            else:
                decided = False
                break
        return best, decided

    def replay(self, model) -> tuple:
        """One claim (each side with its own service date), run through both compiled evaluators."""
        old_claim = read_claim(self.old_run, model)
        new_claim = {**old_claim, **read_claim(self.new_run, model)}
        state = {name: Decimal(model.eval(n, model_completion=True).as_long()) / scale
                 for name, (n, scale) in self.old_run.state_scaled.items()}
        new_state = {k: v for k, v in state.items() if k in self.new.accumulators}
        return (old_claim, state, self.compiled[0](old_claim, state), self.compiled[1](new_claim, new_state),
                new_claim.get(self.new.service_date))


@dataclass
class Direction:
    """Whether raising an assumption moves every claim's fund payment the same way."""

    name: str
    status: str  # same-way | opposite | unknown
    claims: tuple | None = None  # (claim, state, before, after) × 2 when opposite


STEP = {"rate": Decimal("0.01"), "points": Decimal("0.01"), "money": Decimal(100), "number": Decimal(1)}


def direction(policy: ir.Policy, name: str, timeout: float = 10.0) -> Direction:
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
        (a, a_na), (b, b_na) = fund_total(policy, at_low), fund_total(policy, at_high)
        formulas += [z3.Not(a_na), z3.Not(b_na)]
        deltas.append(b - a)
        runs.append((at_low, at_high))
    formulas += definitions([run for pair in runs for run in pair])
    verdict, model, _ = decide([*formulas, deltas[0] > 0, deltas[1] < 0], int(timeout * 1000))
    if verdict == z3.unsat:
        return Direction(name, "same-way")
    if verdict == z3.unknown:
        return Direction(name, "unknown")
    compiled = compile_policy(policy)
    values = [current, current + STEP[rule.type.name]]
    shown = []
    for at_low, _ in runs:
        claim = read_claim(at_low, model)
        state = {k: Decimal(model.eval(n, model_completion=True).as_long()) / s
                 for k, (n, s) in at_low.state_scaled.items()}
        outcomes = [compile_policy(_with_value(policy, name, v))(claim, state) for v in values]
        shown.append((claim, state, *outcomes))
    del compiled
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
    from policylang.report import example_syntax, outputs_text

    if d.status == "same-way":
        return f"  ✓ raising `{d.name}` moves every claim's fund payment the same way"
    if d.status == "unknown":
        return f"  ? undecided whether raising `{d.name}` moves every claim the same way: raise --timeout"
    (low, high), shown = d.claims
    t = policy.rules[d.name].type
    out = [f"  ✗ raising `{d.name}` from {show(low, t)} to {show(high, t)} moves two claims in opposite directions:"]
    for claim, state, before, after in shown:
        out.append(f"      {example_syntax(policy, claim)}")
        out.append(f"        before: {outputs_text(policy, before)}")
        out.append(f"        after:  {outputs_text(policy, after)}")
    return "\n".join(out)


def diff_text(report: DiffReport) -> str:
    from policylang.report import example_syntax, outputs_text

    old, new = report.old, report.new
    out = [f"diff {old.file} → {new.file}"]
    if report.worse_status == "proved":
        out.append("  ✓ nobody's fund payment falls under the new policy (for every valid claim in both scopes)")
    elif report.worse_status == "unknown":
        out.append("  ? undecided whether someone's fund payment falls: raise --timeout")
    else:
        claim, state, a, b, new_day = report.worse_off
        out.append("  ✗ someone is worse off under the new policy:")
        out.append(f"      {example_syntax(old, claim)}{_new_side_date(old, claim, new_day)}")
        if state:
            out.append(f"      state {{ {', '.join(f'{k} = {show(v, old.accumulators[k].type)}' for k, v in state.items())} }}")
        out.append(f"      old: {outputs_text(old, a)}")
        out.append(f"      new: {outputs_text(new, b)}")
    for change in report.changes:
        t = new.rules[change.output].type
        out.append(f"  {change.output}:" + (" (undecided)" if change.status == "unknown" else ""))
        for label, item in (("largest increase", change.largest_increase), ("largest decrease", change.largest_decrease)):
            if item is None:
                out.append(f"    {label}: none")
                continue
            amount, claim, _, a, b, new_day = item
            size = show(abs(amount), ir.POINTS if t == ir.RATE else t)  # a ratio changes by points
            at_bound = any(isinstance(v, Decimal) and v * 100 >= MAX_FEN * Decimal("0.99") for v in claim.values())
            bound = " (it grows with the amount: shown at the search bound of 1000万元)" if at_bound else ""
            out.append(f"    {label}: {size}{bound} — {example_syntax(old, claim)}{_new_side_date(old, claim, new_day)}")
            out.append(f"      old {show(a.outputs[change.output], t)} → new {show(b.outputs[change.output], t)}")
    return "\n".join(out)


def _new_side_date(old: ir.Policy, claim: dict, new_day) -> str:
    """The new side's service date when it is not the old side's: each side's claim falls in its own
    policy's period (a reform in force from 2023-10-01 against a baseline dated 2023-01-01)."""
    if new_day is None or new_day == claim.get(old.service_date):
        return ""
    return f"   # new side: {old.service_date} = {new_day.isoformat()}"
