"""Composition before resolution: `extends` merges a base policy, `amend` changes its definitions,
and `conforms to` brings in a guideline's properties.

It works on the surface AST, so the resolver sees one ordinary module and checks it as a whole;
spans keep pointing into the file each declaration came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
import os
from pathlib import Path

from policylang.diagnostics import Diagnostic, DiagnosticError, Span
from policylang.semantics import amend_rows
from policylang.syntax import ast

NAMED = (ast.EnumDecl, ast.InputDecl, ast.AccumulatorDecl, ast.RuleDecl, ast.TableDecl, ast.BracketsDecl,
         ast.FactDecl)


@dataclass(frozen=True)
class Amendment:
    """What a policy changed in the one it extends, for docs and the 变化对照表."""

    target: str
    op: str
    value: ast.Expr
    clause: str | None
    doc: str | None
    span: Span
    base_span: Span
    key: tuple | None = None  # ast.Cell: the rows named, for a row amendment
    rows: tuple = ()  # amend_rows.RowChange: each row changed, added or removed
    band: int | None = None  # `amend 大病分段 band 2 …`: the band whose rate changed


@dataclass(frozen=True)
class Composed:
    module: ast.Module
    extends: str | None
    amendments: tuple
    warnings: tuple = ()  # Diagnostic(severity="warning"): an `--assume` a later policy made ineffective


@dataclass
class Overrides:
    """`--assume NAME=VALUE` along an `extends` chain: each value replaces the assumption where it is
    declared, before that file's and every later file's amendments; what became of each is kept here."""

    values: dict  # name -> the value as text
    declared: list = field(default_factory=list)  # every assumption the chain declares, for E0419's hint
    reached: set = field(default_factory=set)  # names some file of the chain declares
    live: set = field(default_factory=set)  # names whose override still reaches the result
    docs: dict = field(default_factory=dict)  # span of an overridden declaration -> its doc before
    warnings: list = field(default_factory=list)
    root: str = ""  # the directory `extends` / `conforms to` may reach (compose sets it)

    def cut(self, name: str, span: Span, how: str) -> None:
        """A later definition gives `name` outright: the override no longer reaches the result; say so."""
        self.live.discard(name)
        self.warnings.append(Diagnostic("W0424", span, {"name": name, "value": self.values[name], "how": how},
                                        severity="warning"))


def compose(module: ast.Module, load, seen: tuple = (), assume: dict | None = None, vocabulary=(),
            root: str | Path | None = None) -> Composed:
    """Resolve `extends`, `amend` and `conforms to`; `load(path)` parses a file.

    `assume` overrides named assumptions (`--assume NAME=VALUE`) in the file that declares them,
    before that file's amendments and every later file's, so a reform's "+2pp over the baseline"
    moves with the baseline however long the `extends` chain. A later `amend NAME = value` (or a
    redefinition that is no assumption) gives the value outright: the override then has no effect
    on the result, and a W0424 warning says where. `vocabulary` is the prelude's declarations, whose
    enumerations row amendments read. `extends` and `conforms to` only reach .pol files inside `root`
    (default: `default_root(module.file)`), so a contributed policy cannot make the tools read, or
    quote in a diagnostic, any other file.
    """
    overrides = Overrides(dict(assume or {}))
    overrides.root = os.path.realpath(root if root is not None else default_root(module.file))
    composed = _compose(module, load, seen, overrides, tuple(vocabulary))
    unknown = [name for name in overrides.values if name not in overrides.reached]
    if unknown:
        header = _header(module)
        span = header.span if header is not None else Span(module.file, 1, 1, 1, 1)
        known = ", ".join(dict.fromkeys(overrides.declared)) or "none"
        raise DiagnosticError([Diagnostic("E0419", span, {"name": name, "known": known}) for name in unknown])
    return replace(composed, warnings=tuple(overrides.warnings))


def _compose(module: ast.Module, load, seen: tuple, overrides: Overrides, vocabulary: tuple = ()) -> Composed:
    header = _header(module)
    errors: list = []
    own = list(module.decls)
    decls = own
    extends = None
    if header is not None and header.extends is not None:
        path, span = header.extends
        base_path = os.path.normpath(Path(module.file).parent / path)
        if base_path in seen or base_path == module.file:
            raise DiagnosticError([Diagnostic("E0416", span, {"path": path})])
        base = _compose(_load(load, base_path, span, "extends", path, overrides.root), load,
                        seen + (module.file,), overrides, vocabulary)
        for d in own:
            if isinstance(d, ast.RuleDecl) and not d.assumption and d.name in overrides.live:
                overrides.cut(d.name, d.span, "this definition")
        decls = merge(base.module.decls, override(own, overrides, errors))
        extends = base_path
    else:
        decls = override(own, overrides, errors)
    decls, amendments = amend(decls, errors, overrides, vocabulary)
    for path, span in (header.conforms if header is not None else ()):
        guideline = _load(load, os.path.normpath(Path(module.file).parent / path), span, "conforms to", path,
                          overrides.root)
        g_header = _header(guideline)
        if g_header is None or g_header.kind != "guideline":
            errors.append(Diagnostic("E0417", span, {"path": path}))
            continue
        # a guideline the extended policy already conforms to is not brought in twice
        present = {(d.name, d.origin) for d in decls if isinstance(d, ast.PropertyDecl)}
        decls += [replace(d, origin=g_header.title) for d in guideline.decls
                  if isinstance(d, ast.PropertyDecl) and (d.name, g_header.title) not in present]
    if errors:
        raise DiagnosticError(errors)
    return Composed(ast.Module(module.file, tuple(decls)), extends, tuple(amendments))


def _header(module: ast.Module):
    return next((d for d in module.decls if isinstance(d, ast.PolicyHeader)), None)


def default_root(file: str | Path) -> Path:
    """The nearest directory above `file` holding `.git` or `pyproject.toml` (its repository), else the
    file's own directory: where `extends` and `conforms to` may look unless `--root` says otherwise."""
    start = Path(os.path.realpath(Path(file).parent))
    for directory in (start, *start.parents):
        if (directory / ".git").exists() or (directory / "pyproject.toml").exists():
            return directory
    return start


