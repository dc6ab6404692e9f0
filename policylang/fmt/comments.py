"""Where each comment goes, and where the author left blank lines.

The grammar ignores comments, so the lexer hands them over apart, with their positions. A comment on
the same line as a token ends that token's line (a trailing comment); any other comment sits on its own
line before the next token (a leading comment), or at the end of the file. Each is handed out once
(`take_*`), so the formatter can prove at the end that it printed every one.
"""
from __future__ import annotations

from policylang.syntax.parser import Branch, Leaf


def leaves(node) -> list[Leaf]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Leaf):
            out.append(n)
        else:
            stack.extend(reversed(n.children))
    return out


class Notes:
    """Comments attached to tokens, and the blank lines before tokens and comments."""

    def __init__(self, root: Branch, comments: list[Leaf], text: str):
        self.lines = text.split("\n")
        self.leading: dict[int, list] = {}  # id(leaf) -> [(comment text, blank line before it)]
        self.trailing: dict[int, str] = {}
        self.blank: set[int] = set()  # id(leaf) with a blank line just before it (after any comment)
        self.end: list = []  # comments after the last token
        self.total = len(comments)
        self.given = 0
        tokens = leaves(root)
        self._attach(tokens, sorted(comments, key=lambda c: (c.line, c.col)))

    def _attach(self, tokens, comments) -> None:
        i = 0
        last_line = 0  # the line the previous token or comment ends on
        prev: Leaf | None = None
        pending: list = []
        for tok in tokens:
            while i < len(comments) and (comments[i].line, comments[i].col) < (tok.line, tok.col):
                c = comments[i]
                if prev is not None and prev.end_line == c.line and not pending:
                    self.trailing[id(prev)] = _text(c)
                else:
                    pending.append((_text(c), self._blank_between(last_line, c.line)))
                last_line = c.end_line
                i += 1
            if pending:
                self.leading[id(tok)] = pending
                pending = []
            if self._blank_between(last_line, tok.line):
                self.blank.add(id(tok))
            last_line, prev = tok.end_line, tok
        for c in comments[i:]:
            if prev is not None and prev.end_line == c.line and not self.end:
                self.trailing[id(prev)] = _text(c)
            else:
                self.end.append((_text(c), self._blank_between(last_line, c.line)))
            last_line = c.end_line

    def _blank_between(self, after_line: int, before_line: int) -> bool:
        """Whether a line strictly between the two (1-based) is empty; as the parser sees a quote's blank
        lines (`str.strip`, so a full-width space counts as blank)."""
        return any(not self.lines[k].strip() for k in range(after_line, before_line - 1))

    def take_leading(self, leaf: Leaf) -> list:
        found = self.leading.pop(id(leaf), [])
        self.given += len(found)
        return found

    def take_trailing(self, leaf: Leaf) -> str | None:
        found = self.trailing.pop(id(leaf), None)
        self.given += found is not None
        return found

    def take_end(self) -> list:
        found, self.end = self.end, []
        self.given += len(found)
        return found

    def has_any(self, leaf: Leaf) -> bool:
        return id(leaf) in self.leading or id(leaf) in self.trailing

    def blank_before(self, leaf: Leaf) -> bool:
        return id(leaf) in self.blank

    def starts_blank(self, leaf: Leaf) -> bool:
        """A blank line before the leaf's first comment, or before the leaf if it has none."""
        found = self.leading.get(id(leaf))
        return found[0][1] if found else self.blank_before(leaf)


def _text(comment: Leaf) -> str:
    return comment.text.rstrip()
