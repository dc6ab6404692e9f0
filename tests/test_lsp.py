"""`policylang lsp` end to end: the server runs as a subprocess and the tests speak LSP to it (pytest-lsp).

Real policies are opened from policies/ (read, never written); documents with errors are copied from
tests/lsp/ into a temporary folder (stored as .pol.txt so that repository-wide .pol tests skip them).
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[1]
ZHOUSHAN = ROOT / "policies" / "zhoushan-2023.pol"
BASELINE = ROOT / "policies" / "zhoushan-2023-baseline.pol"
SHAOXING = ROOT / "policies" / "shaoxing-2024.pol"
FIXTURES = ROOT / "tests" / "lsp"
SERVER = [sys.executable, "-c", "from policylang.cli import main; main(['lsp'])"]

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=SERVER, server_env={**os.environ, "PYTHONPATH": str(ROOT)}))
async def client(lsp_client: LanguageClient):
    lsp_client.refreshes = 0

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(params):  # the server asks for new lenses when a background check ends
        lsp_client.refreshes += 1

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lsp")
    for fixture in FIXTURES.glob("*.pol.txt"):
        shutil.copy(fixture, folder / fixture.name.removesuffix(".txt"))
    return folder


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="policylang", version=1, text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def position(path: Path, needle: str, occurrence: int = 0, offset: int = 0) -> types.Position:
    """The LSP position (UTF-16) of the `occurrence`-th line containing needle, `offset` characters in."""
    hits = [(n, line) for n, line in enumerate(lines_of(path)) if needle in line]
    number, line = hits[occurrence]
    before = line[: line.index(needle) + offset]
    return types.Position(number, len(before.encode("utf-16-le")) // 2)


def line_matching(path: Path, pattern: str) -> int:
    """The 1-based number of the one line that matches the regular expression (as `file:line` prints it):
    tests name a place by its text, so reformatting or an edit elsewhere in the file does not move it."""
    hits = [n for n, line in enumerate(lines_of(path), 1) if re.search(pattern, line)]
    assert len(hits) == 1, f"{path.name}: {len(hits)} lines match {pattern!r}"
    return hits[0]


async def diagnostics_for(client: LanguageClient, uri: str, timeout: float = 20.0) -> list:
    for _ in range(int(timeout / 0.1)):
        if uri in client.diagnostics:
            return list(client.diagnostics[uri])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no diagnostics published for {uri}")


# ---- diagnostics ---------------------------------------------------------------------------------------
async def test_diagnostic_at_a_lines_end_after_an_astral_character(client: LanguageClient, scratch: Path):
    path = scratch / "errors.pol"
    uri = open_file(client, path)
    found = await diagnostics_for(client, uri)
    assert [d.code for d in found] == ["E0201"]
    diag = found[0]
    line = lines_of(path)[5]
    name = "未定义的名字"
    assert line.endswith(name)
    start = len(line[: line.index(name)].encode("utf-16-le")) // 2  # 𝄞 before it counts two units
    assert len(line[: line.index(name)]) == start - 1
    assert diag.range == types.Range(types.Position(5, start), types.Position(5, start + len(name)))
    assert "unknown name `未定义的名字`" in diag.message and "hint:" in diag.message
    assert diag.severity == types.DiagnosticSeverity.Error and diag.source == "policylang"


async def test_diagnostics_follow_edits_and_clear(client: LanguageClient, scratch: Path):
    path = scratch / "edited.pol"
    text = (FIXTURES / "errors.pol.txt").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    uri = open_file(client, path)
    assert [d.code for d in await diagnostics_for(client, uri)] == ["E0201"]
    client.diagnostics.pop(uri)
    broken = text.replace("rule 报销金额: money", "rule 报销金额 money")  # a syntax error
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)]))
    found = await diagnostics_for(client, uri)
    assert [d.code for d in found] == ["E0102"], found
    assert found[0].range.start.line == 5
    client.diagnostics.pop(uri)
    fixed = text.replace("未定义的名字", "自付金额")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    assert await diagnostics_for(client, uri) == []


async def test_a_real_policy_has_no_diagnostics(client: LanguageClient):
    uri = open_file(client, ZHOUSHAN)
    assert await diagnostics_for(client, uri) == []


# ---- hover -------------------------------------------------------------------------------------------
async def hover_text(client: LanguageClient, path: Path, where: types.Position) -> str:
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=where))
    assert result is not None, f"no hover at {where}"
    return result.contents.value


async def test_hover_output_type_platform_field_and_quoted_clause(client: LanguageClient):
    open_file(client, SHAOXING)
    # the cursor at the name's end, as after typing it
    text = await hover_text(client, SHAOXING, position(SHAOXING, "output 统筹支付", offset=len("output 统筹支付")))
    assert "**output** `统筹支付`: money" in text and "platform field `hifp_pay`" in text
    assert "clause （六）" in text and "> （六）完善城乡居民慢性病门诊待遇" in text


async def test_hover_input_and_member(client: LanguageClient):
    open_file(client, ZHOUSHAN)
    text = await hover_text(client, ZHOUSHAN, position(ZHOUSHAN, "if 就诊类型 != 普通住院", offset=4))
    assert "**input** `就诊类型`: 就诊类型" in text and "platform field `med_type`" in text
    text = await hover_text(client, ZHOUSHAN, position(ZHOUSHAN, "if 就诊类型 != 普通住院", offset=12))
    assert "**member** `普通住院` of `就诊类型`" in text and "`21`" in text


async def test_hover_assumption_value_and_source(client: LanguageClient):
    open_file(client, ZHOUSHAN)
    text = await hover_text(client, ZHOUSHAN, position(ZHOUSHAN, "amend 居民住院基层比例", offset=8))
    assert "**assumption** `居民住院基层比例`: rate" in text
    assert "value: **85%**" in text
    declared = line_matching(BASELINE, r"^assumption 居民住院基层比例\b")
    amended = line_matching(ZHOUSHAN, r"^amend 居民住院基层比例\b")
    assert f"source: assumed as 80% at zhoushan-2023-baseline.pol:{declared}" in text
    assert f"amended at zhoushan-2023.pol:{amended} clause 二（一）2" in text


async def test_hover_table_row_clause(client: LanguageClient):
    open_file(client, ZHOUSHAN)
    row = line_matching(ZHOUSHAN, r"^\s*> 6%\s+-> 5pp\b")  # the formatter aligns the arrows
    text = await hover_text(client, ZHOUSHAN, types.Position(row - 1, lines_of(ZHOUSHAN)[row - 1].index("6%")))
    assert text.startswith("**row 2** of table `中治率追加档`") and "clause 二（二）8" in text


# ---- definition and references across files --------------------------------------------------------------
async def test_definition_across_extends(client: LanguageClient):
    uri = open_file(client, ZHOUSHAN)
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(ZHOUSHAN, "amend 居民住院基层比例", offset=7)))
    where = position(BASELINE, "assumption 居民住院基层比例", offset=len("assumption "))
    assert found[0].uri == BASELINE.as_uri()
    assert found[0].range == types.Range(where, types.Position(where.line, where.character + len("居民住院基层比例")))


async def test_definition_of_an_extends_path_is_the_base_file(client: LanguageClient):
    uri = open_file(client, ZHOUSHAN)
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(ZHOUSHAN, 'extends "zhoushan', offset=12)))
    assert [f.uri for f in found] == [BASELINE.as_uri()]


async def test_definition_of_a_prelude_input(client: LanguageClient):
    uri = open_file(client, ZHOUSHAN)
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(ZHOUSHAN, "if 就诊类型 != 普通住院", offset=4)))
    assert found[0].uri.endswith("/policylang/semantics/prelude.pol")


async def test_references_across_files(client: LanguageClient):
    uri = open_file(client, ZHOUSHAN)
    found = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(ZHOUSHAN, "amend 居民住院基层比例", offset=7),
        context=types.ReferenceContext(include_declaration=True)))
    places = {(Path(types_uri_path(r.uri)).name, r.range.start.line + 1) for r in found}
    assert ("zhoushan-2023.pol", line_matching(ZHOUSHAN, r"^amend 居民住院基层比例\b")) in places  # the amendment
    assert ("zhoushan-2023-baseline.pol", line_matching(BASELINE, r"^assumption 居民住院基层比例\b")) in places  # the declaration
    read = [n for n, line in enumerate(lines_of(BASELINE), 1) if "居民住院基层比例" in line and not line.startswith(("assumption", "#"))]
    assert read and all(("zhoushan-2023-baseline.pol", n) in places for n in read)
    for r in found:  # every range spells the name
        text = lines_of(Path(types_uri_path(r.uri)))[r.range.start.line]
        units = text.encode("utf-16-le")
        assert units[2 * r.range.start.character: 2 * r.range.end.character].decode("utf-16-le") == "居民住院基层比例"


def types_uri_path(uri: str) -> str:
    from pygls.uris import to_fs_path

    return to_fs_path(uri)


# ---- completion ----------------------------------------------------------------------------------------------
async def complete(client: LanguageClient, path: Path, text: str, where: types.Position) -> list:
    uri = (path.parent / f"completion-{where.line}-{where.character}.pol").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="policylang", version=1, text=text)))
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=where))
    return result.items


async def test_completion_members_after_a_comparison(client: LanguageClient):
    text = ZHOUSHAN.read_text(encoding="utf-8").replace("holds 起付线 == 0元", "holds 机构级别 == ")
    line = next(n for n, s in enumerate(text.split("\n")) if "holds 机构级别 == " in s)
    items = await complete(client, ZHOUSHAN, text, types.Position(line, len(text.split("\n")[line])))
    labels = [i.label for i in items]
    assert "基层" in labels and "三级" in labels and "政策范围内费用" not in labels


async def test_completion_of_a_chinese_name_replaces_the_whole_prefix(client: LanguageClient):
    text = ZHOUSHAN.read_text(encoding="utf-8").replace("holds 起付线 == 0元", "holds 居民住院")
    line = next(n for n, s in enumerate(text.split("\n")) if "holds 居民住院" in s)
    end = len(text.split("\n")[line])
    items = await complete(client, ZHOUSHAN, text, types.Position(line, end))
    item = next(i for i in items if i.label == "居民住院基层比例")
    assert item.text_edit.range == types.Range(types.Position(line, end - 4), types.Position(line, end))


async def test_completion_keywords_and_claim_inputs(client: LanguageClient):
    text = ZHOUSHAN.read_text(encoding="utf-8")
    lines = text.split("\n")
    blank = next(n for n, s in enumerate(lines) if s == "" and n > 40)
    items = await complete(client, ZHOUSHAN, text, types.Position(blank, 0))
    assert {"rule", "table", "example", "property"} <= {i.label for i in items}
    claim = next(n for n, s in enumerate(lines) if s.strip() == "claim {")
    edited = "\n".join(lines[: claim + 1] + ["    "] + lines[claim + 1:])
    items = await complete(client, ZHOUSHAN, edited, types.Position(claim + 1, 4))
    labels = {i.label for i in items}
    assert {"就诊日期", "政策范围内费用", "中治率"} <= labels and "统筹支付" not in labels


# ---- symbols, formatting ----------------------------------------------------------------------------------------
async def test_document_symbols(client: LanguageClient):
    uri = open_file(client, ZHOUSHAN)
    found = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    by_name = {s.name: s for s in found}
    assert by_name["追加付费点数"].kind == types.SymbolKind.Function
    table = by_name["中治率追加档"]
    assert table.kind == types.SymbolKind.Struct and [c.name for c in table.children] == ["row 1", "row 2", "default"]
    assert by_name["中治率更高的病组付费不更低"].kind == types.SymbolKind.Boolean
    assert by_name["二（二）8：中治率恰好 6% 不追加（大于）；6.01% 追加 5%"].kind == types.SymbolKind.Event
    assert by_name["中治率"].kind == types.SymbolKind.Variable
    assert by_name["amend 居民住院基层比例"].kind == types.SymbolKind.Operator
    where = position(ZHOUSHAN, "rule 追加付费点数", offset=5)
    assert by_name["追加付费点数"].selection_range.start == where
    zibo = ROOT / "policies" / "zibo-2023.pol"
    found = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=open_file(client, zibo))))
    brackets = next(s for s in found if s.name == "大病分段")
    assert brackets.kind == types.SymbolKind.Array and [c.name for c in brackets.children] == ["band 1", "band 2", "band 3"]


async def format_request(client: LanguageClient, uri: str):
    return await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=uri), options=types.FormattingOptions(tab_size=2, insert_spaces=True)))


def apply_edits(text: str, edits) -> str:
    """The text after the edits (UTF-16 positions, applied from the last to the first)."""
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        before = "\n".join(lines[: p.line]) + ("\n" if p.line else "")
        line = lines[p.line].encode("utf-16-le")[: 2 * p.character].decode("utf-16-le")
        return len(before) + len(line)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def test_formatting_goes_through_fmt(client: LanguageClient, scratch: Path):
    fmt = pytest.importorskip("policylang.fmt")
    source = SHAOXING.read_text(encoding="utf-8")
    assert fmt.format_source(source, str(SHAOXING)) == source  # the repository's policies are formatted
    edits = await format_request(client, open_file(client, SHAOXING))
    assert edits is not None and list(edits) == []  # (the client decodes an empty array as a tuple)
    path = scratch / "unformatted.pol"  # the same policy, indented by four: formatting restores it
    messy = source.replace("\n  ", "\n    ")
    path.write_text(messy, encoding="utf-8")
    edits = await format_request(client, open_file(client, path))
    assert edits and apply_edits(messy, edits) == fmt.format_source(messy, str(path)) == source


# ---- code lenses ------------------------------------------------------------------------------------------------
async def lenses(client: LanguageClient, uri: str) -> list:
    return await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))


async def test_example_lenses_show_pass_and_fail(client: LanguageClient, scratch: Path):
    uri = open_file(client, scratch / "failing.pol")
    found = {lens.range.start.line: lens.command for lens in await lenses(client, uri)}
    assert found[6].title == "▶ example passes (1 claim)"
    assert found[14].title == "▶ example FAILS — 统筹支付: expected 70.00元, actual 60.00元"
    message = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=found[14].command, arguments=found[14].arguments))
    assert message.startswith("FAIL 写错的期望") and "claim 1: 统筹支付: expected 70.00元" in message


async def test_property_lenses_show_the_background_check(client: LanguageClient):
    uri = open_file(client, ZHOUSHAN)
    properties = [n for n, line in enumerate(lines_of(ZHOUSHAN)) if line.startswith("property")]
    for _ in range(300):  # the worker process checks with a 5 s budget
        titles = {lens.range.start.line: lens.command.title for lens in await lenses(client, uri)}
        if all("running" not in titles[n] for n in properties):
            break
        await asyncio.sleep(0.1)
    assert [titles[n] for n in properties] == ["check: ✓ proved"] * len(properties)
    assert client.refreshes >= 1
    examples = [n for n, line in enumerate(lines_of(ZHOUSHAN)) if line.startswith("example")]
    assert all(titles[n].startswith("▶ example passes") for n in examples)


async def test_an_error_in_a_base_file_is_shown_on_that_file(client: LanguageClient, scratch: Path):
    base = (FIXTURES / "errors.pol.txt").read_text(encoding="utf-8")
    (scratch / "base.pol").write_text(base, encoding="utf-8")
    child = scratch / "child.pol"
    child.write_text('policy "子" {\n  extends "base.pol"\n  in force from 2024-01-01\n}\n', encoding="utf-8")
    uri = open_file(client, child)
    assert await diagnostics_for(client, uri) == []
    found = await diagnostics_for(client, (scratch / "base.pol").as_uri())
    assert [d.code for d in found] == ["E0201"] and found[0].range.start.line == 5


async def test_a_guideline_is_not_reported_as_a_policy(client: LanguageClient):
    guideline = sorted((ROOT / "guidelines").glob("*.pol"))[0]
    uri = open_file(client, guideline)
    assert await diagnostics_for(client, uri) == []


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=SERVER, server_env={**os.environ, "PYTHONPATH": str(ROOT)}))
async def utf8_client(lsp_client: LanguageClient):
    capabilities = client_capabilities("visual-studio-code")
    capabilities.general = types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf8])
    result = await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities,
                                                                        root_uri=ROOT.as_uri()))
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    yield
    await lsp_client.shutdown_session()


async def test_positions_in_utf8_when_the_client_asks(utf8_client: LanguageClient, scratch: Path):
    path = scratch / "errors.pol"
    uri = open_file(utf8_client, path)
    [diag] = await diagnostics_for(utf8_client, uri)
    line = lines_of(path)[5]
    name = "未定义的名字"
    start = len(line[: line.index(name)].encode("utf-8"))
    assert diag.range == types.Range(types.Position(5, start), types.Position(5, start + len(name.encode("utf-8"))))


async def test_references_reach_a_guideline_that_reads_an_output_by_its_platform_name(client: LanguageClient):
    uri = open_file(client, SHAOXING)
    found = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(SHAOXING, "output 报销比例", offset=8),
        context=types.ReferenceContext(include_declaration=False)))
    guideline = ROOT / "guidelines" / "national-2023.pol"
    reads = [n for n, line in enumerate(lines_of(guideline)) if line.strip().startswith("holds pool_prop_selfpay")]
    assert reads and all(any(r.uri == guideline.as_uri() and r.range.start.line == n for r in found) for n in reads)
