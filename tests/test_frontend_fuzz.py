"""Fuzzing the front end: whatever the text, `load_text` either returns IR or raises DiagnosticError.

No other exception may escape (it would reach the user as "internal error"), every diagnostic must
point into the text (line ≥ 1, col ≥ 1, within the file) and every one must render.
Inputs: (a) random text built from the grammar's own keywords and punctuation, CJK, digits, units
and arbitrary characters, alone or inside a valid header so that the checker is reached; (b) the
绍兴 policy with lines or tokens deleted, duplicated, swapped or replaced, or a character inserted;
(c) well-formed declarations of every kind with random expressions in every position, so that the
resolver and type checker see ill-typed input, not only the parser. Inputs that once broke the front
end are kept in REGRESSIONS.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang.diagnostics import DiagnosticError, SourceCache, render_all
from policylang.pipeline import load_text

ROOT = Path(__file__).resolve().parent.parent
# 绍兴 without its `conforms to` line: the fuzzed text is not read from policies/, so the relative
# path to the guideline would not resolve.
SHAOXING = re.sub(r'\n *conforms to "[^"]*"', "", (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8"))
GRAMMAR = (ROOT / "policylang" / "syntax" / "policy.lark").read_text(encoding="utf-8")
FILE = "fuzz.pol"

# Every literal of the grammar: keywords (policy, table, first, not, applicable …) and punctuation.
LITERALS = sorted(set(re.findall(r'"([^"\s]+)"', GRAMMAR)))
WORDS = LITERALS + [
    "prelude", "money", "rate", "points", "number", "bool", "date", "text", "min", "max", "round",
    "person", "医保年度", "险种", "城乡居民", "就诊类型", "门诊慢特病", "机构级别", "基层", "政策范围内费用",
    "统筹支付", "hifp_pay", "half_up", "报销比例", "1200元", "65%", "2pp", "0.5", "2024-01-01",
    "2024-02-30", "12.345元", '"说明"', '"未闭合', "＃", "：", "，", "（", "）", "％", "“", "”", "。",
    "\u3000", "\t", "\r\n", "\x0c", "#", "..", "->", "+=", "×", "≤", "≠", "−",
]
SEPARATORS = st.sampled_from([" ", " ", "\n", "", ",", "  "])
VALID_HEADER = 'policy "模糊" {\n  document "d"\n  in force from 2024-01-01\n}\n\nuse prelude\n\n'
TYPES = ["money", "rate", "bool", "number", "机构级别", "date"]

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_front_end(text: str) -> None:
    """The property: IR or DiagnosticError, with diagnostics that point into the text and render."""
    try:
        load_text(text, FILE)
    except DiagnosticError as exc:
        assert exc.diagnostics, "DiagnosticError without diagnostics"
        lines = text.split("\n")
        for diag in exc.diagnostics:
            span = diag.span
            assert span.file == FILE, diag
            assert span.line >= 1 and span.col >= 1, diag
            assert span.line <= len(lines), (diag, len(lines))
            assert span.col <= len(lines[span.line - 1]) + 1, (diag, lines[span.line - 1])
            assert diag.message and "{" not in diag.code
        rendered = render_all(exc.diagnostics, SourceCache({FILE: text}))
        count = len(exc.diagnostics)
        assert rendered.endswith(f"{count} error{'s' if count != 1 else ''} found")
        assert rendered.count("\nerror[") + rendered.startswith("error[") == count


# ---- (a) random text --------------------------------------------------------------------
fragment = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40), min_size=1, max_size=4),
    st.from_regex(r"\d{1,5}(\.\d{1,4})?(元|%|pp)?", fullmatch=True),
    st.text(min_size=1, max_size=3),  # anything at all, control characters and astral planes included
)
token_soup = st.lists(st.tuples(fragment, SEPARATORS), max_size=40).map(
    lambda parts: "".join(f + s for f, s in parts))


@FUZZ
@given(token_soup)
def test_random_text(text):
    check_front_end(text)


@FUZZ
@given(token_soup, st.sampled_from(TYPES), st.sampled_from(["rule", "output", "table", "example", "scope"]))
def test_random_text_after_a_valid_header(text, type_name, keyword):
    """Past the header the text reaches the resolver and the type checker, not just the parser."""
    if keyword in ("rule", "output"):
        body = f"{keyword} 模糊: {type_name} = {text}\n"
    else:
        body = f"{keyword} {text}\n"
    check_front_end(VALID_HEADER + body)


# ---- (b) mutations of a real policy ---------------------------------------------------------
@st.composite
def mutated_policy(draw) -> str:
    text = SHAOXING
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["del-line", "dup-line", "swap-lines", "del-token", "dup-token",
                                     "swap-tokens", "replace-token", "insert-char"]))
        if kind.endswith("line") or kind.endswith("lines"):
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == "del-line":
                del lines[i]
            elif kind == "dup-line":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
            continue
        tokens = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
        a, b = tokens[draw(st.integers(0, len(tokens) - 1))]
        if kind == "del-token":
            text = text[:a] + text[b:]
        elif kind == "dup-token":
            text = text[:b] + " " + text[a:b] + text[b:]
        elif kind == "swap-tokens":
            c, d = tokens[draw(st.integers(0, len(tokens) - 1))]
            if c > a:
                a, b, c, d = c, d, a, b
            if d <= a:  # (c, d) before (a, b): replace the later one first
                text = text[:c] + text[a:b] + text[d:a] + text[c:d] + text[b:]
        elif kind == "replace-token":
            text = text[:a] + draw(st.sampled_from(WORDS)) + text[b:]
        else:
            at = draw(st.integers(0, len(text)))
            char = draw(st.one_of(st.sampled_from(list("{}()\"%元:,=<>-+×#_.\n 0123456789中　％：，“")),
                                  st.characters()))
            text = text[:at] + char + text[at:]
    return text


@FUZZ
@given(mutated_policy())
def test_mutated_policy(text):
    check_front_end(text)


# ---- (c) well-formed programs with random, mostly ill-typed expressions everywhere -------------------
ATOMS = ["政策范围内费用", "险种", "城乡居民", "基层", "二级", "机构级别", "病种", "就诊日期", "限额", "应付",
         "表", "档", "累计", "统筹支付", "未知名", "1200元", "12.345元", "65%", "2pp", "3", "0.5", "2024-01-01",
         '"文本"', "true", "false", 'not applicable "未规定"']
expressions = st.recursive(st.sampled_from(ATOMS), lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "×", "==", "!=", "<", ">=", "and", "or"]), inner)
      .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    inner.map(lambda x: f"not {x}"),
    inner.map(lambda x: f"-{x}"),
    st.tuples(inner, inner, inner).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
    st.tuples(st.sampled_from(["min", "max", "round", "表", "档", "lesser"]), st.lists(inner, max_size=3))
      .map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    st.tuples(inner, st.sampled_from(["in", "not in"]), st.lists(inner, min_size=1, max_size=3))
      .map(lambda t: f"({t[0]} {t[1]} {{{', '.join(t[2])}}})"),
), max_leaves=8)
cells = st.one_of(st.just("_"), expressions, expressions.map(lambda x: f"< {x}"),
                  st.tuples(expressions, expressions).map(lambda t: f"{t[0]} .. {t[1]}"),
                  expressions.map(lambda x: f"{{{x}}}"))
types = st.sampled_from(["money", "rate", "points", "number", "bool", "date", "text", "机构级别", "险种", "mony"])


@st.composite
def typed_program(draw) -> str:
    e = lambda: draw(expressions)  # noqa: E731
    ty = lambda: draw(types)  # noqa: E731
    rows = "\n".join(", ".join(draw(cells) for _ in range(draw(st.integers(1, 2)))) + f" -> {e()}"
                     for _ in range(draw(st.integers(0, 3))))
    bands = "\n".join(f"{e()} .. {draw(st.sampled_from(['', '1000元', '500元']))} -> {e()}"
                      for _ in range(draw(st.integers(0, 3))))
    return "".join([
        VALID_HEADER,
        f"accumulator 累计: {ty()} per person per {draw(st.sampled_from(['医保年度', 'month']))} = {e()}\n",
        f"rule 限额: {ty()} = {e()}\n",
        f"rule 应付: {ty()} from 2024-01-01 = {e()}\n",
        f"rule 应付: {ty()} from {draw(st.sampled_from(['2023-06-01', '2025-01-01']))} = {e()}\n",
        f"table 表 ({', '.join(e() for _ in range(draw(st.integers(1, 2))))}) -> {ty()} "
        f"{draw(st.sampled_from(['first', 'unique', '']))} {{\n{rows}\n"
        f"{draw(st.sampled_from(['', 'default -> 1%']))}\n}}\n",
        f"brackets 档: {ty()} on {e()} {draw(st.sampled_from(['', 'cumulative 累计']))} {{\n{bands}\n}}\n",
        f"output 统筹支付: {ty()} as {draw(st.sampled_from(['hifp_pay', 'hifp_amt']))} = {e()}\n",
        f"update 累计 += {e()} when {e()}\n",
        f'scope {{ require {e()} else "x" }}\n',
        f'example "e" {{ state {{ 累计 = {e()} }} claim {{ 就诊日期 = {e()}, 政策范围内费用 = {e()}, '
        f"机构级别 = {e()} }} expect {{ 统筹支付 = {e()}, 限额 = {e()} }} }}\n",
    ])


@FUZZ
@given(typed_program())
def test_typed_program(text):
    """Every expression position (rules, versions, cells, bands, updates, scope, examples) gets nonsense."""
    check_front_end(text)


# ---- inputs that once escaped as Python exceptions or pointed at the wrong line -------------------
def _rule(body: str) -> str:
    return VALID_HEADER + body + "\n"


REGRESSIONS = {
    "negated error in an example": _rule('output 统筹支付: money = 1元\nexample "e" { claim { 就诊日期 = 2024-01-01 }'
                                         " expect { 统筹支付 = -min() } }"),
    "input in its own set": _rule("rule r: bool = 险种 in {险种}"),
    "table whose column reads itself": _rule("table T (T) -> rate first { default -> 1% }"),
    "tables reading each other": _rule("table A (B) -> rate first { default -> 1% }\n"
                                       "table B (A) -> rate first { default -> 1% }"),
    "deeply nested not": _rule("rule r: bool = " + "not " * 2000 + "true"),
    "long sum": _rule("rule r: number = 1" + " + 1" * 2000),
    "deep parentheses": _rule("rule r: number = " + "(" * 2000 + "1" + ")" * 2000),
    "long else-if chain": _rule("rule r: number = " + "if true then 1 else " * 400 + "1"),
    "form feed before an error": 'policy "t" {\f\n  in force from 2024-01-01\n}\nrule r: rate = 65 %\n',
    "brace in a message": _rule("table t (机构级别) -> rate first {\n  基层 -> 65%\n"),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(name):
    check_front_end(REGRESSIONS[name])


def test_form_feed_does_not_shift_the_source_line():
    """The lexer counts lines at \\n only; the rendered source line must be the same line."""
    text = REGRESSIONS["form feed before an error"]
    with pytest.raises(DiagnosticError) as info:
        load_text(text, FILE)
    rendered = render_all(info.value.diagnostics, SourceCache({FILE: text}))
    assert "4 | rule r: rate = 65 %" in rendered


def test_deep_nesting_is_a_diagnostic():
    with pytest.raises(DiagnosticError) as info:
        load_text(REGRESSIONS["deeply nested not"], FILE)
    assert [d.code for d in info.value.diagnostics] == ["E0106"]


def test_the_unmutated_policy_loads():
    """The property is only meaningful if the starting point is valid."""
    load_text(SHAOXING, FILE)
