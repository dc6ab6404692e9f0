"""The canonical layout of each construct of grammar/policy.lark, as a `doc.Doc`.

Tokens are printed exactly as written (`≤` stays `≤`, `65%` stays `65%`); only the space between them
changes. Declarations start at column 1 and their continuation lines are indented, so the parser's
split at top-level keywords sees the same declarations. The layout:
- one space between tokens, none inside `( )` and `{ }` of a set, before `,` `:` `)`, around `.` and
  `..` (a space before `->` after an open range);
- a definition (`rule`, `output`, `assumption`, `accumulator`, `fact`) on one line if it fits, else its
  expression on the next line (a lone value such as `55%` or a name stays after the `=`); an `if … else if … else` chain or an `and`/`or` chain one branch a line;
- blocks (`policy`, `enum`, `scope`, `table`, `brackets`, `example`, `property`, `page`) one entry a line,
  indented by two; `claim`/`state`/`expect` on one line if they fit, else their values filled in lines;
- table rows and bands aligned in columns by display width (a Chinese character is two columns);
- a `quote` on one line if it fits, else one string a line, long strings split (the parser joins
  strings on consecutive lines with nothing, so the clause's text is the same);
- at most one blank line where the author left one, and one around every declaration of several lines.
"""
from __future__ import annotations

from policylang.diagnostics import display_width
from policylang.fmt.comments import Notes, leaves
from policylang.fmt.doc import (HARD, LINE, SPACE, WIDTH, Concat, Doc, Fill, Group, Leading, Nest, Suffix, Text,
                                concat, render)
from policylang.syntax.parser import Branch, Leaf

INDENT = 2
BLOCKS = {"policy_decl", "guideline_decl", "enum_decl", "scope_decl", "page_decl", "table_decl", "brackets_decl",
          "example_decl", "property_decl"}
EQUATIONS = {"rule_decl", "assumption_decl", "accumulator_decl", "fact_decl"}
ATOMS = {"money", "rate", "points", "number", "date", "text", "true", "false", "name", "not_applicable"}
_GLUE_BEFORE = {",", ")", ":", "."}
_GLUE_AFTER = {"(", "."}
_BREAK_AFTER = set("，。；：、）”,;: ")  # where a long quote string is best split


