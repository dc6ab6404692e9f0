"""The 变化对照表 of a policy that `extends` another: each changed item, before → after, and who it affects.

"Who" is derived, not written: a changed rule matters to a claim that reaches it, so the conditions
are those of the if/else branches on every path from the rule up to an output (a rule used by
another rule inside `if 机构级别 == 基层 then … else …` is reached only at 基层). Paths that differ in
one condition's truth collapse into one, and a path that needs a condition both true and false is
dropped; an empty path means every claim in scope.
"""
from __future__ import annotations

from dataclasses import dataclass

from policylang import ir
from policylang.folding import rule_constant
from policylang.diagnostics import DiagnosticError
from policylang.publish import prose, values
from policylang.testing import walk

MAX_PATHS = 12
EVERYONE = "本政策适用的所有就诊"


@dataclass
class Change:
    item: str
    kind: str  # 调整 | 新增 | 删除 (a row) | 改写 | 施行期 | 适用范围
    clause: str | None
    note: str | None
    before: str
    after: str
    who: str


def load_base(policy: ir.Policy, load):
    """The policy this one extends, or None (no `extends`, or it does not load on its own)."""
    if policy.extends is None or load is None:
        return None
    try:
        return load(policy.extends)
    except DiagnosticError:
        return None


def changes(policy: ir.Policy, base: ir.Policy | None) -> list:
    """The changes of a policy against the one it extends (`base`, None if there is none)."""
    if base is None:
        return []
    reach = Reach(policy)
    out = []
    if base.meta.in_force != policy.meta.in_force:
        out.append(Change("施行期", "施行期", None, None, values.validity(base.meta.in_force),
                          values.validity(policy.meta.in_force), EVERYONE))
    before_scope = "；".join(prose.condition(r.expr) for r in base.scope)
    after_scope = "；".join(prose.condition(r.expr) for r in policy.scope)
    if before_scope != after_scope:
        out.append(Change("适用范围", "适用范围", policy.scope_clause, None, before_scope or "—", after_scope or "—",
                          "适用范围内外的就诊"))
    amended = {}
    for a in policy.amendments:
        amended.setdefault(a.target, []).append(a)
    for name in _names(policy):
        amendments = [a for a in amended.get(name, []) if not a.rows]
        rows = [a for a in amended.get(name, []) if a.rows]
        before, after = _describe(base, name), _describe(policy, name)
        if rows:
            out.extend(_row_changes(policy, base, name, rows, reach))
            if not amendments:
                continue
        if name in policy.brackets and name in base.brackets and before != after:
            before, after = _band_rows(base.brackets[name], policy.brackets[name])
        if amendments:
            clauses = "、".join(dict.fromkeys(a.clause for a in amendments if a.clause))
            notes = "；".join(a.doc for a in amendments if a.doc)
            out.append(Change(name, "调整", clauses or None, notes or None, before, after, reach.who(name)))
        elif before is None:
            out.append(Change(name, "新增", _clause(policy, name), _doc(policy, name), "—", after, reach.who(name)))
        elif before != after:
            out.append(Change(name, "改写", _clause(policy, name), _doc(policy, name), before, after, reach.who(name)))
    return out


def _row_changes(policy: ir.Policy, base: ir.Policy, name: str, amendments: list, reach: "Reach") -> list:
    """One line per table row a row amendment touched, "二级 · 省内: 75% → 77%", however many amendments
    touched it; rows are found by their span, which is the same in the base and in the amended policy."""
    after, before = _rows(policy, name), _rows(base, name)
    touched: dict = {}  # row span -> [actions, clauses, notes]
    for a in amendments:
        for change in a.rows:
            entry = touched.setdefault(change.span, [[], [], []])
            entry[0].append(change.action)
            entry[1].append(a.clause)
            entry[2].append(a.doc)
    out = []
    everyone = reach.who(name)
    for span, (actions, clauses, notes) in touched.items():
        old, new = before.get(span), after.get(span)
        table, row, validity = new or old
        kind = "新增" if "add" in actions else "删除" if "remove" in actions else "调整"
        condition = prose.row_condition(table, row) if row.cells else "其余情况"
        who = condition if everyone == EVERYONE else f"{everyone}，且{condition}"
        clause = "、".join(dict.fromkeys(c for c in clauses if c)) or None
        note = "；".join(n for n in notes if n) or None
        out.append(Change(f"{name}：{_row_key(table, row)}{validity}", kind, clause, note,
                          prose.value(old[1].output) if old else "—", prose.value(new[1].output) if new else "—", who))
    return out


