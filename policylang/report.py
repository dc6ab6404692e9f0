"""How `policylang check` shows its results: text for people, JSON for tools, SARIF for code scanning."""
from __future__ import annotations

import json
from decimal import Decimal

from policylang import __version__, ir
from policylang.check import RULES, Report, Result
from policylang.claims import format_typed
from policylang.diagnostics import SourceCache, render_location
from policylang.folding import rule_constant
from policylang.runtime import NotApplicable
from policylang.testing import show


def example_syntax(policy: ir.Policy, claim: dict) -> str:
    """A claim as the language writes it, ready to paste into an example block."""
    return claim_syntax(policy.inputs, claim)


def claim_syntax(inputs: dict, claim: dict) -> str:
    """A claim over these inputs (`diff` shows inputs of two policies in one claim)."""
    parts = []
    for name, value in claim.items():
        t = inputs[name].type
        if t.name == "text":
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = show(value, t)
            if t == ir.MONEY:
                text = f"{value:.2f}".rstrip("0").rstrip(".") + "元"
        parts.append(f"{name} = {text}")
    return "claim { " + ", ".join(parts) + " }"


def state_syntax(accumulators: dict, state: dict) -> str:
    """A year-to-date as an example block's `state { … }` writes it: the one way `check` and `diff`
    show the state a counterexample or a shown claim starts from."""
    return "state { " + ", ".join(f"{k} = {show(v, accumulators[k].type)}" for k, v in state.items()) + " }"


def claim_json(policy: ir.Policy, claim: dict) -> dict:
    """A claim as `policylang eval --claim` reads it."""
    return {name: format_typed(value, policy.inputs[name].type) for name, value in claim.items()}


def outputs_text(policy: ir.Policy, outcome) -> str:
    if not outcome.applicable:
        return f"not applicable: {outcome.reason}"
    return ", ".join(f"{n} = {show(v, policy.rules[n].type)}" for n, v in outcome.outputs.items())


def roles(result: Result) -> list:
    count = len(result.counterexample.claims)
    return ["left", "right"] if count == 2 and result.rule == "PL401" else \
        ["smaller", "larger"] if count == 2 else [""] * count


def text(reports: list, sources: SourceCache | None = None) -> str:
    sources = sources or SourceCache()
    out = []
    for report in reports:
        policy = report.policy
        proved = [r for r in report.results if r.status == "proved"]
        findings = report.findings
        out.append(f"{policy.file}: {len(proved)} proved, {len(findings)} finding(s) ({report.seconds:.2f} s)")
        if policy.assumptions:
            shown = "; ".join(f"{a.name} = {_assumed(a, policy)}" + (f" ({a.doc})" if a.doc else "") for a in policy.assumptions)
            out.append(f"  results depend on the assumptions: {shown}")
        for r in proved:
            out.append(f"  ✓ {r.rule} {r.name}")
            out.extend(f"      note: {note}" for note in r.notes)
        for r in report.results:
            if r.status == "not-applicable":
                out.append(f"  ○ {r.rule} {r.name}: {r.message}")
        for r in findings:
            out.append("")
            out.extend(finding_text(policy, r, sources))
        out.append("")
    total = sum(len(r.findings) for r in reports)
    out.append("no findings" if not total else f"{total} finding(s)")
    return "\n".join(out)


def finding_text(policy: ir.Policy, r: Result, sources: SourceCache) -> list:
    label = {"violated": "does not hold", "vacuous": "vacuous (proves nothing)", "unknown": "undecided",
             "internal-error": "internal error"}[r.status]
    level = "error" if r.status != "unknown" else "warning"
    out = [f"{level}[{r.rule} {RULES[r.rule][0]}]: {r.name}: {label}"] + render_location(r.span, sources)
    if r.message:
        out.append(f"  = {r.message}")
    ce = r.counterexample
    if ce is None:
        return out
    if ce.states:
        out.append("  counterexample: one claim from two states (paste each state with its claim into its own "
                   "example block):")
        for role, claim, state in zip(roles(r), ce.claims, ce.states):
            out.append(f"    {state_syntax(policy.accumulators, state)}   # {role}")
            out.append(f"    {example_syntax(policy, claim)}   # {role}")
    else:
        if len(ce.claims) > 1:
            out.append("  counterexample: two claims from the same state (paste each into its own example block):")
        elif ce.claims:
            out.append("  counterexample (paste into an example block):")
        else:
            out.append("  counterexample:")
        if ce.state:
            out.append(f"    {state_syntax(policy.accumulators, ce.state)}")
        for role, claim in zip(roles(r), ce.claims):
            out.append(f"    {example_syntax(policy, claim)}" + (f"   # {role}" if role else ""))
    if not ce.claims:
        return out
    out.append("  as JSON (policylang eval --claim):")
    for claim, state in zip(ce.claims, claim_states(ce)):
        data = {**claim_json(policy, claim), **({"state": state_json(policy, state)} if state else {})}
        out.append(f"    {json.dumps(data, ensure_ascii=False)}")
    out.append("  replayed through the compiled evaluator:")
    for role, outcome in zip(roles(r), ce.outcomes):
        out.append(f"    {role + ': ' if role else ''}{outputs_text(policy, outcome)}")
    return out


