"""The command line: parse arguments, call one function, map errors to exit codes.

Exit codes: 0 success; 1 a test or check failed; 2 bad input (a .pol file with
errors, bad claim data, bad usage); 70 an internal error (a bug in policylang).
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import click

from policylang.claims import ClaimError, ClaimReader, load_json, parse_json_document, read_records, result_record
from policylang.cli_batch import eval_streamed, streamed_options, synth_command
from policylang.cli_simulate import eval_dask_run, eval_engine, simulate_command, sweep_command
from policylang.diagnostics import DiagnosticError, SourceCache, render, render_all
from policylang.evaluators import BACKENDS, run_claims
from policylang.trace import identity, trace
from policylang.trace import render as narrative
from policylang.pipeline import load_policy, policy_files

EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 1, 2, 70


class InputError(Exception):
    """Bad input that is the user's to fix; the message says what and where."""


def _load(path: str, assume=(), root=None):
    try:
        return _warned(load_policy(path, _assumptions(assume), root))
    except DiagnosticError as exc:
        raise InputError(render_all(exc.diagnostics)) from None


def _warned(policy):
    """Print the policy's warnings (an `--assume` a later amendment made ineffective) on stderr."""
    for warning in policy.warnings:
        click.echo(render(warning, SourceCache()) + "\n", err=True)
    return policy


def _load_all(paths, assume, root=None) -> tuple[list, list]:
    """Every policy under PATHS (default: policies/) that loads, and the rendered errors of those that
    do not: the others are still tested, checked or rendered; the errors decide the exit code."""
    files = policy_files(paths or ["policies"])
    if not files:
        raise InputError("no .pol files found")
    overrides = _assumptions(assume)
    policies, problems = [], []
    for path in files:
        try:
            policies.append(_warned(load_policy(path, overrides, root)))
        except DiagnosticError as exc:
            problems.append(render_all(exc.diagnostics))
    return policies, problems


