"""The outline of a document: the header, enumerations with their members, inputs, rules, outputs,
assumptions, tables with their rows, brackets with their bands, accumulators, amendments, properties
and examples, each with its whole declaration as range and its name as selection range."""
from __future__ import annotations

from dataclasses import dataclass, field

from policylang.lsp.index import decl_kind, name_token
from policylang.lsp.text import Text
from policylang.syntax import ast


@dataclass
class Symbol:
    name: str
    kind: str  # policy | enum | member | input | rule | output | assumption | table | row | brackets | band |
    #            accumulator | fact | amend | property | example
    span: object  # the whole declaration
    selection: tuple  # (line, col, end_col) of the name, or of the keyword for a declaration named by a string
    detail: str = ""
    children: list = field(default_factory=list)


def outline(module: ast.Module, text: Text) -> list[Symbol]:
    out = []
    for decl in module.decls:
        symbol = _symbol(decl, text)
        if symbol is not None:
            out.append(symbol)
    return out


def _symbol(decl, text: Text) -> Symbol | None:
    kind = decl_kind(decl)
    head = (decl.span.line, decl.span.col, decl.span.col + 1)
    if kind is not None:
        symbol = Symbol(decl.name, kind, decl.span, _name(text, decl.span, decl.name) or head,
                        getattr(decl, "type_name", "") or "")
        if isinstance(decl, ast.EnumDecl):
            symbol.children = [Symbol(m.name, "member", m.span, _name(text, m.span, m.name) or
                                      (m.span.line, m.span.col, m.span.col + 1), m.label or "") for m in decl.members]
        elif isinstance(decl, ast.TableDecl):
            rows = list(decl.rows) + ([decl.default] if decl.default else [])
            symbol.children = [Symbol("default" if r.is_default else f"row {i}", "row", r.span,
                                      (r.span.line, r.span.col, r.span.col + 1), r.clause or "")
                               for i, r in enumerate(rows, 1)]
        elif isinstance(decl, ast.BracketsDecl):
            symbol.children = [Symbol(f"band {i}", "band", b.span, (b.span.line, b.span.col, b.span.col + 1),
                                      b.clause or "") for i, b in enumerate(decl.bands, 1)]
        return symbol
    if isinstance(decl, ast.PolicyHeader):
        return Symbol(decl.title, decl.kind, decl.span, head, decl.document or "")
    if isinstance(decl, ast.PropertyDecl):
        return Symbol(decl.name, "property", decl.span, head, decl.clause or "")
    if isinstance(decl, ast.ExampleDecl):
        return Symbol(decl.name, "example", decl.span, head, f"{len(decl.steps)} claim(s)")
    if isinstance(decl, ast.AmendDecl):
        return Symbol(f"amend {decl.target}", "amend", decl.span,
                      (decl.target_span.line, decl.target_span.col, decl.target_span.end_col), decl.clause or "")
    return None


def _name(text: Text, span, name: str) -> tuple | None:
    token = name_token(text, span, name)
    return (token.line, token.col, token.end_col) if token else None
