"""Synthetic claims for any policy, read from its IR: `policylang synth POLICY -n N --seed S --out FILE`.

Why: the batch tests and the benchmarks need claim sets of any size that look like a city's year: persons
with several claims (so year-to-date totals and caps matter), every member of every enumeration, claims in
and out of scope, service dates across the 医保年度 boundary, costs that differ by 机构级别 and by
outpatient or inpatient. The same seed writes the same file.

How: the non-money fields of a claim (members, flags, rates, which optional inputs are given) form a
*profile*. A pool of profiles is drawn first (the policy's examples mutated a field or two, which keeps
most of them in scope, and uniform draws, which reach every member and the scope's other branches); each
is read through the claim edge and evaluated once, so the pool holds only valid claims and knows which are
in scope. Rows then draw a profile (about 85% in scope), a cost from a log-normal whose median depends on
the level and the kind of visit, and a date around the person's part of the year, all with numpy; files
are written a chunk at a time.
"""
from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policylang import ir
from policylang.batch.io import file_format
from policylang.batch.schema import MONEY
from policylang.batch.writers import ResultWriter
from policylang.claims import ClaimReader
from policylang.domains import domain
from policylang.evaluators import evaluator

CHUNK = 500_000  # rows generated and written at a time
POOL = 4096  # profiles kept
IN_SCOPE_SHARE = 0.85
CLAIMS_PER_PERSON = 4.0  # mean of the Poisson part: a person has 1 + Poisson(4) claims
SPAN_DAYS = 540  # service dates run from 60 days before the policy's first day over about a year and a half
MEDIAN_YUAN = {"基层": 80, "一级": 150, "二级": 300, "三级": 520, "未定级": 200, "定点零售药店": 110}
INPATIENT_FACTOR = 25  # an admission costs about this many outpatient visits at the same level
PARTS = ("全自费金额", "超限价自费", "先行自付")  # with 政策范围内费用 they add up to 医疗费总额


@dataclass
class Written:
    rows: int
    persons: int


def read_inputs(policy: ir.Policy) -> list[str]:
    """The inputs a claim of this policy carries: the required ones, the optional ones any rule, scope,
    constraint, update, table or brackets reads, the person, and what the year keeps keys or counts by."""
    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, ir.InputRef):
            names.add(node.name)
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            for f in dataclasses.fields(node):
                if f.name != "span":
                    walk(getattr(node, f.name))
        elif isinstance(node, (tuple, list)):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for item in node.values():
                walk(item)

    walk((policy.rules, policy.scope, policy.constraints, policy.updates, policy.tables, policy.brackets))
    names |= {policy.person, policy.year.date, policy.service_date}
    names |= {k for acc in policy.accumulators.values() for k in acc.keys}
    names |= {u.once for u in policy.updates if u.once}
    return [n for n, inp in policy.inputs.items() if not inp.optional or n in names]


