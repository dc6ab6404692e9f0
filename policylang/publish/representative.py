"""The ordinary claim a page shows: which value of each input stands for the typical case.

A docs page shows numbers for one claim at a time (the ratio matrix's cells, the payment chart), so
it must choose the inputs it does not vary. It must never headline an exception (a penalty, a +5pp
group, a named disease), so each input's values are ordered, most ordinary first, by:

0. **the author's word**: a value the policy's `page { representative … }` names comes first (and is
   the only amount, rate or date tried for that input); the author knows what is typical;
1. **the policy's examples**: the value most of its example claims give (the author's picture of
   the typical claim; an optional input left out counts as a value), counting first the examples
   that share the values the page fixes (a 门诊慢特病 row: the 门诊慢特病 examples) when there are
   at least NEAR_EXAMPLES of them (one example is an anecdote, not a picture), then all;
2. **the rules' structure**, where the examples are silent or tied: every if/else tree of the policy
   is a set of leaves, and a leaf is an *exception* when it adjusts another leaf (`base + 3pp` beside
   `base`), is a flat constant beside leaves that read the claim (a 40% penalty beside the level's
   schedule), or adds a non-zero amount or points beside a zero one (`5pp` beside `0pp`). A value
   scores the ordinary leaves it can reach minus the exceptions it can reach (conditions are
   evaluated three-valued with only that input known); `not applicable` leaves count for neither.
   A bool input counts wherever it decides, also through bool rules (享受签约加成 = … and 家庭医生签约);
   an enumeration only where the tree's own conditions compare it: a member that merely qualifies
   for a bonus through a rule (就医地 == 市内 in 享受签约加成) is not thereby an exception. Then, on a
   tie, values for which some tree gives only `not applicable` (市外 where the policy covers 市内)
   come after the values it covers;
3. a fixed order: members the rules never name first (肺结核 is named, the other diseases are not),
   false before true, an optional input left out first, then declaration order.

`Search` then enumerates whole claims in that order, skipping the branches a scope requirement or a
constraint already rules out; the matrix (`matrix.py`) takes each cell's first claim that gives a
ratio, the chart (`chart.py`) orders its candidates the same way and rules out the same branches
(`Search.excluded`), and the simulate report (`simulate/typical.py`) takes, per 险种 and 就诊类型, the
first claim both policies pay for (`Search.first`).
"""
from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal

from policylang import ir
from policylang.backends.interpreter import Interpreter
from policylang.folding import fold
from policylang.testing import mentioned_members, policy_expressions

AMOUNT = Decimal("1000.00")  # a representative 政策范围内费用 (and any other required amount)
FALLBACK_DAY = datetime.date(2024, 1, 1)
NEAR_EXAMPLES = 3  # example claims that must share the fixed values before they count first
UNKNOWN = object()  # three-valued evaluation: the value depends on inputs not fixed


class _Absent:
    """An optional input left out of the claim."""

    def __repr__(self):
        return "<absent>"


ABSENT = _Absent()


def author_values(policy: ir.Policy) -> dict:
    """input -> the representative value the author named in `page { representative … }`."""
    return {name: value for name, value, _ in policy.page.representative} if policy.page else {}


def representative_day(policy: ir.Policy) -> datetime.date:
    """The service date the author named, else the policy's first day in force, else its first example's."""
    author = author_values(policy)
    if policy.service_date in author:
        return author[policy.service_date]
    if policy.meta.in_force.start is not None:
        return policy.meta.in_force.start
    for example in policy.examples:
        for step in example.steps:
            for name, value, _ in step.inputs:
                if name == policy.service_date:
                    return value
    return FALLBACK_DAY


