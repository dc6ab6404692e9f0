"""How fast is the compiled 绍兴 evaluator, next to the interpreter and next to hand-written Python?

Why this exists: the Python back end is only worth having if it is much faster
than the reference interpreter (target: ≥ 30×) and close to what an engineer
would write by hand for production (target: ≤ 1.5× the hand-written time).
This script measures both in one run, on the real policy
(policies/shaoxing-2024.pol).

The hand-written evaluator below implements the same rules directly: exact
Decimal arithmetic, ROUND_HALF_UP to 0.01 via quantize, a claim dict keyed by
the policy's Chinese input names, the same state dict in and out, and the same
outputs — including every "not applicable" value and reason — as a
policylang.runtime.Outcome. Before timing anything, all three are checked for
equal results on a few thousand varied claims (every facility level, 肺结核 or
not, 门诊慢特病/普通门诊/急诊, 已备案慢病 true/false, states around the 1200 元
cap, out-of-scope claims); any difference stops the script with an error.
Timings are only reported, never asserted: a benchmark measures, it does not fail.

Run:  make bench   or   .venv/bin/python benchmarks/bench_shaoxing.py [--quick]
"""
from __future__ import annotations

import argparse
import datetime
import gc
import itertools
import platform
import sys
import timeit
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from policylang.backends.interpreter import Interpreter
from policylang.backends.python import compile_policy
from policylang.pipeline import load_policy
from policylang.runtime import NotApplicable, Outcome, unknown_after

POLICY = Path(__file__).resolve().parent.parent / "policies" / "shaoxing-2024.pol"

TARGET_VS_INTERPRETER = 30.0  # compiled must be at least this many times faster than the interpreter
TARGET_VS_HAND = 1.5  # compiled may take at most this many times the hand-written time


# --------------------------------------------------------------------------- hand-written 绍兴 rules
# 绍政办发〔2023〕40号 第（五）（六）条, written the way one would for production.

FEN = Decimal("0.01")
ZERO = Decimal("0")  # 慢病净报销 at the start of a 医保年度
ZERO_YUAN = Decimal("0.00")
LIMIT = Decimal("1200.00")  # 慢性病门诊（含其他疾病门诊、急诊）累计净报销限额 / 医保年度
IN_FORCE = datetime.date(2024, 1, 1)
OUTPATIENT = frozenset(("普通门诊", "急诊", "门诊慢特病"))
RATES = {  # 市内 and 备案地 慢性病门诊报销比例 by 机构级别
    "基层": Decimal("0.65"),
    "二级": Decimal("0.5"),
    "一级": Decimal("0.15"),
    "三级": Decimal("0.15"),
    "未定级": Decimal("0.15"),
    "定点零售药店": Decimal("0.15"),
}
RATE_TB_PRIMARY = Decimal("0.7")  # 基层 肺结核

NOT_IN_SCHEME = "第（五）（六）条只规定城乡居民医保参保人员的门诊待遇"
NOT_OUTPATIENT = "第（五）（六）条只规定普通门诊、慢性病门诊和急诊"
NA_PHARMACY_DEDUCTIBLE = NotApplicable("第（五）条只取消定点医疗机构门诊的起付标准，未规定定点零售药店")
NA_GENERAL_RATE = NotApplicable("本文件未规定普通门诊、急诊的报销比例")
NA_OTHER_PLACE = NotApplicable("第（六）条只规定市内及异地长期居住人员备案地的慢性病门诊比例")
NA_FILED_PHARMACY = NotApplicable("备案地同步调整的比例只适用于定点医疗机构")
NA_UNREGISTERED = NotApplicable("本文件未规定普通门诊、急诊的报销比例；限额只适用于已备案慢性病的参保人员")
NA_MISSING_OTHER = NotApplicable("缺少输入 `其他门诊应付`")