def _load(load, path: str, span: Span, keyword: str, written: str, root: str) -> ast.Module:
    """Parse the file a header names, once it is a .pol file inside `root` that exists.

    Nothing outside the root is opened, so no diagnostic ever quotes a file that is not a policy."""
    args = {"keyword": keyword, "path": written, "root": root}
    try:
        real = os.path.realpath(path)
        inside = os.path.commonpath([root, real]) == root
    except (OSError, ValueError) as exc:  # a path the file system cannot take (too long, NUL, …)
        raise DiagnosticError([Diagnostic("E0105", span, {
            "reason": f"`{keyword} \"{_short(written)}\"`: {getattr(exc, 'strerror', None) or exc}",
            "hint": "the path is relative to the file that names it"})]) from None
    if not inside:
        raise DiagnosticError([Diagnostic("E0471", span, {**args, "path": _short(written)})])
    if Path(real).suffix != ".pol":
        raise DiagnosticError([Diagnostic("E0472", span, {**args, "path": _short(written)})])
    try:
        exists = Path(real).is_file()
    except OSError as exc:
        exists, why = False, exc.strerror or str(exc)
    else:
        why = "it does not exist"
    if not exists:
        raise DiagnosticError([Diagnostic("E0105", span, {
            "reason": f"{_short(path)}: {why}",
            "hint": "the path is relative to the file that names it; check the spelling and that the file is committed"})])
    return load(path)


