"""The payment chart of a policy's docs page: what the fund pays and what the patient bears.

`payment_chart_svg(policy)` draws, for one representative claim, 统筹基金支付 (the output tagged
`as hifp_pay`) and 个人负担 (the platform's psn_part_amt) against 政策范围内费用 (inscp_scp_amt), one
line per 机构级别. Every point is a real claim run through the policy's evaluator with exact
Decimal money; a value becomes a float only as a plotting coordinate.

Nothing is specific to one policy. The parts are found by what they are: the money input whose
platform field is inscp_scp_amt, the fund output `as hifp_pay`, the enumeration input that looks like
a facility level. The other inputs are filled with a claim the policy covers: visit types and
insurance types are tried in a fixed order of preference (住院 first, 城乡居民 first, then in the
order of `representative.Preferences`), and every other input first takes its most ordinary value
(`representative.Preferences`, the order the ratio matrix uses too: the examples' most common
value, then the value the rules do not treat as an exception), then the values of the policy's
examples; each candidate must be a valid claim (the policy's constraints hold) in scope with a fund
payment at two levels or more. A policy without that structure has no chart (None).

The x range is found from the curves: the first amount after which every curve is a straight line
(past the deductible, the cap and every band), with a margin. The points of each curve are chosen
adaptively, so kinks land on a sample.

Chinese text is drawn as glyph outlines (svg.fonttype 'path') from one CJK font file found
explicitly (`cjk_font_path`), never from whatever the font cache happens to hold; without the file
the chart fails with `FontMissing`. The SVG is deterministic: fixed hash salt, no date, no creator.
"""
from __future__ import annotations

import datetime
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from pathlib import Path

from policylang import ir
from policylang.claims import ClaimReader, setlinfo
from policylang.evaluators import evaluator
from policylang.publish.render import escape_braces, html_escape
from policylang.publish.representative import ABSENT as _ABSENT, Preferences, Search, representative_day
from policylang.runtime import NotApplicable

_COMMENT = re.compile(r"<!--.*?-->", re.S)

FONT_ENV = "POLICYLANG_CJK_FONT"
# Debian's fonts-wqy-microhei (TrueType outlines, GB 18030 ideographs and Latin in one file; face 0 is
# WenQuanYi Micro Hei), then fonts-wqy-zenhei. `make system-deps` installs the first.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FONT_PACKAGE = "fonts-wqy-microhei"

AMOUNT_FIELD = "inscp_scp_amt"
FUND_OUTPUT = "hifp_pay"
LEVEL_FIELD = "dedc_hosp_lv"
LEVEL_WORDS = ("基层", "一级", "二级", "三级")
VISIT_FIELD, INSURANCE_FIELD = "med_type", "insutype"

FEN = Decimal("0.01")
PROBE = Decimal("100000.00")  # an amount past any deductible: does the fund pay at this level?
SEARCH_TOP = Decimal("1000000.00")  # kinks are looked for up to here
TOLERANCE = Decimal("0.02")  # fen rounding moves a point off its straight line by at most 0.01
MIN_LEVELS = 2  # a chart compares levels: a candidate claim must be paid at two levels or more
BUDGET = 4000  # claims evaluated while choosing the representative claim, at most

SVG_SALT = "policylang-payment-chart"
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf")
FUND_TITLE, PATIENT_TITLE = "统筹基金支付", "个人负担"


class FontMissing(RuntimeError):
    """No CJK font file to draw the chart's Chinese text with."""


def cjk_font_path() -> Path:
    """The CJK font file: $POLICYLANG_CJK_FONT, else the first of FONT_CANDIDATES that exists."""
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise FontMissing(f"{FONT_ENV}={override} is not a font file")
        return path
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(
        f"no CJK font for the payment chart: none of {', '.join(FONT_CANDIDATES)} exists. Install Debian's "
        f"{FONT_PACKAGE} (`make system-deps`, as root) or set {FONT_ENV} to a TrueType/OpenType font with "
        f"Chinese glyphs")


@dataclass(frozen=True)
class Series:
    kind: str  # "fund" | "patient"
    levels: tuple  # level members drawn by this one line (levels with the same curve share it)
    points: tuple  # (x, y) Decimals, exact; floats only at drawing time