class Layout:
    def __init__(self, notes: Notes):
        self.notes = notes

    # ---- the file
    def file(self, root: Branch) -> str:
        out: list[str] = []
        previous = None
        for decl in root.children:
            first = leaves(decl)[0]
            blank = self.notes.starts_blank(first)
            lines = self._comment_lines(self.notes.take_leading(first), blank_after=self.notes.blank_before(first))
            text = render(self.decl(decl))
            if previous is not None and (blank or "\n" in previous or "\n" in text):
                out.append("")
            out.extend(lines)
            out.append(text)
            previous = text
        end = self.notes.take_end()
        if end:
            if out and end[0][1]:
                out.append("")
            out.extend(self._comment_lines(end))
        return "\n".join(out).strip("\n") + "\n" if out else ""

    @staticmethod
    def _comment_lines(comments, blank_after: bool = False) -> list[str]:
        lines: list[str] = []
        for i, (text, blank) in enumerate(comments):
            if i and blank:
                lines.append("")
            lines.append(text)
        if comments and blank_after:
            lines.append("")
        return lines

    def decl(self, node: Branch) -> Doc:
        kind = node.kind
        if kind in BLOCKS:
            return self.block_decl(node)
        if kind in EQUATIONS:
            return self.equation(node)
        if kind == "quote_decl":
            return self.quote(node)
        if kind == "constraint_decl":
            return self.condition(node.children)
        return self.flat(node.children)

    # ---- tokens and flat runs
    def tok(self, leaf: Leaf) -> Doc:
        parts: list[Doc] = [Leading(text) for text, _ in self.notes.take_leading(leaf)]
        parts.append(Text(leaf.text))
        trailing = self.notes.take_trailing(leaf)
        if trailing is not None:
            parts.append(Suffix(trailing))
        return Concat(parts) if len(parts) > 1 else parts[0]

    def flat(self, nodes) -> Doc:
        """Tokens one space apart (none where the glue rules say), continuation lines indented."""
        seq: list = []
        for node in nodes if isinstance(nodes, list) else [nodes]:
            _sequence(node, seq)
        docs: list[Doc] = []
        glue = True
        prev: Leaf | None = None
        spaced = False
        for item in seq:
            if item is _GLUE:
                glue = True
                continue
            if item is _SPACE:
                spaced = True
                continue
            if prev is not None and not glue and (spaced or not _glued(prev, item)):
                docs.append(SPACE)
            spaced = False
            docs.append(self.tok(item))
            prev, glue = item, False
        if not docs:
            return Text("")
        return concat(docs[0], Nest(INDENT, Concat(docs[1:]))) if len(docs) > 1 else docs[0]

    # ---- definitions: NAME: TYPE … = expr
    def equation(self, node: Branch) -> Doc:
        kids = node.children
        eq = next((i for i, k in enumerate(kids) if isinstance(k, Leaf) and k.text == "="), None)
        if eq is None:
            return self.flat(kids)
        head = self.flat(kids[:eq])
        rest = [self.body(kids[eq + 1])] + [concat(SPACE, self.flat(k)) for k in kids[eq + 2:]]
        if isinstance(kids[eq + 1], Branch) and kids[eq + 1].kind in ATOMS:
            # A lone value stays after its `=`: a long header is not made shorter by moving it.
            return concat(head, SPACE, self.tok(kids[eq]), Nest(INDENT, concat(SPACE, *rest)))
        return Group(concat(head, SPACE, self.tok(kids[eq]), Nest(INDENT, concat(LINE, *rest))))

    def body(self, node) -> Doc:
        """An expression that may break: `if` chains and `and`/`or` chains one part a line."""
        if isinstance(node, Branch) and node.kind == "if_then_else":
            segments, rest = [], node
            prefix: list = []
            while isinstance(rest, Branch) and rest.kind == "if_then_else" and len(rest.children) == 6:
                if_, cond, then, value, else_, rest = rest.children
                segments.append(self.flat(prefix + [if_, cond, then, value]))
                prefix = [else_]
            segments.append(self.flat(prefix + [rest]))
            return Group(_join(segments, LINE))
        if isinstance(node, Branch) and node.kind in ("or_op", "and_op"):
            operands, ops = [], []
            rest = node
            while isinstance(rest, Branch) and rest.kind == node.kind:
                left, op, right = rest.children
                operands.append(right)
                ops.append(op)
                rest = left
            parts = [self.flat(rest)] + [self.flat([op, operand]) for op, operand in zip(reversed(ops), reversed(operands))]
            return Group(_join(parts, LINE))
        return self.flat(node)

    # ---- blocks
    def block_decl(self, node: Branch) -> Doc:
        kids = node.children
        opened = next(i for i, k in enumerate(kids) if isinstance(k, Leaf) and k.kind == "LBRACE")
        inner, close = kids[opened + 1:-1], kids[-1]
        if node.kind in ("table_decl", "brackets_decl"):
            items = self.aligned(inner)
        elif node.kind == "example_decl":
            items = self.example_items(inner)
        elif node.kind == "property_decl":
            items = self.property_items(inner)
        else:
            items = [(leaves(k)[0], self.entry_builder(k)) for k in inner]
        return concat(self.flat(kids[:opened]), SPACE, self.tok(kids[opened]), self.block(items, close))

    def block(self, items, close: Leaf) -> Doc:
        """`items`: (first token, a function building the entry once its leading comments are taken)."""
        parts: list[Doc] = []
        for i, (first, build) in enumerate(items):
            parts.extend(self._lead(first, blank_allowed=i > 0))
            parts.append(build())
        parts.extend(self._lead(close, blank_allowed=bool(items)))
        if not parts:
            return self.tok(close)
        return concat(Nest(INDENT, Concat(parts)), HARD, self.tok(close))

    def _lead(self, first: Leaf, blank_allowed: bool) -> list[Doc]:
        """A line break before an entry (two if the author left a blank line), and its own-line comments."""
        comments = self.notes.leading.get(id(first), [])
        if first.kind == "RBRACE" and not comments:
            return []
        parts: list[Doc] = [HARD]
        if blank_allowed and self.notes.starts_blank(first):
            parts.append(HARD)
        blank_after = self.notes.blank_before(first)
        for i, (text, blank) in enumerate(self.notes.take_leading(first)):
            if i and blank:
                parts.append(HARD)
            parts.extend([Text(text), HARD])
        if comments and blank_after and first.kind != "RBRACE":
            parts.append(HARD)
        if first.kind == "RBRACE":
            parts.pop()  # the closing brace's own line break follows the block
        return parts

    def condition(self, kids) -> Doc:
        """`require expr else "…"`, `constraint expr else "…"`: `else` on the next line if it does not fit."""
        keyword, expr, else_, message = kids
        return Group(concat(self.tok(keyword), SPACE, Nest(INDENT, self.body(expr)),
                            Nest(INDENT, concat(LINE, self.flat([else_, message])))))

    def entry_builder(self, node):
        if isinstance(node, Branch) and node.kind == "requirement":
            return lambda: self.condition(node.children)
        if isinstance(node, Branch) and node.kind == "page_representative":
            kw, *assignments = node.children
            return lambda: Group(concat(self.tok(kw), Nest(INDENT, concat(LINE, self.fill(assignments)))))
        return lambda: self.flat(node)

    def fill(self, assignments) -> Doc:
        return Fill([self.flat(a) for a in assignments])

    def inline_block(self, kids) -> Doc:
        """`claim { … }`, `state { … }`, `expect { … }`: on one line if it fits, else filled lines."""
        opened = next(i for i, k in enumerate(kids) if isinstance(k, Leaf) and k.kind == "LBRACE")
        head, inner, close = kids[:opened + 1], kids[opened + 1:-1], kids[-1]
        if not inner:
            return concat(self.flat(head), self.tok(close))
        return Group(concat(self.flat(head), Nest(INDENT, concat(LINE, self.fill(inner))), LINE, self.tok(close)))

    def example_items(self, inner) -> list:
        items = []
        for node in inner:
            if node.kind == "state_block":
                items.append((leaves(node)[0], lambda n=node: self.inline_block(n.children)))
                continue
            claim, expect = node.children[:-1], node.children[-1]  # step: claim { … } expect
            items.append((claim[0], lambda c=claim: self.inline_block(c)))
            if expect.kind == "expect_values":
                items.append((leaves(expect)[0], lambda e=expect: self.inline_block(e.children)))
            else:
                items.append((leaves(expect)[0], lambda e=expect: self.flat(e)))
        return items

    def property_items(self, inner) -> list:
        """`vary …`, `when expr`, `holds expr`: one a line."""
        groups: list[list] = []
        for node in inner:
            if isinstance(node, Leaf) or node.kind == "vary":
                groups.append([node])
            else:
                groups[-1].append(node)
        return [(leaves(g[0])[0], lambda g=g: self.flat(g)) for g in groups]

    # ---- tables and brackets: columns aligned
    def aligned(self, rows) -> list:
        cells = [_row_parts(r) for r in rows]
        if any(self._inner_comments(r) for r in rows):
            return [(leaves(r)[0], lambda r=r: self.flat(r)) for r in rows]
        texts = [([self.plain(c) for c in left], self.plain(right), [self.plain(x) for x in after])
                 for left, right, after in cells]
        columns = max((len(left) for left, _, _ in texts if left != ["default"]), default=0)
        widths = [max((display_width(left[i]) + (i < len(left) - 1) for left, _, _ in texts
                       if len(left) > i and left != ["default"]), default=0) for i in range(columns)]
        total = sum(widths) + max(columns - 1, 0)
        out_width = max((display_width(right) for _, right, after in texts if after), default=0)
        items = []
        for row, (left, right, after) in zip(rows, texts):
            if left == ["default"]:
                head = _pad("default", total)
            else:
                padded = [_pad(c + ("," if i < len(left) - 1 else ""), widths[i]) for i, c in enumerate(left)]
                head = " ".join(padded)
            line = f"{head} -> " + (" ".join([_pad(right, out_width)] + after) if after else right)
            items.append((leaves(row)[0], lambda line=line, row=row: self._row_doc(line, row)))
        return items

    def _row_doc(self, line: str, row: Branch) -> Doc:
        trailing = self.notes.take_trailing(leaves(row)[-1])
        return concat(Text(line), Suffix(trailing) if trailing is not None else None)

    def _inner_comments(self, row: Branch) -> bool:
        """Comments other than before the row's first token or after its last: then rows are not aligned."""
        toks = leaves(row)
        inner = any(self.notes.has_any(t) for t in toks[1:-1])
        return inner or id(toks[-1]) in self.notes.leading or id(toks[0]) in self.notes.trailing

    def plain(self, node) -> str:
        """The flat text of a part without comments (checked by the caller)."""
        return render(Layout(_NO_NOTES).flat(node), width=10 ** 9)

    # ---- quotes
    def quote(self, node: Branch) -> Doc:
        kw, clause, *strings = node.children
        commented = any(self.notes.has_any(t) for t in leaves(node)[1:])
        one_line = f"{kw.text} {clause.text} {strings[0].text}"
        if len(strings) == 1 and not commented and display_width(one_line) <= WIDTH:
            return self.flat(node.children)
        parts: list[Doc] = []
        for i, string in enumerate(strings):
            lead = self._lead(string, blank_allowed=i > 0)
            parts.extend(lead)
            pieces = split_string(string.text, WIDTH - INDENT)
            parts.append(_join([Text(p) for p in pieces], HARD))
            trailing = self.notes.take_trailing(string)
            if trailing is not None:
                parts.append(Suffix(trailing))
        return concat(self.tok(kw), SPACE, self.tok(clause), Nest(INDENT, Concat(parts)))


