"""The commands README.md and docs/*.md show, found in their code blocks, as a test runs them.

A line in a code block (fenced, or indented four spaces) that starts with `$ policylang` is a transcript:
the lines after it, up to the next `$` or the end of the block, are its output. One that starts with
`policylang`, `.venv/bin/policylang` or `make` is a synopsis: optional `[…]` parts are left out and the
placeholders a reader replaces (`OLD.pol`, `FILE`, …) become the files in `PLACEHOLDERS`. A placeholder the
table does not know fails the test, so a new command in the docs is run or named here, never skipped.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")))

# What a reader types for each placeholder, so the synopsis runs as written.
PLACEHOLDERS = {
    "OLD.pol": "tests/tutorial/baseline.pol",
    "NEW.pol": "tests/tutorial/reform.pol",
    "POLICY.pol": "policies/shaoxing-2024.pol",
    "FILE": "examples/shaoxing-claims.jsonl",
    "PATHS…": "policies/",
    '{"begntime": "2024-03-01", …}': (
        '{"begntime":"2024-03-01","insutype":"390","med_type":"14","dedc_hosp_lv":"基层",'
        '"dise_codg":"I10","就医地":"市内","已备案慢病":true,"inscp_scp_amt":"1000.00"}'),
}
# A token a reader must replace: upper-case words, `…`, or the placeholders above.
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]+(\.pol)?$|…")
_COMMAND = re.compile(r"^(\$ )?(\.venv/bin/)?(policylang|make) ")


@dataclass
class Command:
    file: str
    line: int
    text: str  # as the reader sees it, without the `$ `
    output: list | None  # the transcript's lines; None for a synopsis
    exit: int = 0  # what the docs say it exits with: `(exit 1.)` after its block, or `exit=N` in it

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def argv(self) -> tuple[list, dict]:
        """The argument vector and the shell details the line asks for (`> /dev/null`, `echo exit=$?`)."""
        text, shell = self.text, {}
        if text.endswith('; echo "exit=$?"'):
            text, shell["echo_exit"] = text[: -len('; echo "exit=$?"')], True
        if text.endswith("> /dev/null"):
            text, shell["quiet"] = text[: -len("> /dev/null")], True
        words = shlex.split(text, comments=True)
        if words[0] == ".venv/bin/policylang":
            words[0] = "policylang"
        if self.output is None:
            words = _drop_optional(words)
        out = []
        for w in words:
            if w in PLACEHOLDERS:
                w = PLACEHOLDERS[w]
            elif _PLACEHOLDER.search(w):
                raise AssertionError(f"{self.where}: `{w}` is a placeholder the test does not know; "
                                     "add what a reader would type to PLACEHOLDERS")
            out.append(w)
        return out, shell


def _drop_optional(words: list) -> list:
    """`check policies/ [--format text|json|sarif] [--timeout SECONDS]` → `check policies/`."""
    out, depth = [], 0
    for w in words:
        depth += w.count("[") if w.startswith("[") else 0
        if depth == 0:
            out.append(w)
        depth -= w.count("]") if depth and w.endswith("]") else 0
    return out


def _blocks(lines: list):
    """(first line number, lines) of every fenced or four-space-indented code block."""
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].lstrip().startswith("```"):
                j += 1
            yield i + 2, lines[i + 1:j]
            i = j + 1
        elif lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            while j > i and not lines[j - 1].strip():
                j -= 1
            yield i + 1, [line[4:] for line in lines[i:j]]
            i = j
        else:
            i += 1


def commands() -> list:
    found = []
    for name in DOCS:
        lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
        for start, block in _blocks(lines):
            current = None
            for k, line in enumerate(block):
                text = line.strip()
                if _COMMAND.match(text):
                    transcript = text.startswith("$ ")
                    current = Command(name, start + k, text[2:] if transcript else text,
                                      [] if transcript else None)
                    found.append(current)
                    if not transcript:
                        current = None
                elif current is not None:
                    current.output.append(line.rstrip())
            after = next((t.strip() for t in lines[start + len(block):start + len(block) + 4] if t.strip()
                          and not t.startswith("```")), "")
            said = re.match(r"\(exit (\d+)", after)
            if said and current is not None:
                current.exit = int(said.group(1))
    for c in found:
        while c.output and not c.output[-1]:
            c.output.pop()
        if c.output and c.output[-1].startswith("exit="):
            c.exit = int(c.output.pop()[len("exit="):])
    return found


_FILE = re.compile(r"`([\w.-]+\.pol)`")


def files_at(doc: str, line: int) -> dict:
    """The `.pol` files a reader of a walk-through has written by `line`: each ```pol block is appended to
    the file its lead-in names (`baseline.pol`:, Append to `reform.pol`:), or, when the lead-in says
    "change", replaces the lines that start with the same two words until the next `##` section."""
    lines = (ROOT / doc).read_text(encoding="utf-8").splitlines()
    files, changes, i = {}, {}, 0
    while i < min(line, len(lines)):
        if lines[i].startswith("## "):
            changes = {}
        if lines[i].startswith("```pol"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            lead = " ".join(lines[max(0, i - 4):i])
            named = _FILE.findall(lead)
            if named:
                block = lines[i + 1:j]
                if "change" in lead:
                    changes.setdefault(named[-1], []).extend(block)
                else:
                    files.setdefault(named[-1], []).extend([*block, ""])
            i = j
        i += 1
    out = {}
    for name, text in files.items():
        for new in changes.get(name, []):
            head = " ".join(new.split()[:2])
            text = [new if " ".join(old.split()[:2]) == head else old for old in text]
        out[name] = "\n".join(text)
    return out


def matches(shown: list, actual: list) -> bool:
    """Whether the printed lines are what the docs show: a line that is only `…` (or `…,`) stands for any
    lines, a `…` inside a line for any text."""
    if not shown:
        return not actual
    if shown[0].strip() in ("…", "…,"):
        return any(matches(shown[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and _same_line(shown[0], actual[0]) and matches(shown[1:], actual[1:])


def _same_line(shown: str, actual: str) -> bool:
    if "…" not in shown:
        return shown == actual
    return re.fullmatch(".*".join(map(re.escape, shown.split("…"))), actual) is not None
