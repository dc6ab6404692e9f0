"""Text → surface AST. The only module that imports lark.

The file is split at top-level keywords and each declaration is parsed on its
own, so one syntax error does not hide the next: all errors come out at once.
"""
from __future__ import annotations

import dataclasses
import datetime
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from policylang.diagnostics import Diagnostic, DiagnosticError, Span
from policylang.syntax import ast, limits

GRAMMAR = Path(__file__).with_name("policy.lark")
TOP_KEYWORDS = ("policy", "use", "enum", "input", "scope", "accumulator", "rule", "output",
                "table", "brackets", "update", "example", "constraint", "property", "guideline",
                "assumption", "amend", "quote", "page", "fact", "year")
_TOP = re.compile(r"^(%s)\b" % "|".join(TOP_KEYWORDS))

TOKEN_NAMES = {
    "NAME": "a name", "STRING": "a string", "MONEY": "an amount such as 100元", "RATE": "a rate such as 65%",
    "POINTS": "percentage points such as 2pp", "NUMBER": "a number", "DATE": "a date such as 2024-01-01",
    "CMP_OP": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`×`", "LBRACE": "`{`", "RBRACE": "`}`",
    "LPAR": "`(`", "RPAR": "`)`", "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "__ANON_0": "`->`",
    "RULE_KIND": "`rule` or `output`", "HIT_POLICY": "`first` or `unique`", "$END": "end of file",
    "MONTH_DAY": "the year's first day such as 07-01",
}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                maybe_placeholders=True)


def parse_file(path: str | Path) -> ast.Module:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DiagnosticError([Diagnostic("E0105", Span(str(path), 1, 1, 1, 1),
                                          {"reason": exc.strerror or str(exc), "hint": ""})])
    try:
        text = data.decode("utf-8-sig")  # a BOM is allowed, as in claim files (Windows editors write one)
    except UnicodeDecodeError as exc:
        # Name the line of the first bad byte: Python's "position 37" is a byte offset nobody can find.
        line = data.count(b"\n", 0, exc.start) + 1
        raise DiagnosticError([Diagnostic("E0105", Span(str(path), line, 1, line, 1), {
            "reason": f"it is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line})",
            "hint": "save the file as UTF-8; editors on Chinese Windows often save as GBK"})])
    return parse_text(text, str(path))


def parse_text(text: str, file: str) -> ast.Module:
    """Parse every top-level declaration; raise DiagnosticError with all syntax errors."""
    decls: list = []
    errors: list[Diagnostic] = []
    chunks = list(_chunks(text))
    lines = text.split("\n")
    for number, (start_line, chunk) in enumerate(chunks, 1):
        padded = "\n" * (start_line - 1) + chunk
        try:
            tree = _lark().parse(padded)
            parsed = _ToAst(file, lines).transform(tree).children
            deep = [node for node in map(limits.too_deep, parsed) if node is not None]
            errors.extend(Diagnostic("E0106", _expr_span(node, file, start_line)) for node in deep)
            decls.extend(parsed)
        except UnexpectedInput as exc:
            errors.append(_syntax_diagnostic(exc, file, padded, last=number == len(chunks)))
        except VisitError as exc:
            if isinstance(exc.orig_exc, DiagnosticError):
                errors.extend(exc.orig_exc.diagnostics)
            elif isinstance(exc.orig_exc, RecursionError):
                errors.append(Diagnostic("E0106", Span(file, start_line, 1, start_line, 2)))
            else:
                raise
        except RecursionError:
            # Lark transforms recursively: a few hundred nested operators exhaust the stack.
            errors.append(Diagnostic("E0106", Span(file, start_line, 1, start_line, 2)))
    if errors:
        raise DiagnosticError(errors)
    return ast.Module(file, tuple(decls))


