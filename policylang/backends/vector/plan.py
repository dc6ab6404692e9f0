"""Compiling a policy for the vectorized back end: what every column's scale and bound is, and whether
the policy can run here at all (else the reason, named at compile time, and the scalar evaluator runs it).

The check is a probe: one claim evaluated column-wise through every rule, scope test, update and
constraint. Every branch, version, row and band is computed for every row, so the probe meets every
node; the bounds do not depend on the claim, so an int64 risk anywhere raises here, never later.
"""
from __future__ import annotations

import dataclasses
import datetime

import numpy as np

from policylang import ir
from policylang.backends.vector.evaluate import Ctx, day_of, exponent, scaled
from policylang.backends.vector.values import Reasons, Unvectorizable, V
from policylang.domains import LIMITS, MONEY_LIMIT
from policylang.platform import sources
from policylang.year import once_update

# The largest year-to-date a pass may carry, in yuan: 1,000 times the largest claim. A year that
# passes it (checked after every pass) sends its batch to the scalar evaluator, never wraps.
ACC_LIMIT = MONEY_LIMIT * 1000


class Plan:
    def __init__(self, policy: ir.Policy):
        self.policy = policy
        self.members = {name: e.member_names() for name, e in policy.enums.items()}
        self.codes = {name: {m: i for i, m in enumerate(names)} for name, names in self.members.items()}
        self.acc_scale = {name: LIMITS.get(a.type.name, LIMITS["money"])[2] for name, a in policy.accumulators.items()}
        self.acc_initial = {name: scaled(a.initial, self.acc_scale[name]) for name, a in policy.accumulators.items()}
        self.acc_bound = {name: int(ACC_LIMIT.scaleb(self.acc_scale[name])) for name in policy.accumulators}
        self.acc_exponent = {name: exponent(policy, ir.AccRef(name, a.type, a.span))
                             for name, a in policy.accumulators.items()}
        self.exponents = {r.name: exponent(policy, ir.RuleRef(r.name, r.type, r.span)) for r in policy.outputs}
        self.once = {}  # counted accumulator -> (the input it counts once per, the constant it adds, scaled)
        for name in policy.accumulators:
            u = once_update(policy, name)
            if u is not None:
                self.once[name] = (u.once, scaled(u.amount.value, self.acc_scale[name]))
        self.exps_needed: set = set()  # numeric inputs a reason prints as the claim wrote them (found by the probe)
        self.ledgers = [name for name, a in policy.accumulators.items() if a.keys or name in self.once]
        for source in sources(policy):
            self.exponents[source.platform] = (self.exponents.get(source.name) if source.kind == "rule" else None)
        reads = _StateReads(policy)
        self.free = [name for name in policy.rules if not reads.rule(name)]  # rules no year-to-date reaches
        self.free_scope = not any(reads.node(req.expr) for req in policy.scope)
        self.free_when = [i for i, u in enumerate(policy.updates) if u.when is not None and not reads.node(u.when)]

    def initial_state(self, n: int) -> dict:
        return {name: V("num", np.full(n, self.acc_initial[name], dtype=np.int64), None, self.acc_scale[name],
                        self.acc_bound[name]) for name in self.policy.accumulators}


def compile_plan(policy: ir.Policy) -> Plan:
    """A Plan, or Unvectorizable naming the first construct this back end does not carry."""
    plan = Plan(policy)
    for name, acc in policy.accumulators.items():
        for key in acc.keys:
            if policy.inputs[key].type.name not in ("enum", "text"):
                raise Unvectorizable(f"accumulator `{name}` kept per {key}", acc.span,
                                     f"a {policy.inputs[key].type} key is evaluated by the scalar evaluator")
        if acc.type not in (ir.MONEY, ir.NUMBER):
            raise Unvectorizable(f"accumulator `{name}`", acc.span, f"a {acc.type} year-to-date")
        if acc.type == ir.NUMBER and plan.acc_exponent[name] is None:
            raise Unvectorizable(f"accumulator `{name}`", acc.span, "its printed decimals depend on the claim")
    numbered = {r.name: r for r in policy.outputs if r.type == ir.NUMBER}
    for source in sources(policy):
        owner = policy.inputs.get(source.name) if source.kind == "input" else None
        if owner is not None and owner.type == ir.NUMBER:
            raise Unvectorizable(f"input `{owner.name}` as {source.platform}", owner.span,
                                 "a number is printed as the claim wrote it")
    for name, rule in numbered.items():
        if plan.exponents[name] is None:
            raise Unvectorizable(f"output `{name}`", rule.span, "a number is printed with the decimals of the "
                                 "claim's own numbers")
    probe(plan)
    return plan


def probe(plan: Plan) -> None:
    from policylang.backends.vector.edge import Column, kind_scale
    from policylang.backends.vector.passes import input_values, one_pass, Results

    p = plan.policy
    day = day_of(p.meta.in_force.start or datetime.date(2024, 1, 1))
    inputs = {}
    for name, inp in p.inputs.items():
        data = {"bool": np.zeros(1, bool), "enum": np.zeros(1, np.int16), "text": np.array(["x"], object),
                "date": np.full(1, day, np.int64)}.get(inp.type.name, np.zeros(1, np.int64))
        inputs[name] = Column(data, np.ones(1, bool), kind_scale(inp))
    reasons = Reasons()
    state = {name: [np.full(1, plan.acc_initial[name], np.int64), np.zeros(1, np.int32)] for name in p.accumulators}
    zero = np.zeros(1, np.int64)
    one_pass(plan, Results(plan, 1), zero, {name: zero for name in p.accumulators}, {name: zero for name in plan.once},
             state, {name: np.zeros(1, bool) for name in plan.once}, inputs, reasons)
    ctx = Ctx(plan, 1, input_values(plan, inputs, np.zeros(1, np.int64), reasons), np.full(1, day, np.int64),
              plan.initial_state(1), reasons)
    for name in p.rules:
        ctx.rule(name)
    for c in p.constraints:
        ctx.eval(c.expr)


class _StateReads:
    """Which rules read a year-to-date, directly or through a rule, table or bracket schedule they use. A rule
    that reads none has one value per claim whatever the claim's rank: the passes compute it once."""

    def __init__(self, policy: ir.Policy):
        self.p, self.known = policy, {}

    def rule(self, name: str) -> bool:
        if name not in self.known:
            self.known[name] = True  # a cycle (the resolver refuses them) is taken to read state
            self.known[name] = self.node(self.p.rules[name])
        return self.known[name]

    def node(self, x) -> bool:
        if isinstance(x, ir.AccRef):
            return True
        if isinstance(x, ir.RuleRef):
            return self.rule(x.name)
        if isinstance(x, ir.TableRef) and self.node(self.p.tables[x.name]):
            return True
        if isinstance(x, ir.BracketsRef) and self.node(self.p.brackets[x.name]):
            return True
        if isinstance(x, (tuple, list)):
            return any(self.node(item) for item in x)
        if isinstance(x, dict):
            return any(self.node(item) for item in x.values())
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return any(self.node(getattr(x, f.name)) for f in dataclasses.fields(x))
        return False
