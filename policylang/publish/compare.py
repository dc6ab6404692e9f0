"""The comparison page: what several policies share, side by side.

Policies are lined up by what the platform and the prelude make common to all of them, never by file:
an output is the same thing in two policies when both tag it with the same platform name (`as
pool_prop_selfpay`), and a cell of the ratio matrix is the same cell when its 险种, 就诊类型 and
机构级别 members have the same names (the prelude's enumerations, shared by every policy). A cell
appears only where two policies or more give it a value.
"""
from __future__ import annotations

from dataclasses import dataclass

from policylang.platform import OUTPUT_NAMES


@dataclass
class CompareTable:
    title: str  # "城乡居民 · 门诊慢特病"
    measure: str  # "统筹支付比例（pool_prop_selfpay）"
    columns: list  # levels
    rows: list  # (policy title, slug, [cell text])


@dataclass
class Comparison:
    tables: list
    outputs: list  # (platform name, Chinese, [rule name or "" per policy])
    policies: list  # (title, slug, representative values held)


def comparison(pages: list) -> Comparison:
    cells: dict = {}  # (platform, labels) -> {slug: {level: text}}
    measures, columns_of = {}, {}
    for page in pages:
        for m in page.matrices:
            if not m.platform:
                continue
            measures[m.platform] = f"{m.platform_label}（{m.platform}）"
            for row in m.rows:
                key = (m.platform, row.labels)
                columns_of.setdefault(key, [])
                for level, cell in zip(m.columns, row.cells):
                    if level not in columns_of[key]:
                        columns_of[key].append(level)
                    if cell.status == "value":
                        cells.setdefault(key, {}).setdefault(page.slug, {})[level] = _text(cell)
    tables = []
    for key, by_policy in cells.items():
        if len(by_policy) < 2:
            continue
        platform, labels = key
        shared = [lv for lv in columns_of[key] if sum(lv in c for c in by_policy.values()) >= 1]
        rows = [(p.title, p.slug, [by_policy[p.slug].get(lv, "—") for lv in shared])
                for p in pages if p.slug in by_policy]
        tables.append(CompareTable(" · ".join(labels), measures[platform], shared, rows))
    outputs = []
    for name, (chinese, _) in OUTPUT_NAMES.items():
        per = [_platform_rule(p, name) for p in pages]
        if sum(1 for r in per if r) >= 2:
            outputs.append((name, chinese, per))
    policies = [(p.title, p.slug, "；".join(h for m in p.matrices for h in m.held)) for p in pages]
    return Comparison(tables, outputs, policies)


def _text(cell) -> str:
    shown = [e for e in cell.exceptions if not e.endswith("：未规定")]
    return cell.text + (f"（{'；'.join(shown)}）" if shown else "")


def _platform_rule(page, platform: str) -> str:
    for group in page.groups:
        for item in group.items:
            if getattr(item, "platform", None) and item.platform.startswith(platform + "（"):
                return item.name
    return ""
