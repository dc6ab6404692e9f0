"""A Pygments lexer for .pol files: ```pol blocks in docs (any Pygments-based renderer: MkDocs, Sphinx,
GitHub-like viewers) and `highlight_html` for pages that show source.

Registered through the `pygments.lexers` entry point in pyproject.toml, so once policylang is
installed `pygmentize -l pol` and `get_lexer_by_name("pol")` find it. The token rules follow
grammar/policy.lark's terminals; anything the grammar would not lex is an Error token, so the test
that no policy in the repository yields one checks the lexer against the grammar.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

# The grammar's keywords, in groups an editor colours differently.
DECLARATIONS = ("policy", "guideline", "use", "enum", "input", "scope", "accumulator", "rule", "output", "table",
                "brackets", "update", "example", "constraint", "property", "assumption", "amend", "quote", "page",
                "fact", "year")
HEADER = ("document", "title", "issuer", "issued", "in", "force", "from", "until", "source", "extends", "conforms",
          "to", "assumed", "representative", "axis")
OPTIONS = ("field", "code", "optional", "per", "as", "round", "clause", "first", "unique", "default", "on",
           "cumulative", "once", "when", "add", "remove", "band", "require", "else", "vary", "vs", "holds", "state",
           "claim", "expect", "by")
WORDS = ("if", "then", "and", "or", "not", "applicable", "left", "right")
CONSTANTS = ("true", "false")
TYPES = ("money", "rate", "points", "number", "bool", "date", "text")
BUILTINS = ("min", "max", "round")

_WORD_START = r"(?<![^\W])"  # not inside a longer name (names are Unicode words, often Chinese)
_WORD_END = r"(?![^\W])"


class PolicyLexer(RegexLexer):
    """policylang's .pol files (医保 reimbursement policy)."""

    name = "policylang"
    aliases = ["pol", "policylang"]
    filenames = ["*.pol"]
    mimetypes = ["text/x-policylang"]

    tokens = {
        "root": [
            (r"[ \t\r\n\f\u3000]+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"(\\.|[^"\\\n])*"', String.Double),
            (r"\d{4}-\d{2}-\d{2}", Number.Other),  # a date
            (r"\d{1,2}-\d{1,2}(?!\d)", Number.Other),  # the year's first day, MM-DD
            (r"\d+(\.\d+)?(元|%|pp)", Number.Float),  # money, rate, points
            (r"\d+(\.\d+)?", Number),
            (words(DECLARATIONS, prefix=_WORD_START, suffix=_WORD_END), Keyword.Declaration),
            (words(HEADER + OPTIONS, prefix=_WORD_START, suffix=_WORD_END), Keyword),
            (words(WORDS, prefix=_WORD_START, suffix=_WORD_END), Operator.Word),
            (words(CONSTANTS, prefix=_WORD_START, suffix=_WORD_END), Keyword.Constant),
            (words(TYPES, prefix=_WORD_START, suffix=_WORD_END), Keyword.Type),
            (words(BUILTINS, prefix=_WORD_START, suffix=r"(?=\s*\()"), Name.Builtin),
            (r"_(?![^\W])", Punctuation),  # a table cell that matches anything
            (r"[^\W\d]\w*", Name),
            (r"->|\.\.|\+=|-=|\*=|==|!=|<=|>=|[<>≤≥≠=+\-−*×.]", Operator),
            (r"[{}(),:]", Punctuation),
        ],
    }


def highlight_html(source: str) -> str:
    """`source` as HTML spans with Pygments' short CSS classes (`.k`, `.s2`, `.c1` …)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    return highlight(source, PolicyLexer(), HtmlFormatter(nowrap=True))