def _assumptions(pairs) -> dict:
    """--assume NAME=VALUE pairs as a dict; a malformed pair is a usage error."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--assume expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value.strip()
    return out


class Seconds(click.ParamType):
    """A finite number of seconds in [0.1, most]: `nan`, `inf` and `1e308` are refused, not passed to Z3."""

    name = "seconds"

    def __init__(self, most: float):
        self.most = most

    def convert(self, value, param, ctx):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!s} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not 0.1 <= seconds <= self.most:
            self.fail(f"{value!s} is not between 0.1 and {self.most:g} seconds", param, ctx)
        return seconds


TIMEOUT = click.option("--timeout", type=Seconds(3600), default=10.0, show_default=True,
                       help="Solver budget per question, in seconds of a calibrated resource count (the same "
                            "verdict on every machine); an undecided one is reported, never counted as proved.")
BUDGET = click.option("--budget", type=Seconds(86400), default=60.0, show_default=True,
                      help="Solver budget for all the questions about one policy, in the same seconds as --timeout: "
                           "what is left undecided when it is spent is reported as undecided, so a run always ends.")
ASSUME = click.option("--assume", "assume", multiple=True, metavar="NAME=VALUE",
                      help="Override a named assumption without editing the policy (repeatable).")
ROOT = click.option("--root", type=click.Path(file_okay=False), default=None,
                    help="The directory `extends` and `conforms to` may reach (default: the policy's repository, "
                         "the nearest directory above it with .git or pyproject.toml, else its own directory).")


def _dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policylang")
def cli():
    """policylang: medical-insurance reimbursement policy as code."""


@cli.command("eval")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--claim", "claim_text", help="One claim as a JSON object.")
@click.option("--claims", "claims_file", type=click.Path(dir_okay=False),
              help="A file of claims: .json (object or array), .jsonl or .csv.")
@click.option("--explain", is_flag=True, help="Add the trace (policylang.trace/1, docs/trace.md): rules, table rows, "
                                               "bands, versions and clauses that fired.")
@click.option("--backend", type=click.Choice(BACKENDS), default="compiled", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "text"]), default="json", show_default=True,
              help="text: with --explain, the zh-CN narrative of each claim's trace.")
@ASSUME
@ROOT
@streamed_options
@eval_engine
def eval_command(policy, claim_text, claims_file, explain, backend, fmt, assume, root, engine, scheduler, **streamed):
    """Evaluate claims against POLICY and print every output as JSON (with --out: stream them to a file)."""
    if bool(claim_text) == bool(claims_file):
        raise click.UsageError("give exactly one of --claim JSON or --claims FILE")
    if fmt == "text" and not explain:
        raise click.UsageError("--format text is the narrative of --explain: add --explain")
    if eval_dask_run(lambda: _load(policy, assume, root), claims_file, streamed["out"], engine, scheduler):
        return
    if eval_streamed(lambda: _load(policy, assume, root), policy, claim_text, claims_file, explain, backend, **streamed):
        return
    ir_policy = _load(policy, assume, root)
    if claim_text:
        records, errors = parse_json_document(claim_text, "--claim")
    else:
        records, errors = read_records(Path(claims_file))
    reader = ClaimReader(ir_policy)
    claims, claim_errors = reader.read_all(records)
    errors.extend(claim_errors)
    if errors:
        lines = "\n".join(f"error: {e}" for e in errors)
        raise InputError(f"{lines}\n\n{len(errors)} claim error(s); no claim was evaluated")
    results = []
    ident = identity(ir_policy, _assumptions(assume)) if explain else None
    for item in run_claims(ir_policy, claims, backend, explain):
        record = result_record(ir_policy, item.claim, item.state_before, item.outcome, item.year,
                               (item.totals_before, item.totals_after))
        if explain:
            record["explain"] = trace(ir_policy, ident, item, record)
        results.append(record)
    if fmt == "text":
        click.echo("\n".join(narrative(r["explain"]) for r in results), nl=False)
    elif fmt == "jsonl":
        for record in results:
            click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo(_dump(results[0] if claim_text and len(results) == 1 else results))


@cli.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--coverage", "show_coverage", is_flag=True,
              help="List rules, rows, bands, versions, members and condition outcomes no example exercises.")
@click.option("--format", "fmt", type=click.Choice(["text", "lcov", "cobertura"]), default="text", show_default=True,
              help="With --coverage: lcov or Cobertura XML for CI coverage tools (docs/ci.md).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the lcov or Cobertura report here.")
@ASSUME
@ROOT
def test_command(paths, show_coverage, fmt, output, assume, root):
    """Run every example of the policies in PATHS (default: policies/)."""
    from policylang.testing import coverage, run_examples

    if fmt != "text" and not show_coverage:
        raise click.UsageError("--format lcov|cobertura is a coverage report: add --coverage")
    echo = click.echo if fmt == "text" or output else lambda *a, **k: click.echo(*a, **{**k, "err": True})
    policies, problems = _load_all(paths, assume, root)
    passed = failed = 0
    for ir_policy in policies:
        echo(ir_policy.file)
        for result in run_examples(ir_policy):
            span = result.example.span
            status = "PASS" if result.passed else "FAIL"
            echo(f"  {status} {result.example.name}" + ("" if result.passed else f"  ({span})"))
            for step in result.steps:
                for problem in step.problems:
                    where = f"claim {step.number}: " if len(result.example.steps) > 1 else ""
                    echo(f"       {where}{problem}")
            passed += result.passed
            failed += not result.passed
        if show_coverage and fmt == "text":
            gaps = coverage(ir_policy)
            echo(f"  coverage: {len(gaps)} item(s) not exercised by any example" if gaps
                 else "  coverage: every rule, row, band, version, member and condition (true and false) is exercised")
            for gap in gaps:
                echo(f"    {gap.kind:<7} {gap.span}  {gap.text}")
    if fmt != "text":
        from policylang.coverage_formats import write

        report = write(policies, fmt)
        Path(output).write_text(report, encoding="utf-8") if output else click.echo(report, nl=False)
    unreadable = f", {len(problems)} file(s) with errors" if problems else ""
    echo(f"{passed} passed, {failed} failed{unreadable}")
    if problems:
        raise InputError("\n\n".join(problems))
    if failed:
        sys.exit(EXIT_FAILED)


@cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@TIMEOUT
@BUDGET
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to a file too.")
@ASSUME
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Policies checked at a time, each in its own process (default: one per CPU). The verdicts do "
                   "not depend on it.")
@ROOT
def check_command(paths, fmt, timeout, budget, output, assume, jobs, root):
    """Parse, type-check, run examples, and prove built-in checks and properties (default: policies/)."""
    from policylang import report as render
    from policylang.workers import check_all

    policies, problems = _load_all(paths, assume, root)
    reports = check_all(policies, timeout, budget, jobs)
    text = {"text": render.text, "json": render.as_json, "sarif": render.sarif}[fmt](reports)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    if reports:
        click.echo(text)
    if problems:  # the files that parse are still checked and reported; bad input decides the exit code
        raise InputError("\n\n".join(problems))
    if any(r.findings for r in reports):
        sys.exit(EXIT_FAILED)


@cli.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--old-date", type=click.DateTime(["%Y-%m-%d"]), help="Service date of every claim on the old side.")
@click.option("--new-date", type=click.DateTime(["%Y-%m-%d"]), help="Service date of every claim on the new side.")
@TIMEOUT
@BUDGET
@click.option("--assumption", "assumptions", multiple=True, metavar="NAME",
              help="Also prove that raising this assumption of NEW moves every claim the same way.")
@ASSUME
@ROOT
def diff_command(old, new, old_date, new_date, timeout, budget, assumptions, assume, root):
    """What NEW changes against OLD over the same claims: is anyone worse off, and by how much at most.

    OLD and NEW may be the same file with --old-date/--new-date: the change at an effective date.
    """
    from policylang.diff import DiffError, Differ, Irreproducible, diff_text, direction, direction_text

    old_policy, new_policy = _load(old, assume, root), _load(new, assume, root)
    try:
        report = Differ(old_policy, new_policy, timeout, old_date and old_date.date(),
                        new_date and new_date.date(), budget).run()
    except DiffError as exc:
        raise InputError(f"error: {exc}") from None
    click.echo(diff_text(report))
    code = report.exit_code  # 70 a shown claim did not reproduce, 1 someone worse off or anything undecided
    for name in assumptions:
        try:
            result = direction(new_policy, name, timeout, budget)
        except DiffError as exc:
            raise InputError(f"error: {exc}") from None
        except Irreproducible as exc:
            click.echo(f"internal error[PL901]: {exc}")
            code = EXIT_INTERNAL
            continue
        click.echo(direction_text(new_policy, result))
        if result.status != "same-way" and code != EXIT_INTERNAL:
            code = EXIT_FAILED
    if code:
        sys.exit(code)


@cli.command("docs")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output", "-o", "out", type=click.Path(file_okay=False), required=True,
              help="Directory to write the site to (created if missing).")
@click.option("--no-check", "no_check", is_flag=True,
              help="Do not run the checker: properties show 未检查 (fast, deterministic).")
@TIMEOUT
@BUDGET
@click.option("--templates", type=click.Path(exists=True, file_okay=False),
              help="A directory of templates that replace the package's templates of the same name.")
@ASSUME
@ROOT
def docs_command(paths, out, no_check, timeout, budget, templates, assume, root):
    """Render a static site (政策解读) for the policies in PATHS (default: policies/): one HTML and one
    Markdown page per policy, an index and a comparison page."""
    from policylang.publish.site import SiteError, build_pages, write_site

    policies, problems = _load_all(paths, assume, root)
    if policies:
        try:
            site = build_pages(policies, check=not no_check, timeout=timeout, budget=budget,
                               load=lambda p: load_policy(p, _assumptions(assume), root))
            written = write_site(site, Path(out), Path(templates) if templates else None)
        except SiteError as exc:
            raise InputError(f"error: {exc}") from None
        for warning in site.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"{len(site.pages)} policy page(s), {len(written)} file(s) written to {out}")
    if problems:  # the files that load are still rendered; bad input decides the exit code
        raise InputError("\n\n".join(problems))


@cli.command("compile")
@click.argument("policy", type=click.Path(dir_okay=False))
@ROOT
def compile_command(policy, root):
    """Print the Python source of POLICY's compiled evaluator."""
    from policylang.backends.python import generate_source

    click.echo(generate_source(_load(policy, root=root)), nl=False)


cli.add_command(synth_command)
from policylang.cli_serve import serve_command  # noqa: E402 - the command lives in its own module

cli.add_command(serve_command)
from policylang.cli_lsp import lsp_command  # noqa: E402 - policylang lsp, in its own module

cli.add_command(lsp_command)
cli.add_command(simulate_command)
cli.add_command(sweep_command)


def main(argv=None):
    """Entry point: no traceback ever reaches the user unless POLICYLANG_DEBUG is set."""
    try:
        cli.main(args=argv, prog_name="policylang", standalone_mode=False)
    except InputError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INPUT)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_INPUT)
    except click.exceptions.Abort:
        sys.exit(EXIT_FAILED)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("POLICYLANG_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc}\n"
                   "this is a bug in policylang; rerun with POLICYLANG_DEBUG=1 for the traceback", err=True)
        sys.exit(EXIT_INTERNAL)


__all__ = ["main", "cli", "ClaimError", "load_json"]


from policylang.cli_fmt import fmt_command  # noqa: E402  (its own module; registered here)

cli.add_command(fmt_command)
