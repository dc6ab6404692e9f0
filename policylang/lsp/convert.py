"""LSP messages from this package's data: ranges in the agreed encoding, diagnostics, outline symbols,
the kinds of completion items and symbols."""
from __future__ import annotations

from lsprotocol import types
from pygls.uris import from_fs_path

from policylang.diagnostics import PRELUDE_NAME, PRELUDE_PATH
from policylang.lsp import symbols
from policylang.lsp.analysis import Analysis
from policylang.lsp.text import Text

SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
COMPLETION_KIND = {"keyword": types.CompletionItemKind.Keyword, "input": types.CompletionItemKind.Variable,
                   "rule": types.CompletionItemKind.Function, "output": types.CompletionItemKind.Function,
                   "assumption": types.CompletionItemKind.Constant, "table": types.CompletionItemKind.Struct,
                   "brackets": types.CompletionItemKind.Struct, "accumulator": types.CompletionItemKind.Variable,
                   "member": types.CompletionItemKind.EnumMember, "type": types.CompletionItemKind.Class}
SYMBOL_KIND = {"policy": types.SymbolKind.Namespace, "guideline": types.SymbolKind.Namespace,
               "enum": types.SymbolKind.Enum, "member": types.SymbolKind.EnumMember,
               "input": types.SymbolKind.Variable, "rule": types.SymbolKind.Function,
               "output": types.SymbolKind.Function, "assumption": types.SymbolKind.Constant,
               "table": types.SymbolKind.Struct, "row": types.SymbolKind.Field, "brackets": types.SymbolKind.Array,
               "band": types.SymbolKind.Field, "accumulator": types.SymbolKind.Variable,
               "fact": types.SymbolKind.Constant, "amend": types.SymbolKind.Operator,
               "property": types.SymbolKind.Boolean, "example": types.SymbolKind.Event}


def read(file: str, encoding: str) -> Text:
    """A file of the chain that the analysis did not keep (an unreadable one is empty: ranges clamp)."""
    try:
        with open(file, encoding="utf-8-sig") as handle:
            return Text(handle.read(), encoding)
    except OSError:
        return Text("", encoding)


def lsp_range(text: Text, line: int, col: int, end_line: int, end_col: int) -> types.Range:
    start = text.to_lsp(line, col)
    end = text.to_lsp(end_line, end_col)
    if end <= start:  # an empty span still marks a character, or the line's end
        end = text.to_lsp(line, col + 1)
    return types.Range(types.Position(*start), types.Position(*end))


def diagnostic(diag, text: Text) -> types.Diagnostic:
    span = diag.span
    message = diag.message + (f"\nhint: {diag.hint}" if diag.hint else "")
    return types.Diagnostic(range=lsp_range(text, span.line or 1, span.col or 1, span.end_line or 1, span.end_col or 1),
                            message=message, severity=SEVERITY.get(diag.severity, types.DiagnosticSeverity.Error),
                            code=diag.code, source="policylang")


def uri(file: str) -> str:
    """A Span's file as a URI; the prelude is the file inside the package."""
    return from_fs_path(str(PRELUDE_PATH) if file == PRELUDE_NAME else file)


def position(result: Analysis, where: types.Position) -> tuple[int, int]:
    """An LSP position in the document → (line, col), 1-based code points as Spans count them."""
    return result.text.from_lsp(where.line, where.character)


def document_symbol(text: Text, symbol: symbols.Symbol) -> types.DocumentSymbol:
    span = symbol.span
    line, col, end_col = symbol.selection
    return types.DocumentSymbol(name=symbol.name, kind=SYMBOL_KIND[symbol.kind], detail=symbol.detail or None,
                                range=lsp_range(text, span.line, span.col, span.end_line, span.end_col),
                                selection_range=lsp_range(text, line, col, line, end_col),
                                children=[document_symbol(text, c) for c in symbol.children] or None)
