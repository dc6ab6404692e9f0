"""The data of one policy's page, built from the IR and the evaluator: plain strings and lists.

Templates only lay this out. Every string that comes from the policy stays a plain `str` here, so the
HTML templates escape it (autoescape) and the Markdown templates escape it (`render.md_escape`);
nothing in the model is markup except the chart's SVG, which its own module builds.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from policylang import __version__, ir
from policylang.folding import rule_constant
from policylang.platform import OUTPUT_NAMES
from policylang.publish import prose, values
from policylang.publish.changes import changes, load_base
from policylang.publish.matrix import ratio_matrices
from policylang.publish.status import check_status
from policylang.publish.worked import worked_examples

HIT = {"first": "按行序，先命中者为准", "unique": "至多命中一行"}
KINDS = {"output": "输出", "rule": "规则", "assumption": "假设"}


@dataclass
class RuleItem:
    name: str
    kind: str  # 输出 | 规则 | 假设
    type: str
    platform: str | None  # "hifp_pay（统筹基金支出）"
    doc: str | None
    versions: list  # (validity or "", words)
    rounding: str | None
    assumption: bool
    kind_key: str = "rule"


@dataclass
class TableItem:
    name: str
    doc: str | None
    hit: str
    headers: list
    versions: list  # (validity or "", rows [(cells, output, clause)], summary)
    kind_key: str = "table"


@dataclass
class BracketsItem:
    name: str
    doc: str | None
    on: str
    cumulative: str | None
    versions: list  # (validity or "", bands [(from, to, rate, clause)])
    rounding: str
    kind_key: str = "brackets"


@dataclass
class AccumulatorItem:
    name: str
    type: str
    initial: str
    doc: str | None
    updates: list  # words
    kind_key: str = "accumulator"
    per: str = "每人每医保年度"  # with keys: 每人每医保年度、每个机构级别分别


@dataclass
class ClauseGroup:
    clause: str | None
    quote: list  # paragraphs of the clause's `quote`, [] when it has none
    items: list


@dataclass
class FactItem:
    """A `fact`: stated by the document, not computed per claim (其他规定)."""

    name: str
    value: str
    clause: str | None
    text: str | None
    quote: list  # paragraphs of the clause's `quote`


@dataclass
class Parameter:
    name: str
    value: str
    clause: str | None
    doc: str | None
    assumption: bool


@dataclass
class PolicyPage:
    slug: str
    file: str
    title: str
    document: str | None
    full_title: str | None
    issuer: str | None
    issued: str | None
    in_force: str
    year: str  # the 医保年度: by which date, from which day
    source: str | None
    extends: str | None  # the base policy's title
    extends_slug: str | None
    conforms: list  # guideline titles
    scope_clause: str | None
    scope_quote: list  # paragraphs
    scope: list  # (words, message)
    inputs: list  # (name, type, field, required, doc)
    matrices: list
    groups: list  # ClauseGroup
    parameters: list  # Parameter
    assumptions: list  # Parameter
    changes: list  # changes.Change
    examples: list  # worked.Worked
    checks: object  # status.Checks
    quotes: list  # (clause, paragraphs)
    chart_svg: str | None = None
    assumed: dict = field(default_factory=dict)  # header entry (document, issued, in_force …) -> the author's note
    facts: list = field(default_factory=list)  # FactItem
    representative: list = field(default_factory=list)  # "政策范围内费用 2,000.00元": the author's page values
    version: str = __version__
    warnings: list = field(default_factory=list)


def policy_page(policy: ir.Policy, slug: str, report=None, load=None, chart_svg: str | None = None,
                slugs: dict | None = None, timeout: float | None = None, budget: float | None = None) -> PolicyPage:
    """The page of one policy. `report`: a check.Report, or None for 未检查; `load(path)` reads the
    base policy of an `extends`; `slugs` maps policy files to their pages' slugs (for links);
    `timeout` and `budget`: the solver budgets the report was produced with (said on the page)."""
    meta = policy.meta
    base = load_base(policy, load)
    parameters = _parameters(policy, base)
    conforms = list(dict.fromkeys(p.origin for p in policy.properties if p.origin))
    extends_slug = (slugs or {}).get(file_key(policy.extends)) if policy.extends else None
    return PolicyPage(
        slug=slug, file=Path(policy.file).name, title=meta.title, document=meta.document,
        full_title=meta.full_title, issuer=meta.issuer, issued=values.date(meta.issued) if meta.issued else None,
        in_force=values.validity(meta.in_force), year=year_words(policy), source=meta.source,
        extends=base.meta.title if base else (Path(policy.extends).name if policy.extends else None),
        extends_slug=extends_slug,
        conforms=conforms, scope_clause=policy.scope_clause,
        scope_quote=list(policy.quote_paragraphs(policy.scope_clause)),
        scope=[(prose.condition(r.expr), r.message) for r in policy.scope],
        inputs=_inputs(policy), matrices=ratio_matrices(policy),
        groups=_groups(policy, {p.name for p in parameters if p.assumption}),
        parameters=[p for p in parameters if not p.assumption],
        assumptions=[p for p in parameters if p.assumption],
        changes=changes(policy, base), examples=worked_examples(policy),
        checks=check_status(policy, report, timeout, budget),
        quotes=[(q.clause, list(q.paragraphs)) for q in policy.quotes], chart_svg=chart_svg,
        assumed=dict(meta.assumed), facts=_facts(policy), representative=_representative(policy))


def _facts(policy: ir.Policy) -> list:
    """Each fact with its clause's quote, the quote under the first fact that cites the clause only."""
    out, quoted = [], set()
    for f in policy.facts:
        quote = list(policy.quote_paragraphs(f.clause)) if f.clause not in quoted else []
        quoted.add(f.clause)
        out.append(FactItem(f.name, values.show(f.value, f.type), f.clause, f.text, quote))
    return out