def hand_written(claim: dict, state: dict) -> Outcome:
    used = state.get("慢病净报销", ZERO)
    day = claim["就诊日期"]
    if day < IN_FORCE:
        return Outcome(False, f"就诊日期 {day.isoformat()} 不在政策施行期内（2024-01-01 – …）", {},
                       {"慢病净报销": used})
    if claim["险种"] != "城乡居民":
        return Outcome(False, NOT_IN_SCHEME, {}, {"慢病净报销": used})
    kind = claim["就诊类型"]
    if kind not in OUTPATIENT:
        return Outcome(False, NOT_OUTPATIENT, {}, {"慢病净报销": used})

    level = claim["机构级别"]
    registered = claim["已备案慢病"]
    deductible = NA_PHARMACY_DEDUCTIBLE if level == "定点零售药店" else ZERO_YUAN

    chronic = kind == "门诊慢特病"
    place = claim["就医地"]
    own_rate = chronic and (place == "市内" or (place == "备案地" and level != "定点零售药店"))  # 本文件比例
    other = claim.get("其他门诊应付")
    if registered and not own_rate and other is None:  # the scope requires the amount the limit counts
        return Outcome(False, NA_MISSING_OTHER.reason, {}, {"慢病净报销": used})
    if not chronic:
        rate = NA_GENERAL_RATE
    elif place == "其他异地":
        rate = NA_OTHER_PLACE
    elif place == "备案地" and level == "定点零售药店":
        rate = NA_FILED_PHARMACY
    else:
        rate = RATE_TB_PRIMARY if level == "基层" and claim["病种"] == "肺结核" else RATES[level]
    if own_rate:
        due = (claim["政策范围内费用"] * rate).quantize(FEN, rounding=ROUND_HALF_UP)
    elif registered:
        # a platform may send "250" for 250.00: normalise to the fen like every money amount
        due = other.quantize(FEN, rounding=ROUND_HALF_UP)
    else:
        due = NA_UNREGISTERED

    if due.__class__ is NotApplicable:
        pay = due
        # the update's condition holds (门诊慢特病 or 已备案慢病) and its amount is not known: unknown from here
        after = unknown_after("慢病净报销", day, due.reason, False) if chronic or registered else used
    else:
        remaining = LIMIT - used
        if remaining < 0:
            remaining = ZERO_YUAN
        pay = due if due < remaining else remaining
        after = used + pay  # only 门诊慢特病 or 已备案慢病 claims get here: both count against the limit
    return Outcome(True, None, {"起付线": deductible, "报销比例": rate, "统筹支付": pay}, {"慢病净报销": after})


# --------------------------------------------------------------------------- claims

def claim(**values) -> dict:
    base = {"就诊日期": datetime.date(2024, 5, 10), "险种": "城乡居民", "就诊类型": "门诊慢特病", "机构级别": "基层",
            "病种": "高血压", "就医地": "市内", "已备案慢病": True, "政策范围内费用": Decimal("1000.00")}
    base.update(values)
    return base


def verification_cases() -> list[tuple[dict, dict]]:
    """Varied claims and year-to-date states, including every not-applicable path."""
    cases = []
    levels = ("基层", "一级", "二级", "三级", "未定级", "定点零售药店")
    diseases = ("肺结核", "高血压", "其他病种")
    kinds = ("门诊慢特病", "普通门诊", "急诊")
    places = ("市内", "备案地", "其他异地")
    amounts = (Decimal("0.00"), Decimal("0.01"), Decimal("100.01"), Decimal("333.33"), Decimal("1000.00"),
               Decimal("2400.07"))
    others = (None, Decimal("0.00"), Decimal("250"), Decimal("1500.00"))
    states = ({}, {"慢病净报销": Decimal("0.00")}, {"慢病净报销": Decimal("899.99")},
              {"慢病净报销": Decimal("1199.99")}, {"慢病净报销": Decimal("1200.00")},
              {"慢病净报销": Decimal("1350.00")})
    for level, disease, kind, place, registered, amount, other, state in itertools.product(
            levels, diseases, kinds, places, (True, False), amounts, others, states):
        if kind == "门诊慢特病" and other is not None and other != Decimal("250"):
            continue  # 其他门诊应付 is not read for 门诊慢特病; one value is enough there
        c = claim(机构级别=level, 病种=disease, 就诊类型=kind, 就医地=place, 已备案慢病=registered,
                  政策范围内费用=amount)
        if other is not None:
            c["其他门诊应付"] = other
        cases.append((c, state))
    for state in states:  # out of scope: before 施行, 职工, 住院 / 购药
        cases.append((claim(就诊日期=datetime.date(2023, 12, 31)), state))
        cases.append((claim(险种="职工"), state))
        cases.append((claim(就诊类型="普通住院"), state))
        cases.append((claim(就诊类型="定点药店购药", 机构级别="定点零售药店"), state))
    return cases


