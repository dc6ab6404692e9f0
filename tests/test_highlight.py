"""The Pygments lexer for .pol: no Error token on any policy in the repository or any ```pol block in
docs/, the grammar's keywords coloured as keywords, and registered for Pygments by an entry point."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String

from policylang.highlight import PolicyLexer, highlight_html

ROOT = Path(__file__).resolve().parent.parent
# tests/diagnostics/ holds policies that are wrong on purpose (curly quotes, full-width punctuation …).
POLICIES = sorted(p for p in ROOT.rglob("*.pol")
                  if not {"diagnostics", "node_modules", ".git"} & set(p.relative_to(ROOT).parts))
DOC_BLOCKS = [(p.name, m.group(1)) for p in sorted((ROOT / "docs").glob("*.md"))
              for m in re.finditer(r"```pol\n(.*?)```", p.read_text(encoding="utf-8"), re.S)]


def _errors(text: str) -> list:
    return [value for token, value in PolicyLexer().get_tokens(text) if token in Error]


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_error_token_in_a_policy(path):
    assert _errors(path.read_text(encoding="utf-8")) == []


def test_no_error_token_in_the_docs_code_blocks():
    assert DOC_BLOCKS, "docs/ has ```pol blocks"
    bad = [(name, errors) for name, block in DOC_BLOCKS if (errors := _errors(block))]
    assert bad == []


def test_what_the_grammar_does_not_lex_is_an_error():
    assert _errors('rule 甲: money = 1200 元 ＃ “弯引号”') == ["＃", "“", "”"]


def test_tokens():
    tokens = [(t, v) for t, v in PolicyLexer().get_tokens(
        'rule 起付线100: money clause "（五）" = if 在职 then max(1200元, 65%) else 2pp  # 注\n') if v.strip()]
    assert tokens == [
        (Keyword.Declaration, "rule"), (Name, "起付线100"), (tokens[2][0], ":"), (Keyword.Type, "money"),
        (Keyword, "clause"), (String.Double, '"（五）"'), (Operator, "="), (Operator.Word, "if"), (Name, "在职"),
        (Operator.Word, "then"), (Name.Builtin, "max"), (tokens[11][0], "("), (Number.Float, "1200元"),
        (tokens[13][0], ","), (Number.Float, "65%"), (tokens[15][0], ")"), (Keyword, "else"),
        (Number.Float, "2pp"), (Comment.Single, "# 注")]


def test_every_keyword_of_the_grammar_is_a_keyword():
    lark = re.sub(r"//[^\n]*", "", (ROOT / "grammar" / "policy.lark").read_text(encoding="utf-8"))
    for word in sorted(set(re.findall(r'"([a-z]+)"', lark))):
        (token, value), *_ = PolicyLexer().get_tokens(word)
        assert value == word and (token in Keyword or token in Operator.Word), (word, token)


def test_registered_as_a_pygments_plugin():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["pygments.lexers"]["policylang"] == "policylang.highlight:PolicyLexer"
    assert "pol" in PolicyLexer.aliases and "*.pol" in PolicyLexer.filenames


def test_html():
    html = highlight_html('input 费用: money  # <b>\n')
    assert '<span class="kd">input</span>' in html and "&lt;b&gt;" in html
