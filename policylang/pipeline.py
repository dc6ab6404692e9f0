"""The front end in one call: read a .pol file, parse, resolve, type-check → IR."""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

from policylang import ir
from policylang.diagnostics import PRELUDE_NAME, PRELUDE_PATH, Diagnostic, DiagnosticError
from policylang.semantics.compose import compose
from policylang.semantics.resolve import resolve
from policylang.syntax import ast
from policylang.syntax.parser import parse_file, parse_text

@lru_cache(maxsize=1)
def prelude() -> ast.Module:
    return parse_text(PRELUDE_PATH.read_text(encoding="utf-8"), PRELUDE_NAME)


def load_policy(path: str | Path, assume: dict | None = None, root: str | Path | None = None) -> ir.Policy:
    """Raise DiagnosticError with every problem of the file, or return its IR.

    `assume` overrides named assumptions by name (values as text, e.g. {"基础比例": "55%"}), each in
    the file of the `extends` chain that declares it; an override a later file makes ineffective is
    reported in `Policy.warnings` (W0424), not silently dropped. `extends` and `conforms to` reach only
    .pol files inside `root` (default: the policy's repository, see compose.default_root).
    """
    return _front_end(parse_file(path), assume, root)


def load_text(text: str, file: str = "<string>", assume: dict | None = None,
              root: str | Path | None = None) -> ir.Policy:
    return _front_end(parse_text(text, file), assume, root)


def load_module(module: ast.Module, assume: dict | None = None, root: str | Path | None = None) -> ir.Policy:
    """load_text for a module already parsed (the language server parses once for its outline and index)."""
    return _front_end(module, assume, root)


def _front_end(module, assume, root=None) -> ir.Policy:
    header = next((d for d in module.decls if isinstance(d, ast.PolicyHeader)), None)
    if header is not None and header.kind == "guideline":
        raise DiagnosticError([Diagnostic("E0415", header.span, {"path": module.file})])
    composed = compose(module, parse_file, assume=assume or {}, vocabulary=prelude().decls, root=root)
    policy = resolve(composed.module, prelude())
    return dataclasses.replace(policy, extends=composed.extends, amendments=composed.amendments,
                               warnings=composed.warnings)


def policy_files(paths) -> list[Path]:
    """Expand directories into the .pol files below them, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.rglob("*.pol")) if p.is_dir() else [p])
    return files


def load_module(module: ast.Module, assume: dict | None = None, root: str | Path | None = None) -> ir.Policy:
    """The IR of a module already parsed (the formatter resolves the very trees it compared)."""
    return _front_end(module, assume, root)