# Representative claims to time: (label, claim, state).
TIMED = [
    ("慢病 基层 肺结核 市内", claim(病种="肺结核", 政策范围内费用=Decimal("333.33")), {}),
    ("慢病 二级 近 1200 限额", claim(机构级别="二级", 政策范围内费用=Decimal("1100.00")),
     {"慢病净报销": Decimal("1150.00")}),
    ("慢病 定点零售药店 备案地(NA)", claim(机构级别="定点零售药店", 就医地="备案地", 政策范围内费用=Decimal("200.00")),
     {"慢病净报销": Decimal("300.00")}),
    ("急诊 已备案 其他门诊应付", claim(就诊类型="急诊", 机构级别="二级", 病种="其他病种",
                               政策范围内费用=Decimal("500.00"), 其他门诊应付=Decimal("250.00")),
     {"慢病净报销": Decimal("900.00")}),
    ("普通门诊 未备案(NA)", claim(就诊类型="普通门诊", 机构级别="三级", 病种="其他病种", 已备案慢病=False,
                             政策范围内费用=Decimal("300.00")), {}),
    ("职工 (不在范围)", claim(险种="职工"), {}),
]


# --------------------------------------------------------------------------- verification and timing

def verify(evaluators: dict, cases) -> int:
    reference = evaluators["interpreter"]
    failures = []
    for c, s in cases:
        expected = reference(c, s)
        for name, fn in evaluators.items():
            if name == "interpreter":
                continue
            got = fn(c, s)
            # equal as Outcomes: same values, NA reasons and key order. Decimal exponents may differ
            # (250 vs 250.00); results are rendered by type at the edge (claims.format_typed).
            if got != expected or list(got.outputs) != list(expected.outputs):
                failures.append(f"{name} differs on claim={c} state={s}\n  interpreter: {expected!r}\n"
                                f"  {name}: {got!r}")
    if failures:
        shown = "\n".join(failures[:10])
        raise SystemExit(f"FAIL: {len(failures)} results differ from the interpreter; first ones:\n{shown}")
    return len(cases)


def per_call_us(fn, c: dict, s: dict, repeat: int, min_time: float) -> float:
    """Best of `repeat` runs, each long enough (≥ min_time s), in microseconds per call.

    The garbage collector stays on (timeit turns it off by default): an evaluator
    that leaves reference cycles behind pays for them in production too.
    """
    timer = timeit.Timer("fn(c, s)", setup="gc.enable()", globals={"fn": fn, "c": c, "s": s, "gc": gc})
    number = 1
    while timer.timeit(number) < min_time:
        number *= 2
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def pad(text: str, width: int) -> str:
    """Left-align text in a fixed-width column, counting CJK characters as two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats (a smoke run)")
    args = parser.parse_args(argv)
    repeat, min_time = (3, 0.02) if args.quick else (7, 0.2)

    policy = load_policy(POLICY)
    evaluators = {"interpreter": Interpreter(policy).evaluate, "compiled": compile_policy(policy),
                  "hand-written": hand_written}
    checked = verify(evaluators, verification_cases())
    print(f"policy: {POLICY.name}; Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"verified: compiled and hand-written equal the interpreter on {checked} claims")
    print(f"timing: best of {repeat} repeats, each ≥ {min_time:g} s; µs per claim\n")

    header = f"{pad('claim', 30)} {'interp':>9} {'compiled':>9} {'hand':>9} {'interp/comp':>12} {'comp/hand':>10}"
    print(header)
    print("-" * len(header))
    totals = dict.fromkeys(evaluators, 0.0)
    for label, c, s in TIMED:
        us = {name: per_call_us(fn, c, s, repeat, min_time) for name, fn in evaluators.items()}
        for name in totals:
            totals[name] += us[name]
        print(f"{pad(label, 30)} {us['interpreter']:>9.2f} {us['compiled']:>9.2f} {us['hand-written']:>9.2f} "
              f"{us['interpreter'] / us['compiled']:>11.1f}× {us['compiled'] / us['hand-written']:>9.2f}×")
    mean = {name: total / len(TIMED) for name, total in totals.items()}
    vs_interp = mean["interpreter"] / mean["compiled"]
    vs_hand = mean["compiled"] / mean["hand-written"]
    print("-" * len(header))
    print(f"{pad('mean', 30)} {mean['interpreter']:>9.2f} {mean['compiled']:>9.2f} {mean['hand-written']:>9.2f} "
          f"{vs_interp:>11.1f}× {vs_hand:>9.2f}×\n")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"target: interpreter/compiled ≥ {TARGET_VS_INTERPRETER:g}×  measured {vs_interp:6.1f}×  "
          f"{verdict(vs_interp >= TARGET_VS_INTERPRETER)}")
    print(f"target: compiled/hand-written ≤ {TARGET_VS_HAND:g}×  measured {vs_hand:6.2f}×  "
          f"{verdict(vs_hand <= TARGET_VS_HAND)}")
    print("(ratios of the mean µs/claim over the claims above)")


if __name__ == "__main__":
    sys.exit(main())
