"""`policylang simulate` and `policylang sweep`: their options, and the errors they turn into exit 2.

The work is in policylang/simulate/ (one streamed pass, the tally, the report) and policylang/scale/
(the same on a Dask cluster); this module reads the options and prints.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from policylang.batch.columns import BadFile
from policylang.batch.run import BATCH_SIZE
from policylang.diagnostics import MESSAGES

ENGINES = ("local", "dask")


def problem(code: str, position: str | None = None, **args) -> str:
    """An error from the registry (diagnostics.MESSAGES), with where it is and its hint."""
    title, hint = MESSAGES[code]
    out = [f"error[{code}]: {title.format(**args)}"]
    if position:
        out.append(f"  --> {position}")
    if hint:
        out.append(f"  = hint: {hint.format(**args)}")
    return "\n".join(out)


def _pairs(items) -> tuple:
    return tuple(items or ())


engine_options = [
    click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
                 help="local: one streamed pass in this process; dask: partitions on a Dask cluster (Parquet in)."),
    click.option("--scheduler", default=None, metavar="ADDRESS",
                 help="With --engine dask: the scheduler (tcp://host:8786); without it a local cluster on this "
                      "machine's cores."),
]


def _engine(command):
    for option in reversed(engine_options):
        command = option(command)
    return command


def _fail(exc: Exception, out) -> None:
    from policylang.cli import InputError
    from policylang.scale.runner import RunFailed
    from policylang.simulate.baseline import CacheMismatch
    from policylang.simulate.pair import MissingPayment

    if isinstance(exc, BadFile):
        raise InputError(f"error: {exc.error}\n\nno report was written") from None
    if isinstance(exc, MissingPayment):
        raise InputError(problem("E0495", None, **exc.args_)) from None
    if isinstance(exc, CacheMismatch):
        raise InputError(problem("E0496", exc.args_["path"], **exc.args_)) from None
    if isinstance(exc, RunFailed):
        raise InputError(problem("E0498", None, what=exc.what, hint=exc.hint)) from None
    if isinstance(exc, OSError):
        raise InputError(f"error: {exc.filename or out}: {exc.strerror or exc}") from None
    raise exc


@click.command("simulate")
@click.argument("baseline", type=click.Path(dir_okay=False))
@click.argument("reform", type=click.Path(dir_okay=False))
@click.option("--claims", "claims", required=True, help="The claims: .parquet, .csv or .jsonl (with --engine dask: "
              "Parquet, a path or an fsspec URL).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="DIR: write simulate.json, report.html and report.md there.")
@click.option("--assume", "assume", multiple=True, metavar="NAME=VALUE", help="Override an assumption on both sides.")
@click.option("--baseline-assume", "base_assume", multiple=True, metavar="NAME=VALUE",
              help="Override an assumption of the baseline only.")
@click.option("--reform-assume", "reform_assume", multiple=True, metavar="NAME=VALUE",
              help="Override an assumption of the reform only (a reform can be the baseline file with one value changed).")
@click.option("--baseline-results", "baseline_results", type=click.Path(dir_okay=False), default=None,
              help="A Parquet file caching the baseline's results: written on the first run, replayed by the next.")
@click.option("--keep-in-force", is_flag=True,
              help="Keep each policy's in-force period (by default both apply to every claim's date).")
@click.option("--threshold-yuan", type=click.IntRange(0, 10**9), default=1, show_default=True,
              help="A change smaller than this many yuan counts as unchanged in the thresholded counts.")
@click.option("--threshold-percent", type=click.IntRange(0, 1000), default=5, show_default=True,
              help="A change smaller than this share of the baseline payment counts as unchanged there.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document instead of the table.")
@click.option("--batch-size", type=click.IntRange(1, 10_000_000), default=BATCH_SIZE, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_engine
@click.option("--root", type=click.Path(file_okay=False), default=None)
def simulate_command(baseline, reform, claims, out, assume, base_assume, reform_assume, baseline_results,
                     keep_in_force, threshold_yuan, threshold_percent, as_json, batch_size, quiet, engine,
                     scheduler, root):
    """What REFORM changes against BASELINE over a file of claims: fund spend per stage, patient payment,
    winners and losers, breakdowns, applicability changes."""
    from policylang.cli import _load
    from policylang.simulate.pair import Pair
    from policylang.simulate.report import build, policy_entry
    from policylang.simulate.tally import Thresholds

    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    if engine == "dask" and baseline_results:
        raise click.UsageError("--baseline-results is for --engine local")
    base = _load(baseline, _pairs(assume) + _pairs(base_assume), root)
    new = _load(reform, _pairs(assume) + _pairs(reform_assume), root)
    try:
        pair = Pair.build(base, new, Thresholds(threshold_yuan * 100, threshold_percent), keep_in_force)
        if engine == "dask":
            from policylang.scale.runner import simulate_dask

            result = simulate_dask(pair, claims, scheduler)
        else:
            from policylang.simulate.run import simulate_file

            result = simulate_file(pair, Path(claims), baseline_results and Path(baseline_results), batch_size,
                                   progress=False if quiet else None)
        rows = {"in": result.rows_in, "refused_by_reader": result.reader_rejected,
                "refused_by_baseline": result.tally.rejected["baseline"],
                "refused_by_reform": result.tally.rejected["reform"]}
        from policylang.simulate.typical import typical_claims

        doc = build(result.tally, policy_entry(pair.baseline, pair.base_engine), policy_entry(pair.reform, pair.reform_engine),
                    rows, keep_in_force, claims, result.seconds, typical_claims(pair.baseline, pair.reform))
        if out:
            from policylang.simulate.page import write_report

            write_report(doc, Path(out))
    except Exception as exc:  # noqa: BLE001 - _fail re-raises what is not the user's to fix
        _fail(exc, out)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        from policylang.simulate.text import lines

        click.echo("\n".join(lines(doc)))
    if out:
        click.echo(f"report: {Path(out) / 'report.html'}, {Path(out) / 'report.md'}, {Path(out) / 'simulate.json'}",
                   err=True)


@click.command("sweep")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--assume", "assume", multiple=True, required=True, metavar="NAME=FROM..TO/STEP",
              help="The assumption swept (NAME=FROM..TO/STEP, e.g. 居民普通门诊基层比例=55%..70%/5pp); other "
                   "--assume NAME=VALUE pairs hold fixed overrides.")
@click.option("--claims", "claims", required=True, help="The claims: .parquet, .csv or .jsonl (Parquet with --engine dask).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None, help="DIR: write sweep.json and sweep.svg there.")
@click.option("--keep-in-force", is_flag=True, help="Keep the policy's in-force period.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document instead of the table.")
@click.option("--batch-size", type=click.IntRange(1, 10_000_000), default=BATCH_SIZE, show_default=True)
@_engine
@click.option("--root", type=click.Path(file_okay=False), default=None)
def sweep_command(policy, assume, claims, out, keep_in_force, as_json, batch_size, engine, scheduler, root):
    """Fund spend and patient payment of POLICY for each value of one assumption, over a file of claims."""
    from policylang.cli import InputError, _load
    from policylang.simulate.page import _write
    from policylang.simulate.sweep import BadRange, chart, document, lines, parse_range, prepare, sweep_file

    ranges = [a for a in assume if ".." in a]
    fixed = tuple(a for a in assume if ".." not in a)
    if len(ranges) != 1:
        raise InputError(problem("E0497", None, text=" ".join(assume) or "", what="give exactly one NAME=FROM..TO/STEP"))
    try:
        name, values = parse_range(ranges[0])
    except BadRange as exc:
        raise InputError(problem("E0497", None, **exc.args_)) from None
    policies = [_load(policy, fixed + (f"{name}={v}",), root) for v in values]
    try:
        prepared = prepare(policies, keep_in_force)
        if engine == "dask":
            from policylang.scale.runner import sweep_dask

            found, rows_in = sweep_dask(prepared, claims, scheduler)
        else:
            found, rows_in, _ = sweep_file(prepared, Path(claims), batch_size)
        doc = document(policies[0], name, values, found, rows_in, claims)
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            _write(Path(out) / "sweep.json", json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            _write(Path(out) / "sweep.svg", chart(doc))
    except Exception as exc:  # noqa: BLE001 - _fail re-raises what is not the user's to fix
        _fail(exc, out)
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2) if as_json else "\n".join(lines(doc)))


def eval_engine(command):
    """--engine/--scheduler on `eval`: with --engine dask, --claims is Parquet and --out a directory of parts."""
    return _engine(command)


def eval_dask_run(load, claims_file, out, engine, scheduler) -> bool:
    """Run eval on Dask when asked (True), else leave eval to its own paths (False)."""
    if engine != "dask":
        if scheduler:
            raise click.UsageError("--scheduler needs --engine dask")
        return False
    if not claims_file or not out:
        raise click.UsageError("--engine dask needs --claims FILE (Parquet) and --out DIR")
    from policylang.cli import InputError
    from policylang.scale.runner import RunFailed, eval_dask

    try:
        summary = eval_dask(load(), claims_file, out, scheduler)
    except RunFailed as exc:
        raise InputError(problem("E0498", None, what=exc.what, hint=exc.hint)) from None
    except BadFile as exc:
        raise InputError(f"error: {exc.error}\n\nno results were written") from None
    click.echo(f"rows: {summary.rows_in} in = {summary.rows_out} out + {summary.rejected} rejected", err=True)
    click.echo(f"results: {out} (a directory of Parquet parts; sort by `row` for the input order)", err=True)
    for k, v in summary.funds.items():
        click.echo(f"  {k}  {v // 100}.{v % 100:02d}" if v >= 0 else f"  {k}  -{(-v) // 100}.{(-v) % 100:02d}", err=True)
    return True
