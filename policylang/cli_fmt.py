"""`policylang fmt [--check | --diff] PATHS`: the formatter on files (policylang/fmt does the text).

Files are written atomically (a temporary file in the same directory, then renamed over the original),
and only when the formatter proved the new text means the same; otherwise the file is left as it was.
"""
from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

import click

from policylang.fmt import FormatError, format_source
from policylang.pipeline import policy_files


@click.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--check", is_flag=True, help="Write nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of the changes.")
def fmt_command(paths, check, show_diff):
    """Format the .pol files under PATHS in place: one layout, comments kept, meaning checked unchanged."""
    from policylang.cli import EXIT_FAILED, InputError

    changed, problems, internal = [], [], []
    for path in policy_files(paths):
        try:
            before = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read it as UTF-8 ({exc})")
            continue
        try:
            after = format_source(before, str(path))
        except FormatError as exc:
            (internal if exc.internal else problems).append(str(exc))
            continue
        if after == before:
            continue
        changed.append(path)
        if show_diff:
            click.echo("".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                                    f"{path} (before)", f"{path} (formatted)")), nl=False)
        if check:
            click.echo(f"would reformat {path}")
        if not (check or show_diff):
            write_atomically(path, after)
            click.echo(f"reformatted {path}", err=True)
    if internal:
        raise RuntimeError("\n".join(internal))
    if problems:
        raise InputError("\n\n".join(problems))
    if check and changed:
        raise SystemExit(EXIT_FAILED)


def write_atomically(path: Path, text: str) -> None:
    """Never a half-written policy: write beside it, then rename over it (keeping its permissions)."""
    mode = path.stat().st_mode
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".fmt", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temp, mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
