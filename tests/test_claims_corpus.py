"""The claim edge on a corpus of bad (and tricky but valid) claim files, as `eval` shows it to a user.

Each file in tests/claims-corpus/ is evaluated with `policylang eval POLICY --claims FILE --format jsonl`
(POLICY is 绍兴 unless `NAME.policy` names another); what the user sees (exit code, stdout, stderr) is kept
next to it as `NAME.expected`, regenerated with `pytest --update-golden` and reviewed as a diff. Every bad
file must exit 2 with a message naming the position and the field; none may crash or be evaluated.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from policylang.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "claims-corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".json", ".jsonl", ".csv"))
VALID = {"line-separator-in-a-string.jsonl", "lower-case-icd-code.jsonl"}  # read right, evaluated


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_edge_says_what_is_wrong_and_where(path, capsys, golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    sidecar = path.with_suffix(".policy")
    policy = sidecar.read_text().strip() if sidecar.exists() else "policies/shaoxing-2024.pol"
    args = ["eval", policy, "--claims", str(path.relative_to(ROOT)), "--format", "jsonl"]
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    text = f"$ policylang {' '.join(args)}\n--- exit {code}\n--- stdout\n{out.out}--- stderr\n{out.err}"
    golden(path.with_name(path.name + ".expected"), text.replace(str(ROOT) + os.sep, ""))
    assert "Traceback" not in text and "internal error" not in text
    if path.name in VALID:
        assert code == 0
    else:
        assert code == 2 and "no claim was evaluated" in out.err and not out.out
        assert all(line.startswith(f"error: {path.relative_to(ROOT)}") for line in out.err.splitlines()[:-2])
