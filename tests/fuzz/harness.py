"""One fuzz input through every command: load → compile → eval → test → check → docs.

An input passes when each step either works or stops at a diagnostic (DiagnosticError, a ClaimError
for the claim built from the policy, a SiteError): those reach the user as exit 2. Anything else is an
internal error (exit 70) and is returned as a `Failure` with a signature (exception type and the
innermost policylang frame), which the minimiser keeps while it shrinks the input.

A long run goes through a `Session`, which makes every input cheaper without skipping a command for it:
one work directory for all inputs (so equal inputs give equal IR), an input whose IR (positions aside)
and file name equal one already run stops after the front end (the back ends would do exactly what they
did), the checker runs once with a tiny budget and the docs reuse its report, Lark's parse of a
declaration is remembered (a pure function of the text; the AST is still built from it every time), and
the docs' templates are compiled once.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import functools
import hashlib
import re
import shutil
import tempfile
import traceback
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from policylang import ir
from policylang.claims import ClaimReader
from policylang.diagnostics import DiagnosticError, SourceCache, render_all
from policylang.pipeline import load_policy

# Seconds of the calibrated resource count: a tiny budget. Every goal is still encoded and reported (the
# encoding is where the checker can crash); the solver answers a few and leaves the rest undecided.
CHECK_TIMEOUT, CHECK_BUDGET = 0.01, 0.02
PARSE_MEMO = 4000  # declarations whose Lark parse a session remembers


@dataclasses.dataclass(frozen=True)
class Input:
    """A policy file: its name (hostile names included) and its bytes."""

    name: str
    data: bytes


@dataclasses.dataclass(frozen=True)
class Failure:
    step: str
    signature: str  # exception type and the innermost policylang frame: kept while minimising
    message: str
    trace: str


class Session:
    """What a run's inputs share: the work directory, the IR already run, Lark's remembered parses."""

    def __init__(self, dedupe: bool = True):
        self.work = Path(tempfile.mkdtemp(prefix="policylang-fuzz-"))
        self.seen: set | None = set() if dedupe else None
        self._stack = contextlib.ExitStack()
        if dedupe:
            self._stack.enter_context(_remembered_parses(PARSE_MEMO))
            self._stack.enter_context(_one_template_environment())

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def fresh(self) -> Path:
        """The work directory, empty but for `.git`: the root `extends` / `conforms to` may reach."""
        for child in self.work.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink()
        (self.work / ".git").mkdir()
        return self.work

    def already_run(self, name: str, policy) -> bool:
        """True if an input with this file name and this IR (positions aside) went through the back ends."""
        if self.seen is None:
            return False
        key = hashlib.sha256((name + "\0" + _SPAN.sub("", repr(policy))).encode("utf-8", "surrogatepass")).digest()
        if key in self.seen:
            return True
        self.seen.add(key)
        return False


_SPAN = re.compile(r"Span\(file='[^'\n]*', line=\d+, col=\d+, end_line=\d+, end_col=\d+\)")


@contextlib.contextmanager
def _remembered_parses(size: int):
    """Lark's parse of a declaration's text, remembered (least recently used out): the tree is a pure
    function of the text, and policylang's AST is still built from it for every input."""
    from policylang.syntax import parser

    lark = parser._lark()
    original, memo = lark.parse, collections.OrderedDict()

    @functools.wraps(original)
    def parse(text, *args, **kwargs):
        if args or kwargs:
            return original(text, *args, **kwargs)
        tree = memo.pop(text, None)
        if tree is None:
            tree = original(text)  # a syntax error is raised, not remembered
        memo[text] = tree
        if len(memo) > size:
            memo.popitem(last=False)
        return tree

    lark.parse = parse
    try:
        yield
    finally:
        del lark.parse


@contextlib.contextmanager
def _one_template_environment():
    """The docs' Jinja environment made once per kind, so each template is compiled once per run, not once
    per page (compiling them was most of a small policy's `docs`)."""
    from policylang.publish import site

    original = site.environment
    site.environment = functools.lru_cache(maxsize=8)(original)
    try:
        yield
    finally:
        site.environment = original


def run(case: Input, charts: bool = False) -> Failure | None:
    """None if every step worked or stopped at a diagnostic; else the first internal error."""
    return outcome(case, charts)[1]


def outcome(case: Input, charts: bool = False, session: Session | None = None) -> tuple:
    """(how far the input got: "diagnostic", "same IR" or "docs", or the step that failed; the Failure or None).

    Without a session the input runs alone (as the corpus replay and the minimiser need it)."""
    if session is None:
        with Session(dedupe=False) as alone:
            return outcome(case, charts, alone)
    work = session.fresh()
    path = work / case.name
    try:
        path.write_bytes(case.data)
    except (OSError, ValueError):  # a name the file system refuses is no input to the tools
        return "unwritable name", None
    return _steps(path, work, charts, session)