class Preferences:
    """Each input's values ordered most ordinary first (see the module's docstring)."""

    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.author = author_values(policy)
        self.day = representative_day(policy)
        self.steps = _example_claims(policy)
        self.used = _counts(policy, self.steps)
        self.scores, self.uncovered = _structure_scores(policy)
        self._named: dict = {}
        self._used_when: dict = {}

    def order(self, inp: ir.Input, options: list | None = None, fixed: dict | None = None) -> list:
        """`options` (default: the input's domain) sorted most ordinary first; `fixed`: the values the
        page holds for this claim (a row's 险种 and 就诊类型), whose examples count first."""
        options = self.domain(inp) if options is None else list(options)
        near = _majority(self.used_when(fixed or {}).get(inp.name, Counter()))
        used, scores = _majority(self.used.get(inp.name, Counter())), self.scores.get(inp.name, Counter())
        uncovered = self.uncovered.get(inp.name, Counter())
        fallback = {v: i for i, v in enumerate(self._fallback(inp, options))}
        return sorted(options, key=lambda v: (not self.is_author(inp, v), -near[_key(v)], -used[_key(v)],
                                              -scores[_key(v)], uncovered[_key(v)], fallback[v]))

    def is_author(self, inp: ir.Input, value) -> bool:
        """The author named this value as the input's representative one (`page { representative … }`)."""
        return inp.name in self.author and value is not ABSENT and _key(value) == _key(self.author[inp.name])

    def exceptional(self, inp: ir.Input, value) -> bool:
        """The rules treat this value as an exception (a penalty, a bonus group, a flat special rate)
        and neither the author nor the examples make it the typical one: a page may show it only as an exception."""
        if self.is_author(inp, value) or self.scores.get(inp.name, Counter())[_key(value)] >= 0:
            return False
        used = self.used.get(inp.name, Counter())
        return not used or used[_key(value)] < max(used.values())

    def used_when(self, fixed: dict) -> dict:
        """The example counts over the example claims that give these values."""
        key = tuple(sorted((n, _key(v)) for n, v in fixed.items()))
        if key not in self._used_when:
            steps = [s for s in self.steps if all(_key(s.get(n, ABSENT)) == v for n, v in key)]
            self._used_when[key] = _counts(self.p, steps) if key and len(steps) >= NEAR_EXAMPLES else {}
        return self._used_when[key]

    def domain(self, inp: ir.Input) -> list:
        """The values tried for one input: every member or truth value; one amount, rate or date."""
        t = inp.type
        if inp.name in self.author and t.name not in ("enum", "bool"):
            options = [self.author[inp.name]]  # the author's amount, rate or date replaces ours
        elif t.name == "enum":
            options = list(self.p.enums[t.enum].member_names())
        elif t == ir.BOOL:
            options = [False, True]
        elif inp.optional:
            options = []
        elif t == ir.MONEY:
            options = [AMOUNT]
        elif t.name in ("rate", "points", "number"):
            options = [Decimal(0)]
        elif t == ir.DATE:
            options = [self.day]
        else:
            options = ["示例"]
        return [ABSENT] + options if inp.optional else options

    def named(self, t: ir.Type) -> set:
        if t not in self._named:
            self._named[t] = mentioned_members(self.p, t)
        return self._named[t]

    def _fallback(self, inp: ir.Input, options: list) -> list:
        """Left out first, members never named before named ones, false before true, then as given."""
        if inp.type.name != "enum":
            return sorted(options, key=lambda v: (v is not ABSENT, v is True))
        named = self.named(inp.type)
        return sorted(options, key=lambda v: (v is not ABSENT, v in named))