class _NoNotes:
    leading: dict = {}
    trailing: dict = {}

    def take_leading(self, leaf):
        return []

    def take_trailing(self, leaf):
        return None


_NO_NOTES = _NoNotes()
_GLUE, _SPACE = object(), object()


def _sequence(node, out: list) -> None:
    """The tokens of `node` in order, with _GLUE where no space goes that the pair rule would not see."""
    if isinstance(node, Leaf):
        out.append(node)
        return
    kind, kids = node.kind, node.children
    if kind == "call":
        _sequence(kids[0], out)
        out.append(_GLUE)
        for k in kids[1:]:
            _sequence(k, out)
    elif kind == "set_lit":
        for i, k in enumerate(kids):
            if i == len(kids) - 1:
                out.append(_GLUE)
            _sequence(k, out)
            if i == 0:
                out.append(_GLUE)
    elif kind in ("range_cell", "band", "input_domain"):
        # `0元..6000元`, but `大病起付线 .. 大病起付线 + 100000元`: spaced when a bound is not a lone value.
        dots = next(i for i, k in enumerate(kids) if isinstance(k, Leaf) and k.text == "..")
        bounds = [k for k in (kids[dots - 1], kids[dots + 1] if dots + 1 < len(kids) else None)
                  if isinstance(k, Branch)]
        tight = all(b.kind in ATOMS for b in bounds)
        for i, k in enumerate(kids):
            if i == dots:
                out.append(_GLUE if tight else _SPACE)
            _sequence(k, out)
            if i == dots and i + 1 < len(kids):
                out.append(_GLUE if tight and kids[i + 1] in bounds else _SPACE)
    elif kind == "negate":
        _sequence(kids[0], out)
        out.append(_GLUE)
        _sequence(kids[1], out)
    else:
        for k in kids:
            _sequence(k, out)


