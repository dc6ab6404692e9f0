"""The zh-CN narrative of a `policylang.trace/1` document: what an auditor reads beside the numbers.

It is written from the trace alone (the API and `eval --explain --format text` share it), one line per
thing the interpreter decided, in the order it decided them: the claim as read, the scope, each table
row with the rule it gave ("机构级别为基层、病种为高血压，按第（六）条（「慢病报销比例」第 2 行）：报销比例 65%"),
each rule with its arithmetic ("应付金额 1000.00 × 65% = 650.00 元"), each band and the brackets' sum,
each year-to-date before and after, and the settlement (基金支付合计, 个人负担).
"""
from __future__ import annotations

from decimal import Decimal

from policylang.platform import OUTPUT_NAMES

DERIVED_NAMES = {"inscp_scp_amt": "政策范围内费用", "medfee_sumamt": "医疗费总额",
                 "fund_pay_sumamt": "基金支付合计", "psn_part_amt": "个人负担"}
SKIPPED = {"condition false": "条件不成立"}


def render(doc: dict) -> str:
    """The narrative of one trace, lines ending in ；or 。."""
    lines = [_heading(doc), _claim(doc)]
    body: list = []
    pending: list = []  # table rows and versions waiting for the rule they gave
    scope = [s for s in doc["steps"] if s["kind"] == "scope"]
    if scope and all(s["satisfied"] for s in scope):
        body.append(f"符合{_clause(scope[0]['clause'], '适用范围')}（{len(scope)} 项条件均满足）")
    for step in doc["steps"]:
        kind = step["kind"]
        if kind == "row":
            pending.append(_row(step))
        elif kind == "version":
            pending.append(f"「{step['version']}」适用 {step['valid']} 的版本"
                           + (f"（{_clause(step['clause'])}）" if step["clause"] else ""))
        elif kind == "band":
            body.append(f"「{step['brackets']}」第 {step['band']} 段{_of(step['clause'])}：{step['arithmetic']} 元")
        elif kind == "brackets":
            body.append(f"「{step['brackets']}」合计：{step['arithmetic']} 元")
        elif kind == "rule":
            body.append(_rule(step, pending))
            pending = []
        elif kind == "update":
            body.append(_update(step))
        elif kind == "scope" and not step["satisfied"]:
            body.append(f"不满足{_clause(step['clause'], '适用范围')}的第 {step['scope']} 项条件")
        elif kind == "out_of_scope":
            body.append(f"不适用本政策：{step['reason']}")
    body.extend(pending)
    if not doc["applicable"] and not any(s["kind"] == "out_of_scope" for s in doc["steps"]):
        body.append(f"不适用本政策：{doc.get('reason', '')}")
    lines.extend(_sentences(body))
    if doc["applicable"]:
        lines.append(_settlement(doc))
    return "\n".join(lines) + "\n"


def _heading(doc: dict) -> str:
    p = doc["policy"]
    document = f"（{p['document']}）" if p.get("document") else ""
    assumed = "；假定 " + "，".join(f"{k}={v}" for k, v in p["assume"].items()) if p.get("assume") else ""
    return (f"《{p['title']}》{document}，内容 {p['content_hash'][:19]}…，"
            f"{doc['engine']['name']} {doc['engine']['version']}{assumed}")


def _claim(doc: dict) -> str:
    claim = doc["claim"]
    parts = [f"{name} {_totals(value) if isinstance(value, str) else _plain(value)}"
             for name, value in claim["inputs"].items()]
    year = f"（{doc['year']} 医保年度）" if doc.get("year") else ""
    text = f"就诊{year}：" + "，".join(parts)
    if claim.get("state"):
        text += "；此前累计：" + "，".join(f"{n} {_totals(v)}" for n, v in claim["state"].items())
    for field, note in claim.get("notes", {}).items():
        text += f"；{field}：{note}"
    return text + "。"


