"""Raw claim tables for the vectorized back end's tests: columns as a file gives them (text), from a seed.

Persons with several claims a year, dates across year boundaries (and past 出院日期's year start), every
member, optional inputs present or absent, money at and around the thresholds, and a share of odd or bad
cells ("12元", " 2024-01-01", "-5", "abc") so the edge's decisions are compared too.
"""
from __future__ import annotations

import datetime
import random

import numpy as np
import pyarrow as pa

from policylang import ir

AMOUNTS = ("0", "0.01", "1", "99.99", "100", "100.01", "333.33", "1000", "1200", "1846.15", "2000",
           "10000", "15000", "50000", "100000", "200000.5", "300000")


def raw_value(policy: ir.Policy, inp: ir.Input, rng: random.Random, day: datetime.date):
    t = inp.type
    if t == ir.MONEY:
        pick = rng.random()
        if pick < 0.4:
            return rng.choice(AMOUNTS)
        if pick < 0.9:
            return f"{rng.randint(0, 5000000) / 100:.2f}"
        return str(rng.randint(0, 60000))
    if t == ir.NUMBER:
        return str(rng.randint(0, 20))
    if t in (ir.RATE, ir.POINTS):
        v = rng.randint(0, 100)
        return rng.choice([f"{v / 100}", f"{v}%"]) if t == ir.RATE else f"{v / 100}"
    if t == ir.BOOL:
        return rng.choice(["true", "false", "是", "否", "1", "0"])
    if t == ir.DATE:
        return (day + datetime.timedelta(days=rng.randint(0, 40))).isoformat()
    if t == ir.TEXT:
        return f"M{rng.randint(1, 6)}"
    enum = policy.enums[t.enum]
    member = rng.choice(enum.members)
    codes = [c for c in member.codes if not c.endswith("*")]
    return rng.choice(codes) if codes and rng.random() < 0.3 else member.name


ODD = ("12元", " 100 ", "-5", "abc", "1.234", "", "１２", "99999999999")


def near_year_start(policy: ir.Policy, rng: random.Random, start: datetime.date) -> datetime.date:
    """A day within three weeks of a 医保年度's first day (both sides), or of 1 January."""
    year = start.year + rng.randint(0, 1)
    month, day = (policy.year.month, policy.year.day) if rng.random() < 0.7 else (1, 1)
    return datetime.date(year, month, day) + datetime.timedelta(days=rng.randint(-21, 21))


def table(policy: ir.Policy, n: int, seed: int, persons: int = 0, odd: float = 0.0, seeds: float = 0.0,
          platform: bool = False, boundary: float = 0.0) -> tuple[pa.Table, np.ndarray]:
    """n raw claims of `persons` persons (n // 4 by default) over the policy's first years in force; a share
    `boundary` of them near a year's first day, so a person's claims straddle it."""
    rng = random.Random(seed)
    persons = persons or max(1, n // 4)
    start = policy.meta.in_force.start or datetime.date(2023, 1, 1)
    end = policy.meta.in_force.end or start + datetime.timedelta(days=800)
    span = (end - start).days + 60
    columns: dict = {}
    names = {name: (inp.field if platform and inp.field else name) for name, inp in policy.inputs.items()}
    records = []
    for i in range(n):
        day = start + datetime.timedelta(days=rng.randint(-30, span))
        if boundary and rng.random() < boundary:
            day = near_year_start(policy, rng, start)
        rec = {}
        for name, inp in policy.inputs.items():
            if name == policy.person:
                rec[name] = None if rng.random() < 0.02 else f"P{rng.randint(1, persons):05d}"
                continue
            if name == policy.service_date:
                rec[name] = day.isoformat()
                continue
            if inp.optional and rng.random() < 0.4:
                rec[name] = None
                continue
            rec[name] = raw_value(policy, inp, rng, day)
            if odd and rng.random() < odd:
                rec[name] = rng.choice(ODD)
        if "医疗费总额" in rec and rec["医疗费总额"] is not None and rng.random() < 0.7:
            rec["医疗费总额"] = None
        if seeds and policy.accumulators and rng.random() < seeds:
            acc = rng.choice(list(policy.accumulators))
            rec["state"] = f'{{"{acc}": "{rng.randint(0, 200000) / 100:.2f}"}}'
        records.append(rec)
    for name in policy.inputs:
        columns[names[name]] = pa.array([r.get(name) for r in records], pa.string())
    if seeds:
        columns["state"] = pa.array([r.get("state") for r in records], pa.string())
    return pa.table(columns), np.arange(2, n + 2, dtype=np.int64)
