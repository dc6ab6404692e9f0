"""Hover text (Markdown): a name's kind and type, its description, its clause with the quoted words of
the clause, its platform field, an assumption's value and where it comes from; on a table row or a
band (away from a name), that row's or band's clause."""
from __future__ import annotations

import os

from policylang import ir
from policylang.folding import rule_constant
from policylang.lsp.analysis import Analysis, key_at
from policylang.testing import show


def hover_text(current: Analysis, good: Analysis | None, line: int, col: int) -> str | None:
    """Markdown for the position, or None. `good` is the last analysis that loaded (for the IR)."""
    policy = current.policy or (good.policy if good else None)
    found = key_at(current, good, line, col)
    if found is not None:
        key, index, _, _ = found
        return describe(key, index, policy)
    if current.policy is not None:
        return _row_or_band(current.policy, current.path, line)
    return None


def describe(key: tuple, index, policy: ir.Policy | None) -> str | None:
    definition = index.definition(key)
    if key[0] == "member":
        return _member(key, definition, policy)
    if key[0] == "type":
        return _enum(key[1], definition, policy)
    if policy is None:
        return _from_ast(definition) if definition else None
    name = key[1]
    for table, describe_one in ((policy.rules, _rule), (policy.inputs, _input), (policy.tables, _table),
                                (policy.brackets, _brackets), (policy.accumulators, _accumulator)):
        if name in table:
            return _rule(table[name], policy, definition) if describe_one is _rule else describe_one(table[name], policy)
    fact = next((f for f in policy.facts if f.name == name), None)
    if fact is not None:
        return "\n\n".join([f"**fact** `{name}`: {fact.type} = {show(fact.value, fact.type)}",
                            *_clause(policy, fact.clause), *([fact.text] if fact.text else [])])
    return _from_ast(definition) if definition else None


def _where(span) -> str:
    return f"{os.path.basename(span.file)}:{span.line}"


def _clause(policy: ir.Policy, clause: str | None) -> list[str]:
    if not clause:
        return []
    quoted = policy.quote_paragraphs(clause)
    lines = [f"clause {clause}"]
    if quoted:
        lines.append("\n>\n".join(f"> {p}" for p in quoted))
    return lines


def _rule(rule: ir.Rule, policy: ir.Policy, definition=None) -> str:
    # an amended assumption is a rule in the IR; its declaration still says what the document left open
    assumed = rule.assumption or (definition is not None and definition.kind == "assumption")
    kind = "assumption" if assumed else "output" if rule.is_output else "rule"
    head = f"**{kind}** `{rule.name}`: {rule.type}"
    if rule.platform:
        head += f" — platform field `{rule.platform}`"
    parts = [head]
    if rule.doc:
        parts.append(rule.doc)
    clauses = [v.clause for v in rule.versions] if len(rule.versions) > 1 else [rule.clause or rule.versions[0].clause]
    for version, clause in zip(rule.versions, clauses):
        if len(rule.versions) > 1:
            parts.append(f"version {version.validity}")
        parts.extend(_clause(policy, clause))
    value = rule_constant(rule, policy)
    if value is not None:
        parts.append(f"value: **{show(value, rule.type)}**")
    if assumed:
        declared = getattr(definition.decl, "expr", None) if definition is not None else None
        text = f" as {declared.text}" if getattr(declared, "text", None) else ""
        parts.append(f"source: assumed{text} at {_where(rule.span)} (the document does not state it; "
                     f"`--assume {rule.name}=…` replaces it)")
    for a in policy.amendments:
        if a.target == rule.name:
            said = f" clause {a.clause}" if a.clause else ""
            parts.append(f"amended at {_where(a.span)}{said}" + (f": {a.doc}" if a.doc else ""))
    return "\n\n".join(parts)


def _input(inp: ir.Input, policy: ir.Policy) -> str:
    head = f"**input** `{inp.name}`: {inp.type}" + (" (optional)" if inp.optional else "")
    if inp.field:
        head += f" — platform field `{inp.field}`"
    parts = [head]
    if inp.domain is not None:
        low, high = inp.domain
        parts.append(f"values {show(low, inp.type)} .. {show(high, inp.type)}")
    if inp.doc:
        parts.append(inp.doc)
    if inp.type.name == "enum":
        parts.append("members: " + ", ".join(policy.enums[inp.type.enum].member_names()))
    return "\n\n".join(parts)


