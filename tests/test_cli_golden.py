"""Golden files for what users see from the CLI: test reports, coverage, results, explain, errors."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from policylang.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "cli"
CLAIM = ('{"psn_no":"p1","begntime":"2024-03-01","insutype":"390","med_type":"14","dedc_hosp_lv":"基层",'
         '"dise_codg":"A15.0","就医地":"市内","已备案慢病":true,"inscp_scp_amt":"1000.00"}')
BAD_CLAIM = ('{"psn_no":"p1","begntime":"2024-13-01","insutype":"399","med_type":"14","dedc_hosp_lv":"基层",'
             '"dise_codg":"A15.0","就医地":"市内","inscp_scp_amt":"-1000.001"}')

CASES = {
    "test-policies": (["test", "policies/"], 0),
    "test-coverage": (["test", "policies/shaoxing-2024.pol", "--coverage"], 0),
    "eval-claims": (["eval", "policies/shaoxing-2024.pol", "--claims", "examples/shaoxing-claims.jsonl"], 0),
    "eval-explain": (["eval", "policies/shaoxing-2024.pol", "--explain", "--claim", CLAIM], 0),
    "eval-bad-claim": (["eval", "policies/shaoxing-2024.pol", "--claim", BAD_CLAIM], 2),
    "eval-usage": (["eval", "policies/shaoxing-2024.pol"], 2),
    "eval-missing-policy": (["eval", "policies/nope.pol", "--claim", CLAIM], 2),
    "check-clean": (["check", "policies/"], 0),
    "check-findings": (["check", "tests/cli/cap-bypassed.pol"], 1),
    "check-json": (["check", "--format", "json", "tests/cli/cap-bypassed.pol"], 1),
    "check-sarif": (["check", "--format", "sarif", "tests/cli/cap-bypassed.pol"], 1),
    "check-bad-policy": (["check", "tests/diagnostics/rate-plus-rate.pol"], 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_output(case, capsys, golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    args, code = CASES[case]
    try:
        main(args)
        exit_code = 0
    except SystemExit as exc:
        exit_code = exc.code or 0
    out = capsys.readouterr()
    text = f"$ policylang {' '.join(args)}\n--- exit {exit_code}\n--- stdout\n{out.out}--- stderr\n{out.err}"
    text = text.replace(str(ROOT) + os.sep, "")
    text = re.sub(r"\(\d+\.\d+ s\)", "(… s)", text)  # wall-clock times vary; everything else must not
    text = re.sub(r'"seconds": [0-9.e-]+', '"seconds": …', text)
    assert "Traceback" not in text
    assert exit_code == code
    golden(GOLDEN / f"{case}.txt", text)


def test_compile_prints_the_source_that_runs(capsys, monkeypatch):
    from policylang.backends.python import generate_source
    from policylang.pipeline import load_policy

    monkeypatch.chdir(ROOT)
    main(["compile", "policies/shaoxing-2024.pol"])
    source = capsys.readouterr().out
    assert source == generate_source(load_policy("policies/shaoxing-2024.pol"))
    compile(source, "<compiled>", "exec")