def _rows(policy: ir.Policy, name: str) -> dict:
    """Row span -> (table, row, the version's dates when the table has several) for every row of `name`."""
    table = policy.tables.get(name)
    if table is None:
        return {}
    out = {}
    for v in table.versions:
        dated = f"（{values.validity(v.validity)}）" if len(table.versions) > 1 else ""
        for row in (*v.rows, *((v.default,) if v.default is not None else ())):
            out[row.span] = (table, row, dated)
    return out


def _row_key(table: ir.Table, row: ir.Row) -> str:
    """A row's cells as a table shows them, 二级 · 省内; the default row is 其余情况."""
    if not row.cells:
        return "其余情况"
    return " · ".join(prose.cell_text(c, t) for c, t in zip(row.cells, table.column_types))


def _names(policy: ir.Policy) -> list:
    """Rules, tables and brackets in the order they were written."""
    items = list(policy.rules.values()) + list(policy.tables.values()) + list(policy.brackets.values())
    items.sort(key=lambda d: (d.span.file != policy.file, d.span.line))
    return [d.name for d in items]


def _clause(policy, name):
    d = policy.rules.get(name) or policy.tables.get(name) or policy.brackets.get(name)
    return d.clause if isinstance(d, ir.Rule) else d.versions[0].clause


def _doc(policy, name):
    return (policy.rules.get(name) or policy.tables.get(name) or policy.brackets.get(name)).doc


def _band_rows(base: ir.Brackets, new: ir.Brackets) -> tuple:
    """Only the bands that changed, before and after: "第2段 60%" → "第2段 65%" (a band's bounds are shown
    too when they changed; every band when the versions or the number of bands differ)."""
    if len(base.versions) != len(new.versions) or any(
            len(a.bands) != len(b.bands) for a, b in zip(base.versions, new.versions)):
        return _describe_brackets(base), _describe_brackets(new)
    before, after = [], []
    for va, vb in zip(base.versions, new.versions):
        dated = f"{values.validity(vb.validity)}：" if len(new.versions) > 1 else ""
        for a, b in zip(va.bands, vb.bands):
            if prose.band(a) != prose.band(b):
                before.append(dated + _band_text(a, with_bounds=prose.band(a)[:2] != prose.band(b)[:2]))
                after.append(dated + _band_text(b, with_bounds=prose.band(a)[:2] != prose.band(b)[:2]))
    return "；".join(before), "；".join(after)


def _band_text(band: ir.Band, with_bounds: bool) -> str:
    low, high, rate = prose.band(band)
    rate = f" {rate}" if isinstance(band.rate, ir.Const) else f"（{rate}）"  # its own ；/， stay inside
    bounds = f"（{low}至{high}）" if with_bounds and band.high is not None else f"（{low}以上）" if with_bounds else ""
    return f"第{band.index}段{bounds}{rate}"


def _describe_brackets(b: ir.Brackets) -> str:
    return "；".join(("" if len(b.versions) == 1 else f"{values.validity(v.validity)}：")
                    + "，".join(_band_text(band, True) for band in v.bands) for v in b.versions)


def _describe(policy: ir.Policy, name: str) -> str | None:
    """A rule's value if constant, else its formula; a table's rows."""
    if name in policy.rules:
        rule = policy.rules[name]
        constant = rule_constant(rule, policy)
        if constant is not None:
            return values.show(constant, rule.type)
        return "；".join(f"{values.validity(v.validity)}：{prose.value(v.expr)}" if len(rule.versions) > 1
                        else prose.value(v.expr) for v in rule.versions)
    if name in policy.tables:
        t = policy.tables[name]
        return "；".join(prose.table_summary(t, v) for v in t.versions)
    if name in policy.brackets:
        return _describe_brackets(policy.brackets[name])
    return None