def _table(table: ir.Table, policy: ir.Policy) -> str:
    parts = [f"**table** `{table.name}` → {table.type}, `{table.hit}` hit, "
             f"{sum(len(v.rows) for v in table.versions)} row(s)"]
    if table.doc:
        parts.append(table.doc)
    for version in table.versions:
        parts.extend(_clause(policy, version.clause))
    return "\n\n".join(parts)


def _brackets(b: ir.Brackets, policy: ir.Policy) -> str:
    parts = [f"**brackets** `{b.name}`: money, {sum(len(v.bands) for v in b.versions)} band(s)"]
    if b.doc:
        parts.append(b.doc)
    for version in b.versions:
        parts.extend(_clause(policy, version.clause))
    return "\n\n".join(parts)


def _accumulator(acc: ir.Accumulator, policy: ir.Policy) -> str:
    keys = "".join(f" per {k}" for k in acc.keys)
    parts = [f"**accumulator** `{acc.name}`: {acc.type}, per person per 医保年度{keys}"]
    if acc.doc:
        parts.append(acc.doc)
    parts.extend(_clause(policy, acc.clause))
    return "\n\n".join(parts)


def _enum(name: str, definition, policy: ir.Policy | None) -> str | None:
    enum = policy.enums.get(name) if policy else None
    if enum is None:
        if definition is None:
            return None
        decl = definition.decl
        return f"**enum** `{name}`" + (f" — platform field `{decl.field}`" if decl.field else "") + \
            "\n\nmembers: " + ", ".join(m.name for m in decl.members)
    head = f"**enum** `{name}`" + (f" — platform field `{enum.field}`" if enum.field else "")
    members = ", ".join(m.name + (f"（{m.label}）" if m.label else "") for m in enum.members)
    return f"{head}\n\nmembers: {members}"


def _member(key: tuple, definition, policy: ir.Policy | None) -> str:
    _, enum_name, name = key
    member = definition.decl if definition else None
    if policy is not None and enum_name in policy.enums:
        member = next((m for m in policy.enums[enum_name].members if m.name == name), member)
    parts = [f"**member** `{name}` of `{enum_name}`"]
    if member is not None and member.label:
        parts.append(member.label)
    if member is not None and member.codes:
        parts.append("platform code(s): " + ", ".join(f"`{c}`" for c in member.codes))
    return "\n\n".join(parts)


def _from_ast(definition) -> str:
    """A definition the IR does not hold (the document does not load): what its declaration says."""
    decl = definition.decl
    parts = [f"**{definition.kind}** `{definition.key[1]}`" +
             (f": {decl.type_name}" if getattr(decl, "type_name", None) else "")]
    options = getattr(decl, "options", None)
    doc = getattr(decl, "doc", None) or (options.doc if options else None)
    if doc:
        parts.append(doc)
    clause = options.clause if options else getattr(decl, "clause", None)
    if clause:
        parts.append(f"clause {clause}")
    return "\n\n".join(parts)


def _row_or_band(policy: ir.Policy, file: str, line: int) -> str | None:
    for table in policy.tables.values():
        for version in table.versions:
            rows = list(version.rows) + ([version.default] if version.default else [])
            for row in rows:
                if row.span.file == file and row.span.line <= line <= row.span.end_line:
                    which = "default row" if row is version.default else f"row {row.index}"
                    parts = [f"**{which}** of table `{table.name}`"]
                    parts.extend(_clause(policy, row.clause or version.clause) or ["(no clause)"])
                    return "\n\n".join(parts)
    for b in policy.brackets.values():
        for version in b.versions:
            for band in version.bands:
                if band.span.file == file and band.span.line <= line <= band.span.end_line:
                    parts = [f"**band {band.index}** of brackets `{b.name}`"]
                    parts.extend(_clause(policy, band.clause or version.clause) or ["(no clause)"])
                    return "\n\n".join(parts)
    return None
