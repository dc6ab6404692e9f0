"""Code lenses: each `example` of the document run (the interpreter gives the answer and the compiled
evaluator must agree, as in `policylang test`), and each `property` with the status of the last check.

Checks run in the background, in one worker process, with a small solver budget (CHECK_TIMEOUT per
question, CHECK_BUDGET per policy: the checker's resource seconds, so a verdict is the one `policylang
check --timeout 1 --budget 5` gives). The server starts one when a document is opened or saved and
caches the verdicts by the text they were computed from; a lens on text edited since says so.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from policylang import ir
from policylang.testing import run_example, run_examples

CHECK_TIMEOUT = 1.0
CHECK_BUDGET = 5.0
SYMBOLS = {"proved": "✓ proved", "violated": "✗ violated", "vacuous": "⚠ vacuous", "not-applicable":
           "– not applicable here", "unknown": "? undecided", "internal-error": "✗ internal error"}


@dataclass
class Lens:
    line: int
    col: int
    title: str
    command: str
    arguments: list


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def example_lenses(policy: ir.Policy, file: str, uri: str) -> list[Lens]:
    out = []
    for result in run_examples(policy):
        example = result.example
        if example.span.file != file:
            continue  # an example inherited through `extends` belongs to the base file's lenses
        out.append(Lens(example.span.line, example.span.col, example_title(result), "policylang.runExample",
                        [uri, example.name]))
    return out


def example_title(result) -> str:
    steps = len(result.steps)
    if result.passed:
        return f"▶ example passes ({steps} claim{'s' if steps != 1 else ''})"
    failed = next(s for s in result.steps if not s.passed)
    where = f"claim {failed.number}: " if len(result.example.steps) > 1 else ""
    return f"▶ example FAILS — {where}{failed.problems[0]}"


def run_one(policy: ir.Policy, name: str) -> str:
    """The `policylang.runExample` command: every problem of one example, as `policylang test` prints them."""
    from policylang.evaluators import evaluator

    example = next((e for e in policy.examples if e.name == name), None)
    if example is None:
        return f"no example named {name!r}"
    result = run_example(policy, example, compiled=evaluator(policy, "compiled"))
    lines = [("PASS " if result.passed else "FAIL ") + name]
    for step in result.steps:
        lines += [f"  claim {step.number}: {problem}" for problem in step.problems]
    return "\n".join(lines)


def property_lenses(policy: ir.Policy, file: str, uri: str, verdicts: dict | None, stale: bool,
                    running: bool) -> list[Lens]:
    """`verdicts`: property name -> (status, message) from the last check of this document (key "": the
    check crashed), or None."""
    out = []
    for p in policy.properties:
        if p.span.file != file:
            continue
        if verdicts is None:
            title = "check: running…" if running else "check: not run yet (save to check)"
        else:
            # "" holds the reason a whole check crashed: every property shows it
            status, message = verdicts.get(p.name) or verdicts.get("") or ("unknown", "the check gave no verdict")
            title = f"check: {SYMBOLS.get(status, status)}" + (f" — {message}" if message and status != "proved" else "")
            if stale:
                title += " (before your last edits" + ("; checking again…)" if running else "; save to check)")
        out.append(Lens(p.span.line, p.span.col, title, "policylang.showCheck", [uri, p.name]))
    return out


def check_text(text: str, path: str) -> dict:
    """Run in the worker process: every property's (status, message) for this text, or {} if it does not load."""
    from policylang.check import check_policy
    from policylang.diagnostics import DiagnosticError
    from policylang.pipeline import load_text

    try:
        policy = load_text(text, path)
    except DiagnosticError:
        return {}
    report = check_policy(policy, timeout=CHECK_TIMEOUT, budget=CHECK_BUDGET)
    return {r.name: (r.status, r.message.split("\n")[0][:160]) for r in report.results if r.rule in ("PL401", "PL402")}