class Search:
    """Whole claims in order of preference, for fixed values of some inputs."""

    def __init__(self, policy: ir.Policy, prefs: Preferences | None = None):
        self.p = policy
        self.prefs = prefs or Preferences(policy)
        self.interpreter = Interpreter(policy)
        self.state = {n: a.initial for n, a in policy.accumulators.items()}

    def excluded(self, fixed: dict) -> bool:
        """Out of scope or invalid whatever the other inputs are: a requirement or a constraint that
        is false already on these values alone (one that reads another input is not applicable)."""
        day = self.prefs.day
        if not self.p.meta.in_force.contains(day):
            return True
        claim = {self.p.service_date: day, **fixed}
        tests = [r.expr for r in self.p.scope] + [c.expr for c in self.p.constraints]
        return any(self.interpreter.holds(e, claim, self.state) is False for e in tests)

    def valid(self, claim: dict) -> bool:
        """The policy's constraints hold for the claim (a not-applicable one is not checked)."""
        return not any(self.interpreter.holds(c.expr, claim, self.state) is False for c in self.p.constraints)

    def first(self, fixed: dict, inputs: list, domains: list, accept, limit: int = 2000,
              exceptions: str = "last"):
        """The most ordinary whole claim that `accept(claim)` takes (returns a result, not None), as
        (claim, result). A claim holding a value the rules treat as an exception is taken only when no
        ordinary one is (`exceptions="last"`), never (`"never"`), or in its turn (`"any"`). The one search
        the ratio matrix, the payment chart and the simulate report share: the order of `Preferences`,
        the branches a requirement or constraint rules out skipped, at most `limit` claims tried."""
        exception = None
        for n, combo in enumerate(self.combinations(fixed, inputs, domains)):
            if n >= limit:
                break
            claim = {self.p.service_date: self.prefs.day, **fixed,
                     **{i.name: v for i, v in zip(inputs, combo) if v is not ABSENT}}
            if not self.valid(claim):
                continue
            result = accept(claim)
            if result is None:
                continue
            if exceptions == "any" or not any(self.prefs.exceptional(i, v) for i, v in zip(inputs, combo)
                                              if v is not ABSENT):
                return claim, result
            if exceptions == "last":
                exception = exception or (claim, result)
        return exception

    def combinations(self, fixed: dict, inputs: list, domains: list, prefix: tuple = ()):
        """The inputs' values in product order of their domains, without the branches a requirement or
        constraint already rules out. Sound: a test that is false on some inputs stays false whatever
        the others are (a missing input makes a test not applicable, never false)."""
        k = len(prefix)
        if k == len(inputs):
            yield prefix
            return
        for value in domains[k]:
            combo = prefix + (value,)
            partial = {**fixed, **{i.name: v for i, v in zip(inputs, combo) if v is not ABSENT}}
            if not self.excluded(partial):
                yield from self.combinations(fixed, inputs, domains, combo)


# ---- 1. the examples -----------------------------------------------------------------------------
def _key(value):
    """A value as a counter key: Decimals by value (1000 and 1000.00 are one amount)."""
    return value.normalize() if isinstance(value, Decimal) else value


def _example_claims(policy: ir.Policy) -> list:
    """The inputs of each example claim the policy covers (one shown out of scope is not typical)."""
    return [{name: value for name, value, _ in step.inputs}
            for example in policy.examples for step in example.steps if step.expect is not None]


def _majority(counts: Counter) -> Counter:
    """The value most examples give, if more than half give it: examples are written to cover the
    exceptions too (two 肺结核 claims beside one 高血压 and one 糖尿病), so a mere plurality says nothing
    about what is typical."""
    total = sum(counts.values())
    return Counter({k: v for k, v in counts.items() if 2 * v > total})


def _counts(policy: ir.Policy, steps: list) -> dict:
    """input -> Counter of the values these claims give (ABSENT: an optional input left out)."""
    counts: dict = {}
    for given in steps:
        for name, inp in policy.inputs.items():
            if name in given or inp.optional:
                counts.setdefault(name, Counter())[_key(given.get(name, ABSENT))] += 1
    return counts


