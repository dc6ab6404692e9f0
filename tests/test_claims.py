"""Claims at the edges: exact money, both spellings, and every bad field reported with its position."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest

from policylang.claims import ClaimReader, load_json, read_records
from policylang.cli import main
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent
SHAOXING = ROOT / "policies" / "shaoxing-2024.pol"
GOOD = {"psn_no": "p1", "begntime": "2024-03-01 09:00:00", "insutype": "390", "med_type": "14",
        "dedc_hosp_lv": "基层", "dise_codg": "I10.x00", "就医地": "市内", "已备案慢病": True, "inscp_scp_amt": "1000.00"}


@pytest.fixture(scope="module")
def reader():
    return ClaimReader(load_policy(SHAOXING))


def read(reader, **changes):
    record = {**GOOD, **changes}
    return reader.read({k: v for k, v in record.items() if v is not ...}, "claims.jsonl:7")


def test_platform_codes_and_chinese_names_mean_the_same(reader):
    by_code, errors = read(reader)
    assert not errors
    chinese = {"人员编号": "p1", "就诊日期": "2024-03-01", "险种": "城乡居民", "就诊类型": "门诊慢特病", "机构级别": "基层",
               "病种": "高血压", "就医地": "市内", "已备案慢病": True, "政策范围内费用": "1000.00"}
    by_name, errors = reader.read(chinese, "x")
    assert not errors
    assert by_code.values == by_name.values
    assert by_code.values["就诊日期"] == datetime.date(2024, 3, 1)


@pytest.mark.parametrize("text", ["2024-03-01", "2024-03-01 09:12:00", "20240301"])
def test_dates_as_settlement_systems_write_them(reader, text):
    claim, errors = read(reader, begntime=text)
    assert not errors and claim.values["就诊日期"] == datetime.date(2024, 3, 1)


@pytest.mark.parametrize("value", [datetime.date(2024, 3, 1), datetime.datetime(2024, 3, 1, 9, 12)])
def test_dates_given_as_dates_by_python_or_arrow(reader, value):
    """A date32 or timestamp column read back from Parquet gives date objects, not text: read as the day."""
    claim, errors = read(reader, begntime=value)
    assert not errors and claim.values["就诊日期"] == datetime.date(2024, 3, 1)


@pytest.mark.parametrize("code, member", [("A15.001", "肺结核"), ("A16", "肺结核"), ("I10", "高血压"),
                                          ("E11.900", "糖尿病"), ("Z99.9", "其他病种")])
def test_disease_codes_map_by_longest_prefix(reader, code, member):
    claim, errors = read(reader, dise_codg=code)
    assert not errors and claim.values["病种"] == member


def test_json_numbers_are_read_exactly():
    assert load_json('{"a": 0.1, "b": 1000.10}') == {"a": Decimal("0.1"), "b": Decimal("1000.10")}


@pytest.mark.parametrize("value, message", [
    ("12.345", "more than two decimals"),
    ("-5.00", "negative amount"),
    (Decimal("NaN"), "is not an amount"),
    ("Infinity", "is not an amount"),
    (True, "expected an amount"),
    ("一千元", "expected an amount"),
    ("1e3", "expected an amount"),
])
def test_bad_money_is_refused_with_position_and_field(reader, value, message):
    claim, errors = read(reader, inscp_scp_amt=value)
    assert claim is None
    assert [(e.position, e.field) for e in errors] == [("claims.jsonl:7", "inscp_scp_amt")]
    assert message in errors[0].message


def test_nan_in_json_text_is_refused():
    with pytest.raises(ValueError):
        load_json('{"inscp_scp_amt": NaN}')


@pytest.mark.parametrize("change, field, message", [
    ({"insutype": "999"}, "insutype", "unknown 险种 '999'"),
    ({"med_type": "门诊慢病"}, "med_type", "did you mean `门诊慢特病`?"),
    ({"已备案慢病": "maybe"}, "已备案慢病", "expected true or false"),
    ({"begntime": "2024/03/01"}, "begntime", "expected a date"),
    ({"begntime": "20241301"}, "begntime", "expected a date"),  # compact, but no 13th month
    ({"inscp_scp_amt": ...}, "政策范围内费用 / inscp_scp_amt", "missing required field"),
    ({"inscp_scp_amt2": "1"}, "inscp_scp_amt2", "unknown field"),
])
def test_bad_fields(reader, change, field, message):
    claim, errors = read(reader, **change)
    assert claim is None
    assert any(e.field == field and message in str(e) for e in errors), [str(e) for e in errors]


def test_every_error_of_a_claim_at_once(reader):
    _, errors = read(reader, insutype="999", inscp_scp_amt="-1", 已备案慢病="x")
    assert {e.field for e in errors} == {"insutype", "inscp_scp_amt", "已备案慢病"}


def test_inconsistent_total_is_refused(reader):
    _, errors = read(reader, medfee_sumamt="900.00")
    assert errors and errors[0].field == "medfee_sumamt"


def test_csv_positions_are_lines(tmp_path):
    path = tmp_path / "claims.csv"
    header = ",".join(GOOD)
    good = ",".join(str(v).lower() if isinstance(v, bool) else str(v) for v in GOOD.values())
    path.write_text(f"{header}\n{good}\n{good.replace('1000.00', '10.001')}\n", encoding="utf-8")
    records, errors = read_records(path)
    assert not errors and [p for p, _ in records] == [f"{path}:2", f"{path}:3"]


def test_a_bad_row_stops_the_batch_and_every_error_is_listed(tmp_path, capsys):
    path = tmp_path / "claims.jsonl"
    rows = [GOOD, {**GOOD, "inscp_scp_amt": "-3"}, GOOD, {**GOOD, "med_type": "99"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(SHAOXING), "--claims", str(path)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    for line in (2, 4, 5):
        assert f"{path}:{line}" in captured.err
    assert "no claim was evaluated" in captured.err and "Traceback" not in captured.err


def test_claims_of_a_person_run_in_date_order_and_carry_the_cap(tmp_path, capsys):
    path = tmp_path / "claims.json"
    late = {**GOOD, "begntime": "2024-06-01", "inscp_scp_amt": "1000.00"}
    early = {**GOOD, "begntime": "2024-01-01", "inscp_scp_amt": "1000.00"}
    other = {**GOOD, "psn_no": "p2", "begntime": "2024-03-01", "inscp_scp_amt": "1000.00"}
    path.write_text(json.dumps([late, early, other]), encoding="utf-8")
    main(["eval", str(SHAOXING), "--claims", str(path)])
    results = json.loads(capsys.readouterr().out)
    assert [r["outputs"]["统筹支付"] for r in results] == ["550.00", "650.00", "650.00"]
    assert results[0]["state"]["慢病净报销"] == {"before": "650.00", "after": "1200.00"}
    assert results[0]["setlinfo"]["psn_part_amt"] == "450.00"


def test_state_given_with_a_claim_sets_the_year_to_date(capsys):
    claim = {**GOOD, "state": {"慢病净报销": "1100.00"}}
    main(["eval", str(SHAOXING), "--claim", json.dumps(claim)])
    result = json.loads(capsys.readouterr().out)
    assert result["outputs"]["统筹支付"] == "100.00"
    assert result["setlinfo"]["hifp_pay"] == "100.00" and result["setlinfo"]["pool_prop_selfpay"] == "0.65"