def _row(step: dict) -> str:
    matched = "、".join(f"{c['name']}为{_plain(c['value'])}" for c in step["columns"])
    which = "默认行" if step["row"] == "default" else f"第 {step['row']} 行"
    where = f"「{step['table']}」{which}"
    return (f"{matched}，" if matched else "") + (f"按{_clause(step['clause'])}（{where}）" if step["clause"] else f"按{where}")


def _rule(step: dict, pending: list) -> str:
    lead = "；".join(pending)
    if "not_applicable" in step:
        text = f"{step['rule']}不适用：{step['not_applicable']}"
    else:
        value = _typed(step["value"], step["type"])
        formula = step.get("formula")
        text = f"{step['rule']} {formula} = {value}" if formula else f"{step['rule']} {value}"
    if step["clause"] and not (pending and step["clause"] in lead):
        text += f"（{_clause(step['clause'])}）"
    return f"{lead}：{text}" if lead else text


def _update(step: dict) -> str:
    if "skipped" in step:
        return f"「{step['update']}」不累计：{SKIPPED.get(step['skipped'], step['skipped'])}"
    unit = "money" if step["type"] == "money" else None
    return f"本年度累计「{step['update']}」{_totals(step['before'], unit)} → {_totals(step['after'], unit)}"


def _settlement(doc: dict) -> str:
    parts = []
    for name, value in doc.get("setlinfo", {}).items():
        label = DERIVED_NAMES.get(name) or OUTPUT_NAMES.get(name, (name, ""))[0]
        kind = OUTPUT_NAMES.get(name, ("", "amount"))[1]
        shown = "不适用" if value is None else (_percent(value) if kind == "ratio" else f"{value} 元")
        parts.append(f"{label}（{name}）{shown}")
    na = doc.get("not_applicable", {})
    text = "结算：" + "，".join(parts) if parts else "结算：无结算项"
    if na:
        text += "；不适用：" + "，".join(f"{n}（{why}）" for n, why in na.items())
    return text + "。"


def _sentences(parts: list) -> list:
    return [p + ("。" if i == len(parts) - 1 else "；") for i, p in enumerate(parts)]


def _clause(clause: str | None, what: str = "") -> str:
    """（六） → 第（六）条; a clause already written with 第 or 条 is kept as written."""
    if not clause:
        return what or "本政策"
    text = clause if clause.startswith("第") or clause.endswith("条") else f"第{clause}条"
    return f"{text}{what}"


def _of(clause: str | None) -> str:
    return f"（{_clause(clause)}）" if clause else ""


def _typed(value, type_: str) -> str:
    if value is None:
        return "无"
    if type_ == "money":
        return f"{value} 元"
    if type_ == "rate":
        return _percent(value)
    if type_ == "points":
        return f"{_hundred(value)} 个百分点"
    return _plain(value)


def _plain(value) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    return "无" if value is None else str(value)


def _totals(value, unit: str | None = "guess") -> str:
    """A year-to-date as the trace writes it; `unit` "money" adds 元 (a claim's state has no type: a value
    written with two decimals is taken for money)."""
    if isinstance(value, str):
        return f"{value} 元" if unit == "money" or (unit == "guess" and _is_money(value)) else value
    if isinstance(value, dict) and set(value) == {"unknown"}:
        return f"未知（{value['unknown']}）"
    if isinstance(value, dict) and set(value) == {"value", "counted"}:
        return f"{_totals(value['value'], unit)}（已计 {', '.join(value['counted']) or '无'}）"
    if isinstance(value, dict):
        return "，".join(f"{k} {_totals(v, unit)}" for k, v in value.items()) or "无"
    return str(value)


def _is_money(text: str) -> bool:
    head, dot, tail = text.lstrip("-").partition(".")
    return head.isdigit() and dot == "." and len(tail) == 2 and tail.isdigit()


def _percent(value: str) -> str:
    return f"{_hundred(value)}%"


def _hundred(value: str) -> str:
    return format((Decimal(value) * 100).normalize(), "f")