# ---- who: the conditions under which a definition is reached --------------------------------------
class Reach:
    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.users: dict = {}  # name -> [(user rule, path)]
        for rule in policy.rules.values():
            for version in rule.versions:
                for target, path in _occurrences(version.expr, ()):
                    self.users.setdefault(target, []).append((rule.name, path))
        for table in policy.tables.values():  # a table's columns read rules too
            for col in table.columns:
                for node in walk(col):
                    if isinstance(node, ir.RuleRef):
                        self.users.setdefault(node.name, []).append((table.name, ()))
        self.memo: dict = {}

    def paths(self, name: str, seen: tuple = ()) -> list:
        if name in self.memo:
            return self.memo[name]
        if name in seen:
            return []
        out = []
        rule = self.p.rules.get(name)
        if rule is not None and rule.is_output:
            out.append(frozenset())
        for user, path in self.users.get(name, []):
            for upper in self.paths(user, seen + (name,)):
                out.append(frozenset(path) | upper)
                if len(out) > 4 * MAX_PATHS:
                    break
        self.memo[name] = simplify(out)
        return self.memo[name]

    def who(self, name: str) -> str:
        paths = self.paths(name)
        if not paths:
            return "不影响任何输出"
        if frozenset() in paths:
            return EVERYONE
        shown = ["且".join(_shown(p)) for p in paths[:MAX_PATHS]]
        more = "（等）" if len(paths) > MAX_PATHS else ""
        return "；或".join(shown) + more


def _occurrences(e: ir.Expr, path: tuple):
    """(name, conditions) for every rule or table this expression reads, with the branch conditions."""
    if isinstance(e, ir.If):
        yield from _occurrences(e.cond, path)
        yield from _occurrences(e.then, path + _literals(e.cond, True))
        yield from _occurrences(e.otherwise, path + _literals(e.cond, False))
        return
    if isinstance(e, (ir.RuleRef, ir.TableRef, ir.BracketsRef)):
        yield e.name, path
    for attr in ("left", "right", "operand", "cond", "then", "otherwise"):
        child = getattr(e, attr, None)
        if child is not None and not isinstance(child, (str, bool)):
            yield from _occurrences(child, path)
    if isinstance(e, (ir.MinMax, ir.TableRef)):
        for a in e.args:
            yield from _occurrences(a, path)


def _literals(cond: ir.Expr, truth: bool) -> tuple:
    """A branch condition as literals (key, truth, words, subject, member): `a and b` taken true is two
    literals; `x != a` is `x == a` taken false, so both spellings meet. subject/member name an
    enumeration input and its member for `x == a`, so that 机构级别为二级 makes 机构级别不是基层 redundant."""
    if isinstance(cond, ir.Logic) and ((cond.op == "and") == truth):
        return _literals(cond.left, truth) + _literals(cond.right, truth)
    if isinstance(cond, ir.Not):
        return _literals(cond.operand, not truth)
    flipped = (isinstance(cond, ir.Compare) and cond.op in ("!=", ">", ">=")) or (
        isinstance(cond, ir.InSet) and cond.negated)
    key = prose.condition(cond, negated=flipped)
    subject = member = None
    if isinstance(cond, ir.Compare) and cond.op in ("==", "!=") and isinstance(cond.left, ir.InputRef) \
            and isinstance(cond.right, ir.Const) and cond.right.type.name == "enum":
        subject, member = cond.left.name, cond.right.value
    return ((key, truth != flipped, prose.condition(cond, negated=not truth), subject, member),)


def simplify(paths: list) -> list:
    """Drop contradictions, merge paths that differ in one literal's truth, drop subsumed paths."""
    current = {p for p in paths if not _contradicts(p)}
    changed = True
    while changed:
        changed = False
        for p in list(current):
            for lit in p:
                key, truth = lit[0], lit[1]
                twin = next((q for q in current if len(q) == len(p) and (p - {lit}) < q
                             and any(o[0] == key and o[1] != truth for o in q - (p - {lit}))), None)
                if twin is not None:
                    current -= {p, twin}
                    current.add(p - {lit})
                    changed = True
                    break
            if changed:
                break
    minimal = [p for p in current if not any(q < p for q in current)]
    return sorted(minimal, key=lambda p: (len(p), sorted(p)))


def _contradicts(path) -> bool:
    truths: dict = {}
    members: dict = {}
    for key, truth, _, subject, member in path:
        if truths.setdefault(key, truth) != truth:
            return True
        if subject is not None and truth and members.setdefault(subject, member) != member:
            return True  # 机构级别为基层 and 机构级别为二级
    return False


def _shown(path) -> list:
    """The words of a path's literals, without 机构级别不是基层 next to 机构级别为二级."""
    positive = {lit[3] for lit in path if lit[3] is not None and lit[1]}
    return [lit[2] for lit in sorted(path) if not (lit[3] in positive and not lit[1])]
