"""Brackets as 大病保险 documents write them: bounds and rates evaluated per claim, bounds out of order not
applicable, band amendments, and the per-band arithmetic an auditor checks (explain, worked examples).

Each back end is held to the interpreter here on a policy whose bounds come straight from the claim, so
out-of-order bands (a band ending below its start, a gap, an overlap) are generated as often as good ones.
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang import ir
from policylang.backends.interpreter import Interpreter, Trace
from policylang.backends.python import compile_policy
from policylang.backends.smt import Encoder, Run, reason_key
from policylang.check import check_policy
from policylang.explain import explain_events
from policylang.pipeline import load_policy
from policylang.publish import prose
from policylang.publish.changes import changes, load_base
from policylang.publish.worked import worked_examples
from policylang.runtime import NotApplicable
from policylang.syntax.parser import parse_file
from strategies import claims, states
from test_smt_differential import bind

ROOT = Path(__file__).resolve().parent.parent
DABING = ROOT / "tests" / "policies" / "dabing-progressive.pol"
REFORM = ROOT / "tests" / "composition" / "dabing-band-raise.pol"

# Every bound is an input, so the bands are in order only when the claim makes them so.
FROM_CLAIM = """
policy "分段来自就诊" { document "测试" in force from 2024-01-01 }
use prelude
input 起付: money
input 第一段上限: money
input 第二段起点: money
input 贫困人员: bool
input 加点: points optional
accumulator 累计: money per person per 医保年度 = 0元
brackets 分段: money on 政策范围内费用 cumulative 累计 {
  起付 .. 第一段上限 -> if 贫困人员 then 60% else 55%
  第二段起点 .. 第二段起点 + 10000元 -> (65% + 加点)
  第二段起点 + 10000元 .. -> 75%
}
output 支付: money as hifmi_pay = 分段
update 累计 += 政策范围内费用
"""


def load_text(tmp_path: Path, text: str, name: str = "policy.pol") -> ir.Policy:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def both(policy: ir.Policy, claim: dict, state: dict | None = None):
    """The interpreter's outcome, after checking the compiled evaluator gives the same."""
    interpreted = Interpreter(policy).evaluate(claim, state or {})
    assert compile_policy(policy)(claim, state or {}) == interpreted
    return interpreted


def from_claim(**values) -> dict:
    claim = {"就诊日期": datetime.date(2024, 5, 1), "贫困人员": False, "政策范围内费用": Decimal("20000"),
             "加点": Decimal(0)}
    claim.update({k: Decimal(v) if isinstance(v, str) else v for k, v in values.items()})
    return claim


# ---- the surface -------------------------------------------------------------------------------------
def test_an_if_rate_parses_after_the_arrow():
    """`-> if 贫困人员 then …` was "unexpected `then`; expected `..`": the bound of the next band could not
    be told from the rate. The `else` branch is again a band rate, so the next band starts cleanly."""
    module = parse_file(DABING)
    brackets = next(d for d in module.decls if getattr(d, "name", None) == "大病分段" and hasattr(d, "bands"))
    assert [type(b.rate).__name__ for b in brackets.bands] == ["IfThenElse", "IfThenElse", "BinOp"]


def test_constant_brackets_stay_numbers_and_expressions_stay_expressions():
    constant = load_policy(ROOT / "tests" / "policies" / "dabing-stage.pol").brackets["大病分段"]
    assert constant.constant and not constant.bounds_vary
    assert constant.versions[0].bands[0].values == (Decimal(0), Decimal(100000), Decimal("0.60"))
    progressive = load_policy(DABING).brackets["大病分段"]
    assert not progressive.constant and progressive.bounds_vary
    assert isinstance(progressive.versions[0].bands[0].low, ir.RuleRef)


# ---- semantics ---------------------------------------------------------------------------------------
def test_bounds_are_evaluated_per_claim(tmp_path):
    policy = load_text(tmp_path, FROM_CLAIM)
    claim = from_claim(起付="1000", 第一段上限="5000", 第二段起点="5000")
    # 4000 × 55% + 10000 × 65% + 5000 × 75%; the poor: 4000 × 60% + 10000 × 70% + 5000 × 75%
    assert both(policy, claim).outputs["支付"] == Decimal("12450.00")
    assert both(policy, {**claim, "贫困人员": True, "加点": Decimal("0.05")}).outputs["支付"] == Decimal("13150.00")