def _representative(policy: ir.Policy) -> list:
    """The author's representative values, as the page names them."""
    if policy.page is None:
        return []
    return [f"{name} {values.show(value, policy.inputs[name].type)}" for name, value, _ in policy.page.representative]


def file_key(path) -> str:
    return str(Path(path).resolve())


def _inputs(policy: ir.Policy) -> list:
    out = []
    read = _read(policy)
    for name, inp in policy.inputs.items():
        if inp.optional and name not in read and name != policy.person:
            continue  # prelude fields this policy never reads
        out.append((name, values.type_name(inp.type), inp.field, "可选" if inp.optional else "必填", inp.doc))
    return out


def _read(policy: ir.Policy) -> set:
    from policylang.testing import policy_expressions, walk

    roots = list(policy_expressions(policy)) + [c.expr for c in policy.constraints]
    return {n.name for r in roots for n in walk(r) if isinstance(n, ir.InputRef)}


def _parameters(policy: ir.Policy, base: ir.Policy | None) -> list:
    """Rules whose value does not depend on the claim: deductibles, caps, ratios, assumptions.

    An assumption that this policy sets with `amend … = value` is no longer assumed (the document
    gives the value); one it changes by `+=`, `-=` or `*=` is still the baseline's assumption, shown
    with the value it had and the value it has after the change."""
    ops: dict = {}
    for a in policy.amendments:
        ops.setdefault(a.target, []).append(a)
    out = []
    for rule in _in_file_order(policy.rules.values(), policy):
        constant = rule_constant(rule, policy)
        if constant is None and not rule.assumption:
            continue
        shown = values.show(constant, rule.type) if constant is not None else prose.value(rule.versions[0].expr)
        amendments = ops.get(rule.name, [])
        assumed = rule.assumption  # compose clears it when an `amend … =` gives the value outright
        doc = rule.doc
        was_assumed = base is not None and rule.name in base.rules and base.rules[rule.name].assumption
        if was_assumed and any(a.op == "=" for a in amendments):
            clauses = "、".join(a.clause for a in amendments if a.clause)
            doc = f"本政策{'条款' + clauses if clauses else ''}规定了此值，不再是假设"
        elif assumed and amendments and base is not None and rule.name in base.rules:
            before = rule_constant(base.rules[rule.name], base)
            if before is not None:
                shown = f"假设 {values.show(before, rule.type)}，经本政策调整后 {shown}"
        out.append(Parameter(rule.name, shown, rule.clause, doc, assumed))
    return out


def _in_file_order(items, policy: ir.Policy) -> list:
    return sorted(items, key=lambda d: (Path(d.span.file).name != Path(policy.file).name, d.span.file, d.span.line))