def _short(text: str, most: int = 120) -> str:
    """A path as a message shows it: a hostile 5,000-character one is cut, not printed whole."""
    return text if len(text) <= most else text[:most // 2] + "…" + text[-most // 2:]


def override(decls: list, overrides: Overrides, errors: list) -> list:
    """Replace every version of each assumption this file declares that `--assume` names."""
    from policylang.claims import convert_value
    from policylang import ir

    out = list(decls)
    for i, d in enumerate(decls):
        if not (isinstance(d, ast.RuleDecl) and d.assumption):
            continue
        overrides.declared.append(d.name)
        if d.name not in overrides.values:
            continue
        name, text = d.name, overrides.values[d.name]
        first = name not in overrides.reached
        overrides.reached.add(name)
        kind = d.type_name if d.type_name in ir.SCALARS else None
        try:
            value = convert_value(ir.SCALARS[kind], text, None) if kind else text
        except ValueError as exc:
            if first:  # one error per name, not one per version
                errors.append(Diagnostic("E0420", d.span, {"name": name, "reason": str(exc)}))
            continue
        literal = ast.Literal(kind, value, text, d.expr.span) if kind else ast.Name(text, d.expr.span)
        overrides.live.add(name)
        overrides.docs[d.span] = d.options.doc
        doc = f"{d.options.doc or ''}（--assume {name}={text}）"
        out[i] = replace(d, expr=literal, options=replace(d.options, doc=doc))
    return out


def merge(base: tuple, child: list) -> list:
    """The child's declarations replace the base's of the same name (all versions) and kind;
    its scope and its `page` replace the base's; examples are the child's own; the rest is inherited."""
    named = {(type(d), d.name) for d in child if isinstance(d, NAMED)}
    child_kinds = {type(d) for d in child}
    child_updates = {d.target for d in child if isinstance(d, ast.UpdateDecl)}
    child_props = {d.name for d in child if isinstance(d, ast.PropertyDecl)}
    kept = []
    for d in base:
        if isinstance(d, (ast.PolicyHeader, ast.ExampleDecl, ast.AmendDecl)):
            continue
        if isinstance(d, NAMED) and (type(d), d.name) in named:
            continue
        if isinstance(d, (ast.ScopeDecl, ast.PageDecl)) and type(d) in child_kinds:
            continue
        if isinstance(d, ast.UpdateDecl) and d.target in child_updates:
            continue
        if isinstance(d, ast.PropertyDecl) and d.name in child_props:
            continue
        if isinstance(d, ast.Use) and any(isinstance(c, ast.Use) and c.name == d.name for c in child):
            continue
        kept.append(d)
    return kept + child


def amend(decls: list, errors: list, overrides: Overrides | None = None, vocabulary=()) -> tuple[list, list]:
    """Apply each `amend` to the definition it names: rules and assumptions get `expr op value`,
    tables get it on every row's output, brackets on every band's rate (with `band N`, on band N's
    alone); `=` replaces (and cuts an `--assume` of that name). An amendment with a key, `add` or `remove`
    changes table rows (`amend_rows`); `vocabulary` (the prelude's declarations) gives the members of the
    enumerations its key columns range over."""
    amendments = []
    out = [d for d in decls if not isinstance(d, ast.AmendDecl)]
    for a in (d for d in decls if isinstance(d, ast.AmendDecl)):
        if a.key is not None:
            amendments.extend(_amend_rows(out, a, errors, amend_rows.domains(out, vocabulary)))
            continue
        kinds = (ast.BracketsDecl,) if a.band is not None else (ast.RuleDecl, ast.TableDecl, ast.BracketsDecl)
        targets = [i for i, d in enumerate(out) if isinstance(d, kinds) and d.name == a.target]
        problem = _band_problem(a, out, targets)
        if problem is not None:
            errors.append(problem)
            continue
        cuts = a.op == "=" and overrides is not None and a.target in overrides.live
        if cuts:
            overrides.cut(a.target, a.span, f"`amend {a.target} = …` here")
        for i in targets:
            d = out[i]
            if cuts and d.span in overrides.docs:  # the page must not credit the override with this value
                d = replace(d, options=replace(d.options, doc=overrides.docs[d.span]))
            amendments.append(Amendment(a.target, a.op, a.value, a.clause, a.doc, a.span, d.span, band=a.band))
            if isinstance(d, ast.BracketsDecl):  # a band's rate, or every band's
                bands = tuple(replace(b, rate=_apply(b.rate, a)) if a.band in (None, n) else b
                              for n, b in enumerate(d.bands, 1))
                out[i] = replace(d, bands=bands)
            elif isinstance(d, ast.RuleDecl):
                # `=` gives the value outright: what was assumed no longer is (`+=` still builds on it)
                out[i] = replace(d, expr=_apply(d.expr, a), assumption=d.assumption and a.op != "=")
            else:
                rows = tuple(replace(r, output=_apply(r.output, a)) for r in d.rows)
                default = replace(d.default, output=_apply(d.default.output, a)) if d.default else None
                out[i] = replace(d, rows=rows, default=default)
    return out, amendments


def _unknown_target(a: ast.AmendDecl, decls) -> Diagnostic:
    extends = any(isinstance(d, ast.PolicyHeader) and d.extends is not None for d in decls)
    hint = "an amendment changes a definition of this policy or of the one it extends" if extends else (
        "this policy extends no other: name the policy it changes in its header, e.g. "
        "`policy \"改革后\" { extends \"base.pol\" in force from 2024-01-01 }`")
    return Diagnostic("E0418", a.target_span, {"name": a.target, "hint": hint})


def _amend_rows(out: list, a: ast.AmendDecl, errors: list, domains: dict) -> list:
    """A row amendment on every version of the table it names; the Amendment records the rows touched."""
    versions = [i for i, d in enumerate(out) if isinstance(d, ast.TableDecl) and d.name == a.target]
    if not versions:
        other = next((d for d in out if isinstance(d, NAMED) and getattr(d, "name", None) == a.target), None)
        if other is None:
            errors.append(_unknown_target(a, out))
        else:
            rule = "an assumption" if getattr(other, "assumption", False) else (
                "an output" if getattr(other, "is_output", False) else "a rule")
            kind = {ast.RuleDecl: rule,
                    ast.BracketsDecl: "a brackets block", ast.AccumulatorDecl: "an accumulator",
                    ast.InputDecl: "an input", ast.EnumDecl: "an enumeration"}.get(type(other), "not a table")
            verb = {"add": "add a row to", "remove": "remove rows of"}.get(a.op, "amend rows of")
            errors.append(Diagnostic("E0432", a.key_span or a.span, {"name": a.target, "kind": kind, "verb": verb}))
        return []
    first = out[versions[0]]
    if len(a.key) != len(first.columns):
        columns = ", ".join(amend_rows.expr_text(c) for c in first.columns)
        errors.append(Diagnostic("E0431", a.key_span or a.span, {
            "name": a.target, "given": len(a.key), "count": len(first.columns), "columns": columns,
            "example": ", ".join(["_"] * len(first.columns))}))
        return []
    for j, (c, col) in enumerate(zip(a.key, first.columns)):
        v = c.values[0] if c.kind == "eq" else None
        if isinstance(v, ast.BinOp) and v.op in ("==", "!=", "<", "<=", ">", ">="):
            fix = [amend_rows.cell_text(k) for k in a.key]
            fix[j] = amend_rows.expr_text(v.right) if v.op == "==" else f"{v.op} {amend_rows.expr_text(v.right)}"
            errors.append(Diagnostic("E0433", c.span, {"cell": amend_rows.expr_text(v), "name": a.target,
                                                       "column": amend_rows.expr_text(col), "fix": ", ".join(fix)}))
            return []
    touched, reached, missed = [], False, None
    for i in versions:
        table = out[i]
        grid = amend_rows.Grid(table, (a.key,), domains)
        if a.op == "add":
            new, problem = amend_rows.add_row(table, a, grid)
            if problem is not None:
                code, row, point = problem
                errors.append(amend_rows.problem_diagnostic(code, a, table, row, point))
                return []
            changed = [amend_rows.RowChange("add", a.row.span)]
            touched.extend(changed)
        elif a.op == "remove":
            new, changed = amend_rows.remove_rows(table, a, grid)
            touched.extend(changed)
        else:
            new, changed, problem = amend_rows.change_rows(table, a, grid, _apply)
            if problem is not None:
                row, point = problem
                found = amend_rows.problem_diagnostic("E0434" if row is not None else "E0439", a, table, row, point)
                if changed:
                    errors.append(found)
                    return []
                missed = missed or found  # a version without rows of the key keeps its rows, unless no version has any
            touched.extend(changed)
        reached = reached or bool(changed)
        out[i] = new
    if not reached and missed is not None:
        errors.append(missed)
        return []
    if not reached:
        errors.append(Diagnostic("E0430", a.key_span or a.span, {
            "name": a.target, "key": amend_rows.cells_text(a.key),
            "rows": amend_rows.rows_listing([out[i] for i in versions])}))
        return []
    return [Amendment(a.target, a.op, a.value, a.clause, a.doc, a.span, out[versions[0]].span,
                      key=a.key, rows=tuple(touched))]


def _band_problem(a: ast.AmendDecl, decls: list, targets: list) -> Diagnostic | None:
    """Why an `amend` has nothing to change: no such definition (E0418), `band N` on something that is not
    brackets, or a band number the brackets do not have (E0460)."""
    if not targets:
        if a.band is None or not any(getattr(d, "name", None) == a.target for d in decls):
            return _unknown_target(a, decls)
        return Diagnostic("E0460", a.target_span, {
            "name": a.target, "band": a.band, "problem": f"`{a.target}` is not a brackets block",
            "hint": f"`band N` picks one band of a `brackets`; write `amend {a.target} += …` to change "
                    f"`{a.target}` as a whole"})
    counts = [len(decls[i].bands) for i in targets if a.band is not None]
    missing = [n for n in counts if a.band not in range(1, n + 1)]
    if not missing:
        return None
    return Diagnostic("E0460", a.span, {
        "name": a.target, "band": a.band, "problem": f"`{a.target}` has {missing[0]} band{'s' if missing[0] > 1 else ''}",
        "hint": f"bands are numbered 1 to {missing[0]} in the order they are written"})


def _apply(expr: ast.Expr, a: ast.AmendDecl) -> ast.Expr:
    if isinstance(expr, ast.NotApplicable):
        return expr  # the document gives no number here, before or after
    if a.op == "=":
        return a.value
    return ast.BinOp(a.op, expr, a.value, a.span)

