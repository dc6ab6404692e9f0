"""A small layout algebra (Wadler's "prettier printer", as prettier uses it) measured in display columns.

The layout code says where a line *may* break (`LINE`), must break (`HARD`), and which breaks go
together (`Group`: all flat if the group fits the width, else all broken). Widths count East Asian
wide characters as two columns, so tables and wrapping line up in an editor showing Chinese.
Comments get two primitives: `Suffix` (a comment that ends a line: printed before the next line
break, and the next space or optional break becomes a line break) and `Leading` (a comment on its own
line before what follows).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from policylang.diagnostics import display_width

WIDTH = 100


class Doc:
    hard = False  # whether it always breaks the groups around it


@dataclass(frozen=True)
class Text(Doc):
    text: str


@dataclass(frozen=True)
class Line(Doc):
    """A space (or nothing, if soft) when its group is flat, else a line break at the current indent."""
    soft: bool = False
    forced: bool = False

    @property
    def hard(self):
        return self.forced


@dataclass(frozen=True)
class Space(Doc):
    """A space that is never a line break, unless a comment ends the line here."""


@dataclass(frozen=True)
class Suffix(Doc):
    comment: str


@dataclass(frozen=True)
class Leading(Doc):
    comment: str
    hard = True


@dataclass
class Concat(Doc):
    parts: list
    hard: bool = field(init=False)

    def __post_init__(self):
        self.hard = any(p.hard for p in self.parts)


@dataclass
class Group(Doc):
    contents: Doc
    hard: bool = field(init=False)

    def __post_init__(self):
        self.hard = self.contents.hard


@dataclass
class Nest(Doc):
    indent: int
    contents: Doc
    hard: bool = field(init=False)

    def __post_init__(self):
        self.hard = self.contents.hard


@dataclass
class Fill(Doc):
    """Items separated by `Line`s, each break taken only where the next item would not fit."""
    items: list
    hard: bool = field(init=False)

    def __post_init__(self):
        self.hard = any(p.hard for p in self.items)


LINE, SOFT, HARD, SPACE = Line(), Line(soft=True), Line(forced=True), Space()


def concat(*parts) -> Concat:
    return Concat([p if isinstance(p, Doc) else Text(p) for p in parts if p is not None])


FLAT, BREAK = 0, 1


def render(doc: Doc, width: int = WIDTH) -> str:
    """The text of `doc`; trailing spaces are removed from every line."""
    return _Printer(width).run(doc)


class _Printer:
    def __init__(self, width: int):
        self.width = width
        self.out: list[str] = []
        self.col = 0
        self.content = False  # whether the current line has more than its indentation
        self.pending: str | None = None  # a comment waiting for the end of the line

    def run(self, doc: Doc) -> str:
        stack = [(0, BREAK, doc)]
        while stack:
            indent, mode, d = stack.pop()
            if isinstance(d, Text):
                self.write(d.text)
            elif isinstance(d, Concat):
                stack.extend((indent, mode, p) for p in reversed(d.parts))
            elif isinstance(d, Nest):
                stack.append((indent + d.indent, mode, d.contents))
            elif isinstance(d, Group):
                flat = not d.hard and (mode == FLAT or self.fits([(indent, FLAT, d.contents)], stack))
                stack.append((indent, FLAT if flat else BREAK, d.contents))
            elif isinstance(d, Fill):
                self.fill(indent, mode, d, stack)
            elif isinstance(d, _FillBreak):
                if self.pending is not None or d.width is None or self.col + 1 + d.width > self.width:
                    self.newline(indent)
                else:
                    self.write(" ")
            elif isinstance(d, Line):
                if mode == BREAK or d.forced or self.pending is not None:
                    self.newline(indent)
                elif not d.soft:
                    self.write(" ")
            elif isinstance(d, Space):
                if self.pending is not None:
                    self.newline(indent)
                else:
                    self.write(" ")
            elif isinstance(d, Suffix):
                if self.pending is not None:  # two comments never share a line (they would become one)
                    self.newline(indent)
                self.pending = d.comment
            elif isinstance(d, Leading):
                if self.content or self.pending is not None:
                    self.newline(indent)
                self.write(d.comment)
                self.newline(indent)
            else:  # pragma: no cover - every Doc kind is handled above
                raise TypeError(d)
        if self.pending is not None:
            self.out.append("  " + self.pending)
            self.pending = None
        return "\n".join(line.rstrip() for line in "".join(self.out).split("\n"))

    def write(self, text: str) -> None:
        if text:
            self.out.append(text)
            self.col += display_width(text)
            self.content = True

    def newline(self, indent: int) -> None:
        if self.pending is not None:
            self.out.append("  " + self.pending)
            self.pending = None
        self.out.append("\n" + " " * indent)
        self.col, self.content = indent, False

    def fill(self, indent, mode, d: Fill, stack) -> None:
        """Push the items back, each after a separator decided when it is reached: a space if the item
        fits on the line (and no comment ends the line), else a line break."""
        parts = []
        for i, item in enumerate(d.items):
            if i:
                parts.append(_FillBreak(_flat_width(item)))
            parts.append(item)
        stack.extend((indent, mode, p) for p in reversed(parts))

    def fits(self, first, rest) -> bool:
        """Whether `first` printed flat, and the rest of the line after it, stay within the width."""
        room = self.width - self.col
        todo = list(first)
        rest_index = len(rest)
        while room >= 0:
            if not todo:
                if rest_index == 0:
                    return True
                rest_index -= 1
                todo.append(rest[rest_index])
                continue
            indent, mode, d = todo.pop()
            if isinstance(d, Text):
                room -= display_width(d.text)
            elif isinstance(d, Concat):
                todo.extend((indent, mode, p) for p in reversed(d.parts))
            elif isinstance(d, (Nest, Group)):
                todo.append((indent, mode, d.contents))
            elif isinstance(d, Fill):
                spaced = [x for i, item in enumerate(d.items) for x in ((Text(" "), item) if i else (item,))]
                todo.extend((indent, mode, p) for p in reversed(spaced))
            elif isinstance(d, Line):
                if mode == BREAK or d.forced:
                    return True
                room -= 0 if d.soft else 1
            elif isinstance(d, (Space, _FillBreak)):
                room -= 1
            elif isinstance(d, Leading):
                return False
        return False


@dataclass(frozen=True)
class _FillBreak(Doc):
    width: int | None  # of the item after it, printed flat (None: it cannot be flat)


def _flat_width(d: Doc) -> int | None:
    """The width of `d` printed flat, or None if it cannot be flat."""
    if d.hard:
        return None
    todo, total = [d], 0
    while todo:
        d = todo.pop()
        if isinstance(d, Text):
            total += display_width(d.text)
        elif isinstance(d, Concat):
            todo.extend(d.parts)
        elif isinstance(d, (Nest, Group)):
            todo.append(d.contents)
        elif isinstance(d, Fill):
            todo.extend(d.items)
            total += max(len(d.items) - 1, 0)
        elif isinstance(d, (Line, Space)):
            total += 0 if getattr(d, "soft", False) else 1
    return total
