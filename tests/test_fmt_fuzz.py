"""Formatting never changes the meaning and never loses a comment, whatever the layout it starts from.

Inputs: policies generated from the repository's declarations (every kind the corpus has, in random
number and order after a header) and real policies put through the fuzz mutators (token and line
edits, splices), each then re-laid out at random (spaces, line breaks, indentation) with comments
inserted at line ends and on lines of their own. Whenever the input parses, the formatted text must parse to the same syntax tree
(spans aside), resolve to the same IR (or be refused with the same codes), keep every comment (count
and text, in order), and format to itself.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from policylang.diagnostics import DiagnosticError
from policylang.fmt import format_source
from policylang.fmt.safety import _resolve, comment_texts, shape
from policylang.syntax.parser import TOP_KEYWORDS, parse_text
from tests.fuzz import mutate

ROOT = Path(__file__).resolve().parent.parent
FILE = "fuzz.pol"
# Small real policies as seeds (the big ones make each example slow); no `extends` to resolve.
SEEDS = [mutate.header_free(p.read_text(encoding="utf-8")) for p in
         sorted((ROOT / "tests" / "composition").glob("*.pol")) + [ROOT / "tests" / "policies" / "constructs.pol"]
         if p.stat().st_size < 8000]
MUTATORS = [mutate.token_edit, mutate.line_edit, mutate.splice]
HEADER = 'policy "生成" {\n  document "d"\n  in force from 2024-01-01\n}\n\nuse prelude\n\n'

LAYOUT = settings(max_examples=20, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
_PIECE = re.compile(r'"(?:\\.|[^"\\\n])*"|#[^\n]*|[ \t\n]+')
_TOP = re.compile(r"(%s)\b" % "|".join(TOP_KEYWORDS))


def _declarations() -> list[str]:
    """Every declaration of the repository's policies (each parses on its own), headers left out."""
    found = []
    for path in sorted((ROOT / "policies").glob("*.pol")) + sorted((ROOT / "tests").glob("*/*.pol")):
        if "diagnostics" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        found.extend(d.strip("\n") for d in re.split(r"\n(?=(?:%s)\b)" % "|".join(TOP_KEYWORDS), text)[1:]
                     if not d.startswith(("policy", "guideline", "use")))
    return sorted(set(found))


DECLARATIONS = _declarations()


def relayout(text: str, rng: random.Random) -> str:
    """The same tokens with other white space and extra comments. A line break is always followed by
    indentation, except before a top-level keyword (declarations start at column 1), and no blank line
    is added or removed inside a declaration (a blank line between a quote's strings starts a paragraph)."""
    pieces, last, count = [], 0, 0
    for m in _PIECE.finditer(text):
        pieces.append(text[last:m.start()])
        piece = m.group(0)
        if piece.strip():  # a string or a comment already there: as it is
            pieces.append(piece)
        else:
            top = "\n" in piece and bool(_TOP.match(text, m.end()))
            blank = "\n\n" in piece.replace(" ", "").replace("\t", "")
            pieces.append(_space(rng, piece, top, blank, count))
            count += 1
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces)


def _space(rng: random.Random, piece: str, top: bool, blank: bool, n: int) -> str:
    indent = " " * rng.randint(1, 6)
    if top:
        comment = f"# 注{n}\n" if rng.random() < 0.3 else ""
        return "\n" + ("\n" if blank or rng.random() < 0.3 else "") + comment
    if blank:  # a paragraph break (or the author's blank line) stays one blank line
        return "\n\n" + indent
    choice = rng.random()
    if choice < 0.15:
        return f"  # 注{n}\n" + indent  # a comment at the end of a line
    if choice < 0.3:
        return f"\n  # 注{n}\n" + indent  # a comment on a line of its own
    if choice < 0.5:
        return "\n" + indent
    if choice < 0.7:
        return " " * rng.randint(1, 4)
    return "\n" + indent if "\n" in piece else " "


def check(text: str) -> None:
    try:
        original = parse_text(text, FILE)
    except DiagnosticError:
        assume(False)
    out = format_source(text, FILE)  # raises FormatError(internal=True) if its own check fails
    assert shape(parse_text(out, FILE)) == shape(original)
    assert comment_texts(out) == comment_texts(text)
    assert shape(_resolve(parse_text(out, FILE))) == shape(_resolve(original))
    assert format_source(out, FILE) == out


@LAYOUT
@given(st.lists(st.sampled_from(DECLARATIONS), min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_generated_policies(declarations, rng):
    check(relayout(HEADER + "\n".join(declarations) + "\n", rng))


@LAYOUT
@given(st.sampled_from(SEEDS), st.sampled_from(MUTATORS), st.randoms(use_true_random=False))
def test_mutated_policies(seed, mutator, rng):
    check(relayout(mutator(rng, seed), rng))


@LAYOUT
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False))
def test_real_policies_relaid_out(seed, rng):
    check(relayout(seed, rng))
