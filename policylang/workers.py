"""`policylang check` over several files: each policy checked in its own worker process, side by side.

A policy's verdicts are a function of its file and the budgets alone: every solver question runs in
its own Z3 context and `--budget` is per policy (backends/solving.py), so checking policies in parallel
changes no verdict, only the wall time (`policylang check policies/` on two cores: the others run while
淄博, the longest, is checked; the largest policies are started first). Reports come back in the order
of the files; the progress line shows the latest question any worker put to the solver.
"""
from __future__ import annotations

import multiprocessing
import os
import queue as queues
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from policylang.check import Report, check_policy
from policylang.progress import shown, solver_line, solver_lines

_QUEUE = None  # in a worker: where its progress messages go (None: no progress line is drawn)


def cpus() -> int:
    """The CPUs this process may run on (a container or `taskset` may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_all(policies: list, timeout: float, budget: float | None, jobs: int | None = None) -> list[Report]:
    """Check each policy, up to `jobs` at a time (default: one per CPU); the reports in the policies' order."""
    jobs = min(jobs or cpus(), len(policies))
    if jobs <= 1:  # one file, or one CPU: no process to start
        reports = []
        for policy in policies:
            with solver_line(Path(policy.file).name) as progress:
                reports.append(check_policy(policy, timeout, budget, progress))
        return reports
    # fork: a worker starts with the modules already imported (spawn would import Z3 and lark again)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    messages = context.Queue() if shown() else None
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start, initargs=(messages,)) as pool:
        futures = [None] * len(policies)
        for i in sorted(range(len(policies)), key=lambda i: -_size(policies[i])):  # the largest first
            futures[i] = pool.submit(_check, policies[i], timeout, budget)
        with solver_lines() as progress:
            pending = set(futures)
            while pending:
                if messages is None:
                    pending = wait(pending, return_when=FIRST_COMPLETED)[1]
                    continue
                try:
                    progress(*messages.get(timeout=0.1))
                except queues.Empty:
                    pass
                pending = {f for f in pending if not f.done()}
        reports = [future.result() for future in futures]  # a worker's exception is raised here
    for policy, report in zip(policies, reports):
        report.policy = policy  # not sent back: the caller's own IR of the same file
    return reports


def _size(policy) -> int:
    """How much a policy gives the checker to do, roughly (its goals): started first, the largest is not the one
    left running alone at the end (淄博 last made `check policies/` take its time on top of the others')."""
    rows = sum(len(v.rows) for t in policy.tables.values() for v in t.versions)
    return len(policy.rules) + len(policy.properties) + len(policy.updates) + rows


def _start(messages) -> None:
    global _QUEUE
    _QUEUE = messages


def _check(policy, timeout: float, budget: float | None) -> Report:
    progress = None
    if _QUEUE is not None:
        label = Path(policy.file).name
        progress = lambda question, detail: _QUEUE.put((label, question, detail))  # noqa: E731
    report = check_policy(policy, timeout, budget, progress)
    report.policy = None
    return report
