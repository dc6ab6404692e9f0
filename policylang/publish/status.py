"""Properties, conformance and built-in checks with their status from `policylang check`.

`check_status(policy, report)` turns a `check.Report` (or None: the checker was not run, 未检查) into
rows a page shows: each property of the policy with its words, its status (已证明 / 不成立 with the
counterexample claim / 未能判定), and where it comes from (the policy itself or a guideline it
conforms to); then the built-in checks, counted, with every finding listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from policylang import ir
from policylang.publish import prose, values

STATUS = {"proved": "已证明", "violated": "不成立（有反例）", "unknown": "未能判定", "internal-error": "内部错误",
          "not-checked": "未检查", "vacuous": "空洞（没有就诊满足其前提，证明不说明任何情形）",
          "not-applicable": "不适用（本政策未规定这类就诊）"}
ROLES = {"left": "左", "right": "右", "smaller": "较少费用", "larger": "较多费用"}
PROPERTY_RULES = ("PL401", "PL402")


@dataclass
class Counterexample:
    state: list  # (accumulator, shown)
    claims: list  # (role, [(input, shown)], [(output, shown)] or reason)
    detail: str


@dataclass
class PropertyRow:
    name: str
    clause: str | None
    origin: str | None  # the guideline it comes from
    words: str
    status: str  # proved | violated | unknown | internal-error | not-checked
    label: str
    message: str = ""
    counterexample: Counterexample | None = None


@dataclass
class Checks:
    ran: bool
    properties: list  # PropertyRow, the policy's own
    conformance: list  # PropertyRow, from guidelines
    builtin: dict = field(default_factory=dict)  # status label -> count
    findings: list = field(default_factory=list)  # PropertyRow for built-in checks that failed
    seconds: str = ""
    budget: str = ""  # the solver budgets that produced these verdicts, in words


def property_words(policy: ir.Policy, p: ir.Property) -> str:
    parts = []
    if p.vary is not None:
        t = p.vary.type or policy.inputs[p.vary.input].type
        cells = "" if p.vary.left.kind == p.vary.right.kind == "any" else \
            f"（左：{prose.cell_text(p.vary.left, t)}；右：{prose.cell_text(p.vary.right, t)}）"
        compared = f"同一笔就诊在只有就诊前{p.vary.input}不同的两种年度累计下" if p.vary.accumulator else \
            f"只有{p.vary.input}不同的两笔就诊"
        parts.append(f"比较{compared}{cells}")
    if p.when is not None:
        parts.append(f"当{prose.condition(p.when)}时")
    parts.append(prose.condition(p.holds))
    return "，".join(parts)


def budget_words(timeout: float | None, budget: float | None) -> str:
    """Which solver budget produced the verdicts: 未能判定 under one budget may be 已证明 under a larger one.
    Both are seconds of the checker's calibrated resource count (`--timeout`, `--budget`)."""
    import inspect

    from policylang.check import DEFAULT_BUDGET, check_policy

    if timeout is None:  # the checker's own default, not a copy of it
        timeout = inspect.signature(check_policy).parameters["timeout"].default
    budget = DEFAULT_BUDGET if budget is None else budget
    return (f"以下结论在每题 {_seconds(timeout)} 秒、每份政策 {_seconds(budget)} 秒的求解预算内得出"
            f"（--timeout {_seconds(timeout)} --budget {_seconds(budget)}；秒为校准后的求解资源计数，"
            f"与机器快慢无关）；“未能判定”在更大的预算下可能得到判定")


def _seconds(value: float) -> str:
    return f"{value:g}"


def check_status(policy: ir.Policy, report, timeout: float | None = None, budget: float | None = None) -> Checks:
    by_name = {}
    if report is not None:
        by_name = {r.name: r for r in report.results if r.rule in PROPERTY_RULES}
    own, conformance = [], []
    for p in policy.properties:
        row = _row(policy, p.name, p.clause, p.origin, property_words(policy, p), by_name.get(p.name), report is not None)
        (conformance if p.origin else own).append(row)
    checks = Checks(report is not None, own, conformance)
    if report is None:
        return checks
    for r in report.results:
        if r.rule in PROPERTY_RULES:
            continue
        label = STATUS.get(r.status, r.status)
        checks.builtin[label] = checks.builtin.get(label, 0) + 1
        if r.status != "proved":
            checks.findings.append(_row(policy, f"{r.rule} {r.name}", None, None, "", r, True))
    checks.seconds = f"{report.seconds:.1f}"
    checks.budget = budget_words(timeout, budget)
    return checks


def _row(policy, name, clause, origin, words, result, ran) -> PropertyRow:
    if not ran:
        status = "not-checked"
    elif result is None:
        status = "unknown"
    else:
        status = result.status
    row = PropertyRow(name, clause, origin, words, status, STATUS.get(status, status))
    if result is not None:
        # a proof names the branches its compared pairs never reach: the reader sees what the ✓ leaves out
        row.message = result.message if status != "proved" else "；".join(result.notes)
        if result.counterexample is not None and status == "violated":
            row.counterexample = _counterexample(policy, result)
    return row


def _counterexample(policy: ir.Policy, result) -> Counterexample:
    ce = result.counterexample
    count = len(ce.claims)
    roles = (["left", "right"] if result.rule == "PL401" else ["smaller", "larger"]) if count == 2 else [""] * count
    claims = []
    for i, (role, claim) in enumerate(zip(roles, ce.claims)):
        inputs = [(n, values.show(v, policy.inputs[n].type)) for n, v in claim.items() if n in policy.inputs]
        outcome = ce.outcomes[i] if i < len(ce.outcomes) else None
        if outcome is None:
            outputs = []
        elif not outcome.applicable:
            outputs = [("不适用", outcome.reason)]
        else:
            outputs = [(n, values.show(v, policy.rules[n].type)) for n, v in outcome.outputs.items()]
        # a claim's own year-to-date where the claims start from different states (a `vary` over an accumulator)
        own = [(f"就诊前{n}", values.show(v, policy.accumulators[n].type)) for n, v in ce.states[i].items()
               if any(other.get(n) != v for other in ce.states)] if ce.states else []
        claims.append((ROLES.get(role, role), own + inputs, outputs))
    shared = [n for n in ce.state if all(other.get(n) == ce.state[n] for other in ce.states)]
    state = [(n, values.show(ce.state[n], policy.accumulators[n].type)) for n in shared if n in policy.accumulators]
    return Counterexample(state, claims, ce.detail)
