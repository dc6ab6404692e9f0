"""`policylang eval --claims FILE --out FILE`: the streamed path gives what `eval` without --out gives,
whatever the formats and the batch size; every row is accounted for; a bad file stops with exit 2 and
leaves nothing that looks complete."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batch_helpers import SHAOXING, json_path, policy, rows_of
from policylang.batch.api import evaluate_file
from policylang.batch.synth import synthesize
from policylang.cli import main

FORMATS = (".parquet", ".csv", ".jsonl")


@pytest.fixture(scope="module")
def claims(tmp_path_factory):
    """The same 240 synthetic 绍兴 claims in each format (synth is deterministic for a seed)."""
    folder = tmp_path_factory.mktemp("claims")
    paths = {}
    for suffix in FORMATS:
        paths[suffix] = folder / f"claims{suffix}"
        synthesize(policy(), 240, 7, paths[suffix])
    return paths


@pytest.fixture(scope="module")
def expected(claims):
    return json_path(policy(), claims[".jsonl"])


def run(args: list, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


@pytest.mark.parametrize("source", FORMATS)
@pytest.mark.parametrize("target", FORMATS)
def test_every_format_pair_gives_the_json_paths_results(source, target, claims, expected, tmp_path):
    out = tmp_path / f"results{target}"
    summary = evaluate_file(policy(), claims[source], out, batch_size=37)
    assert (summary.rows_in, summary.rows_out, summary.rows_rejected) == (240, 240, 0)
    assert rows_of(out) == expected


def test_persons_straddling_batches_match_one_whole_batch(claims, expected, tmp_path):
    """Batch sizes that cut persons anywhere (1 row, a prime, everything at once) give the same rows."""
    persons = [r["psn_no"] for r in expected]
    assert len(set(persons)) < len(persons) / 3  # persons with several claims, so cuts fall inside persons
    for size in (1, 5, 13, 10_000):
        out = tmp_path / f"r{size}.parquet"
        evaluate_file(policy(), claims[".parquet"], out, batch_size=size)
        assert rows_of(out) == expected, size
    capped = [r for r in expected if r["state.慢病净报销.after"] == "1200.00"]
    assert capped, "no person reached the 1200 元 cap: the claims do not test carrying the year across batches"


def test_claims_without_a_person_are_each_their_own_person(claims, tmp_path):
    """Every third claim without psn_no: nothing carried to or from it, wherever the batches fall."""
    lines = [json.loads(line) for line in claims[".jsonl"].read_text(encoding="utf-8").splitlines()]
    for i, record in enumerate(lines):
        if i % 3 == 0:
            del record["psn_no"]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    expected = json_path(policy(), mixed)
    for size in (4, 1000):
        evaluate_file(policy(), mixed, tmp_path / "r.csv", batch_size=size)
        assert rows_of(tmp_path / "r.csv") == expected


def test_pieces_never_cut_a_person_across_claims_without_one():
    from policylang.batch.run import pieces

    people = ["a", None, "a", "b", None, None, "b", "b", None, "c", None]
    table = pa.table({"psn_no": people})
    cuts = [[p for p in part.column("psn_no").to_pylist()] for part, _ in
            pieces(policy(), table, np.arange(1, len(people) + 1), 1)]
    assert sum(cuts, []) == people
    for part in cuts:  # each person's claims all in one piece
        for person in ("a", "b", "c"):
            assert person not in part or part.count(person) == people.count(person)
    assert len(cuts) >= 4


def test_the_scalar_engine_is_fed_person_whole_pieces(claims, expected, tmp_path, monkeypatch):
    """The scalar engine gets batches cut into small pieces (memory); a cut never splits a person."""
    from policylang.batch import run as run_module
    from policylang.batch.scalar import ScalarEngine

    seen = []
    monkeypatch.setattr(run_module, "engine_for", lambda p: ScalarEngine(p, fallback="this test's"))
    monkeypatch.setattr(run_module, "SCALAR_PIECE", 7)
    real = run_module.pieces

    def spy(*args):
        for part, rows in real(*args):
            seen.append(part.column("psn_no").to_pylist())
            yield part, rows

    monkeypatch.setattr(run_module, "pieces", spy)
    out = tmp_path / "r.csv"
    evaluate_file(policy(), claims[".parquet"], out, batch_size=100)
    assert rows_of(out) == expected
    assert len(seen) > 240 / 20
    firsts = [p[0] for p in seen[1:]]
    lasts = [p[-1] for p in seen[:-1]]
    assert all(a != b for a, b in zip(lasts, firsts))  # no person on both sides of a cut


def test_the_cli_writes_results_and_a_summary(claims, expected, tmp_path, capsys):
    out = tmp_path / "r.csv"
    code, stdout, stderr = run(["eval", str(SHAOXING), "--claims", str(claims[".csv"]), "--out", str(out),
                                "--batch-size", "50"], capsys)
    assert code == 0, stderr
    assert stdout == ""
    assert "rows: 240 in = 240 out + 0 rejected" in stderr
    assert "engine: " in stderr and "hifp_pay" in stderr
    assert "\r" not in stderr  # no progress bar when stderr is not a terminal
    assert rows_of(out) == expected
    assert (tmp_path / "r.csv.rejects.csv").read_text(encoding="utf-8").splitlines() == ["row,field,reason,hint"]


@pytest.mark.parametrize("source", FORMATS)
def test_the_progress_bar_counts_rows_when_asked(source, claims, tmp_path, capsys):
    evaluate_file(policy(), claims[source], tmp_path / "r.csv", batch_size=60, progress=True)
    err = capsys.readouterr().err
    assert "rows/s" in err, err[-500:]
    # a total (so an ETA): Parquet says how many rows it holds; a text file's is estimated from the bytes read
    assert ("/240 [" in err) if source == ".parquet" else re.search(r"\d+/\d+ \[", err), err[-500:]


def test_fund_totals_are_the_sum_of_the_applicable_claims(claims, expected, tmp_path):
    from decimal import Decimal

    summary = evaluate_file(policy(), claims[".csv"], tmp_path / "r.parquet", batch_size=64)
    want = sum(Decimal(r["setl.hifp_pay"]) for r in expected if r["applicable"] == "true" and r["setl.hifp_pay"])
    assert summary.funds["hifp_pay"] == ("统筹支付", want)


def _bad_csv(good: Path, path: Path) -> dict[int, str]:
    """The good CSV with bad rows scattered through it; record number -> the field at fault (None: the row)."""
    lines = list(csv.reader(good.read_text(encoding="utf-8").splitlines()))
    header = lines[0]
    at = {name: header.index(name) for name in ("inscp_scp_amt", "dedc_hosp_lv", "begntime")}
    faults = {3: "inscp_scp_amt", 41: "dedc_hosp_lv", 42: None, 97: "begntime", 150: "inscp_scp_amt", 239: None}
    for record, fault in faults.items():
        cells = lines[record]
        if fault == "inscp_scp_amt":
            cells[at[fault]] = "12.345"
        elif fault == "dedc_hosp_lv":
            cells[at[fault]] = "四级"
        elif fault == "begntime":
            cells[at[fault]] = "2024-13-01"
        else:
            cells.append("extra")
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(lines)
    return faults


def test_rows_in_equal_rows_out_plus_rejected_with_bad_rows_in_several_batches(claims, expected, tmp_path):
    bad = tmp_path / "bad.csv"
    faults = _bad_csv(claims[".csv"], bad)
    out, rejects = tmp_path / "r.jsonl", tmp_path / "rejects.csv"
    summary = evaluate_file(policy(), bad, out, rejects, batch_size=25)
    assert summary.rows_in == 240
    assert summary.rows_rejected == len(faults)
    assert summary.rows_in == summary.rows_out + summary.rows_rejected
    refused = rows_of(rejects)
    assert {int(r["row"]) for r in refused} == set(faults)
    assert {(int(r["row"]), r["field"]) for r in refused} == set(faults.items())
    assert all(r["reason"] for r in refused)
    # the good rows are evaluated; a bad row's person keeps the other claims (its year without the bad one)
    got = rows_of(out)
    assert [int(r["row"]) for r in got] == [r for r in range(1, 241) if r not in faults]
    untouched = {r["psn_no"] for r in expected} - {expected[i - 1]["psn_no"] for i in faults}
    assert [r for r in got if r["psn_no"] in untouched] == [r for r in expected if r["psn_no"] in untouched]


def test_bad_jsonl_lines_are_rejected_with_the_edges_messages(claims, tmp_path):
    lines = claims[".jsonl"].read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[9])
    lines[2] = "{not json"
    lines[5] = "[1, 2]"
    lines[9] = json.dumps({**record, "已备案慢病": 1})  # a JSON number is not a bool (docs/claims.md)
    lines[11] = json.dumps({**record, "state": {"慢病净报销": "100.00"}})
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = evaluate_file(policy(), bad, tmp_path / "r.csv", batch_size=4)
    assert (summary.rows_in, summary.rows_rejected) == (240, 4)
    refused = {int(r["row"]): r for r in rows_of(tmp_path / "r.csv.rejects.csv")}
    assert set(refused) == {3, 6, 10, 12}
    assert refused[3]["reason"].startswith("invalid JSON")
    assert refused[6]["reason"] == "a claim must be a JSON object"
    assert refused[10]["field"] == "已备案慢病" and "true or false" in refused[10]["reason"]
    assert refused[12]["field"] == "state"


def test_a_person_split_across_the_file_is_refused(claims, tmp_path, capsys):
    lines = claims[".jsonl"].read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])["psn_no"]
    moved = lines[:1] + [l for l in lines[1:] if json.loads(l)["psn_no"] != first] + \
        [l for l in lines[1:] if json.loads(l)["psn_no"] == first]
    assert len(moved) == len(lines) and moved != lines
    split = tmp_path / "split.jsonl"
    split.write_text("\n".join(moved) + "\n", encoding="utf-8")
    again = next(i for i, l in enumerate(moved[1:], 2) if json.loads(l)["psn_no"] == first)
    for size in (10, 1000):  # across batches, and inside one batch
        out = tmp_path / "r.parquet"
        code, _, stderr = run(["eval", str(SHAOXING), "--claims", str(split), "--out", str(out),
                               "--batch-size", str(size)], capsys)
        assert code == 2, stderr
        assert f"person '{first}' are not together: row 1 and again row {again}" in stderr
        assert "ORDER BY psn_no" in stderr and "Traceback" not in stderr
        assert list(tmp_path.iterdir()) == [split]  # no results, no rejects, no temporary file


def test_a_failed_run_leaves_the_previous_results_untouched(claims, tmp_path, capsys):
    out = tmp_path / "r.csv"
    out.write_text("the previous run's results\n", encoding="utf-8")
    lines = claims[".jsonl"].read_text(encoding="utf-8").splitlines()
    lines.append(lines[0])  # the first person again at the very end: found after every other batch was written
    split = tmp_path / "split.jsonl"
    split.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, stderr = run(["eval", str(SHAOXING), "--claims", str(split), "--out", str(out), "--batch-size", "20"],
                          capsys)
    assert code == 2, stderr
    assert out.read_text(encoding="utf-8") == "the previous run's results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "split.jsonl"]


def _write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def _bad_files(claims: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    table = pq.read_table(claims)
    money = table.schema.get_field_index("inscp_scp_amt")
    truncated = tmp_path / "truncated.parquet"
    data = claims.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("psn_no,begntime,insutype,med_type,dedc_hosp_lv,dise_codg,就医地,已备案慢病,inscp_scp_amt\n"
                    "P1,2024-03-01,390,14,基层,I10,市内,是,100.00\n".encode("gbk"))
    return {
        "float money": (_write(table.set_column(money, "inscp_scp_amt", table.column(money).cast(pa.float64())),
                               tmp_path / "float.parquet"), "store money and rates as decimal"),
        "date money": (_write(table.set_column(money, "inscp_scp_amt", table.column("begntime")),
                              tmp_path / "date.parquet"), "cannot hold a money"),
        "missing column": (_write(table.drop_columns(["insutype"]), tmp_path / "missing.parquet"),
                           "missing column: `insutype` (险种) is required"),
        "truncated": (truncated, "not a readable Parquet file"),
        "not UTF-8": (gbk, "not UTF-8"),
        "not a claims format": (claims.with_suffix(".txt"), "must be a .parquet, .csv or .jsonl file"),
    }


def test_bad_files_exit_2_with_a_message_and_write_nothing(claims, tmp_path, capsys):
    for case, (path, message) in _bad_files(claims[".parquet"], tmp_path).items():
        out = tmp_path / "out" / "r.parquet"
        out.parent.mkdir(exist_ok=True)
        code, _, stderr = run(["eval", str(SHAOXING), "--claims", str(path), "--out", str(out)], capsys)
        assert code == 2, (case, stderr)
        assert message in stderr, (case, stderr)
        assert "Traceback" not in stderr and "internal error" not in stderr, (case, stderr)
        assert list(out.parent.iterdir()) == [], case


def test_out_never_overwrites_the_claims(claims, tmp_path, capsys):
    copy = tmp_path / "claims.jsonl"
    copy.write_bytes(claims[".jsonl"].read_bytes())
    for extra in (["--out", str(copy)], ["--out", str(tmp_path / "r.csv"), "--rejects", str(copy)],
                  ["--out", str(tmp_path / "r.csv"), "--rejects", str(tmp_path / "r.csv")]):
        code, _, stderr = run(["eval", str(SHAOXING), "--claims", str(copy), *extra], capsys)
        assert code == 2 and "file itself" in stderr, (extra, stderr)
        assert copy.read_bytes() == claims[".jsonl"].read_bytes()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.jsonl"]


def test_streamed_options_need_out(claims, capsys):
    for extra in (["--rejects", "x.csv"], ["--quiet"], ["--batch-size", "5"]):
        code, _, stderr = run(["eval", str(SHAOXING), "--claims", str(claims[".jsonl"]), *extra], capsys)
        assert code == 2 and "needs --out FILE" in stderr, (extra, stderr)
    code, _, stderr = run(["eval", str(SHAOXING), "--claims", str(claims[".jsonl"]), "--out", "r.csv",
                           "--explain"], capsys)
    assert code == 2 and "--explain" in stderr
