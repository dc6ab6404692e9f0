"""`policylang fmt`: one canonical layout for .pol files, comments kept, meaning proved unchanged.

`format_source` is the whole formatter (the language server's formatting request calls it too):
parse, lay out (layout.py) with the comments the lexer set aside (comments.py), then check the result
means the same (safety.py) before anyone writes it.
"""
from __future__ import annotations

from policylang.diagnostics import DiagnosticError, SourceCache, render_all
from policylang.fmt.comments import Notes
from policylang.fmt.layout import Layout
from policylang.fmt.safety import same_meaning
from policylang.syntax.parser import concrete_tree, parse_text


class FormatError(Exception):
    """The text cannot be formatted: it does not parse (`internal` False: the author's to fix), or the
    formatter would have changed its meaning or lost a comment (`internal` True: a bug in policylang)."""

    def __init__(self, message: str, internal: bool = False):
        super().__init__(message)
        self.internal = internal


def format_source(text: str, path: str = "<string>") -> str:
    """`text` in the canonical layout. Raises FormatError if it does not parse or if the check that the
    output has the same syntax tree, IR and comments fails."""
    text = text.removeprefix("\ufeff")
    try:
        module = parse_text(text, path)
    except DiagnosticError as exc:
        raise FormatError(render_all(exc.diagnostics, SourceCache({path: text}))) from None
    root, comments = concrete_tree(text)
    notes = Notes(root, comments, text)
    out = Layout(notes).file(root)
    if notes.given != notes.total:
        raise FormatError(f"{path}: the formatter placed {notes.given} of {notes.total} comments", internal=True)
    if out == text:  # nothing moved: nothing to prove
        return out
    problem = same_meaning(module, [c.text.rstrip() for c in comments], out, path)
    if problem is not None:
        raise FormatError(f"{path}: {problem}; the file is left as it was", internal=True)
    return out


__all__ = ["FormatError", "format_source"]