def test_nothing_is_paid_below_the_first_band(tmp_path):
    policy = load_text(tmp_path, FROM_CLAIM)
    claim = from_claim(起付="30000", 第一段上限="40000", 第二段起点="40000")
    assert both(policy, claim).outputs["支付"] == Decimal("0.00")
    assert both(policy, claim, {"累计": Decimal("5000")}).outputs["支付"] == Decimal("0.00")


def test_a_band_ending_below_its_start_is_not_applicable(tmp_path):
    policy = load_text(tmp_path, FROM_CLAIM)
    value = both(policy, from_claim(起付="6000", 第一段上限="5000", 第二段起点="5000")).outputs["支付"]
    assert value == NotApplicable("分段 `分段` 第 1 段止于 5000.00元，低于其起点 6000.00元")


def test_a_gap_or_an_overlap_between_bands_is_not_applicable(tmp_path):
    policy = load_text(tmp_path, FROM_CLAIM)
    gap = both(policy, from_claim(起付="1000", 第一段上限="5000", 第二段起点="7000")).outputs["支付"]
    assert gap == NotApplicable("分段 `分段` 第 2 段起于 7000.00元，但第 1 段止于 5000.00元：各段须首尾相接")
    overlap = both(policy, from_claim(起付="1000", 第一段上限="5000", 第二段起点="4000")).outputs["支付"]
    assert isinstance(overlap, NotApplicable) and "第 2 段起于 4000.00元" in overlap.reason


def test_a_rate_not_applicable_makes_the_brackets_not_applicable(tmp_path):
    """Every bound and rate is read before any is used, in band order (the compiled code agrees)."""
    policy = load_text(tmp_path, FROM_CLAIM)
    claim = from_claim(起付="1000", 第一段上限="5000", 第二段起点="5000")
    claim.pop("加点", None)
    assert both(policy, claim).outputs["支付"] == NotApplicable("缺少输入 `加点`")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_evaluator_agrees_on_bounds_from_the_claim(tmp_path_factory, data):
    policy = _FROM_CLAIM.get("policy")
    if policy is None:
        policy = _FROM_CLAIM["policy"] = load_text(tmp_path_factory.mktemp("fc"), FROM_CLAIM)
        _FROM_CLAIM["pair"] = (Interpreter(policy).evaluate, compile_policy(policy))
    interpret, compiled = _FROM_CLAIM["pair"]
    claim, state = data.draw(claims(policy)), data.draw(states(policy))
    if data.draw(st.booleans()):  # often contiguous, so good bands are generated as well as bad ones
        claim["第二段起点"] = claim["第一段上限"]
    assert compiled(claim, state) == interpret(claim, state)


_FROM_CLAIM: dict = {}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_z3_encoding_agrees_on_bounds_from_the_claim(tmp_path_factory, data):
    """Value, not-applicable flag and reason (band order included) as the interpreter gives them."""
    if "run" not in _FROM_CLAIM:
        policy = _FROM_CLAIM.get("policy") or load_text(tmp_path_factory.mktemp("fc"), FROM_CLAIM)
        enc = Encoder(policy)
        run = Run(enc, "c:")
        _FROM_CLAIM.update(policy=policy, enc=enc, run=run, out=run.rule("支付"))
    policy, enc, run, out = (_FROM_CLAIM[k] for k in ("policy", "enc", "run", "out"))
    claim, state = data.draw(claims(policy)), data.draw(states(policy, unknown=False))
    if data.draw(st.booleans()):
        claim["第二段起点"] = claim["第一段上限"]
    outcome = Interpreter(policy).evaluate(claim, state)
    if not outcome.applicable:  # a service date before the policy: no output to compare
        return
    expected = outcome.outputs["支付"]
    solver = z3.Solver()
    solver.add(*bind(policy, run, claim, state), *run.definitions)
    assert solver.check() == z3.sat
    model = solver.model()
    na = z3.is_true(model.eval(out.na, model_completion=True))
    assert na == isinstance(expected, NotApplicable)
    if na:
        assert enc.reasons.text(model.eval(out.why, model_completion=True).as_long()) == reason_key(expected.reason)
    else:
        value = model.eval(out.v, model_completion=True).as_fraction()
        assert Decimal(value.numerator) / Decimal(value.denominator) == expected


