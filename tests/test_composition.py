"""extends / amend / assumption / conforms to: composition gives a policy in its own right."""
from decimal import Decimal
from pathlib import Path

import pytest

from policylang.check import check_policy
from policylang.diagnostics import DiagnosticError
from policylang.pipeline import load_policy
from policylang.testing import run_examples

HERE = Path(__file__).parent / "composition"


def test_reform_extends_and_remembers_what_changed():
    policy = load_policy(HERE / "reform.pol")
    assert policy.extends.endswith("base.pol")
    assert [(a.target, a.op) for a in policy.amendments] == [("级别比例", "+"), ("普通门诊基础比例", "+")]
    rows = policy.tables["级别比例"].versions[0].rows
    assert [r.output.value for r in rows] == [Decimal("0.62"), Decimal("0.57"), Decimal("0.52")]
    assert [r.name for r in policy.assumptions] == ["普通门诊基础比例"]
    assert all(r.passed for r in run_examples(policy))


def test_conformance_to_a_guideline_is_proved():
    report = check_policy(load_policy(HERE / "reform.pol"))
    conformance = [r for r in report.results if r.name == "门诊支付比例不低于50%"]
    assert [r.status for r in conformance] == ["proved"]
    assert not report.findings


def test_a_reform_below_the_national_floor_gets_a_counterexample():
    report = check_policy(load_policy(HERE / "below-floor.pol"))
    finding = next(r for r in report.findings if r.name == "门诊支付比例不低于50%")
    assert finding.status == "violated"
    claim = finding.counterexample.claims[0]
    assert claim["机构级别"] not in ("基层", "二级")
    assert finding.counterexample.outcomes[0].outputs["统筹支付"] < claim["政策范围内费用"] * Decimal("0.5")


def test_assumption_override_moves_the_baseline_before_amendments():
    policy = load_policy(HERE / "reform.pol", assume={"普通门诊基础比例": "40%"})
    expected = [s for r in run_examples(policy) for s in r.steps][0].mismatches
    assert [(m.name, m.actual) for m in expected] == [("基础支付", "45.00元")]


@pytest.mark.parametrize("path, assume, code", [
    ("cycle-a.pol", None, "E0416"),
    ("amend-unknown.pol", None, "E0418"),
    ("guideline.pol", None, "E0415"),
    ("reform.pol", {"不存在": "1"}, "E0419"),
    ("reform.pol", {"普通门诊基础比例": "4x"}, "E0420"),
])
def test_composition_errors(path, assume, code):
    with pytest.raises(DiagnosticError) as info:
        load_policy(HERE / path, assume=assume)
    assert [d.code for d in info.value.diagnostics] == [code]


def test_a_real_policy_cut_below_the_national_floor_fails_with_a_counterexample():
    """浙江 (which conforms to the national guideline) with its 二级 ratio amended to 45%."""
    policy = load_policy(HERE / "zhejiang-below-national-floor.pol")
    report = check_policy(policy)
    finding = next(r for r in report.findings if r.name == "职工医保普通门诊政策范围内支付比例不低于50%")
    assert finding.status == "violated"
    claim = finding.counterexample.claims[0]
    assert (claim["险种"], claim["就诊类型"], claim["机构级别"], claim["人员类别"]) == ("职工", "普通门诊", "二级", "在职")
    assert finding.counterexample.outcomes[0].outputs["报销比例"] == Decimal("0.45")
    # the guideline is declared by both the policy and the one it extends: brought in once
    assert sum(p.name == finding.name for p in policy.properties) == 1
    # the amended ratio is no longer an assumption the results depend on
    assert "二级支付比例" not in {r.name for r in policy.assumptions}