@dataclass(frozen=True)
class PaymentChart:
    svg: str
    level_input: str
    levels: tuple  # level members drawn, in enumeration order
    omitted: dict  # level member -> why it is not drawn (out of scope, not applicable, invalid claim)
    claim: dict  # the representative claim but its level and amount (name -> typed value), service date too
    x_max: Decimal
    series: tuple  # Series
    title: str
    description: str  # the representative claim in words (also drawn under the title)


def payment_chart_svg(policy: ir.Policy) -> str | None:
    """The SVG document of the payment chart, or None when the policy has no such structure."""
    chart = payment_chart(policy)
    return chart.svg if chart is not None else None


def payment_chart(policy: ir.Policy) -> PaymentChart | None:
    model = _Model.build(policy)
    if model is None:
        return None
    base = model.representative()
    if base is None:
        return None
    levels, omitted = [], {}
    for level in model.levels:
        outcome = model.point(base, level, PROBE)
        if isinstance(outcome, str):
            omitted[level] = outcome
        else:
            levels.append(level)
    curves = {level: model.curve(base, level) for level in levels}
    # The range follows the fund's curve (deductible, bands, cap); the patient's may bend later, under
    # other funds' rules (大病保险, 医疗救助), and is drawn over the same range.
    kink = max((_last_kink(c, 0) for c in curves.values()), default=Decimal(0))
    if kink == 0:
        kink = max((_last_kink(c, 1) for c in curves.values()), default=Decimal(0))
    # Past a cap a quarter more shows it; a payment that keeps rising needs more room to show its slope.
    capped = not any(_rises_at_end(c, 0) for c in curves.values())
    x_max = _nice_ceiling(kink * (Decimal("1.25") if capped else 4))
    samples = {level: model.sample(base, level, x_max) for level in levels}
    # One grid for every level, so that levels whose curves are the same share one line.
    grid = sorted({x for s in samples.values() for x, _ in s})
    series = []
    for index, kind in enumerate(("fund", "patient")):
        groups: dict = {}
        for level in levels:
            values = tuple(model.value(base, level, index, x) for x in grid)
            groups.setdefault(values, []).append(level)
        for values, group in groups.items():
            points = _corners([(x, y) for x, y in zip(grid, values) if y is not None])
            series.append(Series(kind, tuple(group), tuple(points)))
    title = f"{policy.meta.title}：{FUND_TITLE}与{PATIENT_TITLE}"
    description = model.describe(base)
    svg = _render(policy, model, title, description, tuple(levels), omitted, tuple(series), x_max)
    claim = {**base, policy.service_date: model.day}
    return PaymentChart(svg, model.level.name, tuple(levels), omitted, claim, x_max, tuple(series), title,
                        description)


# ---- finding the parts and a representative claim ---------------------------------------------
def _is_level_enum(enum: ir.Enum) -> bool:
    names = set(enum.member_names())
    return enum.field == LEVEL_FIELD or "级别" in enum.name or len(names.intersection(LEVEL_WORDS)) >= 2


