"""Every .pol in the repository is committed formatted: `policylang fmt` leaves each one as it is
(so formatting twice gives the same bytes on each). tests/diagnostics/ is exempt: those files are
wrong on purpose and their golden .expected files pin line and column numbers. Run
`policylang fmt PATHS` after editing a policy; CI runs `policylang fmt --check policies/ guidelines/`."""
from __future__ import annotations

from pathlib import Path

import pytest

from policylang.fmt import format_source

ROOT = Path(__file__).resolve().parent.parent
EXEMPT = {"diagnostics", "node_modules", ".git"}
POLICIES = sorted(p for p in ROOT.rglob("*.pol") if not EXEMPT & set(p.relative_to(ROOT).parts))


def test_the_corpus_is_found():
    names = {str(p.relative_to(ROOT)) for p in POLICIES}
    assert {"policies/shaoxing-2024.pol", "guidelines/national-2023.pol", "policylang/semantics/prelude.pol",
            "tests/composition/base.pol"} <= names


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_formats_to_itself(path):
    text = path.read_text(encoding="utf-8")
    assert format_source(text, str(path)) == text, f"run: policylang fmt {path.relative_to(ROOT)}"
