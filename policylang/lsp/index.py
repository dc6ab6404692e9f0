"""Where each name of a policy is defined and read, across the files of its `extends` / `conforms to`
chain and the prelude.

A name has a key: ("value", name) for inputs, rules, outputs, assumptions, tables, brackets,
accumulators and facts (one namespace, as the resolver keeps them), ("type", name) for enumerations,
("member", enumeration, name) for members. Occurrences come from the IR first (every resolved
reference and enumeration constant carries its span, so `基层` in `机构级别 == 基层` is known to be a
member of 机构级别) and then from the tokens the IR does not cover (example assignments, `update` and
`amend` targets, `vary` fields, table cells, types after `:`), matched by name the way the resolver
looks names up: values, then members of one enumeration.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from policylang import ir
from policylang.lsp.text import Text
from policylang.syntax import ast
from policylang.testing import policy_expressions, walk

KEYWORDS = frozenset("""policy guideline document title issuer issued in force from until source extends conforms to
assumed use quote page representative axis fact enum code field input optional scope require else accumulator per
year rule output table first unique default brackets on cumulative update once when amend add remove band
constraint property vary vs holds example state claim expect not applicable if then and or true false left right
as round clause""".split())

_NAMED = {ast.InputDecl: "input", ast.TableDecl: "table", ast.BracketsDecl: "brackets",
          ast.AccumulatorDecl: "accumulator", ast.FactDecl: "fact", ast.EnumDecl: "enum"}


def decl_kind(decl) -> str | None:
    if isinstance(decl, ast.RuleDecl):
        return "assumption" if decl.assumption else "output" if decl.is_output else "rule"
    return _NAMED.get(type(decl))


@dataclass
class Definition:
    key: tuple
    kind: str  # input | rule | output | assumption | table | brackets | accumulator | fact | enum | member
    file: str
    line: int
    col: int
    end_col: int
    decl: object  # the AST declaration (or ast.EnumMember)


@dataclass
class Occurrence:
    key: tuple
    file: str
    line: int
    col: int
    end_col: int
    definition: bool = False


@dataclass
class Index:
    definitions: dict = field(default_factory=dict)  # key -> [Definition], in chain order (prelude first)
    occurrences: list = field(default_factory=list)  # Occurrence
    members: dict = field(default_factory=dict)  # member name -> [enumeration]

    def at(self, file: str, line: int, col: int) -> Occurrence | None:
        for occ in self.occurrences:
            if occ.file == file and occ.line == line and occ.col <= col <= occ.end_col:
                return occ
        return None

    def by_name(self, name: str) -> tuple | None:
        """A name's key without its position, as the resolver looks it up: a value, a type, a member."""
        return _lexical_key(self, name, "", "")

    def references(self, key: tuple) -> list[Occurrence]:
        return [o for o in self.occurrences if o.key == key]

    def definition(self, key: tuple) -> Definition | None:
        """The definition that takes effect: the last in the chain (an extending file's replaces its base's)."""
        found = self.definitions.get(key)
        return found[-1] if found else None


def build(files: list[tuple[str, Text, ast.Module]], policy: ir.Policy | None) -> Index:
    """`files`: (file name as in Spans, its text, its module), the prelude and bases before the file itself."""
    index = Index()
    for file, text, module in files:
        _definitions(index, file, text, module)
    taken: set = {(d.file, d.line, d.col) for defs in index.definitions.values() for d in defs}
    for defs in index.definitions.values():
        for d in defs:
            index.occurrences.append(Occurrence(d.key, d.file, d.line, d.col, d.end_col, True))
    texts = {file: text for file, text, _ in files}
    if policy is not None:
        for key, span in _ir_references(policy):
            text = texts.get(span.file)
            if text is None or (span.file, span.line, span.col) in taken:
                continue
            written = _written(text, span, key, policy)
            if written is None:
                continue  # a span that starts elsewhere (`left.X`); the tokens below find it
            taken.add((span.file, span.line, span.col))
            index.occurrences.append(Occurrence(key, span.file, span.line, span.col, span.col + len(written)))
    for file, text, _ in files:
        _token_references(index, file, text, taken)
    return index