class Profiles:
    """The pool of valid profiles, each known to be in scope or not."""

    def __init__(self, policy: ir.Policy, inputs: list[str], rng: np.random.Generator):
        self.policy, self.rng = policy, rng
        self.fields = [n for n in inputs if self._is_profile(policy.inputs[n])]
        self.money = [n for n in inputs if policy.inputs[n].type == ir.MONEY]
        self.reader = ClaimReader(policy)
        self.evaluate = evaluator(policy)
        self.rows: list[dict] = []
        self.in_scope: list[bool] = []
        self._fill()

    def _is_profile(self, inp: ir.Input) -> bool:
        return inp.type.name in ("enum", "bool", "rate", "points", "number") or (
            inp.type == ir.TEXT and inp.name != self.policy.person and not self._is_id(inp.name))

    def _is_id(self, name: str) -> bool:
        return any(u.once == name for u in self.policy.updates) or name == "就诊ID"

    def _draw(self, inp: ir.Input, turn: int | None):
        if inp.optional and self.rng.random() < 0.2:
            return None
        t = inp.type
        if t.name == "enum":  # in turn while every member is still to be reached, then at random
            members = self.policy.enums[t.enum].member_names()
            return members[(turn if turn is not None else int(self.rng.integers(len(members)))) % len(members)]
        if t.name == "bool":
            return bool(self.rng.random() < 0.5)
        if t.name == "text":
            return f"T{int(self.rng.integers(20))}"
        d = domain(inp)
        low, high = float(d.low), float(min(d.high, Decimal(100) if t == ir.NUMBER else d.high))
        places = min(d.places, 2)
        return Decimal(str(round(float(self.rng.uniform(low, high)), places))).quantize(Decimal(1).scaleb(-places))

    def _example_values(self) -> list[dict]:
        seeds = []
        for example in self.policy.examples:
            for step in example.steps:
                seeds.append({name: value for name, value, _ in step.inputs if name in self.fields})
        return seeds

    def _fill(self) -> None:
        seeds = self._example_values()
        inputs = self.policy.inputs
        members_left = sum(len(self.policy.enums[inputs[n].type.enum].members)
                           for n in self.fields if inputs[n].type.name == "enum")
        tries = 0
        while len(self.rows) < POOL and tries < POOL * 6:
            tries += 1
            if seeds and tries % 3:  # an example with one or two fields drawn afresh: mostly in scope
                profile = dict(seeds[int(self.rng.integers(len(seeds)))])
                for name in self.rng.choice(self.fields, size=min(2, len(self.fields)), replace=False):
                    profile[name] = self._draw(inputs[name], None)
            else:  # every field drawn, members in turn first so each is reached
                turn = tries if tries <= members_left * 3 else None
                profile = {n: self._draw(inputs[n], turn) for n in self.fields}
            for n in self.fields:
                profile.setdefault(n, None)
            scope = self._check(profile)
            if scope is not None:
                self.rows.append(profile)
                self.in_scope.append(scope)

    def _check(self, profile: dict) -> bool | None:
        """None when the edge refuses the claim (a constraint), else whether it is in scope."""
        record = {n: v for n, v in profile.items() if v is not None}
        record[self.policy.service_date] = self._first_day().isoformat()
        record[self.policy.year.date] = record[self.policy.service_date]
        for n in self.money:
            record.setdefault(n, "0.00" if n in PARTS else "100.00")
        if "医疗费总额" in record:
            record["医疗费总额"] = "100.00"
        for n, inp in self.policy.inputs.items():
            if inp.type == ir.DATE and n in self.policy.inputs and not inp.optional:
                record.setdefault(n, record[self.policy.service_date])
        record = {n: ("true" if v is True else "false" if v is False else str(v)) for n, v in record.items()}
        claim, errors = self.reader.read(record, "synth")
        if errors:
            return None
        return self.evaluate(claim.values, {}).applicable

    def _first_day(self) -> datetime.date:
        start = self.policy.meta.in_force.start or datetime.date(2024, 1, 1)
        return start + datetime.timedelta(days=30)


def synthesize(policy: ir.Policy, n: int, seed: int, out: Path, chunk: int = CHUNK) -> Written:
    """Write n claims to out (.parquet, .csv or .jsonl) a chunk at a time; deterministic for a seed."""
    out = Path(out)
    file_format(out, "--out")
    rng = np.random.default_rng(seed)
    inputs = read_inputs(policy)
    profiles = Profiles(policy, inputs, rng)
    if not profiles.rows:
        raise ValueError("no claim the policy accepts could be drawn")
    table = _profile_table(policy, profiles)
    inside = np.nonzero(profiles.in_scope)[0]
    outside = np.nonzero(~np.asarray(profiles.in_scope))[0]
    columns = {n: (policy.inputs[n].field or n) for n in inputs}
    schema = _schema(policy, inputs, columns, table)
    writer = ResultWriter(out, schema)
    person, rows = 0, 0
    try:
        while rows < n:
            size = min(chunk, n - rows)
            counts = 1 + rng.poisson(CLAIMS_PER_PERSON, size=size)  # more persons than needed; cut below
            counts = counts[: int(np.searchsorted(np.cumsum(counts), size)) + 1]
            counts[-1] -= int(counts.sum()) - size
            who = np.repeat(np.arange(person, person + len(counts)), counts)
            person += len(counts)
            chosen = _choose(rng, inside, outside, size)
            writer.write(_chunk(policy, inputs, columns, schema, table, chosen, who, counts, rows, rng))
            rows += size
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return Written(rows, person)


def _choose(rng, inside: np.ndarray, outside: np.ndarray, size: int) -> np.ndarray:
    if not len(outside) or not len(inside):
        pool = inside if len(inside) else outside
        return pool[rng.integers(len(pool), size=size)]
    take_in = rng.random(size) < IN_SCOPE_SHARE
    return np.where(take_in, inside[rng.integers(len(inside), size=size)],
                    outside[rng.integers(len(outside), size=size)])


def _profile_table(policy: ir.Policy, profiles: Profiles) -> dict[str, pa.Array]:
    out = {}
    for n in profiles.fields:
        values = [p[n] for p in profiles.rows]
        t = policy.inputs[n].type
        if t.name == "bool":
            out[n] = pa.array(values, pa.bool_())
        elif t.name in ("rate", "points", "number"):
            out[n] = pa.array([None if v is None else str(v) for v in values], pa.string())
        else:
            out[n] = pa.array(values, pa.string())
    return out


