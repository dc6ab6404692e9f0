"""Positions and words as the grammar sees them.

Lines are counted at "\\n" only, as the lexer counts them (diagnostics.SourceCache does the same); a
Span's columns are code points, 1-based, end exclusive. LSP positions are 0-based and count code units
of the encoding the client and server agreed on (UTF-16 unless the client offers another), so an astral
character (𝄞) is two units. A name is the maximal run the grammar's NAME token takes
(`[^\\W\\d]\\w*`): Chinese characters are word characters, so `居民住院基层比例` is one word, and `100元`
is a number, not a name.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from policylang.diagnostics import Span

NAME = re.compile(r"[^\W\d]\w*")
WORD_CHAR = re.compile(r"\w")
# What the lexer skips or takes whole, so that names inside strings, comments and literals are not names.
_TOKEN = re.compile(r'(?P<comment>#[^\n]*)|(?P<string>"(?:\\.|[^"\\\n])*")'
                    r"|(?P<date>\d{4}-\d{2}-\d{2})|(?P<number>\d+(?:\.\d+)?(?:元|%|pp)?)"
                    r"|(?P<name>[^\W\d]\w*)|(?P<arrow>->)|(?P<op>==|!=|<=|>=|\+=|-=|\*=|\.\.)|(?P<punct>[^\s\w])")


def units(ch: str, encoding: str = "utf-16") -> int:
    """Code units of one character in the negotiated position encoding."""
    if encoding == "utf-8":
        return len(ch.encode("utf-8"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(ch) > 0xFFFF else 1


@dataclass(frozen=True)
class Token:
    kind: str  # name | string | comment | number | date | arrow | op | punct
    text: str
    line: int  # 1-based
    col: int  # 1-based, code points
    offset: int

    @property
    def end_col(self) -> int:
        return self.col + len(self.text)

    def span(self, file: str) -> Span:
        return Span(file, self.line, self.col, self.line, self.end_col)


class Text:
    """One file's text with line starts, for converting between offsets, Spans and LSP positions."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        self.text = text
        self.encoding = encoding
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self._tokens: list[Token] | None = None
        self._offsets: list[int] | None = None

    # ---- LSP positions <-> (line, col) in code points, both 1-based ----
    def to_lsp(self, line: int, col: int) -> tuple[int, int]:
        """(line, col) 1-based code points → (line, character) 0-based in client units; clamped to the text."""
        if line < 1:
            return 0, 0
        if line > len(self.lines):
            return len(self.lines) - 1, self._width(self.lines[-1])
        text = self.lines[line - 1].rstrip("\r")
        return line - 1, self._width(text[: max(col - 1, 0)])

    def from_lsp(self, line: int, character: int) -> tuple[int, int]:
        """(line, character) 0-based client units → (line, col) 1-based code points."""
        if line >= len(self.lines):
            return len(self.lines), len(self.lines[-1].rstrip("\r")) + 1
        text = self.lines[line].rstrip("\r")
        seen = 0
        for index, ch in enumerate(text):
            if seen >= character:
                return line + 1, index + 1
            seen += units(ch, self.encoding)
        return line + 1, len(text) + 1

    def _width(self, text: str) -> int:
        return sum(units(ch, self.encoding) for ch in text)

    def line_text(self, line: int) -> str:
        return self.lines[line - 1].rstrip("\r") if 0 < line <= len(self.lines) else ""

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col - 1

    # ---- names ----
    def word_at(self, line: int, col: int) -> tuple[str, int, int] | None:
        """The name under (line, col) or just before it (the cursor at a name's end): (name, start col,
        end col), or None when the word there is not a name (a number, a keyword is still returned)."""
        text = self.line_text(line)
        index = col - 1
        if not (0 <= index < len(text) and WORD_CHAR.match(text[index])):
            index -= 1  # the cursor just after a word
        if not (0 <= index < len(text) and WORD_CHAR.match(text[index])):
            return None
        start = end = index
        while start > 0 and WORD_CHAR.match(text[start - 1]):
            start -= 1
        while end < len(text) and WORD_CHAR.match(text[end]):
            end += 1
        word = text[start:end]
        if not NAME.fullmatch(word):
            return None
        return word, start + 1, end + 1

    def prefix_at(self, line: int, col: int) -> tuple[str, int]:
        """The part of a name written before the cursor (for completion): (text, start col)."""
        text = self.line_text(line)[: col - 1]
        start = len(text)
        while start > 0 and WORD_CHAR.match(text[start - 1]):
            start -= 1
        word = text[start:]
        if word and not NAME.match(word):
            return "", col
        return word, start + 1

    def tokens(self) -> list[Token]:
        if self._tokens is None:
            out = []
            for m in _TOKEN.finditer(self.text):
                line = bisect.bisect_right(self.starts, m.start())
                out.append(Token(m.lastgroup, m.group(), line, m.start() - self.starts[line - 1] + 1, m.start()))
            self._tokens = out
        return self._tokens

    def token_index_at(self, line: int, col: int) -> int:
        """The index of the first token at or after (line, col)."""
        offset = self.offset(line, col) if 0 < line <= len(self.lines) else len(self.text)
        if self._offsets is None:
            self._offsets = [t.offset for t in self.tokens()]
        return bisect.bisect_left(self._offsets, offset)
