"""Hostile policy text and file names (issue 13): the front end refuses what a back end cannot carry,
with a diagnostic and exit 2, and every back end carries what the front end accepts (the limits in
docs/language.md, "Limits"); `extends` / `conforms to` stay inside a root; docs links and the chart's
SVG never carry a policy's text as code.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from policylang.backends.python import generate_source
from policylang.check import check_policy
from policylang.cli import main
from policylang.diagnostics import DiagnosticError, MESSAGES
from policylang.pipeline import load_policy, load_text
from policylang.syntax import limits

ROOT = Path(__file__).resolve().parent.parent
HEADER = 'policy "测试" {\n  document "d"\n  in force from 2024-01-01\n}\n\nuse prelude\n\n'
COMMANDS = [["test"], ["compile"], ["check", "--budget", "2"], ["docs", "--budget", "2", "-o", "{out}"],
            ["eval", "--claim", "{}"]]


def codes(text: str, **kw) -> list:
    with pytest.raises(DiagnosticError) as info:
        load_text(text, "t.pol", **kw)
    return [d.code for d in info.value.diagnostics]


def run_cli(args, capsys) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out + out.err


def every_command(path: Path, tmp_path: Path, capsys) -> list:
    """(command, exit code, output) of every command that loads a policy."""
    results = []
    for args in COMMANDS:
        args = [a.replace("{out}", str(tmp_path / "site")) for a in args]
        code, output = run_cli([args[0], str(path), *args[1:]], capsys)
        results.append((args[0], code, output))
    return results


def all_back_ends(policy) -> None:
    """Compiled source that CPython accepts, both evaluators on a claim (agreeing), and the checker."""
    from policylang.claims import ClaimReader
    from policylang.evaluators import run_claims
    from tests.fuzz.harness import _record

    compile(generate_source(policy), "<policy>", "exec")
    claim, errors = ClaimReader(policy).read(_record(policy), "t")
    assert not errors, errors
    outcomes = [run_claims(policy, [claim], backend)[0].outcome for backend in ("interpreter", "compiled")]
    assert repr(outcomes[0]) == repr(outcomes[1])
    check_policy(policy, 0.5, 2.0)


# ---- literals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("literal", ["1" + "0" * 27 + "元", "1" + "0" * 16 + "元", "1." + "1" * 70 + "元",
                                     "1" + "0" * 19, "0." + "1" * 19 + "%", "1" * 61 + "pp"],
                         ids=["money-27-digits", "money-17-digits", "money-70-decimals", "number-20-digits",
                              "rate-19-decimals", "points-61-digits"])
def test_a_literal_past_the_limits_is_refused(literal):
    assert codes(HEADER + f"output 统筹支付: money as hifp_pay = 政策范围内费用 + {literal} × 0\n") in (["E0107"],)


def test_literals_at_the_limits_go_through_every_back_end():
    money = "9" * limits.MONEY_INTEGER_DIGITS + ".99元"
    rate = "0." + "9" * limits.FRACTION_DIGITS + "%"
    number = "9" * limits.INTEGER_DIGITS + "." + "9" * limits.FRACTION_DIGITS
    policy = load_text(HEADER + f"output 统筹支付: money as hifp_pay = min(政策范围内费用 × {rate}, {money})\n"
                       + f"rule 次数: number = {number}\n", "t.pol")
    all_back_ends(policy)


def test_a_27_digit_money_literal_is_exit_2_in_every_command(tmp_path, capsys):
    path = tmp_path / "p.pol"
    path.write_text(HEADER + "output 统筹支付: money as hifp_pay = 政策范围内费用 + 1" + "0" * 27 + "元\n",
                    encoding="utf-8")
    for command, code, output in every_command(path, tmp_path, capsys):
        assert code == 2 and "E0107" in output, (command, code, output)


# ---- nesting -------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [51, 101, 149, 400])
def test_nesting_past_the_limit_is_refused(depth):
    expr = "min(" * depth + "政策范围内费用" + ", 1元)" * depth
    assert codes(HEADER + f"output 统筹支付: money as hifp_pay = {expr}\n") == ["E0106"]


def test_a_long_sum_counts_one_level_per_operator():
    terms = " + ".join(["政策范围内费用"] * (limits.NESTING_DEPTH + 1))
    assert codes(HEADER + f"output 统筹支付: money as hifp_pay = {terms}\n") == ["E0106"]


def test_nesting_at_the_limit_goes_through_every_back_end():
    depth = limits.NESTING_DEPTH - 1  # min( … , 1元) nests its arguments one deeper
    expr = "min(" * depth + "政策范围内费用" + ", 1元)" * depth
    all_back_ends(load_text(HEADER + f"output 统筹支付: money as hifp_pay = {expr}\n", "t.pol"))
    terms = " + ".join(["政策范围内费用"] * limits.NESTING_DEPTH)
    all_back_ends(load_text(HEADER + f"output 统筹支付: money as hifp_pay = {terms}\n", "t.pol"))


def test_min_nested_120_deep_is_exit_2_in_every_command(tmp_path, capsys):
    path = tmp_path / "p.pol"
    path.write_text(HEADER + "output 统筹支付: money as hifp_pay = " + "min(" * 120 + "政策范围内费用"
                    + ", 1元)" * 120 + "\n", encoding="utf-8")
    for command, code, output in every_command(path, tmp_path, capsys):
        assert code == 2 and "E0106" in output, (command, code, output)


def test_the_messages_state_the_limits():
    assert str(limits.NESTING_DEPTH) in MESSAGES["E0106"][1]
    hint = MESSAGES["E0107"][1]
    assert all(str(n) in hint for n in (limits.INTEGER_DIGITS, limits.MONEY_INTEGER_DIGITS, limits.FRACTION_DIGITS))
    language = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    limits_section = language[language.index("## Limits"):]
    for n in (limits.INTEGER_DIGITS, limits.MONEY_INTEGER_DIGITS, limits.FRACTION_DIGITS, limits.NESTING_DEPTH,
              limits.TABLE_ROWS, limits.ARITHMETIC_DIGITS):
        assert str(n) in limits_section


# ---- digits of arithmetic: what the 60-digit exact context carries ----------------------------------
RATE_18 = "0.123456789012345678%"  # 18 digits after the point: 20 decimal places as a value
BIG_CLAIM = {"就诊日期": "2024-06-01", "政策范围内费用": "9999999.99"}  # the largest amount a claim may carry


def digits_policy(expr: str) -> str:
    return HEADER + f"output 统筹支付: money as hifp_pay = {expr}\n"


def test_money_times_four_long_rates_is_refused_with_the_digits_it_needs():
    expr = "政策范围内费用" + f" × {RATE_18}" * 4
    with pytest.raises(DiagnosticError) as info:
        load_text(digits_policy(expr), "t.pol")
    [diag] = info.value.diagnostics
    assert diag.code == "E0473"
    assert (diag.span.line, diag.span.col) == (8, 34)  # the product that first needs too many digits
    assert f"{limits.ARITHMETIC_DIGITS} the evaluators" in diag.message and "need 61 significant digits" in diag.message
    assert f"政策范围内费用{f' × {RATE_18}' * 3}" in diag.message  # the expression, as written
    assert "62 decimal places" in diag.hint and "round an intermediate rule" in diag.hint


def test_a_product_past_the_precision_is_exit_2_in_every_command(tmp_path, capsys):
    """Before E0473 `eval` stopped at decimal.Inexact with exit 70."""
    path = tmp_path / "p.pol"
    path.write_text(digits_policy("政策范围内费用" + f" × {RATE_18}" * 4), encoding="utf-8")
    for command, code, output in every_command(path, tmp_path, capsys):
        assert code == 2 and "E0473" in output, (command, code, output)
    code, output = run_cli(["eval", str(path), "--claim", json.dumps(BIG_CLAIM)], capsys)
    assert code == 2 and "E0473" in output and "internal error" not in output, output


def test_rounding_past_the_precision_is_refused():
    """60 digits before the point multiply exactly, but rounding to the fen needs 62 (decimal.InvalidOperation)."""
    expr = "9999999999999999元 × 999999999999999999 × 999999999999999999 × 99999999"
    assert codes(digits_policy(expr)) == ["E0474"]


def test_a_product_at_the_precision_goes_through_every_back_end_on_the_largest_claim():
    from policylang.claims import ClaimReader
    from policylang.evaluators import run_claims

    at_limit = f"政策范围内费用 × {RATE_18} × {RATE_18} × 1.2345678901234567"  # 10 + 2 × 20 + 16 places: 60 digits
    policy = load_text(digits_policy(at_limit), "t.pol")
    all_back_ends(policy)
    claim, errors = ClaimReader(policy).read(BIG_CLAIM, "t")
    assert not errors
    outcomes = [run_claims(policy, [claim], backend)[0].outcome for backend in ("interpreter", "compiled")]
    assert outcomes[0] == outcomes[1] and outcomes[0].applicable
    assert codes(digits_policy(at_limit + "1")) == ["E0473"]  # one more place: 61


def test_an_intermediate_money_rule_rounds_and_so_carries_the_product():
    rounded = (HEADER + f"rule 中间: money = 政策范围内费用 × {RATE_18} × {RATE_18}\n"
               + f"output 统筹支付: money as hifp_pay = 中间 × {RATE_18} × {RATE_18}\n")
    all_back_ends(load_text(rounded, "t.pol"))
    unrounded = (HEADER + f"rule 中间: rate = {RATE_18} × {RATE_18}\n"
                 + f"output 统筹支付: money as hifp_pay = 政策范围内费用 × 中间 × {RATE_18} × {RATE_18}\n")
    assert codes(unrounded) == ["E0473"]


def test_a_year_to_date_carries_the_places_its_updates_add(tmp_path, capsys):
    """54 places fit alone, but not beside a year-to-date of up to 9 digits (a state `eval` accepts)."""
    long = "0.123456789012345678"
    text = (HEADER + "accumulator 累计: number per person per 医保年度 = 0\n"
            + f"update 累计 += {long} × {long} × {long}\n"
            + "output 统筹支付: money as hifp_pay = 政策范围内费用 × 50%\n")
    assert codes(text) == ["E0473"]
    path = tmp_path / "p.pol"
    path.write_text(text, encoding="utf-8")
    claim = dict(BIG_CLAIM, state={"累计": "99999999.9999"})
    code, output = run_cli(["eval", str(path), "--claim", json.dumps(claim)], capsys)
    assert code == 2 and "E0473" in output and "year-to-date `累计`" in output, output


@pytest.mark.parametrize("folder", ["policies", "guidelines", "tests/policies", "tests/composition"])
def test_no_policy_of_the_repository_needs_more_digits_than_the_evaluators_carry(folder):
    from policylang.semantics import precision

    files = sorted((ROOT / folder).rglob("*.pol"))
    assert files
    for path in files:
        try:
            load_policy(path)
        except DiagnosticError as exc:
            assert not {d.code for d in exc.diagnostics} & {"E0473", "E0474"}, (path, exc.diagnostics)
    assert precision.DIGITS == limits.ARITHMETIC_DIGITS


# ---- tables --------------------------------------------------------------------------------------
def table(rows: int) -> str:
    body = "\n".join(f"  < {i + 1}00元 -> {i}元" for i in range(rows - 1))
    return (HEADER + "table 大表 (政策范围内费用) -> money first {\n" + body + "\n  default -> 0元\n}\n"
            + "output 统筹支付: money as hifp_pay = 大表\n")


def test_a_table_past_the_limit_is_refused():
    assert codes(table(limits.TABLE_ROWS + 1)) == ["E0470"]
    assert codes(table(1000)) == ["E0470"]


def test_a_table_at_the_limit_goes_through_every_back_end():
    all_back_ends(load_text(table(limits.TABLE_ROWS), "t.pol"))


def test_the_smt_encoding_of_a_table_does_not_recurse_per_row(monkeypatch):
    """3000 rows (past the limit, which is raised here): the if-chain is built and rounded in a loop."""
    monkeypatch.setattr(limits, "TABLE_ROWS", 5000)
    from policylang.backends import smt

    policy = load_text(table(3000), "t.pol")
    z3 = smt.z3
    chain = z3.RealVal(0)
    for i in range(3000):  # as table_version builds it: the first row outermost
        chain = z3.If(z3.Real("x") < 3000 - i, z3.RealVal(3000 - i) / 3, chain)
    rate = z3.Real("rate")
    assert z3.is_app_of(smt.round_fen(smt.mul(rate, chain), "half_up"), z3.Z3_OP_ITE)
    assert z3.is_app_of(smt.round_fen(chain, "down"), z3.Z3_OP_ITE)
    # The encoding a check asks its questions about, for the whole 3000-row table (asking them all, one
    # "row can fire" question per row, is what a table at the limit does in test_a_table_at_the_limit_…).
    run = smt.Run(smt.Encoder(policy), "c:")
    value = run.rule("统筹支付")
    assert z3.is_expr(value.v)  # built: no RecursionError on the way


# ---- extends / conforms to: a root, and nothing read outside it -----------------------------------
def with_header_line(line: str) -> str:
    return HEADER.replace("  in force from", f"  {line}\n  in force from")


def test_a_path_too_long_for_the_file_system_is_exit_2_in_every_command(tmp_path, capsys):
    for keyword in ("conforms to", "extends"):
        path = tmp_path / "p.pol"
        path.write_text(with_header_line(f'{keyword} "{"a" * 5000}.pol"') + "output 统筹支付: money as hifp_pay = 0元\n",
                        encoding="utf-8")
        for command, code, output in every_command(path, tmp_path, capsys):
            message = next(line for line in output.splitlines() if line.startswith("error["))
            assert code == 2 and "E0105" in message and "a" * 200 not in message, (command, code, output[:300])


def test_a_file_outside_the_root_is_not_read_nor_quoted(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET\n", encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    path = repo / "p.pol"
    for target, code in (("/etc/passwd", "E0471"), ("../secret.txt", "E0471"), ("../../../../../etc/hostname", "E0471")):
        path.write_text(with_header_line(f'conforms to "{target}"') + "output 统筹支付: money as hifp_pay = 0元\n",
                        encoding="utf-8")
        for command, exit_code, output in every_command(path, tmp_path, capsys):
            assert exit_code == 2 and code in output and "root:x" not in output and "SECRET" not in output, \
                (command, output)
    # inside a wider root, a file that is not a .pol is still not read
    path.write_text(with_header_line('conforms to "../secret.txt"') + "output 统筹支付: money as hifp_pay = 0元\n",
                    encoding="utf-8")
    code, output = run_cli(["test", "--root", str(tmp_path), str(path)], capsys)
    assert code == 2 and "E0472" in output and "SECRET" not in output


def test_the_root_is_the_repository_or_the_given_directory(tmp_path, capsys):
    (tmp_path / "guidelines").mkdir()
    (tmp_path / "policies").mkdir()
    guideline = (ROOT / "tests" / "composition" / "guideline.pol").read_text(encoding="utf-8")
    (tmp_path / "guidelines" / "national-2023.pol").write_text(guideline, encoding="utf-8")
    path = tmp_path / "policies" / "p.pol"
    path.write_text(with_header_line('conforms to "../guidelines/national-2023.pol"')
                    + "output 统筹支付: money as hifp_pay = 政策范围内费用 × 60%\n", encoding="utf-8")
    assert [d.code for d in pytest.raises(DiagnosticError, load_policy, path).value.diagnostics] == ["E0471"]
    assert load_policy(path, root=tmp_path).properties  # --root: the guideline's properties come in
    code, output = run_cli(["test", "--root", str(tmp_path), str(path)], capsys)
    assert code == 0, output
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")  # now tmp_path is the repository
    assert load_policy(path).properties


# ---- docs: links and the chart -------------------------------------------------------------------
HOSTILE_FILE = "javascript:alert(document.domain).pol"


def hostile_site(tmp_path: Path, capsys) -> Path:
    policies = tmp_path / "policies"
    policies.mkdir()
    text = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    text = re.sub(r'\n *conforms to "[^"]*"', "", text)
    (policies / HOSTILE_FILE).write_text(text, encoding="utf-8")
    (policies / "绍兴 {{7*7}}.pol").write_text(text, encoding="utf-8")
    out = tmp_path / "site"
    code, output = run_cli(["docs", str(policies), "-o", str(out), "--no-check"], capsys)
    assert code == 0, output
    return out


def test_links_have_no_scheme_and_reach_a_written_file(tmp_path, capsys):
    from urllib.parse import unquote, urlsplit

    out = hostile_site(tmp_path, capsys)
    pages = sorted(out.glob("*.html")) + sorted(out.glob("*.md"))
    links = [(page, href) for page in pages
             for href in re.findall(r'href="([^"]*)"', page.read_text(encoding="utf-8"))
             + re.findall(r"\]\(([^)]*)\)", page.read_text(encoding="utf-8"))]
    assert len(links) > 8
    for page, href in links:
        href = href.replace("\\", "")  # Markdown escapes `_` in a destination
        parts = urlsplit(href)
        if not parts.path:  # a link within the page (#…)
            continue
        assert not parts.scheme and not parts.netloc, (page.name, href)
        assert (out / unquote(parts.path)).is_file(), (page.name, href)


def test_the_chart_svg_escapes_braces(tmp_path):
    from policylang.publish import chart

    from test_chart import TABLE, _font_or_skip

    _font_or_skip()
    policy = load_text('policy "{{7*7}} {% raw %} --><script>x</script>" { in force from 2024-01-01 }\nuse prelude\n'
                       + TABLE + "output 统筹支付: money as hifp_pay = 政策范围内费用 × 级别比例\n", "t.pol")
    svg = chart.payment_chart_svg(policy)
    outside_style = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    assert "{" not in outside_style and "}" not in outside_style
    assert "<script" not in svg
    assert "&#123;&#123;7*7&#125;&#125;" in svg  # the one escaping function of the site (render.html_escape)


def test_the_browser_follows_every_link_without_running_any(tmp_path, capsys):
    """Chromium opens each page of a site with hostile file names and clicks every link on it."""

    pytest.importorskip("selenium")
    out = hostile_site(tmp_path, capsys)
    driver = _browser(tmp_path)
    try:
        from selenium.common.exceptions import NoAlertPresentException
        from selenium.webdriver.common.by import By

        pages = sorted(out.glob("*.html"))
        clicked = 0
        for page in pages:
            driver.get(page.as_uri())
            count = len(driver.find_elements(By.TAG_NAME, "a"))
            for i in range(count):
                driver.get(page.as_uri())
                link = driver.find_elements(By.TAG_NAME, "a")[i]
                driver.execute_script("arguments[0].click()", link)
                try:
                    alert = driver.switch_to.alert
                    text = alert.text
                    alert.dismiss()
                    pytest.fail(f"a link on {page.name} ran script: alert {text!r}")
                except NoAlertPresentException:
                    pass
                assert driver.current_url.startswith("file://"), (page.name, driver.current_url)
                clicked += 1
        assert clicked >= len(pages)
    finally:
        driver.quit()


def _browser(tmp_path: Path):
    import os

    from test_docs_browser import CHROMEDRIVER, CHROMIUM, FLAGS, _require

    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            _require(f"{path} not found")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def test_a_first_hit_table_negates_each_row_once_not_once_per_later_row(monkeypatch):
    """Whether row k can fire asks "row k matches and rows 1..k−1 do not": the negations are built once per
    row, so a table costs the checker rows of them, not rows² / 2 (at the 500-row limit: 125,000 terms,
    which were most of a fuzz run's time)."""
    import policylang.check as check

    rows = 200
    policy = load_text(table(rows + 1), "t.pol")  # rows + 1 lines: rows rows and the default
    made = []
    real_not = check.z3.Not

    def counting(*args, **kwargs):
        made.append(1)
        return real_not(*args, **kwargs)

    checker = check.Checker(policy, 0.01)
    monkeypatch.setattr(check.z3, "Not", counting)
    results = checker.shadowed_rows()
    assert len(results) == rows  # one verdict per row
    assert len(made) <= 2 * rows, f"{len(made)} negations for {rows} rows"