def _chunks(text: str):
    """Split at lines that start (column 1) with a top-level keyword."""
    lines = text.split("\n")
    start, buf = 1, []
    for number, line in enumerate(lines, 1):
        if _TOP.match(line) and buf and any(b.strip() and not b.lstrip().startswith("#") for b in buf):
            yield start, "\n".join(buf)
            start, buf = number, []
        buf.append(line)
    if buf:
        yield start, "\n".join(buf)


def _describe(names) -> str:
    pretty = sorted({TOKEN_NAMES.get(n) or _terminal_text(n) for n in names})
    if len(pretty) > 6:
        pretty = pretty[:6] + ["…"]
    return ", ".join(pretty)


def _terminal_text(name: str) -> str:
    """A keyword or punctuation terminal as written (`..`, `_`, `policy`), not Lark's name for it."""
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name
    return f"`{pattern.value}`" if pattern.type == "str" else name


def _syntax_diagnostic(exc: UnexpectedInput, file: str, text: str, last: bool = True) -> Diagnostic:
    """`last` says whether this declaration is the file's last: if not, its end is not the end of file."""
    line, col = exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else 1
    # `accepts` is what the parser really takes next; `expected` is LALR's merged lookahead, which
    # offers `->` and `..` after `if 险种`.
    expected = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or set()
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        span = Span(file, line, col, line, col + 1)
        amended = _amend_diagnostic(text, "CHAR", char, expected or getattr(exc, "allowed", None) or set(), span)
        if amended is not None:
            return amended
        return Diagnostic("E0101", span, {"char": char, "hint": _char_hint(char, text, exc.pos_in_stream)})
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.rstrip().split("\n")
        col = len(lines[-1]) + 1  # just after the last character, where the missing token belongs
        span = Span(file, len(lines), col, len(lines), col + 1)
        hint = "a block may be missing its closing `}`" if "RBRACE" in expected else ""
        if not last:
            hint = (hint + "; " if hint else "") + "a line that starts with a keyword begins a new declaration"
        return Diagnostic("E0103", span, {"where": "file" if last else "declaration",
                                          "expected": _describe(expected), "hint": hint})
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    end_col = getattr(tok, "end_column", None) or col + len(str(tok))
    span = Span(file, line, col, getattr(tok, "end_line", line) or line, end_col)
    amended = _amend_diagnostic(text, tok.type, str(tok), expected, span)
    if amended is not None:
        return amended
    found = f"`{tok}`" if tok.type not in ("$END",) else "end of file"
    return Diagnostic("E0102", span, {"found": found, "expected": _describe(expected),
                                      "hint": _token_hint(tok, expected, text[:tok.start_pos])})


_AMEND = re.compile(r"\s*amend\s+([^\W\d]\w*)\s*(.*)", re.S)
_AMEND_OP = re.compile(r"\+=|-=|\*=|(?<![=!<>])=(?!=)")
_AMEND_VERBS = {"delete", "del", "drop", "insert", "append", "replace", "set", "update", "change", "modify",
                "删除", "新增", "增加", "替换", "修改"}


