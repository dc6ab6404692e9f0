"""The pygls wiring: LSP messages in, the analysis and features of this package out.

Every request sees the document's current text: an analysis is cached by the text it was made from and
made again when the text changed (didChange only schedules one, 0.2 s after the author stops typing,
to publish diagnostics). Positions are converted with the encoding agreed at `initialize` (UTF-16
unless the client offers another), line by line, at "\\n" as the lexer counts lines.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
from importlib.metadata import PackageNotFoundError, version

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from policylang.lsp import completion, convert, hover, lenses, symbols
from policylang.lsp.analysis import Analysis, analyse, file_at, key_at
from policylang.lsp.text import Text

DEBOUNCE = 0.2
def _version() -> str:
    try:
        return version("policylang")
    except PackageNotFoundError:
        return "0"


class PolicyServer(LanguageServer):
    def __init__(self):
        super().__init__("policylang", _version())
        self.analyses: dict[str, tuple[str, Analysis]] = {}  # uri -> (text, analysis of that text)
        self.good: dict[str, Analysis] = {}  # uri -> the last analysis that loaded
        self.published: dict[str, set] = {}  # uri -> the uris its diagnostics went to
        self.verdicts: dict[str, tuple[str, dict]] = {}  # uri -> (digest of the text checked, verdicts)
        self.running: dict[str, str] = {}  # uri -> digest of the text being checked
        self.pending: dict[str, int] = {}  # uri -> number of the last change (debounce)
        self.example_lenses: dict[str, tuple] = {}  # uri -> (the analysis they were run on, lenses)
        self._pool = None  # multiprocessing.Pool: the background checker

    # ---- documents ----
    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or "utf-16")

    def path(self, uri: str) -> str:
        return to_fs_path(uri) or uri

    def analysis(self, uri: str) -> Analysis:
        source = self.workspace.get_text_document(uri).source
        cached = self.analyses.get(uri)
        if cached is None or cached[0] != source:
            result = analyse(source, self.path(uri), self.encoding)
            self.analyses[uri] = (source, result)
            if result.loads:
                self.good[uri] = result
            return result
        return cached[1]

    def publish(self, uri: str) -> None:
        result = self.analysis(uri)
        by_uri: dict[str, list] = {uri: []}
        for diag in result.diagnostics:
            file = diag.span.file
            target = uri if file == result.path else convert.uri(file)
            text = result.texts.get(file) or (result.text if target == uri else convert.read(file, self.encoding))
            by_uri.setdefault(target, []).append(convert.diagnostic(diag, text))
        for stale in self.published.get(uri, set()) - set(by_uri):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=stale, diagnostics=[]))
        for target, diags in by_uri.items():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=target, diagnostics=diags))
        self.published[uri] = set(by_uri)

    # ---- background checks ----
    def start_check(self, uri: str) -> None:
        """Check the document's properties in the worker process, if it loads and has any."""
        result = self.analysis(uri)
        if result.policy is None or not result.policy.properties:
            return
        source = result.text.text
        digest = lenses.digest(source)
        if self.running.get(uri) == digest or self.verdicts.get(uri, ("",))[0] == digest:
            return
        if self._pool is None:  # one worker, started on the first check; killed at shutdown
            self._pool = multiprocessing.get_context("spawn").Pool(1)
        self.running[uri] = digest
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pool.apply_async(lenses.check_text, (source, self.path(uri)),
                               callback=lambda value: loop.call_soon_threadsafe(_settle, future, value, None),
                               error_callback=lambda exc: loop.call_soon_threadsafe(_settle, future, None, exc))
        asyncio.ensure_future(self._checked(uri, digest, future))

    async def _checked(self, uri: str, digest: str, future) -> None:
        try:
            verdicts = await future
        except Exception as exc:  # noqa: BLE001 - a check that crashed is shown, not lost
            verdicts = {"": ("internal-error", f"{type(exc).__name__}: {exc}")}
        if self.running.get(uri) == digest:
            del self.running[uri]
        self.verdicts[uri] = (digest, verdicts)
        refresh = getattr(getattr(getattr(self.client_capabilities, "workspace", None), "code_lens", None),
                          "refresh_support", False)
        if refresh:
            self.workspace_code_lens_refresh(None)

    def shutdown_pool(self) -> None:
        """A check still running is of no use once the editor has gone: the worker is killed, not awaited."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None


def _settle(future: asyncio.Future, value, exc) -> None:
    if not future.done():
        future.set_exception(exc) if exc is not None else future.set_result(value)


def _arguments(args) -> list:
    """Command arguments, whether pygls passes them as one list or spread."""
    return list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)


def build_server() -> PolicyServer:
    server = PolicyServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PolicyServer, params: types.DidOpenTextDocumentParams):
        ls.publish(params.text_document.uri)
        ls.start_check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: PolicyServer, params: types.DidChangeTextDocumentParams):
        uri = params.text_document.uri
        number = ls.pending[uri] = ls.pending.get(uri, 0) + 1
        await asyncio.sleep(DEBOUNCE)
        if ls.pending.get(uri) == number:
            ls.publish(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PolicyServer, params: types.DidSaveTextDocumentParams):
        ls.publish(params.text_document.uri)
        ls.start_check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PolicyServer, params: types.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        for target in ls.published.pop(uri, set()):
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=target, diagnostics=[]))
        for table in (ls.analyses, ls.good, ls.verdicts, ls.pending, ls.example_lenses):
            table.pop(uri, None)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: PolicyServer, params):
        ls.shutdown_pool()

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: PolicyServer, params: types.HoverParams):
        uri = params.text_document.uri
        result = ls.analysis(uri)
        line, col = convert.position(result, params.position)
        text = hover.hover_text(result, ls.good.get(uri), line, col)
        if text is None:
            return None
        found = key_at(result, ls.good.get(uri), line, col)
        where = convert.lsp_range(result.text, line, found[2], line, found[3]) if found else None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=where)

    def _key(ls: PolicyServer, uri: str, position: types.Position):
        result = ls.analysis(uri)
        line, col = convert.position(result, position)
        found = key_at(result, ls.good.get(uri), line, col)
        return (found[0], (found[1], result)) if found else (None, None)

    def _location(result: Analysis, file: str, line: int, col: int, end_col: int) -> types.Location:
        text = result.texts.get(file) or convert.read(file, result.text.encoding)
        return types.Location(uri=convert.uri(file), range=convert.lsp_range(text, line, col, line, end_col))

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: PolicyServer, params: types.DefinitionParams):
        key, found = _key(ls, params.text_document.uri, params.position)
        if key is None:  # on `extends "base.pol"`: the file itself
            result = ls.analysis(params.text_document.uri)
            file = file_at(result, *convert.position(result, params.position))
            return [types.Location(uri=convert.uri(file), range=types.Range(types.Position(0, 0),
                                                                             types.Position(0, 0)))] if file else None
        index, result = found
        defs = index.definitions.get(key, [])
        # the definition in effect first (an extending file's), then the ones it replaces
        return [_location(result, d.file, d.line, d.col, d.end_col) for d in reversed(defs)] or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def references(ls: PolicyServer, params: types.ReferenceParams):
        key, found = _key(ls, params.text_document.uri, params.position)
        if key is None:
            return None
        index, result = found
        wanted = params.context.include_declaration if params.context else True
        return [_location(result, o.file, o.line, o.col, o.end_col) for o in index.references(key)
                if wanted or not o.definition]

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=[" ", "{", ",", "="]))
    def complete(ls: PolicyServer, params: types.CompletionParams):
        uri = params.text_document.uri
        result = ls.analysis(uri)
        line, col = convert.position(result, params.position)
        good = ls.good.get(uri)
        if result.index is None and good is None:  # does not parse, never did: the file without this declaration
            blanked = analyse(completion.without_declaration(result.text.lines, line), result.path, ls.encoding)
            good = blanked if blanked.index is not None else None
        items, start = completion.complete(result, good, line, col)
        edit_range = convert.lsp_range(result.text, line, start, line, col) if start < col else \
            types.Range(params.position, params.position)
        seen, out = set(), []
        for item in items:
            if item.label in seen:
                continue
            seen.add(item.label)
            out.append(types.CompletionItem(label=item.label, kind=convert.COMPLETION_KIND.get(item.kind),
                                            detail=item.detail or item.kind,
                                            text_edit=types.TextEdit(range=edit_range, new_text=item.label)))
        return types.CompletionList(is_incomplete=False, items=out)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(ls: PolicyServer, params: types.DocumentSymbolParams):
        uri = params.text_document.uri
        result = ls.analysis(uri)
        source = result if result.module is not None else ls.good.get(uri)
        if source is None:
            return []
        return [convert.document_symbol(source.text, s) for s in symbols.outline(source.module, source.text)]

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: PolicyServer, params: types.DocumentFormattingParams):
        uri = params.text_document.uri
        source = ls.workspace.get_text_document(uri).source
        try:
            from policylang.fmt import FormatError, format_source
        except ImportError:
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Error,
                                                           "this policylang has no formatter (policylang.fmt)"))
            return None
        try:
            formatted = format_source(source, ls.path(uri))
        except FormatError as exc:
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"not formatted: {exc}"))
            return None
        if formatted == source:
            return []
        text = Text(source, ls.encoding)
        last = len(text.lines)
        whole = convert.lsp_range(text, 1, 1, last, len(text.lines[-1]) + 1)
        return [types.TextEdit(range=whole, new_text=formatted)]

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: PolicyServer, params: types.CodeLensParams):
        uri = params.text_document.uri
        result = ls.analysis(uri)
        if result.policy is None:
            return []
        cached = ls.example_lenses.get(uri)
        if cached is None or cached[0] is not result:  # examples run once per text, not per request
            cached = ls.example_lenses[uri] = (result, lenses.example_lenses(result.policy, result.path, uri))
        found = list(cached[1])
        digest = lenses.digest(result.text.text)
        checked = ls.verdicts.get(uri)
        found += lenses.property_lenses(result.policy, result.path, uri, checked[1] if checked else None,
                                        stale=bool(checked) and checked[0] != digest, running=uri in ls.running)
        return [types.CodeLens(range=convert.lsp_range(result.text, lens.line, lens.col, lens.line, lens.col + 1),
                               command=types.Command(title=lens.title, command=lens.command, arguments=lens.arguments))
                for lens in found]

    @server.command("policylang.runExample")
    def run_example(ls: PolicyServer, *args):
        uri, name = _arguments(args)[:2]
        result = ls.analysis(uri)
        if result.policy is None:
            message = "the policy does not load: see its diagnostics"
        else:
            message = lenses.run_one(result.policy, name)
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, message))
        return message

    @server.command("policylang.showCheck")
    def show_check(ls: PolicyServer, *args):
        uri, name = _arguments(args)[:2]
        checked = ls.verdicts.get(uri)
        if checked is None:
            message = f"{name}: not checked yet"
        else:
            status, detail = checked[1].get(name, ("unknown", "no verdict"))
            message = f"{name}: {status}" + (f"\n{detail}" if detail else "")
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, message))
        return message

    return server


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    build_server().start_io()