# ---- 2. the structure ----------------------------------------------------------------------------
def _structure_scores(policy: ir.Policy) -> tuple:
    """(scores, uncovered) for enumeration and bool inputs, over every if/else tree of the policy:
    input -> Counter(value -> ordinary leaves reachable minus exceptions reachable), and input ->
    Counter(value -> trees in which it reaches only `not applicable`)."""
    evaluator = _Partial(policy)
    candidates = {n: i for n, i in policy.inputs.items() if i.type.name == "enum" or i.type == ir.BOOL}
    scores: dict = {}
    uncovered: dict = {}
    for tree in _if_trees(policy):
        if tree.type.name not in ("money", "rate", "points", "number"):
            continue  # an amount or a ratio: what a reader calls an ordinary or exceptional case
        leaves = _leaves(tree, ())
        kinds = _classify([leaf for leaf, _ in leaves], policy)
        signal = len(set(k for k in kinds if k is not None)) >= 2  # some leaf stands out as an exception
        direct = _direct_reads(tree)
        for name in sorted(_reads(tree, policy) & set(candidates)):
            inp = candidates[name]
            if inp.type.name == "enum" and name not in direct:
                continue
            values = (list(policy.enums[inp.type.enum].member_names()) if inp.type.name == "enum"
                      else [False, True])
            reached = {v: [k for (_, path), k in zip(leaves, kinds) if evaluator.possible(path, {name: v})]
                       for v in values}
            if len({tuple(r) for r in reached.values()}) < 2:
                continue  # this input does not choose between the leaves
            for v, ks in reached.items():
                if signal:
                    scores.setdefault(name, Counter())[v] += ks.count("ordinary") - ks.count("exception")
                if ks and all(k is None for k in ks):
                    uncovered.setdefault(name, Counter())[v] += 1
    return scores, uncovered


def _if_trees(policy: ir.Policy):
    """Every maximal if/else tree: an `if` that is not the branch of another `if`."""
    branches: set = set()
    found = []

    def visit(e):
        if isinstance(e, ir.If):
            if id(e) not in branches:
                found.append(e)
            for child in (e.then, e.otherwise):
                if isinstance(child, ir.If):
                    branches.add(id(child))
        for attr in ("left", "right", "operand", "cond", "then", "otherwise"):
            child = getattr(e, attr, None)
            if child is not None and not isinstance(child, (str, bool)):
                visit(child)
        if isinstance(e, (ir.MinMax, ir.TableRef)):
            for a in e.args:
                visit(a)

    for root in policy_expressions(policy):
        visit(root)
    return found


def _direct_reads(tree) -> set:
    """Inputs the conditions of an if/else tree compare themselves (not through a rule)."""
    out: set = set()
    stack = [cond for _, path in _leaves(tree, ()) for cond, _ in path]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.InputRef):
            out.add(node.name)
        for attr in ("left", "right", "operand", "cond", "then", "otherwise"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, bool)):
                stack.append(child)
    return out


def _leaves(e, path: tuple) -> list:
    """(leaf, path) for each branch end of an if/else tree; path: ((condition, truth), …)."""
    if isinstance(e, ir.If):
        return _leaves(e.then, path + ((e.cond, True),)) + _leaves(e.otherwise, path + ((e.cond, False),))
    return [(e, path)]


def _classify(leaves: list, policy: ir.Policy) -> list:
    """"ordinary", "exception" or None (not applicable) for each leaf."""
    constant = [fold(leaf, policy) if not isinstance(leaf, ir.NotApplicable) else None for leaf in leaves]
    adjusting = [leaf.type.name in ("points", "money", "number") for leaf in leaves]
    zero = [isinstance(c, Decimal) and c == 0 for c in constant]
    live = [not isinstance(leaf, ir.NotApplicable) for leaf in leaves]
    kinds = []
    for i, leaf in enumerate(leaves):
        if not live[i]:
            kinds.append(None)
            continue
        others = [j for j in range(len(leaves)) if j != i and live[j]]
        adjusts = any(_contains(leaf, leaves[j]) for j in others)
        flat = constant[i] is not None and not zero[i] and any(constant[j] is None for j in others)
        extra = adjusting[i] and not zero[i] and any(zero[j] for j in others)
        kinds.append("exception" if adjusts or flat or extra else "ordinary")
    return kinds


