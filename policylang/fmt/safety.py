"""The formatter's proof of harmlessness: the output means what the input meant, and keeps every comment.

Both texts are parsed again; their ASTs, and their IRs where the input resolves, must be equal with
every `Span` set aside (positions are all that formatting may change). A file the resolver refuses
(an unknown name, a cycle) is still formatted: the output must be refused with the same codes.
"""
from __future__ import annotations

import dataclasses
from collections import Counter

from policylang.diagnostics import DiagnosticError, Span
from policylang.pipeline import load_module
from policylang.syntax.parser import concrete_tree, parse_text


def same_meaning(module, comments: list[str], after: str, path: str) -> str | None:
    """None if `after` means what the parsed `module` with its `comments` (texts in order) meant; else
    what differs (for the internal error)."""
    try:
        formatted_ast = parse_text(after, path)
    except DiagnosticError as exc:
        return f"the formatted text does not parse ({exc.diagnostics[0].code} at {exc.diagnostics[0].span})"
    if shape(module) != shape(formatted_ast):
        return "the formatted text parses to a different syntax tree"
    if comments != comment_texts(after):
        return "a comment was lost, changed or moved out of order"
    original = _resolve(module)
    formatted = _resolve(formatted_ast)
    if isinstance(original, Counter) or isinstance(formatted, Counter):
        if original != formatted:
            return "the formatted text resolves differently (diagnostics differ)"
        return None
    if shape(original) != shape(formatted):
        return "the formatted text resolves to a different IR"
    return None


def comment_texts(text: str) -> list[str]:
    return [c.text.rstrip() for c in concrete_tree(text)[1]]


def _resolve(module):
    """The IR, or the codes of the diagnostics that refuse the file."""
    try:
        return load_module(module)
    except DiagnosticError as exc:
        return Counter(d.code for d in exc.diagnostics)


def shape(value):
    """`value` with every Span replaced by None, as nested tuples, for comparison."""
    return _shape(value)


def _shape(value):
    if isinstance(value, Span):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple(_shape(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (list, tuple)):
        return tuple(_shape(v) for v in value)
    if isinstance(value, dict):
        return tuple((_shape(k), _shape(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return frozenset(_shape(v) for v in value)
    return value
