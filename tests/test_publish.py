"""`policylang docs`: the published pages (政策解读) of every policy.

Each policy in policies/ is rendered once per session without the checker (Z3 timing varies, so
goldens never depend on it) and without the chart (another module's, and font-dependent). Its
Markdown page is pinned by a golden file under tests/publish/ (regenerate with
`pytest tests/test_publish.py --update-golden` and review the diff); its HTML page must parse with a
strict HTML5 parser. Check statuses are tested on a small policy whose checks are quick and certain.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import html5lib
import pytest

from policylang.cli import main
from policylang.pipeline import load_policy, load_text, policy_files
from policylang.publish import values
from policylang.publish.render import md_escape
from policylang.publish.site import build_pages, render_compare, render_index, render_page, write_site

ROOT = Path(__file__).resolve().parent.parent
POLICIES = policy_files([ROOT / "policies"])
GOLDEN = ROOT / "tests" / "publish"
# Policies written for these tests, each with a golden page: every construct an author controls, and every
# policy of tests/policies/ (brackets over a per-person 起付线, the insurance year, keyed totals, a one-row reform).
TEST_POLICIES = [GOLDEN / "policies" / "page-author.pol", *policy_files([ROOT / "tests" / "policies"])]


@pytest.fixture(scope="session")
def pages():
    """Every policy's page data, built once: no checker, no chart."""
    policies = [load_policy(p.relative_to(ROOT)) for p in POLICIES]
    return build_pages(policies, check=False, charts=False, load=load_policy).pages


@pytest.fixture(scope="session")
def rendered(pages):
    """slug -> (markdown, html)."""
    return {p.slug: (render_page(p, "md"), render_page(p, "html")) for p in pages}


def strict_parse(text: str):
    parser = html5lib.HTMLParser(strict=True)
    return parser.parse(text)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.stem)
def test_markdown_golden(policy, rendered, golden):
    markdown, _ = rendered[policy.stem]
    golden(GOLDEN / f"{policy.stem}.md", markdown)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.stem)
def test_html_parses_strictly(policy, rendered):
    _, html = rendered[policy.stem]
    strict_parse(html)
    assert "<script" not in html
    assert "http://" not in html and "https://" not in html  # offline: nothing fetched
    assert "@media print" in html and "size: A4" in html  # the print stylesheet is inline


def test_index_and_comparison(pages, golden):
    for kind in ("md", "html"):
        index, compare = render_index(pages, kind), render_compare(pages, kind)
        if kind == "html":
            strict_parse(index)
            strict_parse(compare)
        for page in pages:
            assert f"{page.slug}.{kind}" in index
    golden(GOLDEN / "compare.md", render_compare(pages, "md"))


@pytest.mark.parametrize("policy", TEST_POLICIES, ids=lambda p: p.stem)
def test_test_policy_golden(policy, golden):
    """A test policy's page alone (not on the comparison page of the shipped policies)."""
    page = build_pages([load_policy(policy.relative_to(ROOT))], check=False, charts=False, load=load_policy).pages[0]
    markdown, html = render_page(page, "md"), render_page(page, "html")
    strict_parse(html)
    golden(GOLDEN / f"{policy.stem}.md", markdown)


def test_every_golden_has_its_policy():
    known = {p.stem for p in POLICIES} | {p.stem for p in TEST_POLICIES} | {"compare"}
    assert not [p.name for p in GOLDEN.glob("*.md") if p.stem not in known]


# ---- what the pages say -------------------------------------------------------------------------------
def page_of(pages, stem):
    return next(p for p in pages if p.slug == stem)


def test_rule_prose_and_ratio_matrix(pages, rendered):
    page = page_of(pages, "shaoxing-2024")
    matrix = page.matrices[0]
    row = next(r for r in matrix.rows if r.labels == ("城乡居民", "门诊慢特病"))
    cells = dict(zip(matrix.columns, row.cells))
    assert cells["基层"].text == "65%" and "病种为肺结核：70%" in cells["基层"].exceptions
    assert cells["二级"].text == "50%" and cells["三级"].text == "15%"
    markdown, _ = rendered["shaoxing-2024"]
    assert "机构级别为基层时，65%（其中病种为肺结核70%）" in markdown
    assert "不设起付标准" in markdown  # the quoted clause （五）
    assert "1,200.00元" in markdown