# ---- the auditor's arithmetic ------------------------------------------------------------------------
AUDIT_CLAIM = {"就诊日期": datetime.date(2024, 6, 1), "险种": "城乡居民", "就诊类型": "普通住院", "贫困人员": False,
               "政策范围内费用": Decimal("80000"), "基本医保支付": Decimal("31234.56")}


def test_explain_shows_each_band_and_the_sum():
    policy = load_policy(DABING)
    trace = Trace()
    Interpreter(policy).evaluate(AUDIT_CLAIM, {"大病累计负担": Decimal("12345.67")}, trace)
    items = [i for i in explain_events(policy, trace) if i.get("brackets") == "大病分段"]
    assert items == [
        {"kind": "band", "brackets": "大病分段", "band": 1, "clause": "三（一）", "amount": "43654.33", "rate": "55%",
         "pays": "24009.8815", "arithmetic": "43654.33 × 55% = 24009.8815"},
        {"kind": "band", "brackets": "大病分段", "band": 2, "clause": "三（二）", "amount": "5111.11", "rate": "65%",
         "pays": "3322.2215", "arithmetic": "5111.11 × 65% = 3322.2215"},
        {"kind": "brackets", "brackets": "大病分段", "value": "27332.10",
         "arithmetic": "43654.33 × 55% + 5111.11 × 65% = 27332.103 ≈ 27332.10"},
    ]


def test_worked_examples_print_the_same_arithmetic():
    worked = next(w for w in worked_examples(load_policy(DABING)) if w.name == "跨第一、二段：审计算式")
    notes = [n for line in worked.steps[0].lines for n in line.notes]
    assert "分段「大病分段」第1段：43654.33元 × 55% = 24009.8815元，条款三（一）" in notes
    assert "分段「大病分段」合计：43654.33 × 55% + 5111.11 × 65% = 27332.103 ≈ 27332.10元" in notes


def test_the_docs_read_bounds_and_rates_as_words():
    band = load_policy(DABING).brackets["大病分段"].versions[0].bands
    assert prose.band(band[0]) == ("大病起付线", "大病起付线 + 50,000.00元", "贫困人员为是时，60%；否则55%")
    assert prose.band(band[2]) == ("大病起付线 + 100,000.00元", "以上", "75% + 贫困加点")


# ---- amendments ----------------------------------------------------------------------------------------
def test_amending_one_band_changes_that_band_alone():
    policy = load_policy(REFORM)
    bands = policy.brackets["大病分段"].versions[0].bands
    assert prose.band(bands[1])[2] == "贫困人员为是时，75%；否则70%"
    assert prose.band(bands[0])[2] == "贫困人员为是时，60%；否则55%"
    [change] = changes(policy, load_base(policy, load_policy))
    assert (change.item, change.before, change.after) == (
        "大病分段", "第2段（贫困人员为是时，70%；否则65%）", "第2段（贫困人员为是时，75%；否则70%）")


def test_a_constant_band_reads_60_to_65(tmp_path):
    (tmp_path / "reform.pol").write_text(
        f'policy "r" {{ document "x" extends "{ROOT / "tests" / "policies" / "dabing-stage.pol"}" '
        'in force from 2024-01-01 }\namend 大病分段 band 1 += 5pp\n', encoding="utf-8")
    policy = load_policy(tmp_path / "reform.pol", root=ROOT)  # it extends a file of the repository
    [change] = changes(policy, load_base(policy, load_policy))
    assert (change.before, change.after) == ("第1段 60%", "第1段 65%")


def test_amending_the_brackets_changes_every_band(tmp_path):
    (tmp_path / "reform.pol").write_text(
        f'policy "r" {{ document "x" extends "{ROOT / "tests" / "policies" / "dabing-stage.pol"}" '
        'in force from 2024-01-01 }\namend 大病分段 *= 50%\n', encoding="utf-8")
    bands = load_policy(tmp_path / "reform.pol", root=ROOT).brackets["大病分段"].versions[0].bands
    assert [b.values[2] for b in bands] == [Decimal("0.30"), Decimal("0.35")]


