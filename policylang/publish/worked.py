"""Worked examples (计算示例): each `example` of the policy, evaluated at render time, step by step.

Every step is what the reference interpreter did for the claim, read from its trace: the rules in
the order it computed them (政策范围内费用 → 起付线 → 比例 → 限额 → 统筹支付), the table rows, bands (each
band's amount × rate, then the sum an auditor checks: "6269.00 × 55% + 3731.00 × 65% = 5873.10元") and
versions that fired, the accumulators it updated; then the platform's totals (基金支付合计, 个人负担)
from `claims.setlinfo`, with any fund stage the claim carries (a later-stage policy's hifp_pay). A rule's line shows the branch that applied, why, its formula in words and the
same formula with the claim's numbers in it, and the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from policylang import ir
from policylang.backends.interpreter import Interpreter, Trace
from policylang.claims import Claim, setlinfo
from policylang.explain import arithmetic, money_text, rate_text
from policylang.platform import OUTPUT_NAMES, is_fund, sources
from policylang.publish import prose, values
from policylang.runtime import EXACT, NotApplicable
from policylang.testing import Years, claim_problems, compare, walk


@dataclass
class Line:
    name: str
    clause: str | None
    because: str  # the conditions that chose the branch ("" if none)
    formula: str  # the chosen branch in words
    numbers: str  # the same with the claim's values ("" when it would only repeat the result)
    result: str
    notes: list = field(default_factory=list)  # table rows, bands, versions that fired for it
    not_applicable: bool = False


@dataclass
class Expectation:
    name: str
    expected: str
    ok: bool
    actual: str


@dataclass
class Step:
    number: int
    inputs: list  # (name, shown)
    state: list  # (accumulator, shown) before the claim
    applicable: bool
    reason: str | None
    lines: list
    updates: list  # "慢病净报销：0.00元 → 650.00元"
    totals: list  # (label, shown)
    expectations: list


@dataclass
class Worked:
    name: str
    steps: list
    passed: bool


def worked_examples(policy: ir.Policy) -> list:
    interpreter = Interpreter(policy)
    return [_example(policy, interpreter, ex) for ex in policy.examples]


def _example(policy: ir.Policy, interpreter: Interpreter, example: ir.Example) -> Worked:
    years = Years(policy, example)
    steps = []
    for number, step in enumerate(example.steps, 1):
        claim = {name: value for name, value, _ in step.inputs}
        invalid = claim_problems(policy, claim)
        if invalid:  # as `policylang test`: a claim `eval` refuses is not worked out, and the example stops
            steps.append(_refused(policy, number, step, invalid))
            break
        state = years.before(claim)
        trace = Trace()
        outcome = interpreter.evaluate(claim, state, trace)
        _, all_values = interpreter.evaluate_all(claim, state)
        years.after(claim, outcome.state)
        steps.append(_step(policy, interpreter, number, step, claim, state, outcome, trace, all_values))
    return Worked(example.name, steps, all(not any(not e.ok for e in s.expectations) for s in steps))


def _step(policy, interpreter, number, step, claim, state, outcome, trace, all_values) -> Step:
    inputs = [(name, values.show(value, policy.inputs[name].type)) for name, value, _ in step.inputs]
    before = [(name, values.show(state.get(name, acc.initial), acc.type))
              for name, acc in policy.accumulators.items()]
    mismatches = {m.name: m for m in compare(policy, step, outcome, all_values)}
    expectations = []
    for name, expected, _ in step.expect or ():
        t = policy.rules[name].type
        actual = all_values.get(name)
        expectations.append(Expectation(name, values.show(expected, t), name not in mismatches,
                                        values.show(actual, t) if name in all_values else "—"))
    if not outcome.applicable:
        wanted = step.out_of_scope_reason
        if wanted is not None:
            expectations.append(Expectation("不适用本政策", f"…{wanted}…" if wanted else "不适用",
                                            not mismatches, outcome.reason))
        return Step(number, inputs, before, False, outcome.reason, [], [], [], expectations)
    if step.expect is None:
        expectations.append(Expectation("不适用本政策", "不适用", False, "适用"))
    lines, updates = _lines(policy, interpreter, claim, state, trace)
    return Step(number, inputs, before, True, None, lines, updates, _totals(policy, claim, outcome), expectations)


def _refused(policy, number, step, invalid) -> Step:
    inputs = [(name, values.show(value, policy.inputs[name].type)) for name, value, _ in step.inputs]
    shown = "；".join(f"{p.message}（{p.where}）" for p in invalid)
    return Step(number, inputs, [], False, f"结算时不受理此次就诊：{shown}", [], [], [],
                [Expectation("就诊数据有效", "满足全部约束", False, shown)])


def _lines(policy, interpreter, claim, state, trace) -> tuple[list, list]:
    run = interpreter.run(claim, state)
    lines, updates, pending, bands = [], [], [], []
    held: list = []  # (brackets, note): a band's note waits for the rule that reads those brackets
    for event in trace.events:
        kind = event[0]
        if kind == "row":
            _, table, index, clause, args = event
            t = policy.tables[table]
            shown = "，".join(f"{prose.column_name(c)}={values.show(a, ct)}"
                             for c, a, ct in zip(t.columns, args, t.column_types))
            pending.append(f"查表「{table}」{'第' + str(index) + '行' if index else '默认行'}（{shown}）"
                           + (f"，条款{clause}" if clause else ""))
        elif kind == "band":
            _, name, index, clause, part, rate, pay = event
            bands.append((part, rate, pay))
            held.append((name, f"分段「{name}」第{index}段：{money_text(part)}元 × {rate_text(rate)} = "
                               f"{money_text(pay)}元" + (f"，条款{clause}" if clause else "")))
        elif kind == "brackets":
            if bands:  # nothing reached: no sum to check
                held.append((event[1], f"分段「{event[1]}」合计：{arithmetic(bands, event[2])}元"))
            bands = []
        elif kind == "version":
            _, name, index, validity, clause = event
            version = _versions(policy, name)[index]
            pending.append(f"「{name}」适用{values.validity(version.validity)}的版本")
        elif kind == "rule":
            _, name, value, clause = event
            reads = _brackets_read(policy, name)
            mine = [note for b, note in held if b in reads]
            held = [(b, note) for b, note in held if b not in reads]
            lines.append(_line(policy, run, name, value, clause, pending + mine))
            pending = []
        elif kind == "update":
            acc = policy.accumulators[event[1]]
            if event[2] is None:
                updates.append(f"{event[1]}：不累计（{_skip_reason(event[3])}）")
            else:
                updates.append(f"{event[1]}：{values.show(event[2], acc.type)} → {values.show(event[3], acc.type)}")
    return lines, updates


def _brackets_read(policy, name: str) -> set:
    """The brackets a rule reads directly: their bands are noted on its line, not on a rule read meanwhile."""
    return {n.name for v in policy.rules[name].versions for n in walk(v.expr) if isinstance(n, ir.BracketsRef)}


def _skip_reason(reason: str) -> str:
    return "条件不成立" if reason == "condition false" else reason


def _versions(policy, name):
    for group in (policy.rules, policy.tables, policy.brackets):
        if name in group:
            return group[name].versions
    raise KeyError(name)


def _line(policy, run, name, value, clause, notes) -> Line:
    rule = policy.rules[name]
    version = next((v for v in rule.versions if v.validity.contains(run.day)), None)
    result = values.show(value, rule.type)
    if version is None:
        return Line(name, clause, "", "", "", result, list(notes), True)
    because, leaf = _branch(run, version.expr)
    formula = prose.value(leaf)
    numbers = _numbers(run, leaf)
    if rule.type == ir.MONEY and not isinstance(value, NotApplicable) and _needs_rounding(run, leaf, value):
        numbers += f"，{values.ROUNDING_NAMES[rule.rounding]}"
    if numbers in (result, formula) or isinstance(leaf, (ir.Const, ir.NotApplicable)):
        numbers = ""
    return Line(name, clause, "，".join(because), formula, numbers, result, list(notes),
                isinstance(value, NotApplicable))


def _branch(run, e) -> tuple[list, ir.Expr]:
    """Follow the if/else chain the way the interpreter did: the conditions and the chosen branch."""
    because = []
    while isinstance(e, ir.If):
        taken = _eval(run, e.cond)
        if isinstance(taken, NotApplicable):
            return because + [f"{prose.condition(e.cond)}无法判断（{taken.reason}）"], e
        because.append(prose.condition(e.cond, negated=not taken))
        e = e.then if taken else e.otherwise
    return because, e


def _eval(run, e):
    with localcontext(EXACT):
        try:
            return run.eval(e)
        except NotApplicable as na:
            return na


def _needs_rounding(run, leaf, value) -> bool:
    raw = _eval(run, leaf)
    return isinstance(raw, Decimal) and raw != value


def _numbers(run, e: ir.Expr, level: int = 0) -> str:
    """The expression with the claim's values in place of names, as far as it is arithmetic."""
    kind = type(e)
    if kind is ir.Arith:
        own = prose._PRECEDENCE[e.op]
        text = (f"{_numbers(run, e.left, own)} {prose.ARITH[e.op]} "
                f"{_numbers(run, e.right, own + 1 if e.op in '-*' else own)}")
        return f"({text})" if own < level else text
    if kind is ir.Neg:
        return f"−{_numbers(run, e.operand, 3)}"
    if kind is ir.MinMax:
        args = ", ".join(_numbers(run, a) for a in e.args)
        return f"{'较小值' if e.op == 'min' else '较大值'}({args})"
    if kind is ir.Round:
        return _numbers(run, e.operand, level)
    if kind is ir.If:
        _, leaf = _branch(run, e)
        return _numbers(run, leaf, level) if leaf is not e else values.show(_eval(run, e), e.type)
    return values.show(_eval(run, e), e.type)


def _totals(policy: ir.Policy, claim: dict, outcome) -> list:
    """基金支付合计 and 个人负担, as the platform's setlinfo computes them; a fund stage read from the claim
    (an earlier stage this policy does not compute) is shown first, so the sum can be followed."""
    info, _ = setlinfo(policy, Claim("example", claim, {}, {}), outcome)
    out = []
    if info.get("medfee_sumamt") is not None:
        out.append(("医疗费总额", values.money(Decimal(info["medfee_sumamt"]))))
    for source in sources(policy):
        if source.kind == "input" and is_fund(source.platform):
            shown = info.get(source.platform)
            label = f"{OUTPUT_NAMES[source.platform][0]}（{source.platform}，结算单已给）"
            out.append((label, values.money(Decimal(shown)) if shown is not None else "不适用"))
    for key, label in (("fund_pay_sumamt", "基金支付合计"), ("psn_part_amt", "个人负担")):
        if info.get(key) is not None:
            out.append((label, values.money(Decimal(info[key]))))
    return out