def test_worked_example_shows_the_arithmetic(pages):
    page = page_of(pages, "shaoxing-2024")
    example = page.examples[0]
    lines = {line.name: line for line in example.steps[0].lines}
    assert lines["应付金额"].numbers == "1,000.00元 × 65%" and lines["应付金额"].result == "650.00元"
    assert dict(example.steps[0].totals)["个人负担"] == "350.00元"
    assert all(e.ok for s in example.steps for e in s.expectations)


def test_change_table_of_an_extending_policy(pages):
    page = page_of(pages, "zhoushan-2023")
    assert page.extends_slug == "zhoushan-2023-baseline"
    change = next(c for c in page.changes if c.item == "居民普通门诊基层比例")
    assert (change.before, change.after) == ("60%", "62%")
    assert "机构级别为基层" in change.who and "险种为城乡居民" in change.who
    assert any(p.name == "居民普通门诊基层比例" and "假设 60%" in p.value for p in page.assumptions)


def test_comparison_lines_up_shared_platform_outputs(pages):
    from policylang.publish.compare import comparison

    shared = comparison(pages)
    assert any(t.title == "城乡居民 · 门诊慢特病" and len(t.rows) >= 2 for t in shared.tables)
    assert any(name == "hifp_pay" for name, _, _ in shared.outputs)


def test_values_are_exact():
    assert values.money(Decimal("1234.5")) == "1,234.50元"
    assert values.rate(Decimal("0.85")) == "85%" and values.rate(Decimal("0.125")) == "12.5%"
    assert values.points(Decimal("0.03")) == "3个百分点"
    assert values.money(Decimal("12345678901234567.89")) == "12,345,678,901,234,567.89元"


# ---- check statuses --------------------------------------------------------------------------------------
def test_check_statuses_on_a_small_policy():
    policy = load_policy(ROOT / "tests" / "cli" / "cap-bypassed.pol")
    page = build_pages([policy], check=True, timeout=10.0, charts=False).pages[0]
    status = {r.name: r for r in page.checks.properties}
    assert status["基层比例不低于二级"].label == "已证明"
    cap = status["累计净报销不超过 1200 元"]
    assert cap.status == "violated" and cap.counterexample is not None
    (name, shown), = cap.counterexample.state  # the year-to-date it starts from, within the limit
    assert name == "慢病净报销" and shown.endswith("元") and float(shown[:-1].replace(",", "")) <= 1200
    html = render_page(page, "html")
    strict_parse(html)
    assert "不成立（有反例）" in html and "已证明" in html and "未检查" not in html


def test_no_check_shows_not_checked(pages, rendered):
    markdown, _ = rendered["shaoxing-2024"]
    assert "未检查" in markdown
    page = page_of(pages, "zhejiang-2022-outpatient")
    assert page.checks.conformance and all(r.label == "未检查" for r in page.checks.conformance)
    assert page.conforms  # the guideline it conforms to is named in the header


# ---- escaping ---------------------------------------------------------------------------------------------
HOSTILE = '<script>alert(1)</script></table>{{ 7*7 }}{% raw %}|`code`"\'&amp;*_[x](y)#'


def hostile_policy():
    s = HOSTILE.replace("\\", "\\\\").replace('"', '\\"')
    text = f'''
policy "{s}" {{
  document "{s}"
  title "{s}"
  issuer "{s}" assumed "{s}"
  in force from 2024-01-01 assumed "{s}"
  source "{s}"
}}

use prelude

quote "{s}" "{s}"

  "{s}"

fact 缴费: text = "{s}" clause "{s}" "{s}"

enum 地点 {{
  本地 "{s}"
  外地
}}

input 地点: 地点 "{s}"

scope clause "{s}" {{
  require 险种 == 城乡居民 else "{s}"
}}

table 比例表 (机构级别) -> rate first clause "{s}" "{s}" {{
  基层 -> 65% clause "{s}"
  default -> not applicable "{s}"
}}

output 报销比例: rate as pool_prop_selfpay clause "{s}" "{s}" =
  if 地点 == 外地 then not applicable "{s}" else 比例表

output 统筹支付: money as hifp_pay clause "{s}" = 政策范围内费用 × 报销比例

property "{s}" clause "{s}" {{
  holds 统筹支付 <= 政策范围内费用
}}

example "{s}" {{
  claim {{ 就诊日期 = 2024-03-01, 险种 = 城乡居民, 机构级别 = 基层, 地点 = 本地, 政策范围内费用 = 100元 }}
  expect {{ 统筹支付 = 65元 }}
}}
'''
    return load_text(text, "hostile.pol")


