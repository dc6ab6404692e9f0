"""Guess and check (backends/vector/settle.py) gives the interpreter's table however the work is split
between the rank passes, the rounds and the rank passes after them; a long year settles in a few rounds
instead of a pass per claim; a year-to-date that settles slowly still ends right, through the rank passes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from policylang.backends.vector import VectorEngine, compile_engine, passes, settle
from policylang.batch.scalar import ScalarEngine
from policylang.pipeline import load_policy
from tests.test_vector_differential import POLICIES, same
from tests.vector_gen import table

ROOT = Path(__file__).resolve().parent.parent

# Each claim pays 10% of its cost plus 10% of what the year already paid: every claim's amount depends on
# the total before it, and never saturates, so each round settles one more claim of a person-year.
COMPOUNDING = """\
policy "逐次递增测试" {
  document "测试〔2024〕11号"
  issuer "policylang tests"
  in force from 2024-01-01
}

use prelude

scope {
  require 险种 == 城乡居民 else "只规定城乡居民"
}

accumulator 已支付: money per person per 医保年度 = 0元

rule 本次: money = 政策范围内费用 × 10% + 已支付 × 10%
output 统筹支付: money as hifp_pay = min(本次, 政策范围内费用)

update 已支付 += 统筹支付
"""

# The ratio is looked up by the year-to-date in a table with no row past 1300 元, which the true total (capped
# at 1200 元) never reaches; a guess past it makes the output not applicable in that round only.
TIERED = """\
policy "档次测试" {
  document "测试〔2024〕12号"
  issuer "policylang tests"
  in force from 2024-01-01
}

use prelude

scope {
  require 险种 == 城乡居民 else "只规定城乡居民"
}

accumulator 已支付: money per person per 医保年度 = 0元

rule 已付: money = 已支付

table 比例 (已付) -> rate first {
  0元..1300元 -> 60%
}

output 统筹支付: money as hifp_pay = min(政策范围内费用 × 比例, max(1200元 - 已支付, 0元))