class _Model:
    """The policy's evaluator seen as curves: (other inputs, level, amount) -> (fund, patient)."""

    def __init__(self, policy, amount, level, fund, others):
        self.policy = policy
        self.amount = amount  # ir.Input
        self.level = level  # ir.Input
        self.levels = policy.enums[level.type.enum].member_names()
        self.fund = fund  # ir.Rule
        self.others = others  # ir.Input, in declaration order
        self.read = _inputs_read(policy)
        self.reader = ClaimReader(policy)
        self.evaluate = evaluator(policy)
        self.prefs = Preferences(policy)
        self.day = self.prefs.day
        self.cache: dict = {}
        self.evaluated = 0

    @classmethod
    def build(cls, policy: ir.Policy) -> "_Model | None":
        amount = next((i for i in policy.inputs.values() if i.field == AMOUNT_FIELD and i.type == ir.MONEY), None)
        fund = next((r for r in policy.outputs if r.platform == FUND_OUTPUT and r.type == ir.MONEY), None)
        levels = [i for i in policy.inputs.values()
                  if i.type.name == "enum" and _is_level_enum(policy.enums[i.type.enum])]
        # A required input before an optional one (淄博's 转出机构级别 is optional), the platform's field first.
        levels.sort(key=lambda i: (i.optional, i.field != LEVEL_FIELD))
        read = _inputs_read(policy)
        levels = [i for i in levels if i.name in read]
        if amount is None or amount.name not in read or fund is None or not levels or representative_day(policy) is None:
            return None
        skip = {amount.name, levels[0].name, policy.service_date}
        others = [i for i in policy.inputs.values() if i.name not in skip]
        return cls(policy, amount, levels[0], fund, others)

    # -- one claim
    def point(self, base: dict, level: str, amount: Decimal):
        """(fund, patient) as Decimals for one claim, or a str saying why there is none."""
        key = (tuple(sorted(base.items())), level, amount)
        if key not in self.cache:
            self.cache[key] = self._point(base, level, amount)
        return self.cache[key]

    def _point(self, base, level, amount):
        self.evaluated += 1
        record = {name: _raw(value) for name, value in base.items()}
        record[self.policy.service_date] = self.day.isoformat()
        record[self.level.name] = level
        record[self.amount.name] = format(amount, "f")
        claim, errors = self.reader.read(record, "chart")
        if errors:
            return "invalid claim: " + "; ".join(e.message for e in errors)
        outcome = self.evaluate(claim.values, {})
        if not outcome.applicable:
            return outcome.reason
        fund = outcome.outputs[self.fund.name]
        if isinstance(fund, NotApplicable):
            return fund.reason
        out, na = setlinfo(self.policy, claim, outcome)
        patient = out.get("psn_part_amt")
        if patient is None:
            return na.get("psn_part_amt", "psn_part_amt 不适用")
        return fund, Decimal(patient)

    def value(self, base, level, index, amount):
        """Payment `index` (0 fund, 1 patient) of one claim, or None."""
        result = self.point(base, level, amount)
        return None if isinstance(result, str) else result[index]

    # -- the representative claim
    def score(self, base: dict) -> tuple:
        """(levels paying at PROBE, levels in scope with a fund value): higher is better."""
        paid = applicable = 0
        for level in self.levels:
            result = self.point(base, level, PROBE)
            if not isinstance(result, str):
                applicable += 1
                paid += result[0] > 0
        return paid, applicable

    def representative(self) -> dict | None:
        """The other inputs of the chart's claim; see the module's docstring for the order tried."""
        steps = self._example_steps()
        keys = [i for field in (VISIT_FIELD, INSURANCE_FIELD) for i in self.others if i.field == field]
        rest = [i for i in self.others if i not in keys]
        choices = {i.name: self._choices(i, steps) for i in self.others}
        default = {i.name: choices[i.name][0] for i in rest}
        best, best_score = None, (0, 0)
        for key_values in product(*(choices[i.name] for i in keys)):
            key = {i.name: v for i, v in zip(keys, key_values)}
            if self._ruled_out(key):
                continue
            # The ordinary claim first (the one the ratio matrix holds), then the examples' claims.
            fillings = [default] + [_filling(s, rest) for s in steps
                                    if all(s.get(n, _ABSENT) == v for n, v in key.items())]
            fillings += [_filling(s, rest) for s in steps]
            tried: list = []
            key_best, key_score = None, (-1, -1)
            for filling in fillings:
                if filling in tried:
                    continue
                tried.append(filling)
                if self.evaluated > BUDGET:
                    return best
                base = _compact({**key, **filling})
                s = self.score(base)
                if s > key_score:
                    key_best, key_score = filling, s
                if s[0] >= MIN_LEVELS:
                    return base
            filling, s = self._ascend(key, key_best, key_score, rest, choices)
            base = _compact({**key, **filling})
            if s[0] >= MIN_LEVELS:
                return base
            if s > best_score:
                best, best_score = base, s
        return best if best_score[0] >= 1 else None

    def _ascend(self, key, filling, score, rest, choices):
        """Change one input at a time while that pays at more levels (at most three rounds)."""
        for _ in range(3):
            improved = False
            for inp in rest:
                for value in choices[inp.name]:
                    if value == filling.get(inp.name, _ABSENT) or self.evaluated > BUDGET:
                        continue
                    candidate = {**filling, inp.name: value}
                    s = self.score(_compact({**key, **candidate}))
                    if s > score:
                        filling, score, improved = candidate, s, True
                        if s[0] >= MIN_LEVELS:
                            return filling, score
            if not improved:
                break
        return filling, score

    def _ruled_out(self, key: dict) -> bool:
        """A scope requirement that reads only these inputs and fails: no other input can help."""
        return Search(self.policy, self.prefs).excluded(key)  # the matrix's test (representative.Search)

    def _example_steps(self) -> list[dict]:
        """The inputs of every example claim the policy covers, in the order written."""
        steps = []
        for example in self.policy.examples:
            for step in example.steps:
                if step.expect is not None:
                    steps.append({n: v for n, v, _ in step.inputs if n in self.policy.inputs})
        return steps

    def _choices(self, inp: ir.Input, steps: list[dict]) -> list:
        """The values to try for one input, best first (an optional input's _ABSENT among them)."""
        used = Counter(s[inp.name] for s in steps if inp.name in s)
        if inp.type.name == "enum" or inp.type == ir.BOOL:
            def preferred(m):
                if inp.field == VISIT_FIELD:
                    return 0 if ("住院" in m and "普通" in m) else 1 if "住院" in m else 2
                if inp.field == INSURANCE_FIELD:
                    return 0 if "居民" in m else 1
                return 0

            # the author's value first (`page { representative … }`), then 住院 and 居民 first
            values = sorted(self.prefs.order(inp), key=lambda v: (not self.prefs.is_author(inp, v),
                                                                  v is not _ABSENT and preferred(v)))
            return values if inp.name in self.read else values[:1]
        elif inp.name in self.prefs.author:
            values = [self.prefs.author[inp.name]] + [v for v, _ in used.most_common() if v != self.prefs.author[inp.name]]
        elif inp.type == ir.DATE:
            values = [self.day]
        elif used:
            values = [value for value, _ in used.most_common()]
        elif inp.type.name in ("money", "rate", "points", "number"):
            values = [Decimal(0)]
        else:
            values = ["示例"]
        if inp.optional and inp.name in self.prefs.author:
            values = values + [_ABSENT]
        elif inp.optional:
            values = [_ABSENT] + ([] if inp.type.name in ("money", "text") else values)
        # An input the policy never reads cannot change the answer: one value is enough.
        return values if inp.name in self.read else values[:1]

    # -- curves
    def curve(self, base, level) -> list:
        """Adaptive samples over [0, SEARCH_TOP] of both payments: where do the kinks stop?"""
        grid = [Decimal(0)] + [Decimal(m) * Decimal(10) ** e for e in range(0, 7) for m in (1, 2, 5)]
        grid = [x for x in grid if x <= SEARCH_TOP] + [SEARCH_TOP]
        return self._adaptive(base, level, sorted(set(grid)), Decimal(1))

    def sample(self, base, level, x_max) -> list:
        """Adaptive samples over [0, x_max] for drawing: a kink is off by at most x_max / 2000."""
        steps = 40
        grid = [(x_max * i / steps).quantize(FEN) for i in range(steps + 1)]
        return self._adaptive(base, level, grid, max(FEN, (x_max / 2000).quantize(FEN)))

    def _adaptive(self, base, level, grid, resolution) -> list:
        """(x, (fund, patient) or None): refine each interval until both payments are straight on it."""
        def at(x):
            r = self.point(base, level, x)
            return None if isinstance(r, str) else r

        out = []

        def refine(a, fa, b, fb, depth):
            if b - a > resolution and depth < 40:
                m = ((a + b) / 2).quantize(FEN)
                if a < m < b:
                    fm = at(m)
                    if not (fa and fb and fm and all(_on_line(a, fa[k], m, fm[k], b, fb[k]) for k in (0, 1))):
                        refine(a, fa, m, fm, depth + 1)
                        out.append((m, fm))
                        refine(m, fm, b, fb, depth + 1)
                        return

        values = [at(x) for x in grid]
        out.append((grid[0], values[0]))
        for i in range(1, len(grid)):
            refine(grid[i - 1], values[i - 1], grid[i], values[i], 0)
            out.append((grid[i], values[i]))
        return _prune(out)

    def describe(self, base: dict) -> str:
        parts = []
        for inp in self.others:
            if inp.name in base and inp.name in self.read:
                value = base[inp.name]
                shown = "是" if value is True else "否" if value is False else _shown(value)
                mark = "（作者指定）" if self.prefs.is_author(inp, value) else ""
                parts.append(f"{inp.name} {shown}{mark}")
        parts.append(f"{self.policy.service_date} {self.day.isoformat()}")
        if self.policy.accumulators:
            parts.append("本年度首次就诊（累计值为初值）")
        return "代表性就诊：" + "，".join(parts)