def _amend_diagnostic(text: str, kind: str, found: str, expected, span: Span) -> Diagnostic | None:
    """A message for the ways authors write a row amendment that the grammar does not take
    (`amend T[二级]`, `amend T.二级`, `amend T 二级`, `amend T where …`, `add (…)`, `remove …`)."""
    m = _AMEND.match(text)
    if m is None:
        return None
    name, rest = m.group(1), m.group(2).split("\n")[0]
    described = {TOKEN_NAMES.get(n) or _terminal_text(n) for n in expected}
    after_name = "`add`" in described  # the parser stands just after `amend NAME`
    if after_name and found == "where":
        return Diagnostic("E0121", span, {"name": name})
    if after_name and found in _AMEND_VERBS:
        return Diagnostic("E0124", span, {"name": name, "word": found})
    if after_name and (found in ("[", ".") or kind == "NAME"):
        op = _AMEND_OP.search(rest)
        key = rest[:op.start()] if op else rest
        key = re.sub(r"\]\s*\[", ", ", key).strip(" \t.[]") or "二级"
        return Diagnostic("E0120", span, {"name": name, "found": found, "key": key,
                                          "op": op.group(0) if op else "+="})
    words = rest.split(None, 1)
    if words[:1] == ["add"] and len(words) > 1 and words[1].startswith("(") and found == "," and "`)`" in described:
        inner = words[1][1:].split(")")[0]
        return Diagnostic("E0122", span, {"name": name, "cells": inner.strip()})
    if words[:1] == ["remove"] and "`(`" in described and kind != "LPAR":
        cells = re.split(r"\s(?:clause)\s|\"", words[1] if len(words) > 1 else "")[0].strip() or "二级, _"
        return Diagnostic("E0123", span, {"name": name, "cells": cells})
    if "`+=`" in described and kind in ("RATE", "POINTS", "MONEY", "NUMBER", "NAME", "ADD_OP", "MUL_OP"):
        return Diagnostic("E0125", span, {"name": name})
    return None


def _char_hint(char: str, text: str, pos: int) -> str:
    before = text[:pos].rstrip(" ")
    if char == "%" and before[-1:].isdigit():
        return "write the rate without a space, e.g. 65%"
    if char == "元" and before[-1:].isdigit():
        return "write the amount without a space, e.g. 1200元"
    if char in "“”":
        return "strings use ASCII double quotes \"…\""
    if char == "'":
        return "strings use double quotes \"…\""
    if char == '"':
        return "the string is not closed: end it with `\"` on the same line"
    if "\uff01" <= char <= "\uff5e":  # full-width forms of ASCII, typed with a Chinese input method
        return f"use the ASCII `{chr(ord(char) - 0xfee0)}` instead of the full-width `{char}` outside strings"
    return "this character cannot start a token here"


def _token_hint(tok: Token, expected, before: str = "") -> str:
    if tok.type == "EQUAL" and "CMP_OP" in expected:
        return "to compare, write `==`"
    if tok.type == "EQUAL" and set(expected) == {"COLON"}:
        return "give the type after the name, e.g. `rule 报销比例: rate = 65%`"
    if tok.type == "NAME" and str(tok).startswith("万") and before[-1:].isdigit():
        return "write amounts in 元, e.g. 10000元 for 1万元"
    if tok.type == "NAME" and str(tok) == "pp":
        return "write percentage points without a space, e.g. 2pp"
    if tok.type == "NAME" and "RULE_KIND" not in expected and str(tok) in ("elif", "elsif"):
        return "write `else if`"
    if "HIT_POLICY" in expected:
        return "a table says its hit policy: `first` or `unique`"
    band = _band_hint(expected, before)
    if band:
        return band
    if tok.type == "RBRACE":
        return "a block may have ended too early, or an item in it is incomplete"
    return ""


def _band_hint(expected, before: str) -> str:
    """A band's rate the grammar cannot take: an `if` without `else`, or a sum the next band's bound
    would continue (`-> 65% + 5pp`), which needs parentheses."""
    if not before.lstrip().startswith("brackets") or "->" not in before:
        return ""
    rate = re.sub(r'"(\\.|[^"\\])*"', "", before[before.rfind("->") + 2:]).split("\n")[0].strip()
    names = {_terminal_text(n) for n in expected}
    if "`else`" in names and rate.startswith("if"):
        return "a band's `if` rate needs its `else`: `-> if 贫困人员 then 60% else 55%`"
    if "`..`" in names and not rate.startswith(("(", "if")) and re.search(r"[-+*×−]", rate):
        return ("a band's rate that is more than one value goes in parentheses, e.g. `-> (75% + 5pp)`; "
                "otherwise the next band's bound would continue it")
    return ""


def _expr_span(node, file: str, line: int) -> Span:
    """Where a too-deep expression is: its own span, or its declaration's first line."""
    span = getattr(node, "span", None)
    return span if isinstance(span, Span) else Span(file, line, 1, line, 2)


