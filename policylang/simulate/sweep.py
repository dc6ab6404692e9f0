"""`policylang sweep`: fund spend and patient payment for each value of one assumption, in one pass.

Every value is a policy of its own (loaded with `--assume NAME=value`); each batch of the one read of
the claims goes to every one of them, so N values cost one read and N evaluations. Totals are over the
claims a value's policy finds applicable and computes the patient payment for (counted, with the others
counted apart), in int fen.
"""
from __future__ import annotations

import re
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa

from policylang import ir
from policylang.batch.engines import engine_for
from policylang.batch.io import open_claims
from policylang.batch.prefetch import Prefetched
from policylang.batch.run import BATCH_SIZE, Driver
from policylang.simulate.columns import exact_sum, side, stages
from policylang.simulate.pair import counterfactual, own_columns, require_payments
from policylang.simulate.report import LABELS, yuan

MOST = 200  # values in one sweep
RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([^\d\s.][^.]*)?\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*([^\d\s/][^/]*)?\s*/\s*"
                   r"(\d+(?:\.\d+)?)\s*(\S*)\s*$")


class BadRange(ValueError):
    def __init__(self, text: str, what: str):
        super().__init__(what)
        self.args_ = {"text": text, "what": what}


def parse_range(text: str) -> tuple[str, list[str]]:
    """NAME=FROM..TO/STEP as (NAME, the values as --assume text, unit kept: 55%, 57%, …)."""
    name, sep, spec = text.partition("=")
    if not sep or not name.strip():
        raise BadRange(text, "expected NAME=FROM..TO/STEP")
    m = RANGE.match(spec)
    if not m:
        raise BadRange(text, "expected FROM..TO/STEP with numbers, such as 55%..70%/5pp or 300元..1000元/100元")
    try:
        lo, hi, step = Decimal(m.group(1)), Decimal(m.group(3)), Decimal(m.group(5))
    except InvalidOperation:
        raise BadRange(text, "not a number") from None
    unit = (m.group(2) or m.group(4) or "").strip()
    if step <= 0:
        raise BadRange(text, "the step must be above zero")
    if hi < lo:
        raise BadRange(text, "TO must not be below FROM")
    count = int((hi - lo) / step) + 1
    if count > MOST:
        raise BadRange(text, f"{count} values; at most {MOST} in one sweep")
    return name.strip(), [f"{lo + i * step}{unit}" for i in range(count)]


def _totals(policy: ir.Policy, out, rows: np.ndarray, names: list[str]) -> dict:
    s = side(policy, out, rows, names)
    psn, known = s.money["psn_part_amt"]
    applicable = s.applicable & s.accepted
    totals = {k: exact_sum(s.money[k][0][known]) for k in names + ["psn_part_amt", "medfee_sumamt"]}
    return {"claims": int(known.sum()), "not_applicable": int((applicable & ~known).sum()),
            "out_of_scope": int((s.accepted & ~s.applicable).sum()), "rejected": int((~s.accepted).sum()),
            "totals": totals}


def merge(into: dict | None, part: dict) -> dict:
    if into is None:
        return part
    for k in ("claims", "not_applicable", "out_of_scope", "rejected"):
        into[k] += part[k]
    for k, v in part["totals"].items():
        into["totals"][k] = into["totals"].get(k, 0) + v
    return into


def sweep_table(policies: list[ir.Policy], engines: list, table: pa.Table, rows: np.ndarray) -> list[dict]:
    """Each value's totals over one table of whole person-years (the local pass and a Dask partition)."""
    return [_totals(p, e.evaluate(own_columns(p, table), rows), rows, stages(p)[:-1] + ["fund_pay_sumamt"])
            for p, e in zip(policies, engines)]


def prepare(policies: list[ir.Policy], keep_in_force: bool) -> list[ir.Policy]:
    for p in policies:
        require_payments(p)
    return policies if keep_in_force else [counterfactual(p) for p in policies]