def _steps(path: Path, work: Path, charts: bool, session: Session) -> tuple:
    step = "load"
    try:
        try:
            policy = load_policy(path)
        except DiagnosticError as exc:
            step = "render"
            render_all(exc.diagnostics, SourceCache())
            return "diagnostic", None
        if session.already_run(path.name, policy):
            return "same IR", None
        for step, action in (("compile", _compile), ("eval", _eval), ("test", _test)):
            action(policy)
        step = "check"
        report = _check(policy)
        step = "docs"
        _docs(policy, work, charts, report)
    except Exception as exc:  # noqa: BLE001 - the point: anything but a diagnostic is a finding
        return step, _failure(step, exc)
    return "docs", None


def _failure(step: str, exc: BaseException) -> Failure:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/policylang/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"
    return Failure(step, f"{step} {type(exc).__name__} at {where}", f"{type(exc).__name__}: {exc}"[:500],
                   "".join(traceback.format_exception(exc))[-6000:])


def _compile(policy) -> None:
    from policylang.backends.python import compile_policy, generate_source

    compile(generate_source(policy), "<fuzz>", "exec")
    compile_policy(policy)


def _eval(policy) -> None:
    """A claim that gives every input a plain value, through both back ends: they must agree."""
    from policylang.evaluators import run_claims

    claim, errors = ClaimReader(policy).read(_record(policy), "fuzz")
    if errors or claim is None:
        return
    results = [run_claims(policy, [claim], backend)[0].outcome for backend in ("interpreter", "compiled")]
    if repr(results[0]) != repr(results[1]):
        raise AssertionError(f"the back ends disagree: {results[0]!r} != {results[1]!r}")


def _record(policy) -> dict:
    record = {}
    for name, spec in policy.inputs.items():
        value = _value(policy, spec)
        if value is not None:
            record[name] = value
    return record


def _value(policy, spec: ir.Input):
    kind = spec.type.name
    if kind == "enum":
        members = policy.enums[spec.type.enum].members
        return members[0].name if members else None
    if kind == "money":  # the bill's parts must add up (医疗费总额 = 政策范围内费用 + …): the rest are 0
        return "1000.00" if spec.name in ("政策范围内费用", "医疗费总额") else "0.00"
    low = spec.domain[0] if spec.domain else None
    plain = {"money": "1000.00", "rate": "50%", "points": "5pp", "number": "1", "bool": True,
             "date": datetime.date(2024, 6, 1).isoformat(), "text": "x"}.get(kind)
    if low is not None and kind in ("money", "number") and isinstance(low, Decimal) and low > 1:
        return str(low)
    return plain


def _test(policy) -> None:
    from policylang.testing import coverage, run_examples

    run_examples(policy)
    coverage(policy)


def _check(policy):
    from policylang import report as render
    from policylang.check import check_policy

    report = check_policy(policy, CHECK_TIMEOUT, CHECK_BUDGET)
    for form in (render.text, render.as_json, render.sarif):
        form([report])
    return report


def _docs(policy, work: Path, charts: bool, report) -> None:
    """`docs` as the command builds it, with the checker's report of the check step (not a second run)."""
    from policylang.pipeline import load_policy as load
    from policylang.publish.site import SiteError, build_pages, write_site

    try:
        with _reusing(report):
            site = build_pages([policy], check=True, timeout=CHECK_TIMEOUT, charts=charts, load=load,
                               budget=CHECK_BUDGET)
        written = write_site(site, work / "site")
    except SiteError:
        return
    for page in written:
        _safe_page(page)


@contextlib.contextmanager
def _reusing(report):
    """check.check_policy answers with this report while the docs are built."""
    from policylang import check

    original = check.check_policy

    @functools.wraps(original)
    def reuse(policy, *args, **kwargs):
        return report

    check.check_policy = reuse
    try:
        yield
    finally:
        check.check_policy = original


_HREF = re.compile(r'(?:href|src)="([^"]*)"')


def _safe_page(page: Path) -> None:
    """No link with a scheme (javascript:), and no template braces a static-site generator would run."""
    text = page.read_text(encoding="utf-8")
    for href in _HREF.findall(text):
        if urlsplit(href).scheme:
            raise AssertionError(f"{page.name}: a link with a scheme: {href[:80]}")
    if page.suffix in (".html", ".md", ".svg"):
        outside_style = re.sub(r"<style[^>]*>.*?</style>", "", text, flags=re.S)
        for braces in ("{{", "{%", "}}", "%}"):
            if braces in outside_style:
                raise AssertionError(f"{page.name}: unescaped {braces}")