update 已支付 += 统筹支付
"""
WRITTEN = {"compounding": COMPOUNDING, "tiered": TIERED}

# (RANKED, ROUNDS): all by rounds; one round then the rank passes; a mix; the rank passes alone
SPLITS = [(0, 4), (0, 1), (2, 2), (0, 0), (10 ** 6, 4)]


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    cache = {}

    def load(path: str):
        if path not in cache:
            if path in WRITTEN:
                file = tmp_path_factory.mktemp(path) / f"{path}.pol"
                file.write_text(WRITTEN[path], encoding="utf-8")
                policy = load_policy(str(file))
            else:
                policy = load_policy(str(ROOT / path))
            cache[path] = (policy, compile_engine(policy), ScalarEngine(policy, backend="interpreter"))
        return cache[path]
    return load


@pytest.mark.parametrize("split", SPLITS, ids=lambda s: f"ranked{s[0]}-rounds{s[1]}")
@pytest.mark.parametrize("path", POLICIES + list(WRITTEN))
def test_every_split_equals_the_interpreter(engines, monkeypatch, path, split):
    """Two persons, 160 claims: person-years of dozens of claims, cap crossings, year boundaries."""
    policy, engine, scalar = engines(path)
    if not isinstance(engine, VectorEngine):
        pytest.skip(f"falls back: {engine.fallback}")
    monkeypatch.setattr(settle, "RANKED", split[0])
    monkeypatch.setattr(settle, "ROUNDS", split[1])
    for seed in (3, 4):
        claims, rows = table(policy, 160, seed=seed, persons=2, boundary=0.3)
        same(engine, scalar, claims, rows)


def _calls(monkeypatch) -> list:
    """Rows per evaluation: the rank passes (through one_pass) and the rounds both call passes.evaluate."""
    seen, real = [], passes.evaluate

    def spy(plan, res, rows, *args, **kwargs):
        seen.append(len(rows))
        return real(plan, res, rows, *args, **kwargs)
    monkeypatch.setattr(passes, "evaluate", spy)
    monkeypatch.setattr(settle, "evaluate", spy)
    return seen


SHAOXING = {"就医地": "市内", "已备案慢病": "true"}


def _visits(n: int, person: str = "P1", cost: str = "300", extra: dict = SHAOXING) -> pa.Table:
    """n visits of one person spread over 2024 in date order (绍兴's own inputs unless `extra` says not)."""
    base = {"险种": "城乡居民", "就诊类型": "门诊慢特病", "病种": "高血压", "人员编号": person, "机构级别": "基层",
            "政策范围内费用": cost, **extra}
    days = np.datetime64("2024-01-01") + (np.arange(n) * 365) // n
    return pa.Table.from_pylist([dict(base, 就诊日期=str(d)) for d in days])


def test_a_long_year_settles_in_three_rounds(engines, monkeypatch):
    """绍兴: 400 visits of one patient in 2024 at 65 元 each, the 1200 元 limit reached on the 19th. The rank
    passes take the first 8 (a pass each), then three rounds settle the other 392: up to the first visit
    (the one after the passes), up to the one that reaches the limit, the rest; not a pass per visit."""
    policy, engine, scalar = engines("policies/shaoxing-2024.pol")
    monkeypatch.setattr(settle, "RANKED", 8)
    seen = _calls(monkeypatch)
    out = same(engine, scalar, _visits(400, cost="100"), np.arange(1, 401))
    assert seen == [1] * 8 + [392, 391, 381]
    paid = [str(v) for v in out.results.column("out.统筹支付").to_pylist()]
    assert paid[:19] == ["65.00"] * 18 + ["30.00"] and set(paid[19:]) == {"0.00"}


def test_a_year_that_settles_slowly_ends_in_the_rank_passes(engines, monkeypatch):
    """Each claim's amount compounds on the total before it: a round settles a claim or two more, so after
    ROUNDS rounds the rest of the year goes through the rank passes, from the last settled total."""
    policy, engine, scalar = engines("compounding")
    assert isinstance(engine, VectorEngine)
    monkeypatch.setattr(settle, "RANKED", 8)
    monkeypatch.setattr(settle, "ROUNDS", 4)
    seen = _calls(monkeypatch)
    out = same(engine, scalar, _visits(60, extra={}), np.arange(1, 61))
    rounds = seen[8:12]
    assert rounds[0] == 52 and all(later < earlier for earlier, later in zip(rounds, rounds[1:]))
    assert len(seen) > 12 + 30 and set(seen[12:]) == {1}  # a pass per claim still unsettled
    totals = out.results.column("state.已支付.after").to_pylist()
    assert all(later > earlier for earlier, later in zip(totals, totals[1:]))


def test_year_to_date_past_the_bound_in_a_round(engines, monkeypatch):
    """A settled claim whose total passes the plan's bound sends the batch to the scalar engine, in a round as
    in a rank pass; an unsettled guess past it is clipped, never reported."""
    policy = load_policy(str(ROOT / "policies" / "shaoxing-2024.pol"))
    engine = compile_engine(policy)
    monkeypatch.setattr(settle, "RANKED", 0)
    monkeypatch.setattr(engine.plan, "acc_bound", {name: 100_000 for name in engine.plan.acc_bound})  # 1000 元
    claims = _visits(3, cost="1000")
    out = engine.evaluate(claims, np.arange(1, 4))
    assert engine.notes and "慢病净报销" in engine.notes[0]
    assert out.results.equals(ScalarEngine(policy).evaluate(claims, np.arange(1, 4)).results)


def test_guesses_never_wrap(engines, monkeypatch):
    """Many persons' long years in one round: the running sums of a round's changes are clipped before they
    are added, so a guess is wrong at worst, and the table is still the interpreter's."""
    policy, engine, scalar = engines("policies/shaoxing-2024.pol")
    monkeypatch.setattr(settle, "RANKED", 0)
    claims = pa.concat_tables([_visits(50, person=f"P{i}", cost="9000000") for i in range(6)])
    same(engine, scalar, claims, np.arange(1, len(claims) + 1))


def test_a_reason_from_a_wrong_guess_does_not_stay(engines, monkeypatch):
    """Tiered: 30 visits of 100 元. A guess past 1300 元 finds no row in round two; round three, from the
    right totals, finds a row for every claim: the output is applicable (0.00 元), with no reason left over
    from the round before."""
    policy, engine, scalar = engines("tiered")
    monkeypatch.setattr(settle, "RANKED", 8)
    out = same(engine, scalar, _visits(30, cost="100", extra={}), np.arange(1, 31))
    assert out.results.column("na.out.统筹支付").null_count == 30
    assert [str(v) for v in out.results.column("out.统筹支付").to_pylist()[20:]] == ["0.00"] * 10
