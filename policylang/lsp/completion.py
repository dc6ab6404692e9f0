"""Completion in context: declaration keywords at the start of a line, types after `NAME:`, members of
the enumeration a name is compared with (`机构级别 == `, `in {…`, `机构级别 = ` in a claim), inputs in a
`claim` block, rules in `expect`, accumulators in `state`, and elsewhere the names an expression can
read, every member and the expression keywords. Each item replaces the part of the name already typed
(the maximal run of name characters before the cursor), so a Chinese name completes as one word."""
from __future__ import annotations

from dataclasses import dataclass

from policylang.lsp.analysis import Analysis
from policylang.syntax.parser import _TOP, TOP_KEYWORDS

TYPES = ("money", "rate", "points", "number", "bool", "date", "text")
EXPRESSION_KEYWORDS = ("if", "then", "else", "and", "or", "not", "in", "true", "false", "not applicable",
                       "min", "max", "round", "left.", "right.")
BLOCK_KEYWORDS = {"property": ("vary", "when", "holds"), "example": ("state", "claim", "expect"),
                  "page": ("representative", "axis"), "scope": ("require",), "table": ("default",),
                  "policy": ("document", "title", "issuer", "issued", "in force from", "source", "extends",
                             "conforms to"),
                  "guideline": ("document", "title", "issuer", "issued", "in force from", "source")}


@dataclass
class Item:
    label: str
    kind: str  # keyword | input | rule | output | assumption | table | brackets | accumulator | member | type
    detail: str = ""


def complete(current: Analysis, good: Analysis | None, line: int, col: int) -> tuple[list[Item], int]:
    """The items for the cursor at (line, col), and the column where the name being typed starts.

    Names come from the index of the document's declarations (and its chain's), which needs the file to
    parse but not to resolve; `good` stands in when it does not parse (the last analysis that did)."""
    prefix, start = current.text.prefix_at(line, col)
    index = current.index or (good.index if good else None)
    before = current.text.line_text(line)[: start - 1]
    tokens = [t for t in current.text.tokens()[: current.text.token_index_at(line, start)] if t.kind != "comment"]
    block = _block(tokens)
    if not before.strip() and not block:
        return [Item(k, "keyword") for k in TOP_KEYWORDS], start
    if index is None:
        return [Item(k, "keyword") for k in EXPRESSION_KEYWORDS], start
    last = tokens[-1].text if tokens else ""
    if last == ":" and _declaring(tokens):
        return _types(index), start
    enum = _compared_enum(tokens, index, block)
    if enum is not None:
        return [Item(d.key[2], "member", d.decl.label or enum) for d in _defs(index, "member") if d.key[1] == enum], start
    if block in ("claim", "expect", "state") and (last in ("{", ",") or not before.strip()):
        wanted = {"claim": ("input",), "state": ("accumulator",), "expect": ("rule", "output", "assumption")}[block]
        return [_item(d) for d in _defs(index, "value") if d.kind in wanted], start
    items = [Item(k, "keyword") for k in BLOCK_KEYWORDS.get(block, ())] if not before.strip() else []
    if block in ("policy", "guideline"):  # the header holds its entries, no expression
        return items, start
    items += [_item(d) for d in _defs(index, "value") if d.kind != "fact"]
    items += [Item(d.key[2], "member", d.key[1]) for d in _defs(index, "member")]
    return items + [Item(k, "keyword") for k in EXPRESSION_KEYWORDS], start


def _defs(index, namespace: str) -> list:
    """The definition in effect of every name of a namespace, in the order the chain declares them."""
    return [defs[-1] for key, defs in index.definitions.items() if key[0] == namespace]


def _item(definition) -> Item:
    decl = definition.decl
    return Item(definition.key[1], definition.kind, getattr(decl, "type_name", "") or
                ("money" if definition.kind == "brackets" else ""))


def without_declaration(lines: list[str], line: int) -> str:
    """The text with the top-level declaration around `line` (1-based) blanked, lines kept: the rest of
    a file being written usually loads, and gives the names to complete with."""
    starts = [n for n, text in enumerate(lines, 1) if _TOP.match(text)]
    first = max((n for n in starts if n <= line), default=line)
    after = min((n for n in starts if n > line), default=len(lines) + 1)
    return "\n".join(lines[: first - 1] + [""] * (after - first) + lines[after - 1:])


def _block(tokens) -> str | None:
    """The keyword that opened the innermost open `{ … }` (claim, expect, state, property, table …)."""
    stack: list = []
    opener = None
    for i, token in enumerate(tokens):
        if token.kind == "name" and token.col == 1:
            opener, stack = token.text, []  # a declaration starts at column 1
        if token.text == "{":
            word = next((t.text for t in reversed(tokens[:i]) if t.kind == "name"), None)
            stack.append(word if word in ("claim", "expect", "state", "page", "vary") else opener)
        elif token.text == "}" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _declaring(tokens) -> bool:
    """`input X:`, `rule X:`, `fact X:` …: the `:` of a declaration's type, not of `vary X:`."""
    return len(tokens) >= 3 and tokens[-3].text in ("input", "rule", "output", "assumption", "accumulator",
                                                    "fact", "brackets")


def _types(index) -> list[Item]:
    return [Item(t, "type") for t in TYPES] + [Item(d.key[1], "type", "enum") for d in _defs(index, "type")]


def _compared_enum(tokens, index, block) -> str | None:
    """The enumeration whose member goes at the cursor: after `NAME ==`, `NAME !=`, `NAME in {`, `NAME in
    {a, `, and `NAME =` in a claim block."""
    if not tokens:
        return None
    i = len(tokens) - 1
    if tokens[i].text == ",":  # inside a set: go back to its `{`
        while i > 0 and tokens[i].text != "{":
            if tokens[i].text in ("}", "=", "==") or tokens[i].col == 1:
                return None
            i -= 1
    if tokens[i].text == "{" and i >= 1 and tokens[i - 1].text == "in":
        i -= 2 if i >= 2 and tokens[i - 2].text != "not" else 3
    elif tokens[i].text in ("==", "!=", "≠") or (tokens[i].text == "=" and block in ("claim", "state", "page")):
        i -= 1
    else:
        return None
    found = index.definition(("value", tokens[i].text)) if i >= 0 else None
    type_name = getattr(found.decl, "type_name", None) if found else None
    return type_name if type_name and ("type", type_name) in index.definitions else None
