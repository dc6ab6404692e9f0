"""One open document, through the same front end as every command: its diagnostics, its AST and the
ASTs of the files its `extends` / `conforms to` chain reads (from disk), its IR when it loads, and the
index of its names.

A document with errors keeps the last analysis that loaded (`Workspace.last_good`), so hover,
completion and symbols keep working while the author types through a broken line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from policylang import ir
from policylang.diagnostics import PRELUDE_NAME, PRELUDE_PATH, DiagnosticError
from policylang.lsp.index import Index, build
from policylang.lsp.text import Text
from policylang.pipeline import load_module, prelude
from policylang.semantics.compose import default_root
from policylang.syntax import ast
from policylang.syntax.parser import parse_file, parse_text


@dataclass
class Analysis:
    path: str  # the file name the Spans of this document carry
    text: Text
    diagnostics: list = field(default_factory=list)  # Diagnostic, errors and warnings, any file of the chain
    module: ast.Module | None = None  # None: a syntax error
    policy: ir.Policy | None = None  # None: the document does not load (or is a guideline)
    texts: dict = field(default_factory=dict)  # file name -> Text, every file of the chain and the prelude
    index: Index | None = None

    @property
    def loads(self) -> bool:
        return self.policy is not None


def analyse(source: str, path: str, encoding: str = "utf-16") -> Analysis:
    text = Text(source, encoding)
    result = Analysis(path, text)
    if source.startswith("\ufeff"):  # a BOM the editor kept: the CLI reads the file without it; keep columns
        source = " " + source[1:]
    try:
        result.module = parse_text(source, path)
    except DiagnosticError as exc:
        result.diagnostics = list(exc.diagnostics)
        return result
    files = [(PRELUDE_NAME, _prelude_text(encoding), prelude())]
    root = os.path.realpath(default_root(path))
    files.extend(_chain(result.module, encoding, root))
    files.append((path, text, result.module))
    files = list({file: (file, t, m) for file, t, m in reversed(files)}.values())[::-1]  # each file once
    result.texts = {file: t for file, t, _ in files}
    if not _is_guideline(result.module):
        try:
            result.policy = load_module(result.module)
            result.diagnostics = list(result.policy.warnings)
        except DiagnosticError as exc:
            result.diagnostics = list(exc.diagnostics)
    result.index = build(files, result.policy)
    return result


def key_at(current: Analysis, good: Analysis | None, line: int, col: int):
    """(key, index, start col, end col) of the name at (line, col), or None. By position in the current
    index; when the text does not parse, by the name under the cursor in the last good index (whose
    positions are those of the older text)."""
    if current.index is not None:
        occurrence = current.index.at(current.path, line, col)
        if occurrence is None:
            return None
        return occurrence.key, current.index, occurrence.col, occurrence.end_col
    if good is None or good.index is None:
        return None
    word = current.text.word_at(line, col)
    key = good.index.by_name(word[0]) if word else None
    return (key, good.index, word[1], word[2]) if key else None


def file_at(current: Analysis, line: int, col: int) -> str | None:
    """The file an `extends` or `conforms to` string under the cursor names, if the chain read it."""
    header = next((d for d in current.module.decls if isinstance(d, ast.PolicyHeader)), None) \
        if current.module else None
    if header is None:
        return None
    for path, span in ([header.extends] if header.extends else []) + list(header.conforms):
        if span.line == line and span.col <= col <= span.end_col:
            file = os.path.normpath(Path(current.path).parent / path)
            return file if file in current.texts else None
    return None


def _is_guideline(module: ast.Module) -> bool:
    return any(isinstance(d, ast.PolicyHeader) and d.kind == "guideline" for d in module.decls)


def _chain(module: ast.Module, encoding: str, root: str, seen: frozenset = frozenset()) -> list:
    """(file, Text, module) of every file `extends` and `conforms to` reach, bases before the files
    that extend them. As in compose, only .pol files inside the root are opened; files that cannot be
    read or parsed are left out (the front end reports them)."""
    header = next((d for d in module.decls if isinstance(d, ast.PolicyHeader)), None)
    if header is None:
        return []
    written = ([header.extends[0]] if header.extends else []) + [path for path, _ in header.conforms]
    out = []
    for path in written:
        file = os.path.normpath(Path(module.file).parent / path)
        if file in seen or file == module.file or not _inside(file, root):
            continue
        try:
            base, text = _parsed(file, encoding)
        except (DiagnosticError, OSError, UnicodeDecodeError):
            continue
        out.extend(_chain(base, encoding, root, seen | {file, module.file}))
        out.append((file, text, base))
    return out


def _inside(file: str, root: str) -> bool:
    try:
        real = os.path.realpath(file)
        return os.path.commonpath([root, real]) == root and real.endswith(".pol") and os.path.isfile(real)
    except (OSError, ValueError):
        return False


_PARSED: dict = {}  # (file, encoding) -> ((mtime, size), module, Text): parsed and tokenized again only when it changes


def _parsed(file: str, encoding: str) -> tuple[ast.Module, Text]:
    stat = os.stat(file)
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _PARSED.get((file, encoding))
    if cached is None or cached[0] != stamp:
        source = Path(file).read_text(encoding="utf-8-sig")
        cached = _PARSED[file, encoding] = (stamp, parse_file(file), Text(source, encoding))
    return cached[1], cached[2]


@lru_cache(maxsize=3)
def _prelude_text(encoding: str) -> Text:
    return Text(PRELUDE_PATH.read_text(encoding="utf-8"), encoding)
