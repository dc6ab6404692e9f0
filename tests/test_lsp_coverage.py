"""`policylang test --coverage --format lcov|cobertura`: the items no example exercises, at their .pol lines.

The fixture tests/lsp/gaps.pol.txt (copied as a .pol into a temporary folder) leaves a version, two table
rows, a band and one outcome of a condition unexercised; the real policies leave nothing.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pycobertura import Cobertura

from policylang.cli import cli

ROOT = Path(__file__).resolve().parents[1]
MISSED = {7: "rule 起付标准", 11: "二级 -> 60%", 12: "default -> 50%", 17: "1000元 .. -> 90%"}


@pytest.fixture
def gaps(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "tests" / "lsp" / "gaps.pol.txt", tmp_path / "gaps.pol")
    return tmp_path / "gaps.pol"


def run(*args) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["test", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def records(lcov: str) -> dict[str, list[str]]:
    out, current = {}, None
    for line in lcov.splitlines():
        if line.startswith("SF:"):
            current = out.setdefault(line[3:], [])
        elif line != "end_of_record" and not line.startswith("TN:"):
            current.append(line)
    return out


def test_lcov_marks_each_unexercised_item_at_its_line(gaps: Path):
    code, stdout, stderr = run("--coverage", "--format", "lcov", "gaps.pol")
    assert code == 0 and "1 passed, 0 failed" in stderr  # the report alone on stdout
    [(source, lines)] = records(stdout).items()
    assert source == "gaps.pol"
    hits = {int(n): int(h) for n, h in (line[3:].split(",") for line in lines if line.startswith("DA:"))}
    text = gaps.read_text(encoding="utf-8").split("\n")
    assert {n for n, h in hits.items() if h == 0} == set(MISSED)
    for number, start in MISSED.items():
        assert text[number - 1].strip().startswith(start)
    assert text[6 - 1].startswith("rule 起付标准") and hits[6] == 1  # the 2024 version ran
    assert "BRDA:21,0,0,0" in lines and "BRDA:21,0,1,1" in lines  # `险种 == 城乡居民` never true, false once
    assert text[21 - 1].strip().startswith("if 险种 == 城乡居民")
    assert f"LF:{len(hits)}" in lines and f"LH:{sum(1 for h in hits.values() if h)}" in lines


def test_lcov_lines_of_the_real_policies_are_their_declarations(tmp_path):
    out = tmp_path / "policies.lcov"
    code, stdout, _ = run("--coverage", "--format", "lcov", "-o", str(out), str(ROOT / "policies"))
    assert code == 0 and "passed" in stdout
    found = records(out.read_text(encoding="utf-8"))
    assert {Path(f).name for f in found} >= {p.name for p in (ROOT / "policies").glob("*.pol")}
    baseline = next(lines for source, lines in found.items() if source.endswith("zhoushan-2023-baseline.pol"))
    assert any(line.startswith("DA:") and line.endswith(",2") for line in baseline)  # itself and the reform
    for source, lines in found.items():
        text = Path(source).read_text(encoding="utf-8").split("\n")
        for line in lines:
            if line.startswith(("DA:", "BRDA:")):
                number = int(line.split(":")[1].split(",")[0])
                shown = text[number - 1].strip()
                assert shown and not shown.startswith("#"), f"{source}:{number} is not a declaration line"


def test_cobertura_validates_and_names_the_missed_lines(gaps: Path):
    code, _, _ = run("--coverage", "--format", "cobertura", "-o", "coverage.xml", "gaps.pol")
    assert code == 0
    report = Cobertura(str(gaps.parent / "coverage.xml"))
    assert report.files() == ["gaps.pol"]
    statuses = dict(report.line_statuses("gaps.pol"))
    assert {n for n, status in statuses.items() if status == "miss"} == set(MISSED)
    assert statuses[21] == "partial"  # `险种 == 城乡居民`: false, never true
    assert report.missed_statements("gaps.pol") == sorted([*MISSED, 21])
    assert report.total_statements() == 9 and report.total_misses() == 5  # pycobertura counts a partial line as missed
    assert report.line_rate() == pytest.approx(5 / 9, abs=1e-4)
    assert report.branch_rate() == pytest.approx(0.5)


def test_format_needs_coverage(gaps: Path):
    code, _, stderr = run("--format", "lcov", "gaps.pol")
    assert code == 2 and "add --coverage" in stderr
