"""The policies a service holds: loaded and compiled once, and swapped only for a version that loads.

A policy's id is its file's stem (`policies/shaoxing-2024.pol` → `shaoxing-2024`). Under `--reload` the
registry compares each policy's files (identity.source_files: the file and what it extends) with what it
loaded; a changed file is loaded again, and only a version without errors replaces the one serving. A
broken edit is kept as the policy's `problem` (shown by GET /policies/{id} and logged) while the last good
version goes on answering.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from policylang import ir
from policylang.backends.python import compile_policy
from policylang.claims import ClaimReader
from policylang.diagnostics import DiagnosticError, render_all
from policylang.pipeline import load_policy, policy_files
from policylang.trace import Identity, identity
from policylang.trace.identity import source_files

log = logging.getLogger("policylang.serve")


class RegistryError(Exception):
    """The service cannot start: no policy, two policies with one id, or a policy with errors."""


@dataclass
class Entry:
    """One policy as served: the last good version and, if the file changed since into something that does
    not load, what is wrong with the edit."""

    id: str
    path: str
    policy: ir.Policy
    compiled: object
    identity: Identity
    stamps: dict  # file -> (mtime_ns, size) of what this version was loaded from
    loaded_at: float
    reader: ClaimReader | None = None  # the claim edge for this version, made once
    problem: str | None = None
    problem_at: float | None = None
    problem_stamps: dict = field(default_factory=dict)  # the broken files' stamps, to not reload them again


def _stamps(files) -> dict:
    out = {}
    for name in files:
        try:
            st = os.stat(name)
            out[name] = (st.st_mtime_ns, st.st_size)
        except OSError:
            out[name] = None
    return out


def load_entry(policy_id: str, path: str, assume: dict | None = None) -> Entry:
    """Load, type-check and compile one policy; DiagnosticError if it has errors."""
    policy = load_policy(path, assume or None)
    compiled = compile_policy(policy)
    return Entry(policy_id, path, policy, compiled, identity(policy, assume, policy_id),
                 _stamps(source_files(policy)), time.time(), ClaimReader(policy))


class Registry:
    def __init__(self, paths, assume: dict | None = None):
        self.paths = [str(p) for p in paths]
        self.assume = dict(assume or {})
        self.entries: dict[str, Entry] = {}
        self.unservable: dict = {}  # path -> stamps of a new file that did not load (reported once per edit)
        problems = []
        for policy_id, path in self._files().items():
            try:
                self.entries[policy_id] = load_entry(policy_id, path, self.assume)
            except DiagnosticError as exc:
                problems.append(render_all(exc.diagnostics))
        if problems:
            raise RegistryError("\n\n".join(problems))
        if not self.entries:
            raise RegistryError(f"no .pol files found in {', '.join(self.paths)}")

    def _files(self) -> dict[str, str]:
        """id -> path of every .pol file under the paths; two files with one stem cannot both be served."""
        out: dict[str, str] = {}
        for path in policy_files(self.paths):
            policy_id = path.stem
            if policy_id in out and os.path.realpath(out[policy_id]) != os.path.realpath(path):
                raise RegistryError(f"error: two policies would both be `{policy_id}`: {out[policy_id]} and {path}\n"
                                    "  = hint: serve them from separate processes, or rename one file")
            out[policy_id] = str(path)
        return out

    def get(self, policy_id: str) -> Entry | None:
        return self.entries.get(policy_id)

    def refresh(self) -> list[str]:
        """Reload what changed on disk (the watcher of --reload calls this); returns log lines of what happened."""
        said = []
        try:
            files = self._files()
        except RegistryError as exc:
            return [str(exc)]
        for policy_id, path in files.items():
            old = self.entries.get(policy_id)
            if old is not None:
                now = _stamps(old.stamps)
                if now == old.stamps:
                    if old.problem is not None:  # the files are back to the version serving
                        old.problem = old.problem_at = None
                        old.problem_stamps = {}
                        said.append(f"policy {policy_id}: {path} is back to the version serving")
                    continue
                if old.problem is not None and now == old.problem_stamps:
                    continue
            elif self.unservable.get(path) == _stamps([path]):
                continue
            try:
                new = load_entry(policy_id, path, self.assume)
            except DiagnosticError as exc:
                text = render_all(exc.diagnostics)
                if old is None:
                    self.unservable[path] = _stamps([path])
                    said.append(f"policy {policy_id} ({path}) not served: it has errors\n{text}")
                    continue
                old.problem, old.problem_at, old.problem_stamps = text, time.time(), _stamps(old.stamps)
                said.append(f"policy {policy_id}: the edit of {path} has errors; still serving the version "
                            f"{old.identity.content_hash[:19]}… loaded {time.strftime('%H:%M:%S', time.localtime(old.loaded_at))}\n{text}")
                continue
            except Exception as exc:  # noqa: BLE001 - a file that vanished mid-read, a compile bug: keep serving
                if old is not None:
                    old.problem, old.problem_at, old.problem_stamps = f"{type(exc).__name__}: {exc}", time.time(), _stamps(old.stamps)
                said.append(f"policy {policy_id}: reloading {path} failed ({type(exc).__name__}: {exc}); "
                            "still serving the last good version")
                continue
            self.entries = {**self.entries, policy_id: new}  # a new dict: a request iterating the old one is unaffected
            self.unservable.pop(path, None)
            said.append(f"policy {policy_id}: {'reloaded' if old else 'added'} {path} "
                        f"({new.identity.content_hash[:19]}…)")
        for policy_id, old in self.entries.items():
            if policy_id not in files and old.problem is None:
                old.problem, old.problem_at = f"{old.path} is gone; still serving the last good version", time.time()
                said.append(f"policy {policy_id}: {old.problem}")
        return said


def watch(registry: Registry, stop: threading.Event, interval: float = 0.5) -> None:
    """Poll the policies' files until `stop` is set (a thread: loading is CPU work, not for the event loop)."""
    while not stop.wait(interval):
        try:
            for line in registry.refresh():
                (log.warning if "error" in line or "gone" in line or "failed" in line else log.info)(line)
        except Exception:  # noqa: BLE001 - the watcher must outlive one bad pass
            log.exception("reload pass failed; the policies being served are unchanged")