def _compact(values: dict) -> dict:
    return {n: v for n, v in values.items() if v is not _ABSENT}


def _filling(step: dict, rest) -> dict:
    return {i.name: step.get(i.name, _ABSENT) for i in rest}


def _raw(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _shown(value) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _inputs_read(policy: ir.Policy) -> set:
    """Names of the inputs the policy's rules, tables, brackets, scope, updates or constraints read."""
    names: set = set()
    seen: set = set()

    def walk(node):
        if isinstance(node, ir.InputRef):
            names.add(node.name)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif hasattr(node, "__dataclass_fields__") and id(node) not in seen:
            seen.add(id(node))
            for name in node.__dataclass_fields__:
                walk(getattr(node, name))

    walk([policy.rules, policy.tables, policy.brackets, policy.scope, policy.updates, policy.constraints])
    return names


def _on_line(a, fa, m, fm, b, fb) -> bool:
    """Is (m, fm) on the segment from (a, fa) to (b, fb), within fen rounding? Exact: no division."""
    return abs((fm - fa) * (b - a) - (fb - fa) * (m - a)) <= TOLERANCE * (b - a)


def _prune(samples: list) -> list:
    """Drop samples in the middle of a straight run (both payments), keeping every kink and gap."""
    kept = []
    for i, (x, y) in enumerate(samples):
        if 0 < i < len(samples) - 1 and kept:
            (a, fa), (b, fb) = kept[-1], samples[i + 1]
            if y is not None and fa is not None and fb is not None and all(
                    _on_line(a, fa[k], x, y[k], b, fb[k]) for k in (0, 1)):
                continue
        kept.append((x, y))
    return kept


def _corners(points: list) -> list:
    """The points of one curve where its slope changes (and both ends): what a line needs."""
    kept = []
    for i, (x, y) in enumerate(points):
        if 0 < i < len(points) - 1 and kept:
            (a, fa), (b, fb) = kept[-1], points[i + 1]
            if _on_line(a, fa, x, y, b, fb):
                continue
        kept.append((x, y))
    return kept


def _last_kink(samples: list, index: int) -> Decimal:
    """The amount after which payment `index` is one straight line (0 when it has no kink)."""
    points = _corners([(x, y[index]) for x, y in samples if y is not None])
    return points[-2][0] if len(points) >= 3 else Decimal(0)


def _rises_at_end(samples: list, index: int) -> bool:
    """Does payment `index` still grow on its last straight stretch (no cap), beyond fen rounding?"""
    points = _corners([(x, y[index]) for x, y in samples if y is not None])
    return len(points) >= 2 and abs(points[-1][1] - points[-2][1]) > TOLERANCE


NICE_STEPS = (1, Decimal("1.5"), 2, Decimal("2.5"), 3, 4, 5, 6, 8, 10)


def _nice_ceiling(target: Decimal) -> Decimal:
    """The smallest round amount (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or above target; 10000 for 0."""
    if target <= 0:
        return Decimal(10000)
    scale = Decimal(1)
    while scale * 10 <= target:
        scale *= 10
    while scale > target:
        scale /= 10
    step = next(step for step in NICE_STEPS if scale * step >= target)
    return (scale * step).quantize(FEN)


# ---- drawing ------------------------------------------------------------------------------------
def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(text: str, columns: int, sep: str = "，") -> str:
    """Break text into lines of at most `columns` display columns, at `sep` (or anywhere if sep is "")."""
    parts = text.split(sep) if sep else list(text)
    lines, line = [], ""
    for part in parts:
        piece = part if not line else sep + part
        if line and _width(line + piece) > columns:
            lines.append(line + sep)
            line = part
        else:
            line += piece
    lines.append(line)
    return "\n".join(lines)


def _check_coverage(font_path: Path, texts) -> None:
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(font_path))
    missing = sorted({c for t in texts for c in t if not c.isspace() and font.get_char_index(ord(c)) == 0})
    if missing:
        raise FontMissing(f"the font {font_path} has no glyph for {''.join(missing)!r}; set {FONT_ENV} to a "
                          f"font that has")