def _written(text: Text, span, key: tuple, policy: ir.Policy) -> str | None:
    """How the source spells the reference at span: its name, or the platform name a guideline reads an
    output by (`pool_prop_selfpay` for the output declared `as pool_prop_selfpay`); None if neither."""
    at = text.line_text(span.line)[span.col - 1:]
    name = key[-1]
    if at.startswith(name):
        return name
    rule = policy.rules.get(name) if key[0] == "value" else None
    if rule is not None and rule.platform and at.startswith(rule.platform):
        return rule.platform
    return None


def _definitions(index: Index, file: str, text: Text, module: ast.Module) -> None:
    for decl in module.decls:
        kind = decl_kind(decl)
        if kind is None:
            continue
        key = ("type", decl.name) if kind == "enum" else ("value", decl.name)
        token = name_token(text, decl.span, decl.name)
        if token is not None:
            index.definitions.setdefault(key, []).append(
                Definition(key, kind, file, token.line, token.col, token.end_col, decl))
        if kind == "enum":
            for member in decl.members:
                index.members.setdefault(member.name, []).append(decl.name)
                token = name_token(text, member.span, member.name)
                if token is not None:
                    mkey = ("member", decl.name, member.name)
                    index.definitions.setdefault(mkey, []).append(
                        Definition(mkey, "member", file, token.line, token.col, token.end_col, member))


def name_token(text: Text, span, name: str):
    """The first token spelling `name` at or after the start of a declaration."""
    tokens = text.tokens()
    for token in tokens[text.token_index_at(span.line, span.col):]:
        if (token.line, token.col) > (span.end_line, span.end_col):
            return None
        if token.kind == "name" and token.text == name:
            return token
    return None


def _ir_references(policy: ir.Policy):
    """(key, span) of every resolved reference and enumeration constant in the IR."""
    roots = list(policy_expressions(policy))
    for table in policy.tables.values():
        for version in table.versions:
            roots.extend(row.output for row in version.rows)
            if version.default is not None:
                roots.append(version.default.output)
    roots.extend(c.expr for c in policy.constraints)
    for p in policy.properties:
        roots.extend(e for e in (p.when, p.holds) if e is not None)
    for root in roots:
        for node in walk(root):
            if isinstance(node, ir.Side):
                node = node.ref
            if isinstance(node, (ir.InputRef, ir.RuleRef, ir.AccRef, ir.TableRef, ir.BracketsRef)):
                yield ("value", node.name), node.span
            elif isinstance(node, ir.Const) and node.type.name == "enum" and isinstance(node.value, str):
                yield ("member", node.type.enum, node.value), node.span


def _token_references(index: Index, file: str, text: Text, taken: set) -> None:
    """Names the IR does not place, matched as the resolver matches them."""
    tokens = text.tokens()
    for i, token in enumerate(tokens):
        if token.kind != "name" or (file, token.line, token.col) in taken or token.text in KEYWORDS:
            continue
        before = tokens[i - 1].text if i else ""
        if before == "." and i > 1 and tokens[i - 2].text not in ("left", "right"):
            continue
        key = _lexical_key(index, token.text, before, tokens[i - 2].text if i > 1 else "")
        if key is not None:
            index.occurrences.append(Occurrence(key, file, token.line, token.col, token.end_col))


def _lexical_key(index: Index, name: str, before: str, before2: str) -> tuple | None:
    type_position = before == ":" or (before == "->" and before2 == ")")
    if type_position and ("type", name) in index.definitions:
        return ("type", name)
    if ("value", name) in index.definitions:
        return ("value", name)
    enums = index.members.get(name, [])
    if len(enums) == 1:
        return ("member", enums[0], name)
    if ("type", name) in index.definitions:
        return ("type", name)
    return None