def _contains(e, part) -> bool:
    """Does e hold `part` as a proper sub-expression (`base + 3pp` holds `base`)?"""
    for attr in ("left", "right", "operand"):
        child = getattr(e, attr, None)
        if child is not None and not isinstance(child, (str, bool)) and (_same(child, part) or _contains(child, part)):
            return True
    if isinstance(e, ir.MinMax):
        return any(_same(a, part) or _contains(a, part) for a in e.args)
    return False


def _same(a, b) -> bool:
    """The same expression, whatever its position in the file."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (ir.RuleRef, ir.InputRef, ir.AccRef, ir.BracketsRef)):
        return a.name == b.name
    if isinstance(a, ir.TableRef):
        return a.name == b.name and len(a.args) == len(b.args) and all(map(_same, a.args, b.args))
    if isinstance(a, ir.Const):
        return a.value == b.value and a.type == b.type
    if isinstance(a, ir.Arith):
        return a.op == b.op and _same(a.left, b.left) and _same(a.right, b.right)
    return False


def _reads(e, policy: ir.Policy, seen: set | None = None) -> set:
    """Inputs an expression reads, through the rules it reads."""
    seen = set() if seen is None else seen
    out: set = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.InputRef):
            out.add(node.name)
        elif isinstance(node, ir.RuleRef) and node.name not in seen and node.name in policy.rules:
            seen.add(node.name)
            stack.extend(v.expr for v in policy.rules[node.name].versions)
        for attr in ("left", "right", "operand", "cond", "then", "otherwise"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, bool)):
                stack.append(child)
        if isinstance(node, (ir.MinMax, ir.TableRef)):
            stack.extend(node.args)
    return out


class _Partial:
    """Three-valued evaluation of conditions with some inputs known: True, False or UNKNOWN."""

    def __init__(self, policy: ir.Policy):
        self.p = policy

    def possible(self, path: tuple, known: dict) -> bool:
        """Can a claim with these inputs take this path (no condition on it is certainly false)?"""
        return all(self.eval(cond, known, 0) in (truth, UNKNOWN) for cond, truth in path)

    def eval(self, e, known: dict, depth: int):
        if depth > 40:
            return UNKNOWN
        kind = type(e)
        if kind is ir.Const:
            return e.value
        if kind is ir.InputRef:
            return known.get(e.name, UNKNOWN)
        if kind is ir.RuleRef:
            rule = self.p.rules.get(e.name)
            if rule is None or len(rule.versions) != 1:
                return UNKNOWN
            return self.eval(rule.versions[0].expr, known, depth + 1)
        if kind is ir.Not:
            v = self.eval(e.operand, known, depth + 1)
            return UNKNOWN if v is UNKNOWN else not v
        if kind is ir.Logic:
            left, right = self.eval(e.left, known, depth + 1), self.eval(e.right, known, depth + 1)
            stop = e.op == "or"  # the value that decides: true for `or`, false for `and`
            if left is stop or right is stop:
                return stop
            return UNKNOWN if UNKNOWN in (left, right) else not stop
        if kind is ir.Compare and e.op in ("==", "!="):
            left, right = self.eval(e.left, known, depth + 1), self.eval(e.right, known, depth + 1)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            return (left == right) == (e.op == "==")
        if kind is ir.InSet:
            v = self.eval(e.operand, known, depth + 1)
            return UNKNOWN if v is UNKNOWN else (v in e.items) != e.negated
        if kind is ir.If:
            cond = self.eval(e.cond, known, depth + 1)
            if cond is UNKNOWN:
                then, otherwise = self.eval(e.then, known, depth + 1), self.eval(e.otherwise, known, depth + 1)
                return then if then is not UNKNOWN and then == otherwise else UNKNOWN
            return self.eval(e.then if cond else e.otherwise, known, depth + 1)
        return UNKNOWN
