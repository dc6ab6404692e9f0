"""The traces of a policy's own `example`s, claim by claim as `policylang test` runs them: the golden
narratives (tests/narrative/) and the schema test read every example of every policy through this."""
from __future__ import annotations

from policylang import ir
from policylang.backends.interpreter import Interpreter, Trace
from policylang.claims import Claim, result_record
from policylang.evaluators import Evaluated
from policylang.testing import Years, claim_problems
from policylang.trace.build import Identity, trace
from policylang.year import claim_year


def example_traces(policy: ir.Policy, ident: Identity) -> list[tuple[str, int, dict]]:
    """(example name, claim number, trace) for each claim of each example, in the order written; an
    example stops at a claim the settlement edge would refuse, as `policylang test` does."""
    interpreter = Interpreter(policy)
    out = []
    for example in policy.examples:
        years = Years(policy, example)
        for number, step in enumerate(example.steps, 1):
            values = {name: value for name, value, _ in step.inputs}
            if claim_problems(policy, values):
                break
            state = years.before(values)
            events = Trace()
            outcome = interpreter.evaluate(values, state, events)
            years.after(values, outcome.state)
            claim = Claim(f"example {example.name} #{number}", values, {}, {})
            record = result_record(policy, claim, state, outcome, claim_year(policy, values))
            evaluated = Evaluated(claim, state, outcome, events, record.get("year"))
            out.append((example.name, number, trace(policy, ident, evaluated, record)))
    return out
