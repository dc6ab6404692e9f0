"""`policylang sweep`: the range syntax, and totals that move with the assumption in one pass."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from policylang.batch.synth import synthesize
from policylang.cli import cli
from policylang.pipeline import load_policy
from policylang.simulate.sweep import BadRange, parse_range

POLICY = Path(__file__).resolve().parent.parent / "policies" / "zhoushan-2023.pol"


def test_range_syntax():
    assert parse_range("居民普通门诊基层比例=55%..70%/5pp") == ("居民普通门诊基层比例", ["55%", "60%", "65%", "70%"])
    assert parse_range("居民门诊起付线=0元..300元/150元")[1] == ["0元", "150元", "300元"]
    for bad in ("x=1..0/1", "x=1..2/0", "x=1..1000/1", "x=a..b/c", "=1..2/1"):
        with pytest.raises(BadRange):
            parse_range(bad)


def test_sweep_moves_the_fund_with_the_ratio(tmp_path):
    claims = tmp_path / "c.parquet"
    synthesize(load_policy(POLICY), 400, 5, claims)
    got = CliRunner().invoke(cli, ["sweep", str(POLICY), "--assume", "居民普通门诊基层比例=50%..70%/10pp",
                                   "--claims", str(claims), "--json", "--out", str(tmp_path / "out")])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.output)
    funds = [Decimal(v["totals"]["fund_pay_sumamt"]) for v in doc["values"]]
    assert [v["value"] for v in doc["values"]] == ["50%", "60%", "70%"] and funds[0] < funds[1] < funds[2]
    for v in doc["values"]:  # fund and patient share the same compared cost
        t = v["totals"]
        assert Decimal(t["fund_pay_sumamt"]) + Decimal(t["psn_part_amt"]) == Decimal(t["medfee_sumamt"])
    assert (tmp_path / "out" / "sweep.svg").read_text(encoding="utf-8").startswith("<svg")
    bad = CliRunner().invoke(cli, ["sweep", str(POLICY), "--assume", "x=1..0/1", "--claims", str(claims)])
    assert bad.exit_code != 0 and "E0497" in str(bad.exception)