def sweep_file(policies: list[ir.Policy], claims: Path, batch_size: int = BATCH_SIZE) -> tuple[list[dict], int, float]:
    started = time.perf_counter()
    engines = [engine_for(p) for p in policies]
    reader = open_claims(Path(claims), policies[0], batch_size)
    found: list = [None] * len(policies)
    rows_in = 0

    def evaluate(table: pa.Table, rows: np.ndarray) -> None:
        for i, part in enumerate(sweep_table(policies, engines, table, rows)):
            found[i] = merge(found[i], part)

    driver = Driver(policies[0], engines[0], evaluate, str(claims))
    for batch in Prefetched(reader.batches()):
        rows_in += batch.rows_in
        driver.feed(batch.table, batch.rows)
    driver.close()
    return found, rows_in, time.perf_counter() - started


def document(policy: ir.Policy, name: str, values: list[str], found: list[dict], rows_in: int, claims) -> dict:
    names = stages(policy)[:-1] + ["fund_pay_sumamt", "psn_part_amt", "medfee_sumamt"]
    out = []
    for value, f in zip(values, found):
        f = f or {"claims": 0, "not_applicable": 0, "out_of_scope": 0, "rejected": 0, "totals": {}}
        out.append({"value": value, "claims": f["claims"], "not_applicable": f["not_applicable"],
                    "out_of_scope": f["out_of_scope"], "rejected": f["rejected"],
                    "totals": {k: yuan(f["totals"].get(k, 0)) for k in names}})
    return {"schema": "policylang-sweep/1", "policy": policy.meta.title, "file": policy.file, "assumption": name,
            "claims_file": str(claims), "rows": rows_in, "columns": [{"name": k, "label": LABELS.get(k, k)} for k in names],
            "values": out}


def lines(doc: dict) -> list[str]:
    from policylang.simulate.text import table

    names = [c["name"] for c in doc["columns"]]
    out = [f"sweep {doc['assumption']}: {doc['policy']} over {doc['rows']} rows (元)"]
    out += table([doc["assumption"], "理赔", *names, "不适用"],
                 [[v["value"], v["claims"], *[v["totals"][k] for k in names], v["not_applicable"]] for v in doc["values"]])
    return out


def chart(doc: dict) -> str:
    """基金支付合计 and 个人负担 per value, as two polylines with the exact yuan in each point's tooltip."""
    w, h, left, top, bottom = 720, 320, 80, 40, 60
    values = doc["values"]
    series = [("fund_pay_sumamt", "#4e79a7"), ("psn_part_amt", "#f28e2b")]
    amounts = [int(Decimal(v["totals"][k]) * 100) for v in values for k, _ in series]
    hi, lo = max(amounts + [1]), min(amounts + [0])
    span = max(hi - lo, 1)
    step = (w - left - 20) / max(len(values) - 1, 1)
    title = f"{doc['assumption']}：基金支付合计与个人负担（元）"
    body = [f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="15" font-family="sans-serif">{escape(title)}</text>']
    for key, color in series:
        points = []
        for i, v in enumerate(values):
            x = left + i * step
            y = top + (h - top - bottom) * (hi - int(Decimal(v["totals"][key]) * 100)) / span
            points.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(v["value"])}：'
                        f'{escape(LABELS[key])} {escape(v["totals"][key])} 元</title></circle>')
        body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" stroke-width="2"/>')
    for i, v in enumerate(values):
        if i == 0 or i == len(values) - 1 or len(values) <= 12:
            body.append(f'<text x="{left + i * step:.1f}" y="{h - bottom + 18}" text-anchor="middle" font-size="10" '
                        f'font-family="sans-serif">{escape(v["value"])}</text>')
    for j, (key, color) in enumerate(series):
        body.append(f'<rect x="{left + j * 160}" y="{h - 22}" width="12" height="12" fill="{color}"/>'
                    f'<text x="{left + 16 + j * 160}" y="{h - 12}" font-size="12" font-family="sans-serif">'
                    f'{escape(LABELS[key])}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
            f'aria-label="{escape(title)}">\n<title>{escape(title)}</title>\n' + "\n".join(body) + "\n</svg>\n")


def progress_note(text: str) -> None:
    print(text, file=sys.stderr)
