"""The front end in one call: read a .pol file, parse, resolve, type-check → IR."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from policylang import ir
from policylang.diagnostics import PRELUDE_NAME, PRELUDE_PATH
from policylang.semantics.resolve import resolve
from policylang.syntax import ast
from policylang.syntax.parser import parse_file, parse_text

@lru_cache(maxsize=1)
def prelude() -> ast.Module:
    return parse_text(PRELUDE_PATH.read_text(encoding="utf-8"), PRELUDE_NAME)


def load_policy(path: str | Path) -> ir.Policy:
    """Raise DiagnosticError with every problem of the file, or return its IR."""
    return resolve(parse_file(path), prelude())


def load_text(text: str, file: str = "<string>") -> ir.Policy:
    return resolve(parse_text(text, file), prelude())


def policy_files(paths) -> list[Path]:
    """Expand directories into the .pol files below them, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.rglob("*.pol")) if p.is_dir() else [p])
    return files
