"""The generated docs pages in a real browser: headless Chromium opens them from disk.

`policylang docs policies/ -o DIR` writes the site; Chromium opens the index (every policy page must be
linked from it), each policy page and every other page from file://. On each page every table must
be laid out with a size, the browser must log no error (a script error, a file that failed to
load), and the Chinese of the page's heading must be drawn with a font that has Chinese glyphs (no
tofu: Chromium is asked which platform fonts it used). A policy page's payment chart (the inline
<svg> from policylang/publish/chart.py, or an <img> of it) must be drawn with a width and height. A
full-page screenshot of each page is saved in pytest's tmp dir and copied under out/screenshots/
(git-ignored; POLICYLANG_SCREENSHOTS puts them elsewhere); the test prints where.

Chromium is Debian's (/usr/bin/chromium), driven through Debian's chromium-driver with Selenium: the
driver is built from the same source as the browser, so their versions always match, and nothing is
downloaded at run time. Without them the test skips, unless POLICYLANG_REQUIRE_SYSTEM_DEPS is set
(CI sets it): then it fails.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policylang.pipeline import policy_files

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


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, dict, list[Path]]:
    """(index page, policy file stem -> its page, other pages), written by `policylang docs`."""
    out = tmp_path_factory.mktemp("docs")
    done = subprocess.run([sys.executable, "-c", "from policylang.cli import main; main()", "docs",
                           str(ROOT / "policies"), "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, f"policylang docs failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert "支付图未生成" not in done.stdout + done.stderr, f"a chart was not drawn:\n{done.stdout}\n{done.stderr}"
    index = out / "index.html"
    assert index.is_file(), f"policylang docs wrote no index.html: {sorted(p.name for p in out.rglob('*'))}"
    pages = sorted(p for p in out.rglob("*.html") if p != index)
    policy_pages = {}
    for policy in POLICIES:
        page = next((p for p in pages if p.stem == policy.stem), None) or next(
            (p for p in pages if policy.stem in p.relative_to(out).as_posix()), None)
        assert page is not None, f"no page for {policy.name} among {[p.name for p in pages]}"
        policy_pages[policy.stem] = page
    others = [p for p in pages if p not in policy_pages.values()]
    return index, policy_pages, others


def _cjk_families() -> set:
    """Font families that have Chinese: fontconfig's list, and the chart's own font."""
    families = set()
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        families.update(name.strip() for line in listed.splitlines() for name in line.split(","))
    try:
        from matplotlib.ft2font import FT2Font

        from policylang.publish.chart import FontMissing, cjk_font_path

        families.add(FT2Font(str(cjk_font_path())).family_name)
    except (ImportError, FontMissing):
        pass
    return families - {""}


def _heading_fonts(browser) -> tuple[str, list]:
    """The first heading's text and the platform fonts Chromium drew it with (DevTools CSS domain)."""
    browser.execute_cdp_cmd("DOM.enable", {})
    browser.execute_cdp_cmd("CSS.enable", {})
    root = browser.execute_cdp_cmd("DOM.getDocument", {})["root"]["nodeId"]
    node = browser.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": "h1, h2"})["nodeId"]
    assert node, "a page without a heading"
    text = browser.execute_script("const h = document.querySelector('h1, h2'); return h ? h.innerText : '';")
    return text, browser.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def _check_chinese_font(browser):
    text, fonts = _heading_fonts(browser)
    chinese = [c for c in text if "\u3400" <= c <= "\u9fff"]
    if not chinese:
        return
    families = _cjk_families()
    drawn = sum(f["glyphCount"] for f in fonts if f["familyName"] in families)
    assert drawn >= len(chinese), f"{text!r} drawn with {fonts}, none of them a CJK font ({sorted(families)})"


# What the page shows, measured by the browser after layout.
MEASURE = """
const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
const isChart = s => !s.parentElement.closest('svg') &&
  (/统筹基金支付/.test(s.getAttribute('aria-label') || '') || s.parentElement.closest('figure.chart'));
const charts = [...document.querySelectorAll('svg')].filter(isChart)
  .map(s => ({tag: 'svg', size: box(s), label: s.getAttribute('aria-label') || ''}))
  .concat([...document.querySelectorAll('img')].filter(i => /\\.svg($|[?#])/.test(i.getAttribute('src') || ''))
  .map(i => ({tag: 'img', size: box(i), natural: [i.naturalWidth, i.naturalHeight], complete: i.complete,
              src: i.getAttribute('src')})));
return {
  title: document.title,
  tables: [...document.querySelectorAll('table')].map(t => ({size: box(t), rows: t.rows.length})),
  charts: charts,
  text: document.body.innerText.length,
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
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
    index, policy_pages, _ = site
    measured = _open(browser, index)
    assert _errors(browser) == []
    assert measured["text"] > 0, "the index page shows no text"
    for table in measured["tables"]:
        assert table["size"][0] > 0 and table["size"][1] > 0, f"a table with no size: {table}"
    links = {link.split("#")[0] for link in measured["links"]}
    for stem, page in policy_pages.items():
        assert page.as_uri() in links, f"the index does not link to {page.name}"
    _check_chinese_font(browser)
    _screenshot(browser, index, index.parent, measured, tmp_path, capsys)


@pytest.mark.parametrize("stem", [p.stem for p in POLICIES])
def test_policy_page(browser, site, stem, tmp_path, capsys):
    index, policy_pages, _ = site
    page = policy_pages[stem]
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
    _check_chinese_font(browser)
    _screenshot(browser, page, index.parent, measured, tmp_path, capsys)


def test_other_pages(browser, site, tmp_path, capsys):
    """Pages beside the index and the policies' (the comparison page): no error, tables drawn."""
    index, _, others = site
    for page in others:
        measured = _open(browser, page)
        assert _errors(browser) == [], page.name
        for table in measured["tables"]:
            assert table["size"][0] > 0 and table["size"][1] > 0, f"{page.name}: a table with no size: {table}"
        _check_chinese_font(browser)
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


def test_simulate_report_page(browser, tmp_path, capsys):
    """`policylang simulate … --out DIR`'s report.html: no error, its tables laid out, both charts drawn."""
    from policylang.batch.synth import synthesize
    from policylang.pipeline import load_policy

    claims = tmp_path / "claims.parquet"
    synthesize(load_policy(ROOT / "policies" / "zhoushan-2023.pol"), 600, 3, claims)
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-c", "from policylang.cli import main; main()", "simulate",
                           str(ROOT / "policies" / "zhoushan-2023-baseline.pol"), str(ROOT / "policies" / "zhoushan-2023.pol"),
                           "--claims", str(claims), "--out", str(out), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    page = out / "report.html"
    measured = _open(browser, page)
    assert _errors(browser) == []
    assert measured["tables"]
    for table in measured["tables"]:
        assert table["size"][0] > 0 and table["size"][1] > 0 and table["rows"] > 0, f"a table not drawn: {table}"
    assert len(measured["charts"]) == 2, measured["charts"]
    for chart in measured["charts"]:
        assert chart["size"][0] > 100 and chart["size"][1] > 50, f"a chart drawn too small or not at all: {chart}"
    _check_chinese_font(browser)
    _screenshot(browser, page, out, measured, tmp_path, capsys)
