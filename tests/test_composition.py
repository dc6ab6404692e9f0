"""extends / amend / assumption / conforms to: composition gives a policy in its own right."""
from decimal import Decimal
from pathlib import Path

import pytest

from policylang.check import check_policy
from policylang.diagnostics import DiagnosticError
from policylang.pipeline import load_policy
from policylang.testing import run_examples

HERE = Path(__file__).parent / "composition"
ROOT = HERE.parent.parent


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


# ---------------------------------------------------------------- --assume through an `extends` chain

def _value(policy, name: str):
    """The value of a rule that does not depend on the claim (an assumption and what amends it)."""
    from policylang.folding import rule_constant
    return rule_constant(policy.rules[name], policy)


def test_assume_in_a_three_level_chain_keeps_every_later_amendment():
    """base.pol declares 普通门诊基础比例 = 50%; reform.pol adds 5pp; chain-top.pol adds 1pp."""
    assert _value(load_policy(HERE / "chain-top.pol"), "普通门诊基础比例") == Decimal("0.56")
    policy = load_policy(HERE / "chain-top.pol", assume={"普通门诊基础比例": "40%"})
    assert _value(policy, "普通门诊基础比例") == Decimal("0.46")
    assert policy.warnings == ()
    assert [r.name for r in policy.assumptions] == ["普通门诊基础比例"]


def test_assume_through_the_zhoushan_reform_moves_with_its_amendments():
    """The issue's case: a policy extending the reform got the override (47%), not the reform's 50%."""
    assume = {"居民普通门诊三级及其他比例": "47%", "居民普通门诊二级比例": "45%"}
    reform = load_policy(ROOT / "policies" / "zhoushan-2023.pol", assume=assume)
    followup = load_policy(HERE / "zhoushan-followup.pol", assume=assume)
    assert _value(reform, "居民普通门诊三级及其他比例") == Decimal("0.50")
    assert _value(followup, "居民普通门诊三级及其他比例") == Decimal("0.50")
    assert _value(reform, "居民普通门诊二级比例") == Decimal("0.50")  # 45% + 5pp
    assert _value(followup, "居民普通门诊二级比例") == Decimal("0.52")  # 45% + 5pp + 2pp
    assert followup.warnings == ()


@pytest.mark.parametrize("path", ["policies/zhoushan-2023.pol", "tests/composition/zhoushan-followup.pol"])
def test_assume_of_a_value_a_later_policy_sets_outright_warns_and_keeps_that_value(path):
    """`amend 居民住院基层比例 = 85%` gives the value: the override cannot change it, and says so
    (it was refused with E0419 one level down, and silently ignored on the reform itself)."""
    policy = load_policy(ROOT / path, assume={"居民住院基层比例": "75%"})
    assert _value(policy, "居民住院基层比例") == Decimal("0.85")
    assert [(w.code, w.severity, Path(w.span.file).name, w.span.line) for w in policy.warnings] == [
        ("W0424", "warning", "zhoushan-2023.pol", 48)]
    assert "--assume" not in policy.rules["居民住院基层比例"].doc  # the page must not credit the override
    baseline = load_policy(ROOT / "policies" / "zhoushan-2023-baseline.pol", assume={"居民住院基层比例": "75%"})
    assert _value(baseline, "居民住院基层比例") == Decimal("0.75")
    assert baseline.warnings == ()


def test_assume_of_an_assumption_a_later_policy_redefines_warns():
    policy = load_policy(HERE / "chain-redefines.pol", assume={"普通门诊基础比例": "40%"})
    assert _value(policy, "普通门诊基础比例") == Decimal("0.58")
    assert [(w.code, Path(w.span.file).name) for w in policy.warnings] == [("W0424", "chain-redefines.pol")]


def test_assume_overrides_every_dated_version_of_an_assumption():
    policy = load_policy(HERE / "dated-assumption.pol", assume={"基础比例": "60%"})
    assert [v.expr.value for v in policy.rules["基础比例"].versions] == [Decimal("0.60"), Decimal("0.60")]


def test_an_unknown_assumption_names_those_of_the_whole_chain():
    with pytest.raises(DiagnosticError) as info:
        load_policy(HERE / "zhoushan-followup.pol", assume={"居民住院基层比列": "75%"})
    [diag] = info.value.diagnostics
    assert diag.code == "E0419" and "居民住院基层比例" in diag.hint


def test_the_cli_prints_the_warning_and_still_runs(capsys, monkeypatch):
    from policylang.cli import main
    monkeypatch.chdir(ROOT)
    try:
        main(["test", "tests/composition/zhoushan-followup.pol", "--assume", "居民住院基层比例=75%"])
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.startswith("warning[W0424]: `--assume 居民住院基层比例=75%`")
    assert "policies/zhoushan-2023.pol:48:1" in err
