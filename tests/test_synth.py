"""`policylang synth`: valid claims for every policy, every member reached, in and out of scope, across the
year boundary, persons with several claims, and the same file for the same seed."""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from batch_helpers import ROOT, policy, rows_of
from policylang.batch.api import evaluate_file
from policylang.batch.synth import read_inputs, synthesize
from policylang.cli import main

POLICIES = sorted((ROOT / "policies").glob("*.pol"))


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_synth_claims_are_valid_varied_and_cross_the_year(path, tmp_path):
    pol = policy(path)
    claims = tmp_path / "claims.parquet"
    written = synthesize(pol, 600, 3, claims)
    assert written.rows == 600 and written.persons < 600 / 3
    summary = evaluate_file(pol, claims, tmp_path / "r.csv", batch_size=97)
    assert (summary.rows_out, summary.rows_rejected) == (600, 0), rows_of(tmp_path / "r.csv.rejects.csv")[:3]
    table = pq.read_table(claims)
    for name in read_inputs(pol):
        inp = pol.inputs[name]
        if inp.type.name == "enum":
            column = inp.field or name
            assert set(table.column(column).drop_null().to_pylist()) == set(pol.enums[inp.type.enum].member_names()), name
    results = rows_of(tmp_path / "r.csv")
    applicable = {r["applicable"] for r in results}
    assert applicable == {"true", "false"}
    share = sum(r["applicable"] == "true" for r in results) / len(results)
    assert share > 0.3, f"only {share:.0%} of the claims are in scope"
    reasons = {r["reason"] for r in results if r["reason"]}
    assert len(reasons) >= 2, reasons  # out of force and at least one scope requirement
    years = {}
    for r in results:
        years.setdefault(r["psn_no"], set()).add(r["year"])
    assert any(len(y) > 1 for y in years.values()), "no person has claims in two 医保年度"


def test_the_same_seed_writes_the_same_claims(tmp_path):
    pol = policy()
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        synthesize(pol, 300, seed, tmp_path / f"{name}.csv", chunk=128)
    a, b, c = ((tmp_path / f"{n}.csv").read_bytes() for n in "abc")
    assert a == b and a != c


def test_the_chunk_size_does_not_change_the_persons_or_the_count(tmp_path):
    pol = policy()
    synthesize(pol, 1000, 1, tmp_path / "a.parquet", chunk=333)
    table = pq.read_table(tmp_path / "a.parquet")
    persons = table.column("psn_no").to_pylist()
    assert len(persons) == 1000
    assert persons == sorted(persons)  # together, in order: the streamed path's rule holds by construction


def test_synth_cli(tmp_path, capsys):
    out = tmp_path / "c.jsonl"
    with pytest.raises(SystemExit) as done:
        main(["synth", str(ROOT / "policies" / "zibo-2023.pol"), "-n", "50", "--seed", "2", "--out", str(out)])
        raise SystemExit(0)
    assert done.value.code == 0
    assert "wrote 50 claims" in capsys.readouterr().err
    assert len(out.read_text(encoding="utf-8").splitlines()) == 50
    with pytest.raises(SystemExit) as done:
        main(["synth", str(ROOT / "policies" / "zibo-2023.pol"), "-n", "5", "--out", str(tmp_path / "c.xlsx")])
    assert done.value.code == 2
    assert "must be a .parquet, .csv or .jsonl file" in capsys.readouterr().err