def _span(file: str, meta) -> Span:
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)


def _string(tok: Token) -> str:
    body = str(tok)[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _date(file: str, tok: Token) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(tok))
    except ValueError:
        raise DiagnosticError([Diagnostic("E0104", _tok_span(file, tok), {"text": str(tok)})])


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark tree → ast dataclasses. Options are collected into ast.Options."""

    def __init__(self, file: str, lines: list | None = None):
        super().__init__()
        self.file = file
        self.lines = lines  # the file's text, to see blank lines between a quote's strings

    def _s(self, meta) -> Span:
        return _span(self.file, meta)

    # ---- literals
    def _digits(self, meta, kind: str, text: str, digits: str) -> Decimal:
        """The literal's exact value, once its digits are within the limits every back end carries."""
        problem = limits.literal_problem(kind, digits)
        if problem is not None:
            raise DiagnosticError([Diagnostic("E0107", self._s(meta), {"text": text, "problem": problem})])
        return Decimal(digits)

    def money(self, meta, c):
        text = str(c[0])
        return ast.Literal("money", self._digits(meta, "money", text, text[:-1]), text, self._s(meta))

    def rate(self, meta, c):
        text = str(c[0])
        return ast.Literal("rate", self._digits(meta, "rate", text, text[:-1]).scaleb(-2), text, self._s(meta))

    def points(self, meta, c):
        text = str(c[0])
        return ast.Literal("points", self._digits(meta, "points", text, text[:-2]).scaleb(-2), text, self._s(meta))

    def number(self, meta, c):
        text = str(c[0])
        return ast.Literal("number", self._digits(meta, "number", text, text), text, self._s(meta))

    def date(self, meta, c):
        return ast.Literal("date", _date(self.file, c[0]), str(c[0]), self._s(meta))

    def text(self, meta, c):
        return ast.Literal("text", _string(c[0]), str(c[0]), self._s(meta))

    def true(self, meta, c):
        return ast.Literal("bool", True, "true", self._s(meta))

    def false(self, meta, c):
        return ast.Literal("bool", False, "false", self._s(meta))

    # ---- expressions
    def name(self, meta, c):
        return ast.Name(str(c[0]), self._s(meta))

    def left_name(self, meta, c):
        return ast.SideName("left", str(c[0]), self._s(meta))

    def right_name(self, meta, c):
        return ast.SideName("right", str(c[0]), self._s(meta))

    def constraint_decl(self, meta, c):
        return ast.ConstraintDecl(c[0], _string(c[1]), self._s(meta))

    def vary(self, meta, c):
        return ast.Vary(str(c[0]), _tok_span(self.file, c[0]), c[1], c[2], self._s(meta))

    def property_decl(self, meta, c):
        name, clause, vary, when, holds = c
        return ast.PropertyDecl(_string(name), clause[1] if clause is not None else None, vary, when, holds,
                                self._s(meta))

    def call(self, meta, c):
        args = tuple(a for a in c[1:] if a is not None)
        return ast.Call(str(c[0]), args, self._s(meta))

    def not_applicable(self, meta, c):
        return ast.NotApplicable(_string(c[0]), self._s(meta))

    def if_then_else(self, meta, c):
        return ast.IfThenElse(c[0], c[1], c[2], self._s(meta))

    def or_op(self, meta, c):
        return ast.BinOp("or", c[0], c[1], self._s(meta))

    def and_op(self, meta, c):
        return ast.BinOp("and", c[0], c[1], self._s(meta))

    def not_op(self, meta, c):
        return ast.UnaryOp("not", c[0], self._s(meta))

    def negate(self, meta, c):
        operand = c[1]
        return operand if str(c[0]) == "+" else ast.UnaryOp("neg", operand, self._s(meta))

    def compare(self, meta, c):
        op = {"≤": "<=", "≥": ">=", "≠": "!="}.get(str(c[1]), str(c[1]))
        return ast.BinOp(op, c[0], c[2], self._s(meta))

    def binary(self, meta, c):
        op = {"−": "-", "×": "*"}.get(str(c[1]), str(c[1]))
        return ast.BinOp(op, c[0], c[2], self._s(meta))

    def set_lit(self, meta, c):
        return tuple(c)

    def in_set(self, meta, c):
        return ast.InSet(c[0], c[1], False, self._s(meta))

    def not_in_set(self, meta, c):
        return ast.InSet(c[0], c[1], True, self._s(meta))

    # ---- options
    def clause(self, meta, c):
        return ("clause", _string(c[0]))

    def platform_name(self, meta, c):
        return ("platform", (str(c[0]), _tok_span(self.file, c[0])))

    def valid_from(self, meta, c):
        return ("valid_from", (_date(self.file, c[0]), _tok_span(self.file, c[0])))

    def valid_until(self, meta, c):
        return ("valid_until", (_date(self.file, c[0]), _tok_span(self.file, c[0])))

    def rounding(self, meta, c):
        return ("rounding", (str(c[0]), _tok_span(self.file, c[0])))

    def doc(self, meta, c):
        return ("doc", _string(c[0]))

    def hit_policy(self, meta, c):
        return ("hit", str(c[0]))

    def field(self, meta, c):
        return ("field", str(c[0]))

    def optional(self, meta, c):
        return ("optional", True)

    def until(self, meta, c):
        return _date(self.file, c[0])

    @staticmethod
    def _options(items) -> ast.Options:
        return ast.Options(**{k: v for k, v in items if isinstance(k, str)})

    # ---- header: (entry, value) or (entry, value, note) when the author marks it `assumed "note"`
    def assumed(self, meta, c):
        return _string(c[0])

    @staticmethod
    def _meta(entry, value, note):
        return (entry, value) if note is None else (entry, value, note)

    def meta_document(self, meta, c):
        return self._meta("document", _string(c[0]), c[1])

    def meta_title(self, meta, c):
        return self._meta("full_title", _string(c[0]), c[1])

    def meta_issuer(self, meta, c):
        return self._meta("issuer", _string(c[0]), c[1])

    def meta_issued(self, meta, c):
        return self._meta("issued", _date(self.file, c[0]), c[1])

    def meta_in_force(self, meta, c):
        return self._meta("in_force", (_date(self.file, c[0]), c[1]), c[2])

    def meta_source(self, meta, c):
        return self._meta("source", _string(c[0]), c[1])

    def meta_extends(self, meta, c):
        return ("extends", (_string(c[0]), _tok_span(self.file, c[0])))

    def meta_conforms(self, meta, c):
        return ("conforms", (_string(c[0]), _tok_span(self.file, c[0])))

    def guideline_decl(self, meta, c):
        return dataclasses.replace(self.policy_decl(meta, c), kind="guideline")

    def assumption_decl(self, meta, c):
        name, type_tok, *opts, expr = c
        return ast.RuleDecl(False, str(name), str(type_tok), _tok_span(self.file, type_tok),
                            self._options(opts), expr, self._s(meta), assumption=True)

    def amend_add(self, meta, c):
        return "+"

    def amend_sub(self, meta, c):
        return "-"

    def amend_mul(self, meta, c):
        return "*"

    def amend_set(self, meta, c):
        return "="

    def amend_decl(self, meta, c):
        name, op, value, clause, doc = c
        return ast.AmendDecl(str(name), _tok_span(self.file, name), op, value,
                             clause[1] if clause is not None else None,
                             _string(doc) if doc is not None else None, self._s(meta))

    def amend_key(self, meta, c):
        return ("key", tuple(c), self._s(meta))

    def amend_rows(self, meta, c):
        name, (_, key, key_span), op, value, clause, doc = c
        return ast.AmendDecl(str(name), _tok_span(self.file, name), op, value,
                             clause[1] if clause is not None else None,
                             _string(doc) if doc is not None else None, self._s(meta), key=key, key_span=key_span)

    def amend_add_row(self, meta, c):
        name, row, doc = c
        return ast.AmendDecl(str(name), _tok_span(self.file, name), "add", row.output, row.clause,
                             _string(doc) if doc is not None else None, self._s(meta),
                             key=row.cells, key_span=row.span, row=row)

    def amend_remove_rows(self, meta, c):
        name, (_, key, key_span), clause, doc = c
        return ast.AmendDecl(str(name), _tok_span(self.file, name), "remove", None,
                             clause[1] if clause is not None else None,
                             _string(doc) if doc is not None else None, self._s(meta), key=key, key_span=key_span)

    def amend_band(self, meta, c):
        name, number, op, value, clause, doc = c
        return ast.AmendDecl(str(name), _tok_span(self.file, name), op, value,
                             clause[1] if clause is not None else None,
                             _string(doc) if doc is not None else None, self._s(meta), band=_band_number(number))

    def policy_decl(self, meta, c):
        conforms = tuple(x[1] for x in c[1:] if x[0] == "conforms")
        entries = dict(x[:2] for x in c[1:] if x[0] != "conforms")
        assumed = tuple((x[0], x[2]) for x in c[1:] if len(x) == 3)
        start, end = entries.pop("in_force", (None, None))
        return ast.PolicyHeader(_string(c[0]), entries.get("document"), entries.get("full_title"),
                                entries.get("issuer"), entries.get("issued"), start, end,
                                entries.get("source"), self._s(meta), extends=entries.get("extends"),
                                conforms=conforms, assumed=assumed)

    def quote_decl(self, meta, c):
        clause, *parts = c
        return ast.QuoteDecl(_string(clause), _tok_span(self.file, clause), self._paragraphs(parts),
                             self._s(meta))

    def _paragraphs(self, parts) -> tuple:
        """Strings on consecutive lines (or one line) are one paragraph, joined with nothing, so a long
        clause may be split for width; a blank line between two strings starts a new paragraph."""
        paragraphs = [_string(parts[0])]
        for before, tok in zip(parts, parts[1:]):
            between = self.lines[before.end_line:tok.line - 1] if self.lines is not None else []
            if any(not line.strip() for line in between):
                paragraphs.append(_string(tok))
            else:
                paragraphs[-1] += _string(tok)
        return tuple(paragraphs)

    # ---- the docs page and facts
    def page_representative(self, meta, c):
        return ("representative", tuple(c))

    def page_axis(self, meta, c):
        return ("axis", tuple((str(t), _tok_span(self.file, t)) for t in c))

    def page_decl(self, meta, c):
        representative = tuple(a for kind, items in c if kind == "representative" for a in items)
        axes = tuple(a for kind, items in c if kind == "axis" for a in items)
        return ast.PageDecl(representative, axes, self._s(meta))

    def fact_decl(self, meta, c):
        name, type_tok, value, clause, text = c
        return ast.FactDecl(str(name), str(type_tok), _tok_span(self.file, type_tok), value,
                            clause[1] if clause is not None else None,
                            _string(text) if text is not None else None, self._s(meta))

    def use_decl(self, meta, c):
        return ast.Use(str(c[0]), self._s(meta))

    # ---- vocabulary
    def codes(self, meta, c):
        return tuple(_string(t) for t in c)

    def enum_member(self, meta, c):
        label = _string(c[1]) if c[1] is not None else None
        return ast.EnumMember(str(c[0]), label, c[2] or (), self._s(meta))

    def enum_decl(self, meta, c):
        field = c[1][1] if c[1] is not None else None
        return ast.EnumDecl(str(c[0]), field, tuple(c[2:]), self._s(meta))

    def input_decl(self, meta, c):
        opts = dict(item for item in c[3:] if item is not None)
        return ast.InputDecl(str(c[0]), str(c[1]), _tok_span(self.file, c[1]), opts.get("field"),
                             bool(opts.get("optional")), opts.get("doc"), self._s(meta), c[2])

    def input_domain(self, meta, c):
        return (c[0], c[1], self._s(meta))

    # ---- scope
    def requirement(self, meta, c):
        return ast.Requirement(c[0], _string(c[1]), self._s(meta))

    def scope_decl(self, meta, c):
        clause = c[0][1] if c[0] is not None else None
        return ast.ScopeDecl(clause, tuple(c[1:]), self._s(meta))

    # ---- definitions
    def accumulator_decl(self, meta, c):
        name, type_tok, who, period = c[0], c[1], c[2], c[3]
        rest = c[4:]
        initial = rest[-1] if rest and not isinstance(rest[-1], tuple) else None
        keys = tuple(r[1] for r in rest if isinstance(r, tuple) and r[0] == "key")
        opts = [r for r in rest if isinstance(r, tuple) and r[0] != "key"]
        return ast.AccumulatorDecl(str(name), str(type_tok), _tok_span(self.file, type_tok), str(who),
                                   str(period), self._options(opts), initial, self._s(meta), keys)

    def acc_key(self, meta, c):
        return ("key", (str(c[0]), _tok_span(self.file, c[0])))

    def once(self, meta, c):
        return (str(c[0]), _tok_span(self.file, c[0]))

    def year_decl(self, meta, c):
        date, start, clause = c
        first = None
        if start is not None:
            month, day = (int(x) for x in str(start).split("-"))
            first = (month, day, _tok_span(self.file, start))
        return ast.YearDecl(str(date), _tok_span(self.file, date), first,
                            clause[1] if clause is not None else None, self._s(meta))

    def rule_decl(self, meta, c):
        kind, name, type_tok, *opts, expr = c
        return ast.RuleDecl(str(kind) == "output", str(name), str(type_tok), _tok_span(self.file, type_tok),
                            self._options(opts), expr, self._s(meta))

    def any_cell(self, meta, c):
        return ast.Cell("any", None, (), self._s(meta))

    def eq_cell(self, meta, c):
        return ast.Cell("eq", "==", (c[0],), self._s(meta))

    def cmp_cell(self, meta, c):
        op = {"≤": "<=", "≥": ">=", "≠": "!="}.get(str(c[0]), str(c[0]))
        return ast.Cell("cmp", op, (c[1],), self._s(meta))

    def range_cell(self, meta, c):
        return ast.Cell("range", None, (c[0], c[1]), self._s(meta))

    def in_cell(self, meta, c):
        return ast.Cell("in", None, c[0], self._s(meta))

    def not_in_cell(self, meta, c):
        return ast.Cell("not_in", None, c[0], self._s(meta))

    def table_row(self, meta, c):
        clause = c[-1][1] if c[-1] is not None else None
        return ast.Row(tuple(c[:-2]), c[-2], clause, False, self._s(meta))

    def default_row(self, meta, c):
        clause = c[1][1] if c[1] is not None else None
        return ast.Row((), c[0], clause, True, self._s(meta))

    def table_decl(self, meta, c):
        name = c[0]
        i = 1
        columns = []
        while not isinstance(c[i], Token):
            columns.append(c[i])
            i += 1
        type_tok = c[i]
        opts = [x for x in c[i + 1:] if isinstance(x, tuple)]
        rows = [x for x in c[i + 1:] if isinstance(x, ast.Row) and not x.is_default]
        default = next((x for x in c[i + 1:] if isinstance(x, ast.Row) and x.is_default), None)
        return ast.TableDecl(str(name), tuple(columns), str(type_tok), _tok_span(self.file, type_tok),
                             self._options(opts), tuple(rows), default, self._s(meta))

    def cumulative(self, meta, c):
        return ("cumulative", c[0])

    def band(self, meta, c):
        clause = c[3][1] if c[3] is not None else None
        return ast.Band(c[0], c[1], c[2], clause, self._s(meta))

    def brackets_decl(self, meta, c):
        name, type_tok, on, cumulative, *rest = c
        opts = [x for x in rest if isinstance(x, tuple)]
        bands = tuple(x for x in rest if isinstance(x, ast.Band))
        cum = cumulative[1] if cumulative is not None else None
        return ast.BracketsDecl(str(name), str(type_tok), _tok_span(self.file, type_tok), on, cum,
                                self._options(opts), bands, self._s(meta))

    def update_decl(self, meta, c):
        target, amount, once, when, clause = c
        return ast.UpdateDecl(str(target), _tok_span(self.file, target), amount, when,
                              clause[1] if clause is not None else None, self._s(meta), once)

    # ---- examples
    def assignment(self, meta, c):
        return ast.Assignment(str(c[0]), c[1], self._s(meta))

    def state_block(self, meta, c):
        return ("state", tuple(c))

    def expect_values(self, meta, c):
        return ("values", tuple(c))

    def expect_out_of_scope(self, meta, c):
        return ("out", _string(c[0]) if c[0] is not None else "")

    def step(self, meta, c):
        *inputs, (kind, payload) = c
        if kind == "values":
            return ast.Step(tuple(inputs), payload, None, self._s(meta))
        return ast.Step(tuple(inputs), None, payload, self._s(meta))

    def example_decl(self, meta, c):
        state = c[1][1] if c[1] is not None else ()
        return ast.ExampleDecl(_string(c[0]), state, tuple(c[2:]), self._s(meta))


