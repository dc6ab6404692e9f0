"""Run a policy's examples (`policylang test`) and measure what they cover (`--coverage`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from policylang import ir
from policylang.backends.interpreter import COMPARE, Interpreter, Trace
from policylang.claims import typed_claim_errors
from policylang.diagnostics import SourceCache
from policylang.evaluators import evaluator
from policylang.folding import fold
from policylang.runtime import NotApplicable, Outcome
from policylang.year import Ledger, claim_year


def show(value, type_: ir.Type | None = None) -> str:
    """A value as an author writes it: 650.00元, 65%, 2pp, 2024-01-01."""
    if isinstance(value, (NotApplicable, ir.NotApplicable)):
        return f"not applicable ({value.reason})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal) and type_ is not None:
        if type_ == ir.MONEY:
            return f"{value:.2f}元"
        if type_ == ir.RATE:
            return f"{(value * 100).normalize():f}%"
        if type_ == ir.POINTS:
            return f"{(value * 100).normalize():f}pp"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@dataclass
class Mismatch:
    name: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.name}: expected {self.expected}, actual {self.actual}"


@dataclass
class InvalidClaim:
    """An example's claim that `eval` would refuse (a broken constraint, amounts that do not add up):
    the step fails with the edge's message and is not evaluated."""

    message: str
    where: str  # "constraint at FILE:LINE:COL", or the field

    def __str__(self) -> str:
        return f"invalid claim: {self.message} ({self.where})"


@dataclass
class StepResult:
    number: int
    span: object
    mismatches: list = field(default_factory=list)
    outcome: Outcome | None = None
    invalid: list = field(default_factory=list)  # InvalidClaim: the claim was refused, not evaluated

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.invalid

    @property
    def problems(self) -> list:
        """Everything wrong with the step, in the order to report it."""
        return self.invalid + self.mismatches


@dataclass
class ExampleResult:
    example: ir.Example
    steps: list

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)


class Years:
    """The year's totals per 医保年度 (year.Ledger) as an example's claims run in order: the `state` block is
    the year-to-date before the first claim (for an accumulator kept `per` keys, every key's); a claim in
    a later year starts that year afresh."""

    def __init__(self, policy: ir.Policy, example: ir.Example):
        self.policy = policy
        self.initial = {name: value for name, value, _ in example.state}
        self.years: dict = {}

    def before(self, claim: dict) -> dict:
        year = claim_year(self.policy, claim)
        if year not in self.years:
            self.years[year] = Ledger(self.policy)
            if len(self.years) == 1:
                self.years[year].seed(self.initial)
        self.view = self.years[year].view(claim)
        return self.view

    def after(self, claim: dict, state: dict) -> None:
        self.years[claim_year(self.policy, claim)].record(claim, self.view, state)


def run_example(policy: ir.Policy, example: ir.Example, trace: Trace | None = None,
                compiled=None) -> ExampleResult:
    """Steps run in the order written; the state block is the year-to-date before the first claim.

    A claim `eval` would refuse (claim_problems) fails its step and ends the example: it is not
    evaluated, and the later claims would only report what the state it never left changes. The
    interpreter gives the answer; with `compiled`, the compiled evaluator must agree or the step
    fails as an internal error.
    """
    interpreter = Interpreter(policy)
    years = Years(policy, example)
    results = []
    for number, step in enumerate(example.steps, 1):
        claim = {name: value for name, value, _ in step.inputs}
        invalid = claim_problems(policy, claim)
        if invalid:
            results.append(StepResult(number, step.span, invalid=invalid))
            break
        state = years.before(claim)
        outcome, values = interpreter.evaluate_all(claim, state, trace)
        years.after(claim, outcome.state)
        mismatches = compare(policy, step, outcome, values)
        if compiled is not None:
            other = compiled(claim, state)
            if other != outcome:
                mismatches.append(Mismatch("internal error: compiled evaluator disagrees with the interpreter",
                                           repr(outcome), repr(other)))
        results.append(StepResult(number, step.span, mismatches, outcome))
    return ExampleResult(example, results)


