"""`policylang test --coverage --format lcov|cobertura`: what the examples exercise, for CI coverage tools.

Each rule, table row (and default), band, and version of a definition with several versions is a line
item at the line its span starts on; each condition item of `testing.coverage` (a comparison, or a bool
in a condition position) is a branch with two outcomes, true and false. A line's hits are the number of
policies whose examples exercise every item on it (a base file is reached by each policy that extends
it, and tools show the sum); a line with an item no example exercises has 0 hits. Members (enumeration
values no example gives) stay in the text report: they belong to an input's line, often in the prelude,
which is not a file of the repository. Items in the prelude are left out for the same reason.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from policylang import ir
from policylang.diagnostics import PRELUDE_NAME
from policylang.testing import conditions, coverage

LINE_KINDS = ("rule", "row", "band", "version")


@dataclass
class FileCoverage:
    """One .pol file: hits per line, and per branch line the (true, false) outcomes' hits per condition."""

    path: str
    items: dict = field(default_factory=dict)  # line -> hits of its rule, row, band and version items
    branches: dict = field(default_factory=dict)  # line -> {column: [true hits, false hits]}

    @property
    def lines(self) -> dict:
        """Every line with an item: a line with conditions only is hit as often as an outcome of them."""
        lines = {line: max(max(pair) for pair in conds.values()) for line, conds in self.branches.items()}
        lines.update(self.items)
        return dict(sorted(lines.items()))


def collect(policies: list[ir.Policy]) -> dict[str, FileCoverage]:
    """Coverage of every policy, merged per file (keyed and ordered by the path a report shows)."""
    files: dict[str, FileCoverage] = {}
    for policy in policies:
        gaps = coverage(policy)
        missed = {(g.kind, g.span) for g in gaps if g.kind in LINE_KINDS}
        never = {(g.span, g.text.endswith("is never true")) for g in gaps if g.kind == "branch"}
        per_policy: dict = {}
        for kind, span in line_items(policy):
            if span.file == PRELUDE_NAME:
                continue
            key = (_shown(span.file), span.line)
            per_policy[key] = per_policy.get(key, True) and (kind, span) not in missed
        for (path, line), covered in per_policy.items():
            entry = files.setdefault(path, FileCoverage(path))
            entry.items[line] = entry.items.get(line, 0) + int(covered)
        for node in conditions(policy):
            span = node.span
            if span.file == PRELUDE_NAME:
                continue
            entry = files.setdefault(_shown(span.file), FileCoverage(_shown(span.file)))
            outcomes = entry.branches.setdefault(span.line, {}).setdefault(span.col, [0, 0])
            outcomes[0] += (span, True) not in never
            outcomes[1] += (span, False) not in never
    return dict(sorted(files.items()))


def line_items(policy: ir.Policy):
    """(kind, span) of every rule, row, band and version, as `testing.coverage` names its gaps."""
    for rule in policy.rules.values():
        yield "rule", rule.span
        yield from _versions(rule)
    for table in policy.tables.values():
        yield from _versions(table)
        for version in table.versions:
            for row in version.rows:
                yield "row", row.span
            if version.default is not None:
                yield "row", version.default.span
    for b in policy.brackets.values():
        yield from _versions(b)
        for version in b.versions:
            for band in version.bands:
                yield "band", band.span


def _versions(definition):
    if len(definition.versions) > 1:
        for version in definition.versions:
            yield "version", version.span


def _shown(file: str) -> str:
    """A path relative to the working directory when the file is below it (as CI tools map sources)."""
    absolute = os.path.abspath(file)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative.replace(os.sep, "/")


def lcov(files: dict[str, FileCoverage]) -> str:
    out = []
    for entry in files.values():
        out += ["TN:policylang", f"SF:{entry.path}"]
        found = hit = 0
        for line in sorted(entry.branches):
            for block, (col, (true, false)) in enumerate(sorted(entry.branches[line].items())):
                for branch, taken in enumerate((true, false)):
                    out.append(f"BRDA:{line},{block},{branch},{taken}")
                    found += 1
                    hit += taken > 0
        if found:
            out += [f"BRF:{found}", f"BRH:{hit}"]
        lines = entry.lines
        out += [f"DA:{line},{hits}" for line, hits in lines.items()]
        out += [f"LF:{len(lines)}", f"LH:{sum(1 for h in lines.values() if h)}", "end_of_record"]
    return "\n".join(out) + "\n"


def cobertura(files: dict[str, FileCoverage], version: str = "") -> str:
    """Cobertura XML (coverage-04.dtd): one package per directory, one class per .pol file."""
    total = _counts(files.values())
    stamp = os.environ.get("SOURCE_DATE_EPOCH")
    timestamp = int(stamp) * 1000 if stamp and stamp.isdigit() else int(time.time() * 1000)
    out = ['<?xml version="1.0" ?>',
           '<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">',
           f'<coverage {_rates(total)} complexity="0" version={quoteattr("policylang " + version)} '
           f'timestamp="{timestamp}">',
           f"  <sources><source>{_escape(os.getcwd())}</source></sources>", "  <packages>"]
    packages: dict = {}
    for entry in files.values():
        packages.setdefault(os.path.dirname(entry.path) or ".", []).append(entry)
    for package, entries in packages.items():
        out.append(f"    <package name={quoteattr(package)} {_rates(_counts(entries), counts=False)} complexity=\"0\">")
        out.append("      <classes>")
        for entry in entries:
            out.append(f"        <class name={quoteattr(os.path.basename(entry.path))} filename={quoteattr(entry.path)} "
                       f"{_rates(_counts([entry]), counts=False)} complexity=\"0\">")
            out += ["          <methods/>", "          <lines>"]
            for line, hits in entry.lines.items():
                conds = entry.branches.get(line)
                if conds:
                    valid = 2 * len(conds)
                    covered = sum((t > 0) + (f > 0) for t, f in conds.values())
                    out.append(f'            <line number="{line}" hits="{hits}" branch="true" '
                               f'condition-coverage="{100 * covered // valid}% ({covered}/{valid})"/>')
                else:
                    out.append(f'            <line number="{line}" hits="{hits}" branch="false"/>')
            out += ["          </lines>", "        </class>"]
        out += ["      </classes>", "    </package>"]
    out += ["  </packages>", "</coverage>"]
    return "\n".join(out) + "\n"


def _counts(entries) -> tuple[int, int, int, int]:
    lines = [h for e in entries for h in e.lines.values()]
    branches = [x for e in entries for conds in e.branches.values() for pair in conds.values() for x in pair]
    return len(lines), sum(1 for h in lines if h), len(branches), sum(1 for b in branches if b)


def _rates(totals, counts: bool = True) -> str:
    lines, lines_hit, branches, branches_hit = totals
    rates = (f'line-rate="{lines_hit / lines if lines else 1:.4f}" '
             f'branch-rate="{branches_hit / branches if branches else 1:.4f}"')
    if counts:
        rates += (f' lines-covered="{lines_hit}" lines-valid="{lines}" branches-covered="{branches_hit}" '
                  f'branches-valid="{branches}"')
    return rates


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write(policies: list[ir.Policy], fmt: str) -> str:
    """The report `policylang test --coverage --format FMT` writes."""
    from importlib.metadata import PackageNotFoundError, version

    files = collect(policies)
    if fmt == "lcov":
        return lcov(files)
    try:
        return cobertura(files, version("policylang"))
    except PackageNotFoundError:
        return cobertura(files)