# ---- the checker ---------------------------------------------------------------------------------------
def test_the_checker_proves_the_test_policy_at_the_default_budget():
    report = check_policy(load_policy(DABING))
    assert not report.findings, [(r.rule, r.name, r.status, r.message) for r in report.findings]
    proved = {(r.rule, r.name) for r in report.results}
    assert ("PL205", "the bands of `大病分段` are in order for every claim") in proved
    assert ("PL401", "贫困人员不少于一般人员") in proved
    assert ("PL401", "年度已负担越多，本次大病保险不会更少") in proved  # the tutorial's property over the year


def test_the_property_over_the_year_is_refuted_when_the_rates_fall(tmp_path):
    """The tutorial's step G: with the third segment at 40%, more earlier burden pays this claim less."""
    text = DABING.read_text(encoding="utf-8").replace("-> (75% + 贫困加点)", "-> (40% + 贫困加点)")
    report = check_policy(load_text(tmp_path, text))
    found = {f.name: f for f in report.findings if f.rule == "PL401"}
    finding = found["年度已负担越多，本次大病保险不会更少"]
    assert finding.status == "violated"
    left, right = finding.counterexample.outcomes
    assert left.outputs["大病保险"] > right.outputs["大病保险"]


def test_the_checker_refutes_a_false_property_with_a_replayed_claim(tmp_path):
    text = DABING.read_text(encoding="utf-8").replace(
        'vary 贫困人员: false vs true', 'vary 贫困人员: true vs false')
    text = text.replace('"贫困人员不少于一般人员"', '"一般人员不少于贫困人员"')
    report = check_policy(load_text(tmp_path, text))
    [finding] = report.findings
    assert (finding.rule, finding.name, finding.status) == ("PL401", "一般人员不少于贫困人员", "violated")
    left, right = finding.counterexample.outcomes
    assert left.outputs["大病保险"] > right.outputs["大病保险"]  # the replay shows what the solver said


def test_the_checker_finds_bounds_out_of_order(tmp_path):
    """`大病起付线 .. 50000元`: for a claim whose 起付线 is above 50000 元 the first band ends below its start."""
    text = DABING.read_text(encoding="utf-8").replace("then 3000元 else 6000元", "then 3000元 else 60000元")
    text = text.replace("大病起付线 .. 大病起付线 + 50000元 ", "大病起付线 .. 50000元 ")
    text = text.replace("大病起付线 + 50000元 .. 大病起付线 + 100000元", "50000元 .. 大病起付线 + 100000元")
    report = check_policy(load_text(tmp_path, text))
    found = [r for r in report.findings if r.rule == "PL205"]
    assert [r.status for r in found] == ["violated"]
    assert "分段 `大病分段` 第 1 段止于 50000.00元，低于其起点 60000.00元" in found[0].counterexample.detail


# ---- the tutorial's second walk-through ------------------------------------------------------------------
def test_the_tutorials_pol_blocks_are_the_test_policys_text():
    """docs/tutorial.md's 大病保险 walk-through shows excerpts of the files this module tests, verbatim."""
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    walk_through = text[text.index("# Second walk-through"):]
    blocks = [b.split("```")[0].strip("\n") for b in walk_through.split("```pol\n")[1:]]
    files = DABING.read_text(encoding="utf-8") + REFORM.read_text(encoding="utf-8")
    assert len(blocks) >= 6
    for block in blocks:
        assert block in files, block


# ---- the docs pages ------------------------------------------------------------------------------------
def test_the_docs_pages_render_the_new_constructs(golden):
    """Bands over 大病起付线 with `if` rates, the worked arithmetic, and the reform's one-band change."""
    from policylang.publish.site import build_pages, render_page

    policies = [load_policy(DABING.relative_to(ROOT)), load_policy(REFORM.relative_to(ROOT))]
    pages = build_pages(policies, check=False, charts=False, load=load_policy).pages
    for page in pages:
        golden(ROOT / "tests" / "publish" / "brackets" / f"{page.slug}.md", render_page(page, "md"))
