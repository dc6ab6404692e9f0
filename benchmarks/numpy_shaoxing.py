"""The 绍兴 rules (policies/shaoxing-2024.pol) hand-written in numpy, the 1200 元 per-person-year cap included.

Why: the yardstick for the vectorized back end (issue 14: within 2× of this). It is written as an engineer
would for production over columns: money in int64 fen, rates as integer percent, half-up rounding on
non-negative integers, the cap in closed form over each person-year's running total. It is exact for
this policy (no float anywhere), and bench_batch.py checks it claim for claim against policylang's results
before timing anything.

Why the closed form is right here: the policy's constraint makes every 门诊慢特病 claim a registered one,
so the accumulator counts exactly the registered patients' claims in scope, each known (the scope refuses a
registered claim whose amount would be unknown). With paid_k = min(due_k, 1200 − used_k) and used_1 = 0,
used_k = min(1200, due_1 + … + due_(k−1)), so paid_k = min(1200, cum_after) − min(1200, cum_before).
"""
from __future__ import annotations

import numpy as np

IN_FORCE = np.datetime64("2024-01-01", "D").astype(np.int64)
LIMIT_FEN = 120_000
LEVELS = ("基层", "一级", "二级", "三级", "未定级", "定点零售药店")
RATE_PCT = np.array([65, 15, 50, 15, 15, 15], dtype=np.int64)  # 市内 and 备案地 慢性病门诊比例 by 机构级别
TB_PRIMARY_PCT = 70
KINDS_IN_SCOPE = ("普通门诊", "急诊", "门诊慢特病")


def columns(table) -> dict:
    """The claim columns this kernel reads, from a policylang synth table (member names, decimal money),
    as numpy: codes for the members, fen for money (-1 where absent), days since 1970 for dates. Text is
    compared in Arrow (pyarrow.compute), never as Python strings: what a production reader would do."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def fen(name):
        return fen_column(table.column(name))

    def equal(name, value):
        return pc.fill_null(pc.equal(table.column(name), value), False).to_numpy(zero_copy_only=False)

    def member_of(name, values):
        return pc.fill_null(pc.is_in(table.column(name), value_set=pa.array(values)), False) \
            .to_numpy(zero_copy_only=False)

    def codes(name, members):
        return pc.fill_null(pc.index_in(table.column(name), value_set=pa.array(members)), -1) \
            .to_numpy(zero_copy_only=False).astype(np.int64)

    # synth writes member names; a platform export's codes would be mapped the same way, once per column
    return {
        "person": table.column("psn_no").combine_chunks().dictionary_encode().indices.to_numpy().astype(np.int64),
        "day": table.column("begntime").cast(pa.int32()).to_numpy().astype(np.int64),
        "resident": equal("insutype", "城乡居民"),
        "kind_in_scope": member_of("med_type", KINDS_IN_SCOPE),
        "chronic": equal("med_type", "门诊慢特病"),
        "level": codes("dedc_hosp_lv", LEVELS),
        "tb": equal("dise_codg", "肺结核"),
        "place": codes("就医地", ("市内", "备案地", "其他异地")),
        "registered": pc.fill_null(table.column("已备案慢病"), False).to_numpy(zero_copy_only=False).astype(bool),
        "inscp": fen("inscp_scp_amt"),
        "other": fen("其他门诊应付"),
    }


def fen_column(column) -> np.ndarray:
    """A money column as int64 fen, -1 where null: decimal128(20, 2) holds the amount in fen as a 128-bit
    integer, whose low word it is (amounts are ≥ 0 and far below 2**63)."""
    import pyarrow as pa

    col = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    col = col.cast(pa.decimal128(20, 2))
    words = np.frombuffer(col.buffers()[1], dtype=np.int64)[2 * col.offset: 2 * (col.offset + len(col))][::2]
    return np.where(col.is_valid().to_numpy(zero_copy_only=False), words, -1)




def evaluate(c: dict) -> dict:
    """applicable (bool), pay (int64 fen, -1 where not applicable) and used_after (int64 fen) per claim."""
    pharmacy = c["level"] == 5
    own_rate = c["chronic"] & ((c["place"] == 0) | ((c["place"] == 1) & ~pharmacy))
    has_other = c["other"] >= 0
    applicable = (c["day"] >= IN_FORCE) & c["resident"] & c["kind_in_scope"] & (
        ~c["registered"] | own_rate | has_other)
    pct = np.where((c["level"] == 0) & c["tb"], TB_PRIMARY_PCT, RATE_PCT[c["level"]])
    due = np.where(own_rate, (c["inscp"] * pct + 50) // 100, c["other"])  # half up: all amounts are ≥ 0
    counted = applicable & c["registered"]  # with the constraint, 门诊慢特病 implies 已备案慢病

    # person-years in order: person, service date, input position (policylang's claim order)
    year = c["day"].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    order = np.lexsort((np.arange(len(due)), c["day"], year, c["person"]))
    key_p, key_y = c["person"][order], year[order]
    start = np.ones(len(order), dtype=bool)
    start[1:] = (key_p[1:] != key_p[:-1]) | (key_y[1:] != key_y[:-1])
    counted_due = np.where(counted, due, 0)[order]
    running = np.cumsum(counted_due)
    group_start = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
    base = (running - counted_due)[group_start]  # total before each person-year
    after = running - base
    before = after - counted_due
    paid_sorted = np.minimum(LIMIT_FEN, after) - np.minimum(LIMIT_FEN, before)
    used_sorted = np.minimum(LIMIT_FEN, after)
    paid, used = np.empty_like(paid_sorted), np.empty_like(used_sorted)
    paid[order], used[order] = paid_sorted, used_sorted
    pay = np.where(counted, paid, -1)
    return {"applicable": applicable, "pay": pay, "used_after": used}