def claim_problems(policy: ir.Policy, claim: dict) -> list[InvalidClaim]:
    """Why the settlement edge would refuse an example's claim (constraints, amounts), if it would."""
    return [InvalidClaim(e.message, e.hint or f"field `{e.field}`")
            for e in typed_claim_errors(policy, claim, "example")]


def compare(policy: ir.Policy, step: ir.ExampleStep, outcome: Outcome, values: dict) -> list:
    if step.expect is None:
        wanted = step.out_of_scope_reason or ""
        if outcome.applicable:
            return [Mismatch("applicable", f"not applicable ({wanted})", "applicable")]
        if wanted not in outcome.reason:
            return [Mismatch("reason", f"…{wanted}…", outcome.reason)]
        return []
    if not outcome.applicable:
        return [Mismatch("applicable", "applicable", f"not applicable ({outcome.reason})")]
    mismatches = []
    for name, expected, _ in step.expect:
        rule = policy.rules[name]
        actual = values[name]
        if isinstance(expected, ir.NotApplicable):
            ok = isinstance(actual, NotApplicable) and expected.reason in actual.reason
        else:
            ok = not isinstance(actual, NotApplicable) and actual == expected
        if not ok:
            mismatches.append(Mismatch(name, show(expected, rule.type), show(actual, rule.type)))
    return mismatches


def run_examples(policy: ir.Policy, check_compiled: bool = True) -> list[ExampleResult]:
    compiled = evaluator(policy, "compiled") if check_compiled else None
    return [run_example(policy, ex, compiled=compiled) for ex in policy.examples]


# ---- coverage -----------------------------------------------------------------------------
@dataclass
class Gap:
    kind: str  # rule | row | band | version | member | branch (a condition never true or never false)
    span: object
    text: str


def coverage(policy: ir.Policy) -> list[Gap]:
    """What no example exercises: rules, rows, bands, versions, members, and each condition's true and
    false outcome (an operand that short-circuiting skipped was not exercised)."""
    trace = Trace()
    given: dict = {}
    for ex in policy.examples:
        run_example(policy, ex, trace)
        for step in ex.steps:
            for name, value, _ in step.inputs:
                given.setdefault(name, set()).add(value)
    events = trace.events
    rules_seen = {e[1] for e in events if e[0] == "rule" and not isinstance(e[2], NotApplicable)}
    rows_seen = {(e[1], e[2]) for e in events if e[0] == "row"}
    bands_seen = {(e[1], e[2]) for e in events if e[0] == "band"}
    versions_seen = {(e[1], e[2]) for e in events if e[0] == "version"}
    conds = {(e[1], e[2]) for e in events if e[0] == "cond"}
    gaps: list[Gap] = []
    for rule in policy.rules.values():
        if rule.name not in rules_seen:
            gaps.append(Gap("rule", rule.span, f"rule `{rule.name}` never gives a value"))
        gaps.extend(_version_gaps(rule, versions_seen))
    for table in policy.tables.values():
        gaps.extend(_version_gaps(table, versions_seen))
        for version in table.versions:
            for row in version.rows:
                if (table.name, row.index) not in rows_seen:
                    gaps.append(Gap("row", row.span, f"table `{table.name}` row {row.index} never fires"))
            if version.default is not None and (table.name, 0) not in rows_seen:
                gaps.append(Gap("row", version.default.span, f"table `{table.name}` default never fires"))
    for b in policy.brackets.values():
        gaps.extend(_version_gaps(b, versions_seen))
        for version in b.versions:
            for band in version.bands:
                if (b.name, band.index) not in bands_seen:
                    gaps.append(Gap("band", band.span, f"brackets `{b.name}` band {band.index} is never reached"))
    gaps.extend(_member_gaps(policy, given))
    sources = SourceCache()
    for node in _conditions(policy):
        for side in (True, False):
            if (node.span, side) not in conds:
                line = sources.line(node.span.file, node.span.line) or ""
                text = line[node.span.col - 1: node.span.end_col - 1] if node.span.end_line == node.span.line else line
                gaps.append(Gap("branch", node.span, f"`{text.strip()}` is never {'true' if side else 'false'}"))
    return sorted(gaps, key=lambda g: (g.span.file, g.span.line, g.span.col, g.text))


