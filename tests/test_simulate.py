"""`policylang simulate`: exact totals, the cross-checks with `eval` and `diff`, the JSON schema, the cache,
and the report page."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from policylang.batch.synth import synthesize
from policylang.cli import cli
from policylang.pipeline import load_policy
from policylang.simulate.pair import Pair
from policylang.simulate.report import build, nearest_rank, yuan
from policylang.simulate.run import simulate_file

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "policies" / "zhoushan-2023-baseline.pol"
REFORM = ROOT / "policies" / "zhoushan-2023.pol"
SCHEMA = ROOT / "policylang" / "simulate" / "simulate.schema.json"


@pytest.fixture(scope="module")
def claims(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("claims") / "zhoushan.parquet"
    synthesize(load_policy(REFORM), 1500, 7, path)
    return path


@pytest.fixture(scope="module")
def compared_only(claims, tmp_path_factory) -> Path:
    """Claims both policies compute a patient payment for: 城乡居民 市内 普通门诊, 基层 门诊慢特病."""
    t = pq.read_table(claims)
    keep = pc.and_(pc.equal(t["insutype"], "城乡居民"), pc.equal(t["就医地"], "市内"))
    keep = pc.and_(keep, pc.or_(pc.equal(t["med_type"], "普通门诊"),
                                pc.and_(pc.equal(t["med_type"], "门诊慢特病"), pc.equal(t["dedc_hosp_lv"], "基层"))))
    t = t.filter(keep)
    t = t.set_column(t.schema.get_field_index("在签约机构就诊"), "在签约机构就诊", pc.fill_null(t["在签约机构就诊"], False))
    path = tmp_path_factory.mktemp("claims") / "compared.parquet"
    pq.write_table(t, path)
    return path


@pytest.fixture(scope="module")
def outcome(claims):
    pair = Pair.build(load_policy(BASE), load_policy(REFORM))
    return pair, simulate_file(pair, claims, progress=False)


def _doc(pair, result) -> dict:
    from policylang.simulate.report import policy_entry

    rows = {"in": result.rows_in, "refused_by_reader": result.reader_rejected,
            "refused_by_baseline": result.tally.rejected["baseline"], "refused_by_reform": result.tally.rejected["reform"]}
    return build(result.tally, policy_entry(pair.baseline, pair.base_engine), policy_entry(pair.reform, pair.reform_engine),
                 rows, False, "claims.parquet", result.seconds)


def test_sum_of_claim_differences_is_the_difference_of_totals(outcome):
    _, result = outcome
    t = result.tally
    delta, base = t.deltas()
    assert t.compared > 100 and len(delta) == t.compared
    assert sum(delta.tolist()) == t.totals["reform"]["psn_part_amt"] - t.totals["baseline"]["psn_part_amt"]
    assert sum(base.tolist()) == t.totals["baseline"]["psn_part_amt"]
    person = t.column("reform_psn") - t.column("base_psn")
    assert sum(person.tolist()) == sum(delta.tolist())
    for side in ("baseline", "reform"):  # the patient pays what the fund does not
        totals = t.totals[side]
        assert totals["psn_part_amt"] + totals["fund_pay_sumamt"] == totals["medfee_sumamt"]
    for members in t.breakdowns.values():  # every breakdown adds up to the totals
        assert sum(v[0] for v in members.values()) == t.compared
        assert sum(v[2] - v[1] for v in members.values()) == t.totals["reform"]["fund_pay_sumamt"] - t.totals["baseline"]["fund_pay_sumamt"]


def test_json_matches_the_documented_schema(outcome):
    pair, result = outcome
    doc = _doc(pair, result)
    jsonschema.validate(json.loads(json.dumps(doc)), json.loads(SCHEMA.read_text(encoding="utf-8")))
    spend = {s["name"]: s for s in doc["spend"]}
    assert Decimal(spend["psn_part_amt"]["difference"]) == -Decimal(spend["fund_pay_sumamt"]["difference"])
    assert doc["winners_losers"]["claims"]["total_change"] == spend["psn_part_amt"]["difference"]
    assert sum(d["persons"] for d in doc["deciles"]) == doc["winners_losers"]["persons"]["count"]


def test_totals_equal_the_scalar_evaluators_eval_json(claims, tmp_path):
    """The same policy twice, one side with an assumption changed: each side's totals are what `policylang
    eval` (JSON, the compiled scalar evaluator) gives for the claims both sides compare."""
    small = tmp_path / "small.jsonl"
    t = pq.read_table(claims).slice(0, 300)
    t = t.filter(pc.greater_equal(t["begntime"], pa.scalar(datetime.date(2023, 10, 1), pa.date32())))
    with open(small, "w", encoding="utf-8") as f:
        for r in t.to_pylist():
            f.write(json.dumps({k: (str(v) if v is not None and not isinstance(v, bool) else v)
                                for k, v in r.items() if v is not None}, ensure_ascii=False) + "\n")
    runner = CliRunner()
    got = runner.invoke(cli, ["simulate", str(REFORM), str(REFORM), "--claims", str(small), "--json", "--quiet",
                              "--keep-in-force", "--reform-assume", "居民普通门诊二级比例=58%"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.output)
    sides = {}
    for side, assume in (("baseline", []), ("reform", ["--assume", "居民普通门诊二级比例=58%"])):
        ev = runner.invoke(cli, ["eval", str(REFORM), "--claims", str(small), *assume])
        assert ev.exit_code == 0, ev.output
        sides[side] = json.loads(ev.output)
    both = [i for i in range(len(sides["baseline"]))
            if all(s[i].get("applicable") and s[i]["setlinfo"].get("psn_part_amt") is not None for s in sides.values())]
    assert doc["compared_claims"] == len(both) > 20
    spend = {s["name"]: s for s in doc["spend"]}
    for side, results in sides.items():
        for name in ("hifp_pay", "fund_pay_sumamt", "psn_part_amt"):
            total = sum(Decimal(results[i]["setlinfo"][name]) for i in both)
            assert Decimal(spend[name][side]) == total, (side, name)


def test_no_loser_where_diff_proves_nobody_worse_off(compared_only):
    """`policylang diff` proves no claim's fund payment falls from any year-to-date; over a year each side
    carries its own year-to-date, so simulate checks the person-year: where every claim of a person is
    compared, nobody's yearly patient payment rises."""
    pair = Pair.build(load_policy(BASE), load_policy(REFORM))
    result = simulate_file(pair, compared_only, progress=False)
    t = result.tally
    person = t.column("reform_psn") - t.column("base_psn")
    assert t.compared == result.rows_in and len(person) > 50
    assert (person <= 0).all() and (person < 0).any()


def test_percentiles_are_values_that_occur():
    values = np.array([-500, -3, 0, 0, 7], dtype=np.int64)
    assert [nearest_rank(values, p) for p in (1, 20, 40, 50, 100)] == [-500, -500, -3, 0, 7]
    assert yuan(-5) == "-0.05" and yuan(123456) == "1234.56"


def test_baseline_results_are_cached_and_refused_for_other_claims(claims, compared_only, tmp_path):
    runner = CliRunner()
    cache = tmp_path / "base.parquet"
    args = ["simulate", str(BASE), str(REFORM), "--json", "--quiet", "--baseline-results", str(cache)]
    first = runner.invoke(cli, [*args, "--claims", str(claims)])
    assert first.exit_code == 0 and cache.exists()
    second = runner.invoke(cli, [*args, "--claims", str(claims)])
    a, b = json.loads(first.output), json.loads(second.output)
    assert b["baseline"]["engine"] == "cached"
    for k in ("spend", "winners_losers", "deciles", "breakdowns", "applicability", "not_applicable"):
        assert a[k] == b[k]
    other = runner.invoke(cli, [*args, "--claims", str(compared_only)])
    assert other.exit_code != 0 and "E0496" in str(other.exception) and "another claims file" in str(other.exception)


def test_report_page_html_and_markdown(claims, tmp_path):
    out = tmp_path / "report"
    got = CliRunner().invoke(cli, ["simulate", str(BASE), str(REFORM), "--claims", str(claims), "--out", str(out), "--quiet"])
    assert got.exit_code == 0, got.output
    html = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "基金支出与个人负担" in html and "测算所依据的假设" in html
    assert "(report-stages.svg)" in md and (out / "report-stages.svg").read_text(encoding="utf-8").startswith("<svg")
    assert "居民门诊起付线" in md  # the assumptions the totals rest on
    assert not list(out.glob("*.partial"))


def test_a_policy_without_patient_payment_is_refused(tmp_path):
    pol = tmp_path / "p.pol"
    pol.write_text('policy "无基金" {\n  in force from 2024-01-01\n}\nuse prelude\n'
                   'output 比例: rate as pool_prop_selfpay = 50%\n', encoding="utf-8")
    data = tmp_path / "c.jsonl"
    data.write_text("", encoding="utf-8")
    got = CliRunner().invoke(cli, ["simulate", str(pol), str(pol), "--claims", str(data)])
    assert got.exit_code != 0 and "E0495" in str(got.output) + str(got.exception)


def _with_column(src: Path, dst: Path, name: str, type_) -> Path:
    t = pq.read_table(src)
    pq.write_table(t.set_column(t.schema.get_field_index(name), name, t[name].cast(type_)), dst)
    return dst


def test_a_reform_only_money_column_with_three_places_reads_as_fen(claims, outcome, tmp_path):
    """病组平均付费标准 is read by the reform only: the reader normalises the file for the baseline, so the
    reform's own columns are normalised for the reform (1000.000 is 1000.00, as `eval --out` reads it)."""
    pair, want = outcome
    wide = _with_column(claims, tmp_path / "wide.parquet", "病组平均付费标准", pa.decimal128(20, 3))
    got = simulate_file(Pair.build(load_policy(BASE), load_policy(REFORM)), wide, progress=False)
    assert got.tally.rejected == want.tally.rejected
    a, b = _doc(pair, want), _doc(pair, got)
    for k in ("spend", "winners_losers", "deciles", "breakdowns", "applicability", "not_applicable"):
        assert a[k] == b[k], k


def test_a_float_column_of_a_reform_only_input_stops_the_run(claims, tmp_path):
    """The file's types are checked against the reform too (the reader checks them against the baseline)."""
    from policylang.batch.columns import BadFile

    bad = _with_column(claims, tmp_path / "float.parquet", "病组平均付费标准", pa.float64())
    with pytest.raises(BadFile, match="病组平均付费标准.*binary floating-point"):
        simulate_file(Pair.build(load_policy(BASE), load_policy(REFORM)), bad, progress=False)


def test_a_csv_file_simulates_as_its_parquet_does(claims, outcome, tmp_path):
    """The CSV reader's header is checked against the reform and the rows give the same report."""
    import pyarrow.csv as pacsv

    pair, want = outcome
    t = pq.read_table(claims)
    text = pa.table({n: pc.if_else(pc.is_null(c), None, c.cast(pa.string())) if not pa.types.is_boolean(c.type)
                     else pc.if_else(c, "true", "false") for n, c in zip(t.column_names, t.columns)})
    pacsv.write_csv(text, tmp_path / "claims.csv")
    got = simulate_file(Pair.build(load_policy(BASE), load_policy(REFORM)), tmp_path / "claims.csv", progress=False)
    assert got.rows_in == want.rows_in and got.tally.rejected == want.tally.rejected
    a, b = _doc(pair, want), _doc(pair, got)
    for k in ("spend", "winners_losers", "deciles", "breakdowns", "applicability", "not_applicable"):
        assert a[k] == b[k], k


@pytest.mark.parametrize("path", [BASE, REFORM, ROOT / "policies" / "zibo-2023.pol"], ids=lambda p: p.stem)
def test_the_columns_a_simulation_reads_are_those_of_the_full_result_table(path, tmp_path):
    """simulate asks the vectorized engine for the columns columns.side reads only: they must be the full
    table's, cell for cell (the rest is not built)."""
    from policylang.batch.columns import normalise
    from policylang.batch.engines import engine_for
    from policylang.simulate.pair import side_schema

    policy = load_policy(path)
    synthesize(policy, 2000, 3, tmp_path / "claims.parquet")
    table = normalise(pq.read_table(tmp_path / "claims.parquet"), policy)
    rows = np.arange(1, table.num_rows + 1)
    engine = engine_for(policy)
    assert engine.name == "vectorized"
    slim = side_schema(policy)
    full = engine.evaluate(table, rows).results
    part = engine.evaluate(table, rows, slim).results
    assert part.schema.equals(slim)
    assert part.equals(full.select(slim.names))
    assert {"setl.psn_part_amt", "na.setl.psn_part_amt", "reason", "psn_no", "year"} <= set(slim.names)


def test_a_settled_stage_missing_from_the_results_stops_the_tally(claims, tmp_path, monkeypatch):
    """columns.side reads a column this policy's results have but the engine did not build as an error
    (pair.side_schema lost it), never as a stage nobody settled (all null, summed as nothing)."""
    from policylang.simulate import pair

    real = pair.side_schema
    monkeypatch.setattr(pair, "side_schema", lambda policy: pa.schema(
        [f for f in real(policy) if f.name != "setl.hifp_pay"]))
    with pytest.raises(AssertionError, match="setl.hifp_pay was not built"):
        simulate_file(Pair.build(load_policy(BASE), load_policy(REFORM)), claims, progress=False)
