"""Asking Z3 one question so the answer is a function of the formula and the budget alone.

Three things used to make the same goal proved in one process and undecided in another, or decided
at a large `--timeout` but not at a smaller one that was enough:

- Z3's global context: term ids depend on everything built before in the process (another policy
  checked first, the docs' matrix), and the solver's search follows them. Each question is copied
  into a fresh context, so it sees only its own formulas, numbered in their own order.
- The wall clock: a limit in seconds trips earlier on a loaded machine. Budgets are Z3's resource
  count (rlimit); the wall clock is only a safety net far above the budget.
- A fixed split of the budget among strategies: a goal that only the second strategy decides, with
  X units, needed the whole budget to be X / (its share). The strategies now take turns in rounds
  that double (iterative deepening), so a goal some strategy decides with X units is decided once
  the budget reaches about 2 × X × (number of strategies), and never costs more than that.

`Budget` is the whole run's allowance (`--budget`), charged with the resource units each question
used, so a review pipeline's run ends even when every goal is hard; spending it is deterministic too.
"""
from __future__ import annotations

import z3

# The solver's resource count per second of --timeout. (Measured here: 4–15 million units per second
# on hard goals, more on easy ones; the low end, so a second of budget is at most a second or so.)
RLIMIT_PER_SECOND = 4_000_000
ROUNDS = 3  # the budget in doubling rounds: 1/7, 2/7 and 4/7 of it
MIN_UNITS = 20_000  # below this a check cannot even read a large goal in
WALL_SAFETY = 20  # seconds of wall clock per second of budget before a question is abandoned


def _legacy_arith(solver):
    solver.set("arith.solver", 2)
    return solver


def _simplified(ctx):
    return z3.Then("simplify", "propagate-values", "ctx-simplify", "smt", ctx=ctx).solver()


# Measured on the policies in policies/: no single configuration decides every goal quickly. The
# default settles most goals at once, so it goes first; simplification plus the legacy arithmetic
# solver settles rounded stage chains (大病 → 救助) where the default gives up; the others each settle a
# few goals that all the rest leave undecided. (name, make(ctx), share of each round)
STRATEGIES = (
    ("default", lambda ctx: z3.Solver(ctx=ctx), 6),
    ("simplified, legacy arithmetic", lambda ctx: _legacy_arith(_simplified(ctx)), 2),
    ("simplified", _simplified, 2),
    ("if-then-else eliminated",
     lambda ctx: z3.Then("simplify", "elim-term-ite", "solve-eqs", "smt", ctx=ctx).solver(), 1),
    ("sums of monomials",
     lambda ctx: z3.Then(z3.With("simplify", arith_lhs=True, som=True, ctx=ctx), "propagate-values", "solve-eqs",
                         "elim-term-ite", "smt", ctx=ctx).solver(), 1),
    ("legacy arithmetic", lambda ctx: _legacy_arith(z3.Solver(ctx=ctx)), 1),
)


class Budget:
    """The resource units a whole run may spend; None means unbounded."""

    def __init__(self, seconds: float | None):
        self.units = None if seconds is None else int(seconds * RLIMIT_PER_SECOND)
        self.spent = 0

    @property
    def left(self) -> float:
        return float("inf") if self.units is None else max(self.units - self.spent, 0)

    def charge(self, units: int) -> None:
        self.spent += units


UNBOUNDED = Budget(None)
SPENT = "the run's --budget is spent"


def units_for(timeout_ms: int) -> int:
    return int(timeout_ms / 1000 * RLIMIT_PER_SECOND)


def decide(formulas, timeout_ms: int, budget: Budget = UNBOUNDED, on_round=None):
    """(verdict, model, why unknown) of the conjunction of formulas, within timeout_ms of resource units.

    The model, if any, evaluates the caller's terms (`Model`). on_round(strategy name, round) is told before each
    solver call (the progress line shows it).
    """
    allowance = min(units_for(timeout_ms), budget.left)
    if allowance < MIN_UNITS:
        return z3.unknown, None, SPENT
    ctx = z3.Context()
    goal = [f.translate(ctx) for f in formulas]
    total = sum(share for *_, share in STRATEGIES)
    first = allowance / (2 ** ROUNDS - 1) / total
    reasons = []
    for rnd in range(ROUNDS):
        for name, make, share in STRATEGIES:
            units = max(int(first * 2 ** rnd * share), MIN_UNITS)
            if units > budget.left:
                reasons.append(SPENT)
                return z3.unknown, None, "; ".join(dict.fromkeys(reasons))
            solver = make(ctx)  # fresh each round: a solver checked again after giving up has returned false models
            solver.add(*goal)
            solver.set("rlimit", units)
            solver.set("timeout", max(int(WALL_SAFETY * units / RLIMIT_PER_SECOND * 1000), 1000))
            if on_round is not None:
                on_round(name, rnd)
            verdict = solver.check()
            # what this check used: the count after it (read before a first check, it varies from run to run)
            budget.charge(min(_count(solver), units) or units)
            if verdict == z3.sat:
                model = solver.model()
                if z3.is_true(model.eval(z3.And(*goal), model_completion=True)):
                    return verdict, Model(model, ctx), ""
                reasons.append(f"{name} gave a model that breaks the formula")  # never trusted: a solver bug
                continue
            if verdict == z3.unsat:
                return verdict, None, ""
            reasons.append(solver.reason_unknown())
    return z3.unknown, None, "; ".join(dict.fromkeys(reasons))


class Model:
    """A model kept in its question's own context; the caller's terms are evaluated there.

    Translating the model back into the caller's context instead made later questions, asked in fresh
    contexts, answer differently from one run to the next (seen: the same formula using 62922 or
    37792 resource units in alternate calls), so nothing is ever copied back.
    """

    def __init__(self, model, ctx):
        self.model, self.ctx = model, ctx

    def eval(self, term, model_completion: bool = False):
        return self.model.eval(term.translate(self.ctx), model_completion=model_completion)


def _count(solver) -> int:
    """The resource units the solver's context has used (Z3 reports it as a statistic)."""
    try:
        return int(solver.statistics().get_key_value("rlimit count"))
    except (z3.Z3Exception, KeyError):
        return 0
