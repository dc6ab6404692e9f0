"""Golden tests for the error messages: the product's wording, pinned.

Every `tests/diagnostics/<mistake>.pol` is a small policy with one mistake an author really makes
(or, for `two-errors-at-once.pol`, several); `<mistake>.expected` is exactly what
`policylang test tests/diagnostics/<mistake>.pol` prints on stderr. Regenerate with
`pytest tests/test_diagnostics_golden.py --update-golden` and review the diff as a user would.
"""
from __future__ import annotations

import string
from pathlib import Path

import pytest

from policylang.cli import main
from policylang.diagnostics import MESSAGES

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "diagnostics"
CASES = sorted(CASES_DIR.glob("*.pol"))


def run_test_command(path: str, capsys, monkeypatch) -> tuple[int, str, str]:
    """`policylang test PATH` in-process, from the repository root so paths print relative."""
    monkeypatch.chdir(ROOT)
    try:
        main(["test", path])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_diagnostics_golden(case: Path, capsys, monkeypatch, golden):
    code, out, err = run_test_command(case.relative_to(ROOT).as_posix(), capsys, monkeypatch)
    assert "Traceback" not in out + err
    assert "internal error" not in err, err
    assert code == 2, f"expected exit 2 (bad input), got {code}\n{err}"
    assert err.startswith("error["), err
    golden(case.with_suffix(".expected"), err)


def test_there_are_enough_cases():
    assert len(CASES) >= 28


def test_every_golden_has_its_policy():
    """A golden left behind by a renamed or deleted case would never be checked again."""
    orphans = [p.name for p in CASES_DIR.glob("*.expected") if not p.with_suffix(".pol").exists()]
    assert not orphans


def test_several_errors_are_reported_together():
    text = (CASES_DIR / "two-errors-at-once.expected").read_text(encoding="utf-8")
    assert text.count("error[") >= 3
    assert text.rstrip().endswith(f"{text.count('error[')} errors found")


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_template_formats(code):
    """A stray `{` or `}` in a template is an internal error exactly when the user needs help."""
    for template in MESSAGES[code]:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        template.format(**{name: "x" for name in fields})
