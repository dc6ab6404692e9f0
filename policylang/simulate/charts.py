"""The report's two charts as standalone SVG: fund spend by stage (before and after, side by side) and the
distribution of the change in patient payment per person-year.

Heights are drawn from the exact amounts (fen) scaled to pixels; the labels print the exact yuan, so a
reader never reads a figure off a bar. Every text is escaped; no script, no external resource.
"""
from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 720, 340, 40, 70, 60
BLUE, ORANGE, GREY = "#4e79a7", "#f28e2b", "#9c9c9c"
FONT = 'font-family="sans-serif"'


def _svg(body: list[str], title: str, height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-label="{escape(title)}">\n<title>{escape(title)}</title>\n'
            + "\n".join(body) + "\n</svg>\n")


def _fen(text: str) -> int:
    return int(Decimal(text) * 100)


def stages_chart(spend: list[dict]) -> str:
    """Bars per fund stage (and the patient payment): 改革前 blue, 改革后 orange."""
    rows = [s for s in spend if s["name"] != "medfee_sumamt"]
    title = "各支付项目：改革前与改革后（元）"
    top = max([max(_fen(s["baseline"]), _fen(s["reform"])) for s in rows] + [1])
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - 20) / max(len(rows), 1)
    bar = min(60, slot / 3)
    body = [f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" {FONT}>{escape(title)}</text>',
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - 10}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>']
    for i, s in enumerate(rows):
        x0 = LEFT + i * slot + slot / 2 - bar
        for j, (key, color) in enumerate((("baseline", BLUE), ("reform", ORANGE))):
            value = max(_fen(s[key]), 0)
            h = plot * value / top
            x = x0 + j * bar
            y = HEIGHT - BOTTOM - h
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" fill="{color}">'
                        f'<title>{escape(s["label"])} {"改革前" if key == "baseline" else "改革后"} {escape(s[key])} 元</title></rect>')
            body.append(f'<text x="{x + (bar - 4) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="10" {FONT}>'
                        f'{escape(s[key])}</text>')
        body.append(f'<text x="{x0 + bar:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="12" {FONT}>'
                    f'{escape(s["label"])}</text>')
        body.append(f'<text x="{x0 + bar:.1f}" y="{HEIGHT - BOTTOM + 34}" text-anchor="middle" font-size="10" '
                    f'fill="#555" {FONT}>{escape(s["name"])}（差额 {escape(s["difference"])}）</text>')
    for j, (label, color) in enumerate((("改革前", BLUE), ("改革后", ORANGE))):
        body.append(f'<rect x="{WIDTH - 170 + j * 80}" y="{HEIGHT - 22}" width="12" height="12" fill="{color}"/>')
        body.append(f'<text x="{WIDTH - 154 + j * 80}" y="{HEIGHT - 12}" font-size="12" {FONT}>{label}</text>')
    return _svg(body, title)


def change_chart(histogram: dict) -> str:
    """Person-years by the change of their yearly patient payment; the unchanged ones as their own grey bar."""
    title = "参保人·年度个人负担变化的分布（人数）"
    bins = [("不变", histogram["zero"], GREY)] + [
        (f'{b["from"]}～{b["to"]}', b["persons"], BLUE if _fen(b["to"]) <= 0 else ORANGE) for b in histogram["bins"]]
    top = max([c for _, c, _ in bins] + [1])
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - 20) / len(bins)
    body = [f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" {FONT}>{escape(title)}</text>',
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - 10}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>']
    for i, (label, count, color) in enumerate(bins):
        h = plot * count / top
        x = LEFT + i * slot
        y = HEIGHT - BOTTOM - h
        body.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(slot - 2, 1):.1f}" height="{h:.1f}" fill="{color}">'
                    f'<title>{escape(label)} 元：{count} 人·年度</title></rect>')
        if count:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="9" {FONT}>{count}</text>')
        if i == 0 or i == len(bins) - 1 or len(bins) <= 8:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="9" '
                        f'{FONT}>{escape(label)}</text>')
    body.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 14}" text-anchor="middle" font-size="12" {FONT}>'
                '个人负担变化（元，负数为减少：蓝色减少，橙色增加）</text>')
    return _svg(body, title)