def _glued(prev: Leaf, nxt: Leaf) -> bool:
    return nxt.text in _GLUE_BEFORE or prev.text in _GLUE_AFTER


def _join(docs: list, sep: Doc) -> Doc:
    parts: list = []
    for i, d in enumerate(docs):
        if i:
            parts.append(sep)
        parts.append(d)
    return Concat(parts)


def _row_parts(row: Branch) -> tuple:
    """A table row or band as (cells, output, [clause]); a default row's cells are ["default"]."""
    kids = row.children
    arrow = next(i for i, k in enumerate(kids) if isinstance(k, Leaf) and k.text == "->")
    left = [k for k in kids[:arrow] if not (isinstance(k, Leaf) and k.text == ",")]
    if row.kind == "band":
        left = [Branch("band", kids[:arrow])]
    return left, kids[arrow + 1], kids[arrow + 2:]


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - display_width(text), 0)


def split_string(text: str, limit: int) -> list[str]:
    """A string literal as several, each at most `limit` columns wide with its quotes, split between
    characters (never inside an escape), after punctuation where there is some in the second half."""
    if display_width(text) <= limit:
        return [text]
    body, units, i = text[1:-1], [], 0
    while i < len(body):
        step = 2 if body[i] == "\\" and i + 1 < len(body) else 1
        units.append(body[i:i + step])
        i += step
    pieces, current, width = [], [], 2
    for unit in units:
        w = display_width(unit)
        if current and width + w > limit:
            cut = len(current)
            for j in range(len(current) - 1, len(current) // 2, -1):
                if current[j] in _BREAK_AFTER:
                    cut = j + 1
                    break
            pieces.append(current[:cut])
            current = current[cut:]
            width = 2 + sum(display_width(u) for u in current)
        current.append(unit)
        width += w
    pieces.append(current)
    return ['"' + "".join(p) + '"' for p in pieces]