def _groups(policy: ir.Policy, assumed: set) -> list:
    """Rules, tables, brackets and accumulators grouped by the clause they cite, in file order."""
    entries = []
    for rule in policy.rules.values():
        entries.append((rule.span, rule.clause, _rule_item(rule, rule.name in assumed)))
    for table in policy.tables.values():
        entries.append((table.span, table.versions[0].clause, _table_item(table)))
    for b in policy.brackets.values():
        entries.append((b.span, b.versions[0].clause, _brackets_item(b)))
    for acc in policy.accumulators.values():
        entries.append((acc.span, acc.clause, _accumulator_item(policy, acc)))
    own = Path(policy.file).name
    entries.sort(key=lambda e: (Path(e[0].file).name != own, e[0].file, e[0].line))
    groups: dict = {}
    for _, clause, item in entries:
        groups.setdefault(clause, []).append(item)
    return [ClauseGroup(clause, list(policy.quote_paragraphs(clause)), items) for clause, items in groups.items()]


def _rule_item(rule: ir.Rule, assumed: bool) -> RuleItem:
    kind = "assumption" if assumed else "output" if rule.is_output else "rule"
    platform = f"{rule.platform}（{OUTPUT_NAMES[rule.platform][0]}）" if rule.platform else None
    versions = [(values.validity(v.validity) if len(rule.versions) > 1 else "", prose.value(v.expr))
                for v in rule.versions]
    rounding = values.ROUNDING_NAMES[rule.rounding] if rule.type == ir.MONEY else None
    return RuleItem(rule.name, KINDS[kind], values.type_name(rule.type), platform, rule.doc, versions, rounding,
                    assumed)


def _table_item(table: ir.Table) -> TableItem:
    headers = [prose.column_name(c) for c in table.columns]
    versions = []
    for v in table.versions:
        rows = [([prose.cell_text(c, t) for c, t in zip(r.cells, table.column_types)], prose.value(r.output),
                 r.clause or "") for r in v.rows]
        if v.default is not None:
            rows.append((["其余情况"] + [""] * (len(headers) - 1), prose.value(v.default.output),
                         v.default.clause or ""))
        versions.append((values.validity(v.validity) if len(table.versions) > 1 else "", rows,
                         prose.table_summary(table, v)))
    return TableItem(table.name, table.doc, HIT[table.hit], headers, versions)


def _brackets_item(b: ir.Brackets) -> BracketsItem:
    versions = []
    for v in b.versions:
        bands = [(*prose.band(band), band.clause or "") for band in v.bands]
        versions.append((values.validity(v.validity) if len(b.versions) > 1 else "", bands))
    return BracketsItem(b.name, b.doc, prose.value(b.on), prose.value(b.cumulative) if b.cumulative else None,
                        versions, values.ROUNDING_NAMES[b.rounding])


def _accumulator_item(policy: ir.Policy, acc: ir.Accumulator) -> AccumulatorItem:
    updates = []
    for u in policy.updates:
        if u.target == acc.name:
            when = f"{prose.condition(u.when)}时，" if u.when is not None else ""
            once = f"，同一{u.once}只计一次（中途结算不重复累加）" if u.once else ""
            updates.append(f"{when}就诊后累加{prose.value(u.amount)}{once}" + (f"（条款{u.clause}）" if u.clause else ""))
    per = "每人每医保年度" + "".join(f"、每个{k}" for k in acc.keys) + ("分别" if acc.keys else "")
    return AccumulatorItem(acc.name, values.type_name(acc.type), values.show(acc.initial, acc.type), acc.doc, updates,
                           per=per)


def year_words(policy: ir.Policy) -> str:
    """The 医保年度 as the page states it: which date places a claim in a year, and the year's first day."""
    y = policy.year
    start = "自每年1月1日起（自然年度）" if (y.month, y.day) == (1, 1) else f"自每年{y.month}月{y.day}日起至次年{_day_before(y)}"
    return f"以{y.date}为准，{start}" + (f"（条款{y.clause}）" if y.clause else "")


def _day_before(y: ir.Year) -> str:
    last = datetime.date(2001, y.month, y.day) - datetime.timedelta(days=1)
    return f"{last.month}月{last.day}日"