def _band_number(token) -> object:
    """`band 2`: the band's number, an int; a number that is not whole stays a Decimal, for composition
    to refuse with the bands there are."""
    value = Decimal(str(token))
    return int(value) if value == value.to_integral_value() else value


# ---- the concrete syntax, for the formatter -----------------------------------------------------
@dataclasses.dataclass
class Leaf:
    """One token as written (its text verbatim) with its position; `kind` is the terminal's name."""
    kind: str
    text: str
    line: int
    col: int
    end_line: int
    end_col: int


@dataclasses.dataclass
class Branch:
    """One grammar rule (its alias if it has one) with every token kept, keywords and punctuation too."""
    kind: str
    children: list


_CONCRETE_LOCK = __import__("threading").Lock()
_comments: list = []


@lru_cache(maxsize=1)
def _concrete_lark() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", keep_all_tokens=True,
                maybe_placeholders=True, lexer_callbacks={"COMMENT": _comments.append})


def concrete_tree(text: str) -> tuple[Branch, list[Leaf]]:
    """The whole file's tree with every token, and its comments (which the grammar ignores) in order.
    Call it on text that `parse_text` accepts; raises ValueError otherwise."""
    root = Branch("start", [])
    with _CONCRETE_LOCK:  # the lexer callback fills one shared list
        _comments.clear()
        try:
            for start_line, chunk in _chunks(text):  # as parse_text does: one parse per declaration
                root.children.extend(_branch(_concrete_lark().parse("\n" * (start_line - 1) + chunk)).children)
        except UnexpectedInput as exc:
            raise ValueError(str(exc)) from None
        finally:
            comments = [_leaf(t) for t in _comments]
            _comments.clear()
    return root, comments


def _leaf(tok: Token) -> Leaf:
    return Leaf(tok.type, str(tok), tok.line, tok.column, tok.end_line, tok.end_column)


def _branch(tree) -> Branch:
    """Iterative, so that deep nesting (within the limits) does not exhaust Python's stack."""
    root = Branch(str(tree.data), [])
    stack = [(tree, root)]
    while stack:
        node, out = stack.pop()
        for child in node.children:
            if child is None:
                continue
            if isinstance(child, Token):
                out.children.append(_leaf(child))
            else:
                branch = Branch(str(child.data), [])
                out.children.append(branch)
                stack.append((child, branch))
    return root