def _schema(policy, inputs, columns, table) -> pa.Schema:
    fields = [pa.field("claim_id", pa.string())]
    for n in inputs:
        t = policy.inputs[n].type
        type_ = MONEY if t == ir.MONEY else pa.date32() if t == ir.DATE else pa.bool_() if t == ir.BOOL else pa.string()
        fields.append(pa.field(columns[n], type_))
    return pa.schema(fields)


def _fen_to_decimal(fen: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Whole fen (int64, ≥ 0) as decimal128(20, 2) without a Python object per value."""
    words = np.zeros((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    validity = None if mask is None else pa.array(~mask).buffers()[1]
    return pa.Array.from_buffers(MONEY, len(fen), [validity, pa.py_buffer(words.tobytes())],
                                 null_count=-1 if mask is not None else 0)


def _costs(policy, inputs, table, chosen, rng) -> np.ndarray:
    """政策范围内费用 in fen: log-normal, the median by 机构级别 and outpatient or inpatient."""
    median = np.full(len(chosen), 200.0)
    if "机构级别" in table:
        levels = table["机构级别"].take(pa.array(chosen)).to_numpy(zero_copy_only=False)
        for level, yuan in MEDIAN_YUAN.items():
            median[levels == level] = yuan
    if "就诊类型" in table:
        kinds = table["就诊类型"].take(pa.array(chosen)).to_numpy(zero_copy_only=False)
        median[np.char.find(kinds.astype(str), "住院") >= 0] *= INPATIENT_FACTOR
    yuan = median * rng.lognormal(0.0, 0.9, size=len(chosen))
    return np.clip(np.rint(yuan * 100), 0, 100_000_000).astype(np.int64)


def _chunk(policy, inputs, columns, schema, table, chosen, who, counts, first_row, rng) -> pa.Table:
    size = len(chosen)
    data: dict[str, pa.Array] = {"claim_id": pc.binary_join_element_wise(
        "C", pa.array(np.arange(first_row + 1, first_row + size + 1)).cast(pa.string()), "")}
    take = pa.array(chosen)
    inscp = _costs(policy, inputs, table, chosen, rng)
    start = policy.meta.in_force.start or datetime.date(2024, 1, 1)
    base = (start - datetime.date(1970, 1, 1)).days - 60
    centre = rng.integers(0, SPAN_DAYS, size=len(counts))  # each person's part of the span
    days = np.repeat(centre, counts) + rng.normal(0, 45, size=size).astype(np.int64)
    days = base + np.clip(days, 0, SPAN_DAYS)
    order = np.lexsort((days, who))  # a person's claims in date order, persons in turn
    days = days[order]
    stay = np.where(rng.random(size) < 0.5, 0, rng.geometric(0.15, size=size))
    money = {"政策范围内费用": inscp}
    for n in PARTS:
        if n in inputs:
            money[n] = np.rint(inscp * rng.random(size) * 0.2).astype(np.int64)
    if "医疗费总额" in inputs:  # the claim edge checks 医疗费总额 = 政策范围内费用 + the parts
        money["医疗费总额"] = inscp + sum((money[n] for n in PARTS if n in money), np.zeros(size, np.int64))
    for n in inputs:
        inp = policy.inputs[n]
        col = columns[n]
        if n == policy.person:
            data[col] = pc.binary_join_element_wise("P", pc.utf8_lpad(pa.array(who).cast(pa.string()), 9, "0"), "")
        elif inp.type == ir.DATE:
            offset = 0 if n == policy.service_date else stay
            data[col] = pa.array(days + offset, pa.int32()).cast(pa.date32())
        elif inp.type == ir.MONEY:
            fen = money.get(n)
            missing = None
            if fen is None:  # another amount (其他门诊应付, …): a share of the cost, absent now and then if optional
                fen = np.rint(inscp * rng.random(size)).astype(np.int64)
                missing = (rng.random(size) < 0.2) if inp.optional else None
            data[col] = _fen_to_decimal(fen, missing)
        elif n in table:
            data[col] = table[n].take(take)
        else:  # an id: one per claim, a tenth of them a second settlement of the claim before (中途结算)
            ids = np.arange(first_row + 1, first_row + size + 1)
            again = rng.random(size) < 0.1
            again[0] = False
            data[col] = pc.binary_join_element_wise("M", pa.array(np.where(again, ids - 1, ids)).cast(pa.string()), "")
    return pa.table([data[f.name] for f in schema], schema=schema)
