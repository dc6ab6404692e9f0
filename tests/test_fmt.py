"""`policylang fmt`: the canonical layout of each construct, comments kept where they were, the
safety check (a layout that changed the meaning or lost a comment is an internal error and nothing is
written), and the command's --check / --diff / in-place modes."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import policylang.fmt as fmt
from policylang.cli import main
from policylang.diagnostics import display_width
from policylang.fmt import FormatError, format_source
from policylang.fmt.layout import split_string
from policylang.pipeline import load_text

HEADER = 'policy "示例" {\n  document "甲"\n  in force from 2024-01-01\n}\n\nuse prelude\n\n'


def fmt_body(body: str) -> str:
    """The formatted declarations after the fixed header."""
    out = format_source(HEADER + textwrap.dedent(body))
    assert out.startswith(HEADER)
    return out[len(HEADER):]


def test_spacing_around_operators_arrows_and_punctuation():
    assert fmt_body("rule 甲 :money=max( 政策范围内费用-1元 ,0元)×50%\n") == (
        "rule 甲: money = max(政策范围内费用 - 1元, 0元) × 50%\n")
    assert fmt_body("rule 乙: bool = 机构级别 in {基层 ,二级} and not(政策范围内费用<=-1元)\n") == (
        "rule 乙: bool = 机构级别 in {基层, 二级} and not (政策范围内费用 <= -1元)\n")


def test_a_long_definition_breaks_after_its_equals_sign_and_between_branches():
    long_doc = "一段很长的说明文字" * 6
    out = fmt_body(f'rule 甲: money "{long_doc}" = if 政策范围内费用 > 100元 then 1元 '
                   f'else if 政策范围内费用 > 50元 then 2元 else 3元\n')
    assert out == (f'rule 甲: money "{long_doc}" =\n'
                   "  if 政策范围内费用 > 100元 then 1元 else if 政策范围内费用 > 50元 then 2元 else 3元\n")
    branches = " ".join(f"else if 政策范围内费用 > {n}元 then {n}元" for n in range(100, 1000, 100))
    out = fmt_body(f"rule 乙: money = if 政策范围内费用 > 1元 then 1元 {branches} else 0元\n")
    lines = out.splitlines()
    assert lines[0] == "rule 乙: money =" and lines[1] == "  if 政策范围内费用 > 1元 then 1元"
    assert lines[2] == "  else if 政策范围内费用 > 100元 then 100元" and lines[-1] == "  else 0元"


def test_a_lone_value_stays_after_a_long_header():
    long_doc = "一段很长的说明文字" * 6
    assert fmt_body(f'rule 甲: money "{long_doc}" = 1200元\n') == f'rule 甲: money "{long_doc}" = 1200元\n'


def test_table_columns_are_aligned_by_display_width():
    out = fmt_body("""\
        table 表 (机构级别, 病种) -> rate first {
        基层,肺结核->70%
          定点零售药店, _ -> 15% clause "（一）"
          default -> 10%
        }
        """)
    rows = out.splitlines()[1:-1]
    assert rows == ["  基层,         肺结核 -> 70%",
                    '  定点零售药店, _      -> 15% clause "（一）"',
                    "  default              -> 10%"]
    assert len({display_width(r.split("->")[0]) for r in rows}) == 1


def test_bands_are_aligned_and_spaced_when_a_bound_is_an_expression():
    out = fmt_body("""\
        rule 线: money = 1000元
        brackets 档: money on 政策范围内费用 {
          0元..线 -> 50%
          线 .. 线+1000元 -> 60%
          线+1000元 .. -> 70%
        }
        """)
    assert out.splitlines()[2:6] == ["brackets 档: money on 政策范围内费用 {",
                                     "  0元..线           -> 50%",
                                     "  线 .. 线 + 1000元 -> 60%",
                                     "  线 + 1000元 ..    -> 70%"]


def test_blocks_one_entry_a_line_and_claims_filled():
    out = fmt_body("""\
        scope { require 险种==城乡居民 else "只规定居民"  require 机构级别 != 基层 else "x" }
        example "例" { claim { 就诊日期=2024-01-01, 险种 = 城乡居民, 机构级别 = 二级, 政策范围内费用 = 1元,
        就诊类型 = 普通门诊, 病种 = 高血压 } expect not applicable "x" }
        """)
    assert out == textwrap.dedent("""\
        scope {
          require 险种 == 城乡居民 else "只规定居民"
          require 机构级别 != 基层 else "x"
        }

        example "例" {
          claim {
            就诊日期 = 2024-01-01, 险种 = 城乡居民, 机构级别 = 二级, 政策范围内费用 = 1元,
            就诊类型 = 普通门诊, 病种 = 高血压
          }
          expect not applicable "x"
        }
        """)


def test_long_quote_strings_are_wrapped_and_paragraphs_kept():
    long = "。".join(["一个医保年度内，已备案门诊慢性病病种的城乡居民医保参保人员累计净报销限额为 1200 元"] * 3)
    text = HEADER + f'rule 甲: money clause "（一）" = 1元\nquote "（一）" "{long}" "接着。"\n\n  "第二段。"\n'
    out = format_source(text)
    strings = [line.strip() for line in out.split('quote "（一）"')[1].splitlines() if line.strip()]
    assert len(strings) > 3 and all(display_width(line) <= 100 - 2 for line in out.splitlines() if '"' in line
                                    and "quote" not in line)
    assert load_text(out).quotes == load_text(text).quotes or (
        [q.paragraphs for q in load_text(out).quotes] == [q.paragraphs for q in load_text(text).quotes])
    assert [q.paragraphs for q in load_text(out).quotes] == [(long + "接着。", "第二段。")]


def test_split_string_never_cuts_an_escape():
    text = '"' + '\\"' * 80 + '"'
    pieces = split_string(text, 20)
    assert all(re.fullmatch(r'"(\\.|[^"\\])*"', p) and display_width(p) <= 20 for p in pieces)
    assert "".join(p[1:-1] for p in pieces) == text[1:-1]


def test_comments_stay_where_they_were():
    body = textwrap.dedent("""\
        # about the input

        input 费用: money  # trailing
        rule 甲: money =   # after the equals sign
          max(费用,
              # inside the call
              0元)
        table 表 (机构级别) -> rate first {
          # before a row
          基层 -> 70%  # after a row

          # before the closing brace
        }
        # at the end
        """)
    out = fmt_body(body)
    assert out == textwrap.dedent("""\
        # about the input

        input 费用: money  # trailing

        rule 甲: money =  # after the equals sign
          max(费用,
            # inside the call
            0元)

        table 表 (机构级别) -> rate first {
          # before a row
          基层 -> 70%  # after a row

          # before the closing brace
        }
        # at the end
        """)
    assert format_source(HEADER + out) == HEADER + out


def test_formatting_twice_gives_the_same_bytes():
    text = Path("tests/policies/constructs.pol").read_text(encoding="utf-8")
    # Declarations must start at column 1 (the parser splits the file there); everything else may move.
    messy = "\n".join(line if '"' in line or "#" in line or not line.startswith(" ") else
                      "    " + line.replace(" = ", "=").replace(", ", " ,") for line in text.split("\n"))
    assert messy != text
    once = format_source(messy, "tests/policies/constructs.pol")
    assert once == text
    assert format_source(once, "tests/policies/constructs.pol") == once


def test_a_syntax_error_is_the_authors_to_fix():
    with pytest.raises(FormatError) as caught:
        format_source(HEADER + "rule 甲: money = (1元\n")
    assert not caught.value.internal and "E010" in str(caught.value)


def test_a_layout_that_changes_the_meaning_is_an_internal_error(monkeypatch):
    real = fmt.Layout.file
    monkeypatch.setattr(fmt.Layout, "file", lambda self, root: real(self, root).replace("65%", "66%"))
    with pytest.raises(FormatError) as caught:
        format_source(HEADER + "rule 甲: rate =65%\n")
    assert caught.value.internal and "different syntax tree" in str(caught.value)


def test_a_layout_that_loses_a_comment_is_an_internal_error(monkeypatch):
    real = fmt.Layout.file
    monkeypatch.setattr(fmt.Layout, "file", lambda self, root: real(self, root).replace("  # 注", ""))
    with pytest.raises(FormatError) as caught:
        format_source(HEADER + "rule 甲: rate =65%  # 注\n")
    assert caught.value.internal and "comment" in str(caught.value)


def test_a_layout_that_changes_a_quotes_paragraphs_is_an_internal_error(monkeypatch):
    real = fmt.Layout.file
    monkeypatch.setattr(fmt.Layout, "file", lambda self, root: real(self, root).replace('"一"\n', '"一"\n\n'))
    with pytest.raises(FormatError) as caught:
        format_source(HEADER + 'rule 甲: rate clause "（一）" = 65%\nquote "（一）" "一"\n  "二"\n')
    assert caught.value.internal


# ---- the command ---------------------------------------------------------------------------------
def _run(args, capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_lists_files_that_would_change_and_writes_nothing(tmp_path, capsys):
    messy, tidy = tmp_path / "messy.pol", tmp_path / "tidy.pol"
    messy.write_text(HEADER + "rule 甲: rate =65%\n", encoding="utf-8")
    tidy.write_text(HEADER + "rule 甲: rate = 65%\n", encoding="utf-8")
    code, out, _ = _run(["fmt", "--check", str(tmp_path)], capsys)
    assert code == 1 and out == f"would reformat {messy}\n"
    assert messy.read_text(encoding="utf-8").endswith("=65%\n")
    code, out, _ = _run(["fmt", "--check", str(tidy)], capsys)
    assert code == 0 and out == ""


def test_diff_prints_a_unified_diff(tmp_path, capsys):
    messy = tmp_path / "messy.pol"
    messy.write_text(HEADER + "rule 甲: rate =65%\n", encoding="utf-8")
    code, out, _ = _run(["fmt", "--diff", str(messy)], capsys)
    assert code == 0 and "-rule 甲: rate =65%\n+rule 甲: rate = 65%\n" in out and out.startswith("---")
    assert messy.read_text(encoding="utf-8").endswith("=65%\n")


def test_in_place_writes_the_formatted_text_and_keeps_the_mode(tmp_path, capsys):
    messy = tmp_path / "messy.pol"
    messy.write_text("\ufeff" + HEADER + "rule 甲: rate =65%\n", encoding="utf-8")
    messy.chmod(0o640)
    code, _, err = _run(["fmt", str(messy)], capsys)
    assert code == 0 and "reformatted" in err
    assert messy.read_text(encoding="utf-8") == HEADER + "rule 甲: rate = 65%\n"
    assert messy.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["messy.pol"]


def test_an_internal_error_leaves_the_file_untouched(tmp_path, capsys, monkeypatch):
    real = fmt.Layout.file
    monkeypatch.setattr(fmt.Layout, "file", lambda self, root: real(self, root).replace("65%", "66%"))
    messy = tmp_path / "messy.pol"
    before = HEADER + "rule 甲: rate =65%\n"
    messy.write_text(before, encoding="utf-8")
    code, _, err = _run(["fmt", str(messy)], capsys)
    assert code == 70 and "different syntax tree" in err and "left as it was" in err
    assert messy.read_text(encoding="utf-8") == before


def test_a_file_that_does_not_parse_is_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.pol"
    bad.write_text(HEADER + "rule 甲: money = (1元\n", encoding="utf-8")
    code, _, err = _run(["fmt", str(bad)], capsys)
    assert code == 2 and "error[E01" in err


def test_windows_line_ends_a_bom_and_ideographic_spaces_become_the_canonical_layout():
    text = "\ufeff" + (HEADER + "rule 甲: rate =\u300065%  # 注\n\nrule 乙: rate = 1%\n").replace("\n", "\r\n")
    assert format_source(text) == HEADER + "rule 甲: rate = 65%  # 注\n\nrule 乙: rate = 1%\n"