def test_hostile_strings_are_escaped():
    policy = hostile_policy()
    assert policy.meta.title == HOSTILE
    page = build_pages([policy], check=False, charts=False).pages[0]
    html, markdown = render_page(page, "html"), render_page(page, "md")
    strict_parse(html)
    assert "<script" not in html and "<script" not in markdown
    assert html.count("</table>") == html.count("<table")
    assert "{{" not in html and "{%" not in html and "{{" not in markdown and "{%" not in markdown
    assert "&lt;script&gt;" in html and "&lt;script&gt;" in markdown
    assert HOSTILE not in html and HOSTILE not in markdown
    escaped = md_escape(HOSTILE)
    assert escaped in markdown
    for raw in ("|`code`", "[x](y)", "*_"):
        assert raw not in markdown
    for text in (html, markdown):
        index = render_index([page], "html" if text is html else "md")
        assert "<script" not in index and "{{" not in index


# ---- the command line ----------------------------------------------------------------------------------------
def run_cli(args, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_writes_the_site(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "policylang.publish.chart", None)  # no chart: fast
    code, out, err = run_cli(["docs", "policies/", "-o", str(tmp_path), "--no-check"], capsys, monkeypatch)
    assert code == 0, err
    names = {p.name for p in tmp_path.iterdir()}
    for policy in POLICIES:
        assert {f"{policy.stem}.html", f"{policy.stem}.md"} <= names
    assert {"index.html", "index.md", "compare.html", "compare.md"} <= names
    assert "file(s) written" in out


def test_cli_bad_path(tmp_path, capsys, monkeypatch):
    code, out, err = run_cli(["docs", "no/such.pol", "-o", str(tmp_path)], capsys, monkeypatch)
    assert code == 2 and "error[E0105]" in err and "Traceback" not in out + err


def test_cli_policy_with_errors(tmp_path, capsys, monkeypatch):
    bad = "tests/diagnostics/quote-uncited-clause.pol"
    code, out, err = run_cli(["docs", bad, "-o", str(tmp_path / "site"), "--no-check"], capsys, monkeypatch)
    assert code == 2 and "error[E0421]" in err and "Traceback" not in out + err


def test_cli_templates_override_by_name(tmp_path, capsys, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "index.md").write_text("# 自定义目录\n{% for p in pages %}- {{ p.title }}\n{% endfor %}",
                                        encoding="utf-8")
    out_dir = tmp_path / "site"
    monkeypatch.setitem(__import__("sys").modules, "policylang.publish.chart", None)
    code, _, err = run_cli(["docs", "policies/shaoxing-2024.pol", "-o", str(out_dir), "--no-check",
                            "--templates", str(templates)], capsys, monkeypatch)
    assert code == 0, err
    assert (out_dir / "index.md").read_text(encoding="utf-8").startswith("# 自定义目录")
    assert "报销比例一览" in (out_dir / "shaoxing-2024.md").read_text(encoding="utf-8")  # the others are kept


def test_cli_broken_template_is_a_diagnostic(tmp_path, capsys, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "index.html").write_text("{% for p in pages %}", encoding="utf-8")
    monkeypatch.setitem(__import__("sys").modules, "policylang.publish.chart", None)
    code, out, err = run_cli(["docs", "policies/shaoxing-2024.pol", "-o", str(tmp_path / "site"), "--no-check",
                              "--templates", str(templates)], capsys, monkeypatch)
    assert code == 2 and "template index.html" in err and "Traceback" not in out + err


def test_the_docs_back_end_does_not_import_lark():
    """Only the parser imports lark; the docs back end reads the IR."""
    for path in (ROOT / "policylang" / "publish").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import lark" not in text and "from lark" not in text, path.name


# ---- what the author controls: page, fact, assumed, quote paragraphs ------------------------------------
AUTHOR = GOLDEN / "policies" / "page-author.pol"


@pytest.fixture(scope="module")
def author_page():
    policy = load_policy(AUTHOR.relative_to(ROOT))
    page = build_pages([policy], check=False, charts=False).pages[0]
    return policy, page, render_page(page, "md"), render_page(page, "html")


def test_quote_parts_after_a_blank_line_are_paragraphs(author_page):
    """`quote "二" "问：…？" <blank line> "答：…" "…"`: the question no longer runs into its answer; strings
    on consecutive lines stay one paragraph (a clause split for width)."""
    policy, page, markdown, html = author_page
    assert policy.quote_paragraphs("二") == ("问：在省内其他城市住院，报销比例是多少？",
                                           "答：比在本市同级医疗机构住院低 10 个百分点；跨省住院统一按 45% 报销。")
    assert "> 问：在省内其他城市住院，报销比例是多少？\n>\n> 答：" in markdown
    assert "<p>问：在省内其他城市住院，报销比例是多少？</p><p>答：" in html
    assert "？答：" not in markdown and "？答：" not in html


def test_shipped_quotes_keep_their_paragraphs(pages):
    """绍兴 （六）: the ratio list is one paragraph split over three lines for width; the annual limit and
    the rule for people living elsewhere are paragraphs of their own."""
    group = next(g for g in page_of(pages, "shaoxing-2024").groups if g.clause == "（六）")
    assert len(group.quote) == 3
    assert group.quote[0].endswith("报销 65%，其中肺结核报销 70%；在市内二级定点医疗机构医疗的，报销 50%；"
                                   "在市内其他定点医疗机构医疗的，报销 15%；在市内定点零售药店购药的，报销 15%。")
    assert group.quote[1].startswith("一个医保年度内") and group.quote[2].startswith("异地长期居住人员")


def test_assumed_header_facts_are_never_printed_as_fact(author_page):
    policy, page, markdown, html = author_page
    assert policy.meta.assumption("in_force") == "文件未载明执行日期，按印发后首个医保年度推定"
    assert policy.meta.assumption("document") is None
    assert "- 印发日期：**【假定】**2023年12月20日（文件落款无日期，按公开发布日期推定）" in markdown
    assert "- 施行期：**【假定】**2024年1月1日起（文件未载明执行日期，按印发后首个医保年度推定）" in markdown
    assert "- 文号：示医保发〔2024〕1号\n" in markdown  # stated by the document: no mark
    # every place the assumed dates appear says they are assumed
    for line in markdown.splitlines():
        if "2024年1月1日" in line or "2023年12月20日" in line:
            assert "假定" in line, line
    assert html.count('<span class="label assumption-tag">假定</span>') >= 3
    index = render_index([page], "md")
    assert "【假定】2024年1月1日起" in index and "【假定】示医保发" not in index
    assert '<span class="label assumption-tag">假定</span>2024年1月1日起' in render_index([page], "html")


def test_facts_are_shown_apart_and_read_by_nothing(author_page):
    policy, page, markdown, html = author_page
    assert [(f.name, f.value, f.clause) for f in page.facts] == [("特困人员个人缴费", "380.00元", "三"),
                                                                  ("代缴", "是", "三")]
    assert page.facts[0].quote and not page.facts[1].quote  # the clause's words once
    assert "特困人员个人缴费" not in {p.name for p in page.parameters + page.assumptions}
    assert "特困人员个人缴费" not in policy.rules and "特困人员个人缴费" not in markdown.split("## 其他规定")[0]
    assert "## 其他规定" in markdown and '<h2 id="facts">其他规定</h2>' in html
    from policylang.evaluators import evaluator

    step = policy.examples[0].steps[0]
    claim = {n: v for n, v, _ in step.inputs}
    outcome = evaluator(policy, "compiled")(claim, {})
    assert set(outcome.outputs) == {"报销比例", "统筹支付"}  # outputs only: no fact among the results


def test_the_authors_representative_values_come_first(author_page):
    """The author held 特困人员 = false and 政策范围内费用 = 3000元; the examples alone would be tied."""
    policy, page, markdown, html = author_page
    matrix = page.matrices[0]
    assert matrix.author == ["政策范围内费用：3,000.00元", "特困人员：否"]
    assert matrix.held == []  # nothing else was left to the search
    assert "政策作者指定的代表值：" in markdown
    text = AUTHOR.read_text(encoding="utf-8").replace("特困人员 = false\n  axis", "特困人员 = true\n  axis")
    flipped = build_pages([load_text(text, str(AUTHOR))], check=False, charts=False).pages[0].matrices[0]
    row = next(r for r in flipped.rows if r.labels[-1] == "辖区内")
    assert dict(zip(flipped.columns, (c.text for c in row.cells)))["基层"] == "90%"  # the author's claim, +5pp
    assert "特困人员：是" in flipped.author


def test_an_axis_the_author_adds(author_page):
    policy, page, markdown, html = author_page
    matrix = page.matrices[0]
    assert matrix.row_axes == ("险种", "就诊类型", "就医地")
    by_place = {r.labels[-1]: dict(zip(matrix.columns, (c.text for c in r.cells))) for r in matrix.rows}
    assert list(by_place) == ["辖区内", "省内", "跨省"]
    assert by_place["辖区内"]["基层"] == "85%" and by_place["省内"]["基层"] == "75%"
    assert by_place["跨省"]["三级"] == "45%"
    assert "| 险种 | 就诊类型 | 就医地 | 基层 |" in markdown


def test_chart_names_the_authors_values():
    pytest.importorskip("matplotlib")
    from policylang.publish import chart

    try:
        chart.cjk_font_path()
    except chart.FontMissing:
        pytest.skip("no CJK font")
    result = chart.payment_chart(load_policy(AUTHOR.relative_to(ROOT)))
    assert result is not None and result.claim["特困人员"] is False
    assert "特困人员 否（作者指定）" in result.description


def test_the_page_says_which_budget_gave_the_verdicts():
    policy = load_policy(ROOT / "tests" / "cli" / "cap-bypassed.pol")
    page = build_pages([policy], check=True, timeout=7.0, budget=45.0, charts=False).pages[0]
    sentence = "以下结论在每题 7 秒、每份政策 45 秒的求解预算内得出"
    assert page.checks.budget.startswith(sentence)
    assert sentence in render_page(page, "html") and sentence in render_page(page, "md")


def test_the_language_reference_example_of_page_and_fact():
    """docs/language.md's `page` and `fact` example, added to the reference policy as the section says."""
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = doc.split("## `page` and `fact`", 1)[1]
    block = section.split("```pol\n", 1)[1].split("```", 1)[0]
    base = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    policy = load_text(base + "\n" + block, str(ROOT / "policies" / "shaoxing-2024.pol"))
    assert [f.name for f in policy.facts] == ["个人缴费标准"]
    page = build_pages([policy], check=False, charts=False).pages[0]
    matrix = page.matrices[0]
    assert matrix.row_axes[-1] == "就医地" and "病种：高血压" in matrix.author
    assert page.facts[0].value == "380.00元" and page.facts[0].quote


def test_a_reform_inherits_the_page_and_facts_unless_it_says_its_own():
    """`extends` keeps the base's `page` and facts; the reform's own `page` replaces the base's whole, and
    its own fact of the same name replaces the base's (no 'defined twice')."""
    head = 'policy "改革" {\n  extends "page-author.pol"\n  in force from 2025-01-01\n}\n'
    file = str(GOLDEN / "policies" / "reform.pol")
    inherited = load_text(head, file)
    assert [n for n, _ in inherited.page.axes] == ["就医地"] and len(inherited.facts) == 2
    own = load_text(head + 'page {\n  representative 特困人员 = true\n}\n'
                    'fact 特困人员个人缴费: money = 400元 clause "三"\n', file)
    assert own.page.axes == () and [(n, v) for n, v, _ in own.page.representative] == [("特困人员", True)]
    assert {f.name: f.value for f in own.facts} == {"特困人员个人缴费": Decimal("400"), "代缴": True}
