"""The generated docs pages in a real browser: headless Chromium opens them from disk.

For each page (the index and one page per policy) the test checks that every table was laid out
with a size, that a policy page's payment chart (an inline <svg> or an <img>) was drawn with a width
and height, that the browser logged no error (a script error, a file that failed to load), and saves
a full-page screenshot in pytest's tmp dir and a copy under out/screenshots/ (git-ignored; set
POLICYLANG_SCREENSHOTS to put them elsewhere), whose path the test prints.

The pages come from `policylang docs policies/ -o DIR` when the command exists; before it does, from
a small page per policy written here from chart.py's SVG and a table of the chart's numbers.

Chromium is Debian's (/usr/bin/chromium), driven through Debian's chromium-driver with Selenium: the
driver is built from the same source as the browser, so their versions always match, and nothing is
downloaded at run time. Without them the test skips, unless POLICYLANG_REQUIRE_SYSTEM_DEPS is set
(CI sets it): then it fails.
"""
from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policylang.pipeline import load_policy, policy_files

ROOT = Path(__file__).resolve().parent.parent
POLICIES = policy_files([ROOT / "policies"])
CHROMIUM = os.environ.get("POLICYLANG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("POLICYLANG_CHROMEDRIVER", "/usr/bin/chromedriver")
# Screenshots are kept here too (out/ is git-ignored), so a person can look at the last run's pages.
SCREENSHOTS = Path(os.environ.get("POLICYLANG_SCREENSHOTS", ROOT / "out" / "screenshots"))
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900", "--hide-scrollbars")


def _require(what: str):
    if os.environ.get("POLICYLANG_REQUIRE_SYSTEM_DEPS"):
        pytest.fail(f"{what} (POLICYLANG_REQUIRE_SYSTEM_DEPS is set; `make system-deps` as root installs it)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            _require(f"{path} not found: Debian package {package}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _require("selenium is not installed (pip install -e '.[test]')")
    # Selenium must use the given driver and browser; never let its manager look for (or download) others.
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(log)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def _docs_command() -> bool:
    from policylang.cli import cli

    return "docs" in cli.commands


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, list[Path]]:
    """(index page, policy pages): from `policylang docs` when it exists, else written here."""
    out = tmp_path_factory.mktemp("docs")
    if _docs_command():
        done = subprocess.run([sys.executable, "-c", "from policylang.cli import main; main()", "docs",
                               str(ROOT / "policies"), "-o", str(out)],
                              capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, f"policylang docs failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        index = out / "index.html"
        assert index.is_file(), f"policylang docs wrote no index.html: {sorted(p.name for p in out.rglob('*'))}"
        pages = sorted(p for p in out.rglob("*.html") if p != index)
        assert len(pages) >= len(POLICIES), f"{len(pages)} policy pages for {len(POLICIES)} policies"
        return index, pages
    return _stand_in_site(out)


def _stand_in_site(out: Path) -> tuple[Path, list[Path]]:
    """Until `policylang docs` exists: per policy a page with the chart inline and as an <img>, and a table."""
    from policylang.publish.chart import FontMissing, payment_chart

    pages = []
    for path in POLICIES:
        policy = load_policy(path)
        try:
            result = payment_chart(policy)
        except FontMissing as exc:
            _require(str(exc))
        assert result is not None, path
        (out / f"{path.stem}.svg").write_text(result.svg, encoding="utf-8")
        inline = result.svg[result.svg.index("<svg"):]
        rows = "".join(
            f"<tr><td>{html.escape('、'.join(s.levels))}</td><td>{'统筹基金支付' if s.kind == 'fund' else '个人负担'}</td>"
            f"<td>{s.points[-1][0]:.2f}</td><td>{s.points[-1][1]:.2f}</td></tr>" for s in result.series)
        page = out / f"{path.stem}.html"
        page.write_text(f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(policy.meta.title)}</title>
<style>body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #999; padding: 4px 8px; }} svg, img {{ max-width: 100%; height: auto; }}</style>
</head><body><h1>{html.escape(policy.meta.title)}</h1>
<figure class="chart">{inline}</figure>
<table><thead><tr><th>机构级别</th><th>支付</th><th>政策范围内费用</th><th>金额</th></tr></thead>
<tbody>{rows}</tbody></table>
<p><img class="chart" src="{path.stem}.svg" alt="{html.escape(result.title)}"></p>
</body></html>
""", encoding="utf-8")
        pages.append(page)
    links = "".join(f'<tr><td><a href="{p.name}">{html.escape(p.stem)}</a></td></tr>' for p in pages)
    index = out / "index.html"
    index.write_text(f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政策</title></head>
<body><h1>政策</h1><table><tbody>{links}</tbody></table></body></html>
""", encoding="utf-8")
    return index, pages


# What the page shows, measured by the browser after layout.
MEASURE = """
const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
const charts = [...document.querySelectorAll('svg')].filter(s => !s.parentElement.closest('svg'))
  .map(s => ({tag: 'svg', size: box(s), label: s.getAttribute('aria-label') || ''}))
  .concat([...document.querySelectorAll('img')].filter(i => /\\.svg($|[?#])/.test(i.getAttribute('src') || ''))
  .map(i => ({tag: 'img', size: box(i), natural: [i.naturalWidth, i.naturalHeight], complete: i.complete,
              src: i.getAttribute('src')})));
return {
  title: document.title,
  tables: [...document.querySelectorAll('table')].map(t => ({size: box(t), rows: t.rows.length})),
  charts: charts,
  text: document.body.innerText.length,
  width: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
  height: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight),
};
"""


def _open(browser, page: Path) -> dict:
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(page.as_uri())
    browser.execute_async_script("const done = arguments[arguments.length - 1];"
                                 "Promise.all([document.fonts.ready, ...[...document.images].map(i => i.decode()"
                                 ".catch(() => null))]).then(() => done(true));")
    return browser.execute_script(MEASURE)


def _errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _screenshot(browser, page: Path, root: Path, measured: dict, tmp_path: Path, capsys) -> Path:
    """The whole page as PNG: the window grows to the page's size (bounded) first."""
    browser.set_window_size(max(1280, min(measured["width"], 2400)), max(600, min(measured["height"] + 40, 12000)))
    name = page.relative_to(root).with_suffix(".png").as_posix().replace("/", "_")
    shot = tmp_path / name
    browser.save_screenshot(str(shot))
    browser.set_window_size(1280, 900)
    assert shot.stat().st_size > 1000, "empty screenshot"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    kept = SCREENSHOTS / name
    shutil.copyfile(shot, kept)
    with capsys.disabled():
        print(f"\n  screenshot of {page.name}: {kept}", end="")
    return kept


def test_index_page(browser, site, tmp_path, capsys):
    index, pages = site
    measured = _open(browser, index)
    assert _errors(browser) == []
    assert measured["text"] > 0, "the index page shows no text"
    for table in measured["tables"]:
        assert table["size"][0] > 0 and table["size"][1] > 0, f"a table with no size: {table}"
    _screenshot(browser, index, index.parent, measured, tmp_path, capsys)


@pytest.mark.parametrize("number", range(len(POLICIES)), ids=[p.stem for p in POLICIES])
def test_policy_page(browser, site, number, tmp_path, capsys):
    index, pages = site
    page = next((p for p in pages if p.stem == POLICIES[number].stem),
                next((p for p in pages if POLICIES[number].stem in p.as_posix()), None))
    assert page is not None, f"no page for {POLICIES[number].name} among {[p.name for p in pages]}"
    measured = _open(browser, page)
    assert _errors(browser) == []
    assert measured["tables"], "a policy page without a table"
    for table in measured["tables"]:
        assert table["size"][0] > 0 and table["size"][1] > 0 and table["rows"] > 0, f"a table not drawn: {table}"
    assert measured["charts"], "no payment chart (<svg> or <img src=….svg>) on the page"
    for chart in measured["charts"]:
        assert chart["size"][0] > 100 and chart["size"][1] > 50, f"a chart drawn too small or not at all: {chart}"
        if chart["tag"] == "img":
            assert chart["complete"] and chart["natural"][0] > 0, f"chart image did not load: {chart}"
    _screenshot(browser, page, index.parent, measured, tmp_path, capsys)


def test_the_browser_checks_can_fail(browser, tmp_path):
    """A script error, a missing chart file and an empty table are all seen (so the checks above mean something)."""
    page = tmp_path / "broken.html"
    page.write_text('<!doctype html><html><head><meta charset="utf-8"></head><body><table></table>'
                    '<img src="missing.svg"><script>throw new Error("boom")</script></body></html>',
                    encoding="utf-8")
    measured = _open(browser, page)
    errors = _errors(browser)
    assert any("boom" in e for e in errors), errors
    assert any("missing.svg" in e for e in errors), errors
    assert measured["tables"][0]["size"][1] == 0
    image = measured["charts"][0]
    assert image["tag"] == "img" and image["natural"] == [0, 0]
