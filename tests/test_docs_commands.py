"""Every command README.md and docs/ show runs, as a reader would type it, with the exit code the docs give;
a transcript's output is what the docs print (timings aside), unless `SHOWN_IN_PART` says why not.

The commands run as subprocesses of the installed `policylang` in a scratch directory that links the
repository's `policies/`, `tests/`, `examples/` and `guidelines/` and holds a walk-through's `.pol` files as
the reader has written them by that command (docs_commands.files_at). `make` targets are dry-run (`make -n`): CI
runs them for real.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docs_commands import ROOT, commands, files_at, matches

COMMANDS = commands()
POLICYLANG = str(Path(sys.executable).with_name("policylang"))

# Transcripts whose output the docs show only in part, and why; their exit code is still checked. (Most
# abridge with a line that is only `…`, which the comparison reads as "any lines here".)
# Keyed by file and the command as written (line numbers move as the docs grow).
SHOWN_IN_PART = {
    ("docs/claims.md", "policylang eval policies/shaoxing-2024.pol --claims examples/shaoxing-claims.jsonl "
                       "--explain"): "reformatted one explain event per line",
    ("docs/tutorial.md", "policylang eval reform.pol --explain --claim '{\"begntime\":\"2023-11-16\",\"insutype\":"
                         "\"390\",\"med_type\":\"11\",\"dedc_hosp_lv\":\"2\",\"dise_codg\":\"J06.900\",\"就医地\":\"市内\","
                         "\"inscp_scp_amt\":\"333.33\"}'"): "shortened, and reformatted one explain event per line",
    ("docs/tutorial.md", "policylang eval --explain tests/policies/dabing-progressive.pol --claim '{\"就诊日期\": "
                         "\"2024-06-01\", \"险种\": \"城乡居民\", \"就诊类型\": \"普通住院\", \"贫困人员\": false, "
                         "\"政策范围内费用\": \"80000\", \"基本医保支付\": \"31234.56\", \"state\": {\"大病累计负担\": "
                         "\"12345.67\"}}'"): "shortened, one explain event per line",
    ("docs/tutorial.md", "policylang test reform.pol"):
        "a wrong expectation someone might have written, not the reader's file",
}
_TIMING = re.compile(r"\(\d+(\.\d+)? s\)")
_LINKED = ("policies", "tests", "examples", "guidelines")
_RUNS: dict = {}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory


def _workdir(cmd, factory) -> Path:
    """A directory as the reader's: the repository's folders, and the walk-through's files as written by then."""
    work = factory.mktemp("reader")
    for name in _LINKED:
        (work / name).symlink_to(ROOT / name)
    for name, text in files_at(cmd.file, cmd.line).items():
        (work / name).write_text(text + "\n", encoding="utf-8")
    mine = work / "my-templates"
    mine.mkdir()
    style = ROOT / "policylang" / "publish" / "templates" / "style.css"
    (mine / "style.css").write_text(style.read_text(encoding="utf-8") + "\nbody { max-width: 60em; }\n",
                                    encoding="utf-8")
    return work


def _run(cmd, argv: list, factory) -> tuple[int, str, str]:
    """Run once per distinct command line and files: the docs show some commands more than once."""
    files = files_at(cmd.file, cmd.line)
    key = (tuple(argv), tuple(sorted(files.items())))
    if key not in _RUNS:
        env = {**os.environ, "COLUMNS": "100"}
        env.pop("POLICYLANG_DEBUG", None)
        done = subprocess.run([POLICYLANG, *argv[1:]], cwd=_workdir(cmd, factory), env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=600)
        _RUNS[key] = (done.returncode, done.stdout, done.stderr)
    return _RUNS[key]


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.where for c in COMMANDS])
def test_the_command_runs_as_documented(cmd, scratch):
    argv, shell = cmd.argv()
    if argv[0] == "make":
        done = subprocess.run(["make", "-n", *argv[1:]], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return
    assert shutil.which(POLICYLANG), POLICYLANG
    rc, out, err = _run(cmd, argv, scratch)
    if (cmd.file, cmd.text) in SHOWN_IN_PART and rc != cmd.exit:
        assert rc in (0, 1), f"{cmd.where}: `{cmd.text}` exited {rc}\n{err[-3000:]}"
    else:
        assert rc == cmd.exit, f"{cmd.where}: `{cmd.text}` exited {rc}, the docs say {cmd.exit}\n{err[-3000:]}"
    if cmd.output is None or (cmd.file, cmd.text) in SHOWN_IN_PART:
        return
    printed = ("" if shell.get("quiet") else out) + err
    actual = [_TIMING.sub("(… s)", line.rstrip()) for line in printed.rstrip("\n").splitlines()]
    shown = [_TIMING.sub("(… s)", line) for line in cmd.output]
    assert matches(shown, actual), (f"{cmd.where}: the docs show other output than `{cmd.text}` prints:\n"
                                    + "\n".join(actual))


def test_every_shown_in_part_entry_names_a_transcript():
    """An entry left behind after its transcript moved would silently exempt the next one written there."""
    assert set(SHOWN_IN_PART) <= {(c.file, c.text) for c in COMMANDS if c.output is not None}