def _member_gaps(policy: ir.Policy, given: dict) -> list:
    """Members the policy names each need an example; the members it never names behave alike,
    so one example with any of them covers them all."""
    gaps = []
    for name in sorted(_read_inputs(policy)):
        inp = policy.inputs[name]
        if inp.type.name != "enum":
            continue
        named = mentioned_members(policy, inp.type)
        seen = given.get(name, set())
        for member in policy.enums[inp.type.enum].members:
            if member.name in named and member.name not in seen:
                gaps.append(Gap("member", inp.span, f"no example gives {name} = {member.name}"))
        others = [m for m in policy.enums[inp.type.enum].member_names() if m not in named]
        if others and not seen & set(others):
            gaps.append(Gap("member", inp.span, f"no example gives {name} a member the policy does not name "
                                                f"(e.g. {others[0]})"))
    return gaps


def mentioned_members(policy: ir.Policy, t: ir.Type) -> set:
    """Members of enumeration type t that the policy names in expressions or table cells."""
    found = set()
    for root in policy_expressions(policy):
        for node in walk(root):
            if isinstance(node, ir.Const) and node.type == t:
                found.add(node.value)
            if isinstance(node, ir.InSet) and node.operand.type == t:
                found.update(node.items)
    for table in policy.tables.values():
        for i, column_type in enumerate(table.column_types):
            if column_type == t:
                for version in table.versions:
                    for row in version.rows:
                        found.update(v for v in row.cells[i].values if isinstance(v, str))
    return found


def _version_gaps(definition, versions_seen) -> list:
    if len(definition.versions) < 2:
        return []
    return [Gap("version", v.span, f"`{definition.name}` version {v.validity}: no example's date falls in it")
            for i, v in enumerate(definition.versions) if (definition.name, i) not in versions_seen]


def walk(e):
    """Every sub-expression of e, e included."""
    yield e
    for child in _children(e):
        yield from walk(child)


def guarded(e, path: tuple = ()):
    """Every sub-expression of e with the `if` outcomes on the way to it: (node, ((cond, True/False), ...))."""
    yield e, path
    if isinstance(e, ir.If):
        yield from guarded(e.cond, path)
        yield from guarded(e.then, path + ((e.cond, True),))
        yield from guarded(e.otherwise, path + ((e.cond, False),))
        return
    for child in _children(e):
        yield from guarded(child, path)


def policy_expressions(policy: ir.Policy):
    for rule in policy.rules.values():
        for v in rule.versions:
            yield v.expr
    for t in policy.tables.values():
        yield from t.columns
    for b in policy.brackets.values():
        yield from b.expressions()  # on, cumulative, and each band's bounds and rate
    for u in policy.updates:
        yield u.amount
        if u.when is not None:
            yield u.when
    for r in policy.scope:
        yield r.expr


def conditions(policy: ir.Policy) -> list:
    """The condition items coverage asks examples to make true and false (see _conditions); the
    coverage formats report each as a branch."""
    return list(_conditions(policy))


