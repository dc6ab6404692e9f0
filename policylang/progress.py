"""The progress line on stderr: which policy, which goal, and what the solver is doing with it.

A review that takes long should say why while it runs, so the line names the question that is with
the solver (its goal, the strategy and the round of its budget). It is drawn only on a terminal
(tqdm's `disable=None`), so logs, pipes and golden files never see it.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm


def shown() -> bool:
    """Whether a progress line would be drawn at all (stderr is a terminal): workers need not report otherwise."""
    return sys.stderr.isatty()


@contextmanager
def solver_lines():
    """A function progress(label, question, detail) that redraws the line; the line goes when the block ends.

    Several policies checked side by side (policylang/workers.py) share the one line: it shows the latest
    question any of them put to the solver, labelled with its file."""
    line = tqdm(total=0, bar_format="{desc} ({elapsed})", file=sys.stderr, disable=None, leave=False,
                dynamic_ncols=True)

    def progress(label: str, question: str, detail: str) -> None:
        line.set_description_str(f"{label}: {question} [{detail}]", refresh=True)

    try:
        yield progress
    finally:
        line.close()


@contextmanager
def solver_line(label: str):
    """A function progress(question, detail) that redraws the line for one policy."""
    with solver_lines() as progress:
        yield lambda question, detail: progress(label, question, detail)
