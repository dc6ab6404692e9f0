"""`policylang eval … --out FILE` (the streamed path) and `policylang synth`: their options and code.

cli.py keeps `eval` without --out exactly as it was (every result as JSON on stdout); with --out the claims
are read, evaluated and written a batch at a time (policylang/batch/run.py) and a summary goes to stderr.
"""
from __future__ import annotations

from pathlib import Path

import click

from policylang.batch.columns import BadFile
from policylang.batch.run import BATCH_SIZE, run_file

_OPTIONS = (
    click.option("--out", "out", type=click.Path(dir_okay=False),
                 help="Stream the results to FILE (.parquet, .csv or .jsonl) a batch at a time instead of printing "
                      "them; --claims may then be .parquet, .csv or .jsonl."),
    click.option("--rejects", "rejects", type=click.Path(dir_okay=False),
                 help="With --out: the CSV of rows refused (row, field, reason, hint); default OUT.rejects.csv."),
    click.option("--batch-size", "batch_size", type=click.IntRange(1, 10_000_000), default=BATCH_SIZE,
                 show_default=True, help="With --out: rows read per batch (memory grows with it)."),
    click.option("--quiet", is_flag=True, help="With --out: no progress bar (it is drawn only on a terminal anyway)."),
)


def streamed_options(command):
    """The options of the streamed path, added to `eval`."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def eval_streamed(load, policy: str, claim_text, claims_file, explain: bool, backend: str, out, rejects,
                  batch_size: int, quiet: bool) -> bool:
    """Run the streamed path when --out is given (True), else refuse its options (False: today's eval runs)."""
    if out is None:
        given = [name for name, value in (("--rejects", rejects), ("--quiet", quiet)) if value]
        if given or batch_size != BATCH_SIZE:
            raise click.UsageError(f"{', '.join(given) or '--batch-size'} needs --out FILE")
        return False
    if claim_text or not claims_file:
        raise click.UsageError("--out needs --claims FILE (a .parquet, .csv or .jsonl file)")
    if explain or backend != "compiled":
        raise click.UsageError("--out evaluates with the batch engine: --explain and --backend are for eval "
                               "without --out")
    from policylang.cli import InputError

    ir_policy = load()
    try:
        summary = run_file(ir_policy, Path(claims_file), Path(out), rejects and Path(rejects), batch_size,
                           progress=False if quiet else None)
    except BadFile as exc:
        raise InputError(f"error: {exc.error}\n\nno results were written") from None
    except OSError as exc:
        raise InputError(f"error: {exc.filename or out}: {exc.strerror or exc}\n\nno results were written") from None
    for line in summary.lines():
        click.echo(line, err=True)
    return True


@click.command("synth")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("-n", "count", type=click.IntRange(1, 1_000_000_000), required=True, help="Rows (claims) to write.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="The same seed writes the same file.")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help="FILE: .parquet, .csv or .jsonl.")
@click.option("--root", type=click.Path(file_okay=False), default=None,
              help="The directory `extends` and `conforms to` may reach (as for eval).")
def synth_command(policy, count, seed, out, root):
    """Write N synthetic claims for POLICY: persons with several claims a year, every member, in and out of scope."""
    from policylang.batch.synth import synthesize
    from policylang.cli import InputError, _load

    try:
        written = synthesize(_load(policy, root=root), count, seed, Path(out))
    except BadFile as exc:
        raise InputError(f"error: {exc.error}") from None
    except OSError as exc:
        raise InputError(f"error: {exc.filename or out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {written.rows} claims of {written.persons} persons to {out}", err=True)
