"""`policylang.trace/1`: the versioned explanation of one claim's evaluation, and its zh-CN narrative.

`build.trace` makes the document (`eval --explain`, `POST /policies/{id}/explain`), `schema.json` is its
JSON Schema (package data; `schema.validate` checks a document against it), `narrative.render` writes it
as the sentences an auditor reads. docs/trace.md is the reader's reference.
"""
from policylang.trace.build import FORMAT, Identity, identity, trace
from policylang.trace.narrative import render

__all__ = ["FORMAT", "Identity", "identity", "trace", "render"]
