"""What `check` assumes about a claim's numbers is what `eval` accepts: both read policylang/domains.py.

For every numeric input of every shipped policy, Z3 is asked for the smallest and largest value the checker
lets the input take, and the claim edge is asked whether it accepts those values and refuses one unit
beyond each (and one decimal place more). The two answers must agree.
"""
from decimal import Decimal
from pathlib import Path

import pytest
import z3

from policylang.backends.smt import Encoder, Run
from policylang.claims import ClaimReader, typed_claim_errors
from policylang.diagnostics import DiagnosticError
from policylang.domains import LIMITS, domain
from policylang.pipeline import load_policy
from policylang.syntax.parser import parse_text
from policylang.semantics.resolve import resolve
from policylang.pipeline import prelude

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / "policies").glob("*.pol"))


def _extreme(run: Run, name: str, goal) -> int:
    n, _ = run.scaled[name]
    opt = z3.Optimize()
    opt.add(*run.domain)
    (opt.minimize if goal == "min" else opt.maximize)(n)
    assert opt.check() == z3.sat
    return opt.model().eval(n).as_long()


def _numeric(policy):
    return [inp for inp in policy.inputs.values() if inp.type.name in LIMITS]


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_the_checker_and_the_edge_agree_on_every_numeric_input(path):
    policy = load_policy(path)
    run = Run(Encoder(policy), "x:")
    reader = ClaimReader(policy)
    for inp in _numeric(policy):
        d = domain(inp)
        low, high, scale = d.scaled()
        assert (_extreme(run, inp.name, "min"), _extreme(run, inp.name, "max")) == (low, high), inp.name
        step = Decimal(1).scaleb(-d.places)
        for value, accepted in ((d.low, True), (d.high, True), (d.low - step, False), (d.high + step, False),
                                (d.low + step / 10, False)):
            try:
                reader.convert(inp, format(value, "f"))
                ok = True
            except ValueError:
                ok = False
            assert ok == accepted, (inp.name, value)


def _policy(text: str):
    header = 'policy "t" { in force from 2024-01-01 }\nuse prelude\n'
    return resolve(parse_text(header + text, "t.pol"), prelude())


RATE_POLICY = """
input 自定比例: rate "the rate a claim carries"
output 统筹支付: money as hifp_pay = 政策范围内费用 × 自定比例
"""


@pytest.mark.parametrize("raw", ["150%", "-50%", "1.5", "12.345%"])
def test_a_rate_outside_what_check_assumed_is_refused_at_the_edge(raw):
    """Before: 150% paid 1500.00 on a 1000.00 bill, -50% paid -500.00, while check proved 统筹支付 ≤ 政策范围内费用."""
    policy = _policy(RATE_POLICY)
    with pytest.raises(ValueError, match="outside 0%..100%|finer than 0.01%"):
        ClaimReader(policy).convert(policy.inputs["自定比例"], raw)


def test_a_declared_range_narrows_what_is_accepted_and_what_is_proved():
    policy = _policy('input 天数: number in 1..365 "住院天数"\noutput 统筹支付: money as hifp_pay = 政策范围内费用\n')
    inp = policy.inputs["天数"]
    assert inp.domain == (Decimal(1), Decimal(365))
    with pytest.raises(ValueError, match=r"366 is outside 1..365 \(declared at t.pol:3:1"):
        ClaimReader(policy).convert(inp, "366")
    run = Run(Encoder(policy), "x:")
    assert (_extreme(run, "天数", "min"), _extreme(run, "天数", "max")) == (10000, 3650000)


@pytest.mark.parametrize("decl, message", [
    ("input 天数: number in 0..20000", "leaves 0..10000"),
    ("input 比例: rate in 50%..20%", "starts at 50%, above its end 20%"),
    ("input 比例: rate in 0%..规则", "literals"),
    ("input 日期: date in 2024-01-01..2024-12-31", "a date input has no range"),
    ("input 比例: rate in 0元..1元", "expected rate"),
])
def test_a_range_the_checker_could_not_keep_is_refused(decl, message):
    with pytest.raises(DiagnosticError) as err:
        _policy(decl + "\nrule 规则: rate = 50%\n")
    first = err.value.diagnostics[0]
    assert len(err.value.diagnostics) == 1 and message in first.message + first.hint, first.message


def test_money_of_thirty_digits_is_a_claim_error_not_a_crash():
    policy = load_policy(ROOT / "policies" / "shaoxing-2024.pol")
    with pytest.raises(ValueError, match="a number of 30 digits is outside 0.00元..10000000.00元"):
        ClaimReader(policy).convert(policy.inputs["政策范围内费用"], "1" + "0" * 29)


def test_a_state_the_year_cannot_reach_is_refused():
    policy = load_policy(ROOT / "tests" / "composition" / "admissions.pol")
    reader = ClaimReader(policy)
    errors = []
    reader.read_state({"住院次数": "0.5"}, "c", errors)
    reader.read_state({"住院次数": "-1"}, "c", errors)
    assert ["whole count" in e.message or "negative" in e.message for e in errors] == [True, True]


def test_an_example_outside_a_range_fails_like_a_claim():
    policy = _policy(RATE_POLICY)
    errors = typed_claim_errors(policy, {"自定比例": Decimal("1.5")}, "example")
    assert errors and "outside 0%..100%" in errors[0].message
