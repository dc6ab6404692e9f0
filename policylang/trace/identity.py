"""Which policy a trace was computed with: its files' content hash, so an auditor can tell two texts apart.

The hash covers the bytes of every file the policy is made of (the file itself, then each file an
`extends` or `conforms to` brought in, by path order) and the `--assume` overrides; the prelude is part of
the engine, named by the engine version instead.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from policylang import ir
from policylang.diagnostics import PRELUDE_NAME


def source_files(policy: ir.Policy) -> list[str]:
    """The policy's own file first, then every other file a declaration of it came from (sorted)."""
    found: set = set()
    for span in _spans(policy):
        if span is not None and span.file and span.file != PRELUDE_NAME and not span.file.startswith("<"):
            found.add(span.file)
    if policy.extends:
        found.add(policy.extends)
    found.discard(policy.file)
    return [policy.file, *sorted(found)]


def content_hash(policy: ir.Policy, assume: dict | None = None) -> str:
    """"sha256:…" over each file's bytes (in source_files order) and the overrides; a file that cannot be
    read any more (deleted since it was loaded) counts as its name, so the hash still says something changed."""
    digest = hashlib.sha256()
    for name in source_files(policy):
        try:
            data = Path(name).read_bytes()
        except OSError:
            data = f"<unreadable {name}>".encode()
        digest.update(hashlib.sha256(data).digest())
    for key, value in sorted((assume or {}).items()):
        digest.update(f"\0assume {key}={value}".encode())
    return "sha256:" + digest.hexdigest()


def _spans(policy: ir.Policy):
    yield policy.meta.span
    for group in (policy.rules, policy.tables, policy.brackets, policy.inputs, policy.accumulators, policy.enums):
        for item in group.values():
            yield item.span
            for version in getattr(item, "versions", ()):
                yield version.span
    for group in (policy.updates, policy.scope, policy.examples, policy.quotes, policy.amendments,
                  policy.properties, policy.constraints, policy.facts):
        for item in group:
            yield getattr(item, "span", None)