def claim_states(ce) -> list:
    """The state each claim of a counterexample starts from: its own, or the one they share."""
    return ce.states or [ce.state] * len(ce.claims)


def state_json(policy: ir.Policy, state: dict) -> dict:
    return {k: format_typed(v, policy.accumulators[k].type) for k, v in state.items()}


def as_json(reports: list) -> str:
    data = []
    for report in reports:
        policy = report.policy
        items = []
        for r in report.results:
            item = {"rule": r.rule, "check": RULES[r.rule][0], "name": r.name, "status": r.status,
                    "message": r.message, "file": r.span.file, "line": r.span.line, "column": r.span.col,
                    "seconds": round(r.seconds, 4), "notes": r.notes}
            if r.counterexample:
                ce = r.counterexample
                item["counterexample"] = {
                    "claims": [{**claim_json(policy, c), **({"state": state_json(policy, s)} if s else {})}
                               for c, s in zip(ce.claims, claim_states(ce))],
                    "state": state_json(policy, ce.state),
                    "outputs": [{n: _plain(v, policy.rules[n].type) for n, v in o.outputs.items()}
                                if o.applicable else {"not_applicable": o.reason} for o in ce.outcomes],
                    "examples": [example_syntax(policy, c) for c in ce.claims]}
                if ce.states:  # the claims start from different states (a `vary` over an accumulator)
                    item["counterexample"]["states"] = [state_json(policy, s) for s in ce.states]
            items.append(item)
        data.append({"policy": policy.file, "results": items})
    return json.dumps(data, ensure_ascii=False, indent=2)


def _assumed(rule: ir.Rule, policy: ir.Policy) -> str:
    value = rule_constant(rule, policy)
    return show(value, rule.type) if value is not None else "(depends on the claim)"


def _plain(value, t):
    if isinstance(value, NotApplicable):
        return {"not_applicable": value.reason}
    return format_typed(value, t) if isinstance(value, Decimal) else value


def sarif(reports: list) -> str:
    """SARIF 2.1.0 as GitHub code scanning reads it: stable rule ids, file, line and column."""
    rules = [{"id": rid, "name": name, "shortDescription": {"text": desc},
              "helpUri": "https://github.com/policylang/policylang/blob/main/docs/checking.md"}
             for rid, (name, desc) in RULES.items()]
    results = []
    for report in reports:
        for r in report.findings:
            message = f"{r.name}: {r.message}" if r.message else r.name
            if r.counterexample:
                ce = r.counterexample
                if ce.states:
                    message += " — counterexample: " + "; ".join(
                        f"{role}: {state_syntax(report.policy.accumulators, s)} {example_syntax(report.policy, c)}"
                        for role, c, s in zip(roles(r), ce.claims, ce.states))
                else:
                    claims = "; ".join(example_syntax(report.policy, c) for c in ce.claims)
                    state = f"{state_syntax(report.policy.accumulators, ce.state)} " if ce.state else ""
                    message += f" — counterexample: {state}{claims}"
            results.append({
                "ruleId": r.rule,
                "ruleIndex": list(RULES).index(r.rule),
                "level": "warning" if r.status == "unknown" else "error",
                "message": {"text": message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": r.span.file},
                    "region": {"startLine": max(r.span.line, 1), "startColumn": max(r.span.col, 1),
                               "endLine": max(r.span.end_line, r.span.line, 1),
                               "endColumn": max(r.span.end_col, r.span.col + 1)}}}],
                "partialFingerprints": {"policylang/v1": f"{r.rule}:{r.span.file}:{r.name}"},
            })
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "policylang", "version": __version__,
                                         "informationUri": "https://github.com/policylang/policylang",
                                         "rules": rules}},
                     "columnKind": "unicodeCodePoints", "results": results}]}
    return json.dumps(doc, ensure_ascii=False, indent=2)