def _conditions(policy: ir.Policy):
    """Every condition that examples must make both true and false, once per source position: each
    comparison wherever it stands, and each bool in a condition position (an `if`, `when` or `require`
    condition, each operand of and/or/not), bare (`if 贫困人员`) or compound; `not x` is covered
    through x. The interpreter records the same items (Interpreter.test).

    A condition the policy settles by itself (an assumption such as 签约加成仅限签约机构 = false) is no
    item, nor is what it leaves unreachable (the operand it short-circuits, the branch it never
    takes): no example can change them."""
    positions = {id(u.when) for u in policy.updates} | {id(r.expr) for r in policy.scope}
    items: list = []
    for root in policy_expressions(policy):
        _collect(root, policy, items, id(root) in positions)
    seen = set()
    for node in items:
        if node.span not in seen:
            seen.add(node.span)
            yield node


def _collect(e, policy: ir.Policy, out: list, condition: bool) -> None:
    """The condition items in e, e included when it stands in a condition position (`condition`)."""
    kind = type(e)
    if (condition or kind in (ir.Compare, ir.InSet)) and kind is not ir.Not and fixed(e, policy) is None \
            and not true_when_given(e, policy):
        out.append(e)
    if kind is ir.If:
        taken = fixed(e.cond, policy)
        _collect(e.cond, policy, out, True)
        if taken is not False:
            _collect(e.then, policy, out, False)
        if taken is not True:
            _collect(e.otherwise, policy, out, False)
    elif kind is ir.Logic:
        _collect(e.left, policy, out, True)
        if fixed(e.left, policy) is not (e.op == "or"):  # `False and …`, `True or …` never read the right
            _collect(e.right, policy, out, True)
    elif kind is ir.Not:
        _collect(e.operand, policy, out, True)
    else:
        for child in _children(e):
            _collect(child, policy, out, False)


def _children(e):
    """The direct sub-expressions of e."""
    for attr in ("left", "right", "operand", "cond", "then", "otherwise"):
        child = getattr(e, attr, None)
        if child is not None and not isinstance(child, (str, bool)):
            yield child
    if isinstance(e, (ir.MinMax, ir.TableRef)):
        yield from e.args


def true_when_given(e, policy: ir.Policy) -> bool:
    """Whether a condition is true for every claim that gives what it reads: a presence test such as
    `其他门诊应付 >= 0元` (the claim edge refuses negative money) or `转出机构级别 in {every member}`, or an
    and/or whose outcome such a test decides. Only its not-applicable outcome depends on the claim, so
    no example can make it false and coverage does not ask for one."""
    kind = type(e)
    if kind is ir.Compare and e.op == ">=" and isinstance(e.left, ir.InputRef) and e.left.type == ir.MONEY:
        return fold(e.right, policy) == 0
    if kind is ir.InSet and not e.negated and isinstance(e.operand, ir.InputRef) and e.operand.type.name == "enum":
        return set(policy.enums[e.operand.type.enum].member_names()) <= set(e.items)
    if kind is ir.Logic:
        left, right = true_when_given(e.left, policy), true_when_given(e.right, policy)
        return (left or right) if e.op == "or" else (left and right)
    return False


def fixed(e, policy: ir.Policy):
    """A condition's value when it does not depend on the claim (True or False), else None."""
    kind = type(e)
    if kind is ir.Not:
        inner = fixed(e.operand, policy)
        return None if inner is None else not inner
    if kind is ir.Logic:
        left, right = fixed(e.left, policy), fixed(e.right, policy)
        short = e.op == "or"  # the value that decides alone
        if short in (left, right):
            return short
        return None if None in (left, right) else not short
    if kind is ir.Compare:
        left, right = fold(e.left, policy), fold(e.right, policy)
        return None if left is None or right is None else COMPARE[e.op](left, right)
    if kind is ir.InSet:
        operand = fold(e.operand, policy)
        return None if operand is None else (operand in e.items) != e.negated
    value = fold(e, policy)
    return value if isinstance(value, bool) else None


def _read_inputs(policy: ir.Policy) -> set:
    return {n.name for root in policy_expressions(policy) for n in walk(root) if isinstance(n, ir.InputRef)}
