"""The simulation report as a table on the terminal (from the JSON document, so both always agree)."""
from __future__ import annotations

from policylang.diagnostics import display_width

SIDE = {"baseline": "改革前", "reform": "改革后"}


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    cells = [header] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for n, r in enumerate(cells):
        out.append("  " + "  ".join(_pad(c, widths[i], i >= right_from) for i, c in enumerate(r)).rstrip())
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out


def _pct(p: str | None) -> str:
    return "—" if p is None else (p if p.startswith("-") else "+" + p) + "%"


def lines(doc: dict) -> list[str]:
    out = [f"simulate: {doc['baseline']['title']} → {doc['reform']['title']}"]
    rows = doc["rows"]
    out.append(f"rows: {rows['in']} in; refused by the reader {rows['refused_by_reader']}, by the baseline "
               f"{rows['refused_by_baseline']}, by the reform {rows['refused_by_reform']}; "
               f"compared {doc['compared_claims']} claims")
    for side in ("baseline", "reform"):
        p = doc[side]
        engine = p["engine"] + (f" ({p['fallback']})" if p["fallback"] else "")
        out.append(f"{SIDE[side]} engine: {engine}")
    if doc["in_force"] == "ignored":
        out.append("both policies are applied to every claim's date (their in-force periods are set aside; "
                   "--keep-in-force keeps them)")
    out += ["", "基金支出与个人负担（元，比较的理赔）:"]
    out += table(["", "改革前", "改革后", "差额", "变化"],
                 [[f"{s['name']} {s['label']}", s["baseline"], s["reform"], s["difference"], _pct(s["percent"])]
                  for s in doc["spend"]])
    wl = doc["winners_losers"]
    out += ["", "个人负担的变化（减少 / 不变 / 增加）:"]
    body = []
    for unit, label in (("persons", "参保人·年度"), ("claims", "理赔")):
        w = wl[unit]
        body.append([label, w["fall"], w["same"], w["rise"], w["total_change"]])
        for th in w["thresholds"]:
            size = f"±{th['value']}元" if th["kind"] == "yuan" else f"±{th['value']}%"
            body.append([f"  {label}，阈值 {size}", th["fall"], th["within"], th["rise"], ""])
    out += table(["", "减少", "不变", "增加", "合计变化（元）"], body)
    for unit, label in (("persons", "参保人·年度"), ("claims", "理赔")):
        pts = wl[unit]["percentiles"]
        if pts:
            out.append(f"  {label}变化分位数（元）: " + ", ".join(f"P{p['p']} {p['change']}" for p in pts))
    a = doc["applicability"]
    out += ["", f"适用性变化: 改革前适用、改革后不适用 {a['baseline_only']} 笔; 改革前不适用、改革后适用 {a['reform_only']} 笔"]
    for c in a["listed"][:10]:
        out.append(f"  row {c['row']} {c['claim_id'] or ''} {c['person'] or ''} {c['date'] or ''}: "
                   f"{c['change_label']}（{c['reason'] or ''}）")
    if len(a["listed"]) > 10 or not a["listed_all"]:
        out.append("  … (the rest in the JSON report and in applicability changes of the page)")
    for side in ("baseline", "reform"):
        na = doc["not_applicable"][side]
        if na:
            out.append(f"{SIDE[side]}不适用而未计入比较的金额:")
            out += [f"  {n['claims']} 笔，医疗费 {n['cost']} 元: {n['reason']}" for n in na]
    for dim, members in doc["breakdowns"].items():
        out += ["", f"按{dim}（元）:"]
        out += table([dim, "理赔", "基金 改革前", "基金 改革后", "基金差额", "个人负担差额"],
                     [[m["member"], m["claims"], m["baseline_fund"], m["reform_fund"], m["fund_difference"],
                       m["psn_difference"]] for m in members])
    if doc["deciles"]:
        out += ["", "按参保人年度医疗费十分位（元）:"]
        out += table(["十分位", "人数", "医疗费从", "到", "个人负担差额", "变化", "减少", "增加"],
                     [[d["decile"], d["persons"], d["spend_from"], d["spend_to"], d["psn_difference"],
                       _pct(d["psn_percent"]), d["fall"], d["rise"]] for d in doc["deciles"]])
    return out
