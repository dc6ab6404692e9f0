"""Shared test setup: make tests/ importable (strategies.py) and the golden-file flag.

Golden files are regenerated with `pytest --update-golden` and reviewed as a git diff.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")


@pytest.fixture
def golden(request):
    """golden(path, text): compare text with the file, or rewrite it under --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(path: Path, text: str):
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"golden file {path} is missing: run pytest --update-golden and review the diff"
        assert text == path.read_text(encoding="utf-8")

    return check
