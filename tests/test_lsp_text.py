"""The language server's positions and words, without a server: UTF-16 (and UTF-8) units, names as the
grammar's NAME token reads them (Chinese characters are name characters; `100元` is a number), and the
index telling an input from the enumeration of the same name."""
from __future__ import annotations

import os
from pathlib import Path

from policylang.lsp.analysis import analyse
from policylang.lsp.completion import complete, without_declaration
from policylang.lsp.text import Text

ROOT = Path(__file__).resolve().parents[1]


def test_astral_characters_count_two_utf16_units_and_four_utf8():
    line = 'rule 甲: money "𝄞" = 乙'
    text = Text(line)
    col = line.index("乙") + 1
    assert text.to_lsp(1, col) == (0, col)  # 𝄞 is one code point, two UTF-16 units: one more than its index
    assert text.to_lsp(1, col)[1] == len(line[: col - 1].encode("utf-16-le")) // 2
    assert text.from_lsp(0, len(line[: col - 1].encode("utf-16-le")) // 2) == (1, col)
    utf8 = Text(line, "utf-8")
    assert utf8.to_lsp(1, col) == (0, len(line[: col - 1].encode("utf-8")))
    assert utf8.from_lsp(*utf8.to_lsp(1, col)) == (1, col)


def test_lines_are_counted_at_newlines_only():
    text = Text("a\u2028b\nc")  # the lexer does not break lines at U+2028
    assert text.to_lsp(2, 1) == (1, 0) and text.line_text(1) == "a\u2028b"


def test_a_name_is_the_whole_run_of_name_characters():
    text = Text("holds 居民住院基层比例 >= 100元 + x")
    for col in (7, 10, 15):  # start, middle, just after the last character
        assert text.word_at(1, col) == ("居民住院基层比例", 7, 15)
    assert text.word_at(1, 20) is None  # 100元 is an amount
    assert text.prefix_at(1, 11) == ("居民住院", 7)


def test_an_input_and_its_enumeration_are_different_names():
    path = os.path.abspath(ROOT / "policies" / "zhoushan-2023.pol")
    result = analyse((ROOT / "policies" / "zhoushan-2023.pol").read_text(encoding="utf-8"), path)
    prelude = result.texts["<prelude>"]
    line = next(n for n, s in enumerate(prelude.lines, 1) if s.startswith("input 险种:"))
    first, second = [c + 1 for c, _ in enumerate(prelude.lines[line - 1]) if prelude.lines[line - 1].startswith("险种", c)][:2]
    assert result.index.at("<prelude>", line, first).key == ("value", "险种")
    assert result.index.at("<prelude>", line, second).key == ("type", "险种")


def test_completion_in_a_file_that_does_not_resolve_or_parse():
    source = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    lines = source.split("\n")
    number = next(n for n, s in enumerate(lines, 1) if s.startswith("rule 剩余限额"))
    path = str(ROOT / "policies" / "shaoxing-2024.pol")
    lines[number - 1] = "rule 剩余限额: money = 慢病"
    current = analyse("\n".join(lines), path)
    assert current.policy is None and current.index is not None  # 慢病 is unknown, but the file parses
    items, start = complete(current, None, number, len(lines[number - 1]) + 1)
    assert start == len("rule 剩余限额: money = ") + 1
    assert {"慢病限额", "慢病净报销"} <= {i.label for i in items}
    lines[number - 1] = "rule 剩余限额: money = if 就医地 == "
    current = analyse("\n".join(lines), path)
    assert current.index is None  # a syntax error: the rest of the file gives the names
    good = analyse(without_declaration(lines, number), path)
    items, _ = complete(current, good, number, len(lines[number - 1]) + 1)
    assert [i.label for i in items] == ["市内", "备案地", "其他异地"]


def test_the_server_reads_no_file_outside_the_root(tmp_path):
    """As `extends` in every command: a file outside the policy's root is never opened, even for the index."""
    secret = tmp_path / "secret.pol"
    secret.write_text('policy "秘密" { document "x" in force from 2024-01-01 }\nuse prelude\n'
                      'rule 秘密比例: rate = 99%\n', encoding="utf-8")
    inside = tmp_path / "repo"
    inside.mkdir()
    (inside / "pyproject.toml").write_text("", encoding="utf-8")
    child = inside / "child.pol"
    source = 'policy "子" {\n  extends "../secret.pol"\n  in force from 2024-01-01\n}\n'
    result = analyse(source, str(child))
    assert [d.code for d in result.diagnostics] == ["E0471"]
    assert str(secret) not in result.texts
    assert ("value", "秘密比例") not in result.index.definitions


def test_a_byte_order_mark_is_read_as_the_command_line_reads_it():
    source = "\ufeff" + (ROOT / "tests" / "lsp" / "failing.pol.txt").read_text(encoding="utf-8")
    result = analyse(source, str(ROOT / "tests" / "lsp" / "failing.pol"))
    assert result.diagnostics == [] and result.loads


def test_property_lens_titles():
    from policylang.lsp.lenses import property_lenses

    path = str(ROOT / "policies" / "shaoxing-2024.pol")
    policy = analyse((ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8"), path).policy
    first = policy.properties[0].name

    def titles(verdicts, stale=False, running=False):
        return {lens.title for lens in property_lenses(policy, path, "u", verdicts, stale, running)}

    assert titles(None, running=True) == {"check: running…"}
    assert titles(None) == {"check: not run yet (save to check)"}
    assert titles({"": ("internal-error", "BrokenPipeError")}) == {"check: ✗ internal error — BrokenPipeError"}
    shown = titles({first: ("violated", "a counterexample")}, stale=True, running=True)
    assert "check: ✗ violated — a counterexample (before your last edits; checking again…)" in shown
    assert "check: ? undecided — the check gave no verdict (before your last edits; checking again…)" in shown


def test_hover_while_the_text_does_not_parse_finds_the_name_under_the_cursor():
    from policylang.lsp.hover import hover_text

    path = str(ROOT / "policies" / "shaoxing-2024.pol")
    source = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    good = analyse(source, path)
    broken = "rule 半截: money = (\n\n" + source  # every line moves down two
    current = analyse(broken, path)
    assert current.index is None
    number = next(n for n, s in enumerate(broken.split("\n"), 1) if s.startswith("output 统筹支付"))
    assert hover_text(current, good, number, 10).startswith("**output** `统筹支付`: money")


def test_completion_in_the_header_offers_its_entries():
    path = str(ROOT / "policies" / "shaoxing-2024.pol")
    source = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    lines = source.split("\n")
    number = next(n for n, s in enumerate(lines, 1) if s.startswith("policy ")) + 1
    lines.insert(number - 1, "  ")
    current = analyse("\n".join(lines), path)
    labels = {i.label for i in complete(current, None, number, 3)[0]}
    assert {"extends", "conforms to", "in force from"} <= labels and "统筹支付" not in labels
