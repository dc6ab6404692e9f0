"""The `policylang.trace/1` contract: every example's trace validates against the packaged schema, its
zh-CN narrative is a golden file (tests/narrative/), `eval --explain` emits it, and the content hash names
the policy text the numbers came from."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang.claims import Claim, result_record
from policylang.cli import main
from policylang.evaluators import run_claims
from policylang.pipeline import load_policy, policy_files
from policylang.trace import identity, render, trace
from policylang.trace.examples import example_traces
from policylang.trace.identity import content_hash, source_files
from policylang.trace.schema import problems, schema
from strategies import person_year, states

ROOT = Path(__file__).resolve().parent.parent
NARRATIVES = ROOT / "tests" / "narrative"
POLICIES = policy_files([ROOT / "policies", ROOT / "tests" / "policies"])
CLAIM = ('{"psn_no":"p1","begntime":"2024-03-01","insutype":"390","med_type":"14","dedc_hosp_lv":"基层",'
         '"dise_codg":"A15.0","就医地":"市内","已备案慢病":true,"inscp_scp_amt":"1000.00"}')


def _traces(path: Path):
    policy = load_policy(path)
    return policy, example_traces(policy, identity(policy))


@pytest.mark.parametrize("path", POLICIES, ids=[p.name for p in POLICIES])
def test_every_example_trace_validates(path):
    policy, traces = _traces(path)
    assert len(traces) >= len(policy.examples) > 0
    for name, number, doc in traces:
        assert problems(doc) == [], f"{path.name} example {name} #{number}"


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*.pol")), ids=lambda p: p.name)
def test_narrative_of_every_example(path, golden):
    """The hash is masked: it changes with every byte of the file, the narrative's words need not."""
    _, traces = _traces(path)
    text = "".join(f"## {name} #{number}\n{render(doc)}\n" for name, number, doc in traces)
    text = re.sub(r"sha256:[0-9a-f]+…", "sha256:…", text)
    golden(NARRATIVES / f"{path.stem}.txt", text)


def _eval(args, capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_eval_explain_emits_valid_traces(capsys, monkeypatch):
    code, out, _ = _eval(["eval", "policies/shaoxing-2024.pol", "--explain", "--claims",
                          "examples/shaoxing-claims.jsonl"], capsys, monkeypatch)
    assert code == 0
    results = json.loads(out)
    assert len(results) > 1
    for record in results:
        doc = record["explain"]
        assert problems(doc) == []
        assert doc["setlinfo"] == record["setlinfo"] if record["applicable"] else "setlinfo" not in doc
        assert doc["claim"]["position"] == record["position"]


def test_explain_text_is_the_narrative(capsys, monkeypatch):
    code, out, _ = _eval(["eval", "policies/shaoxing-2024.pol", "--explain", "--format", "text", "--claim", CLAIM],
                         capsys, monkeypatch)
    assert code == 0
    assert "机构级别为基层、病种为肺结核，按第（六）条（「慢病报销比例」第 1 行）：报销比例 70%；" in out
    assert "应付金额 1000.00 × 70% = 700.00 元（第（六）条）；" in out
    assert "本年度累计「慢病净报销」0.00 元 → 700.00 元。" in out
    assert "个人负担（psn_part_amt）300.00 元。" in out


def test_text_format_needs_explain(capsys, monkeypatch):
    code, _, err = _eval(["eval", "policies/shaoxing-2024.pol", "--format", "text", "--claim", CLAIM],
                         capsys, monkeypatch)
    assert code == 2 and "--explain" in err


def test_bands_carry_their_arithmetic():
    policy = load_policy(ROOT / "tests" / "policies" / "dabing-progressive.pol")
    steps = [s for _, _, doc in example_traces(policy, identity(policy)) for s in doc["steps"]]
    bands = [s for s in steps if s["kind"] == "band"]
    assert bands and all(s["arithmetic"] == f"{s['amount']} × {s['rate']} = {s['pays']}" for s in bands)
    sums = [s for s in steps if s["kind"] == "brackets" and " + " in s["arithmetic"]]
    assert sums, "some example reaches two bands"


def test_schema_refuses_what_is_not_a_trace():
    policy, traces = _traces(ROOT / "policies" / "shaoxing-2024.pol")
    doc = traces[0][2]
    assert problems({**doc, "format": "policylang.trace/2"})
    assert problems({**doc, "steps": [{"kind": "rule", "rule": "x"}]})
    bad_money = [dict(s, amount="12.5") if s["kind"] == "band" else s for s in doc["steps"]]
    band = {"kind": "band", "brackets": "b", "band": 1, "clause": None, "amount": "12.5", "rate": "55%",
            "pays": "6.875", "arithmetic": ""}
    assert problems({**doc, "steps": bad_money + [band]})
    assert schema()["title"] == "policylang.trace/1"


def test_content_hash_follows_every_file_of_the_policy(tmp_path):
    base = (ROOT / "policies" / "zhoushan-2023-baseline.pol").read_text(encoding="utf-8")
    reform = (ROOT / "policies" / "zhoushan-2023.pol").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "zhoushan-2023-baseline.pol").write_text(base, encoding="utf-8")
    (tmp_path / "zhoushan-2023.pol").write_text(reform, encoding="utf-8")
    policy = load_policy(tmp_path / "zhoushan-2023.pol")
    assert [Path(f).name for f in source_files(policy)] == ["zhoushan-2023.pol", "zhoushan-2023-baseline.pol"]
    before = content_hash(policy)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", before)
    assert content_hash(policy, {"x": "1"}) != before
    (tmp_path / "zhoushan-2023-baseline.pol").write_text(base + "\n", encoding="utf-8")
    assert content_hash(policy) != before, "an edit of the base changes the reform's hash"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
          database=None)
@given(data=st.data())
@pytest.mark.parametrize("path", POLICIES, ids=[p.name for p in POLICIES])
def test_random_years_give_valid_traces_and_narratives(path, data):
    """Any year of claims the edge accepts (seeded states known or unknown, out of scope, not applicable)
    gives a trace the schema accepts and a narrative; the formula of a rule ends in the rule's value."""
    policy = _loaded(path)
    raw = data.draw(person_year(policy))
    seed = data.draw(states(policy, counted=False))
    batch = [Claim(f"#{i}", c, seed if i == 0 else {}, {}) for i, c in enumerate(raw)]
    ident = identity(policy)
    for item in run_claims(policy, batch, explain=True):
        record = result_record(policy, item.claim, item.state_before, item.outcome, item.year,
                               (item.totals_before, item.totals_after))
        doc = trace(policy, ident, item, record)
        assert problems(doc) == []
        text = render(doc)
        assert text.endswith("。\n")
        for step in doc["steps"]:
            if step.get("formula"):
                assert f"{step['rule']} {step['formula']} = " in text


_LOADED: dict = {}


def _loaded(path):
    if path not in _LOADED:
        _LOADED[path] = load_policy(path)
    return _LOADED[path]
