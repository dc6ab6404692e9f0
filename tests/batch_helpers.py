"""What the batch tests share: a policy loaded once, results as comparable text, and the JSON path's answer."""
from __future__ import annotations

import datetime
import functools
from decimal import Decimal
from pathlib import Path

from policylang.batch.io import read_table
from policylang.batch.schema import flatten, result_schema
from policylang.claims import ClaimReader, read_records, result_record
from policylang.evaluators import run_claims
from policylang.pipeline import load_policy

ROOT = Path(__file__).resolve().parent.parent
SHAOXING = ROOT / "policies" / "shaoxing-2024.pol"


@functools.lru_cache(maxsize=None)
def policy(path: Path = SHAOXING):
    return load_policy(str(path))


def text(value) -> str | None:
    """One cell as text, whatever the file format kept it as (CSV's empty cell is a null)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def rows_of(path: Path) -> list[dict]:
    """A results file as a list of {column: text}, in file order."""
    return [{k: text(v) for k, v in r.items()} for r in read_table(Path(path)).to_pylist()]


def json_path(pol, claims: Path) -> list[dict]:
    """What `eval --claims FILE` (no --out) says for each claim, laid flat as the batch schema lays it.

    The row number is the claim's line (JSONL) or record (CSV) number, as the streamed readers count."""
    records, errors = read_records(claims)
    assert not errors, errors
    reader = ClaimReader(pol)
    claims_read = []
    for position, record in records:
        claim, problems = reader.read(record, position)
        assert not problems, problems
        claims_read.append(claim)
    schema = result_schema(pol)
    out = []
    for item in run_claims(pol, claims_read):
        record = result_record(pol, item.claim, item.state_before, item.outcome, item.year,
                               (item.totals_before, item.totals_after))
        row = int(item.claim.position.rsplit(":", 1)[1]) - (1 if claims.suffix == ".csv" else 0)
        out.append({k: text(v) for k, v in flatten(pol, record, row, schema).items()})
    return out