def _render(policy, model, title, description, levels, omitted, series, x_max) -> str:
    import io

    import matplotlib
    from matplotlib import font_manager
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    font_path = cjk_font_path()
    font_manager.fontManager.addfont(str(font_path))
    font = font_manager.FontProperties(fname=str(font_path))
    family = font.get_name()
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    if Path(found).resolve() != font_path.resolve():
        # Another file of the same family name is registered: draw every text with the explicit file only.
        family = None

    labels = {s.levels: "、".join(s.levels) for s in series}
    notes = _wrap(description, 96)
    if omitted:
        notes += "\n未画出（不适用或不在范围内）：" + "、".join(omitted)
    texts = [title, notes, FUND_TITLE, PATIENT_TITLE, "政策范围内费用（元）", "金额（元）", *labels.values(),
             "0123456789,.-"]
    _check_coverage(font_path, texts)

    rc = {"svg.fonttype": "path", "svg.hashsalt": f"{SVG_SALT}:{Path(policy.file).name}",
          "path.simplify": False, "axes.unicode_minus": False}
    if family:
        rc["font.family"] = [family]
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(10, 4.8))
        FigureCanvasSVG(fig)
        axes = fig.subplots(1, 2)
        colors = {level: COLORS[i % len(COLORS)] for i, level in enumerate(model.levels)}
        money = FuncFormatter(lambda v, _: f"{v:,.0f}")
        for ax, kind, name in ((axes[0], "fund", FUND_TITLE), (axes[1], "patient", PATIENT_TITLE)):
            for s in (s for s in series if s.kind == kind):
                xs = [float(x) for x, _ in s.points]
                ys = [float(y) for _, y in s.points]
                (line,) = ax.plot(xs, ys, color=colors[s.levels[0]], linewidth=1.8, label=labels[s.levels])
                line.set_gid(f"pl-{kind}-" + "-".join(str(model.levels.index(m)) for m in s.levels))
            ax.set_title(name, fontproperties=font, fontsize=12)
            ax.set_xlabel("政策范围内费用（元）", fontproperties=font)
            ax.set_ylabel("金额（元）", fontproperties=font)
            ax.set_xlim(0, float(x_max))
            ax.set_ylim(bottom=0)
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.xaxis.set_major_formatter(money)
            ax.yaxis.set_major_formatter(money)
            ax.grid(True, color="#dddddd", linewidth=0.6)
            for tick in ax.get_xticklabels() + ax.get_yticklabels():
                tick.set_fontproperties(font)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=min(len(names), 6), prop=font, frameon=False)
        heading = _wrap(title, 76, "")
        fig.suptitle(heading, fontproperties=font, fontsize=14, y=0.985, va="top")
        lines = heading.count("\n")
        fig.text(0.5, 0.915 - 0.05 * lines, notes, ha="center", va="top", fontproperties=font, fontsize=8.5,
                 color="#444444")
        top = 0.80 - 0.05 * lines - 0.035 * notes.count("\n")
        fig.subplots_adjust(left=0.08, right=0.96, top=top, bottom=0.24, wspace=0.28)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    # matplotlib leaves each text it drew in a comment, braces unescaped: the policy's name among them. The
    # page inlines this SVG, so braces are escaped there too, and the accessible name as every page text is.
    svg = _COMMENT.sub(lambda m: escape_braces(m.group(0)), buffer.getvalue())
    head, sep, tail = svg.partition("<defs>")
    if sep:
        svg = (head.replace("<svg ", f'<svg role="img" aria-label="{html_escape(title)}" ', 1)
               + f"<title>{html_escape(title)}</title>\n <desc>{html_escape(notes)}</desc>\n " + sep + tail)
    return svg
