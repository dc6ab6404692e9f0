"""The JSON Schema of `policylang.trace/1`, shipped in the package (schema.json), and a validator for it."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("policylang.trace").joinpath("schema.json").read_text(encoding="utf-8"))


def problems(document) -> list[str]:
    """Every way `document` departs from the schema ([] when it is a valid trace). Needs jsonschema (the
    `test` and `serve` extras); the engine itself never validates what it wrote."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in _validator().iter_errors(document)]


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())

