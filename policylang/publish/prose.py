"""IR expressions as plain Chinese: the words a 政策解读 uses for what a rule computes.

`value(e)` reads an expression as a noun phrase ("政策范围内费用 × 报销比例"), `condition(e)` reads a
bool expression as a clause ("机构级别为基层且病种为肺结核"), and an if/else chain becomes
"…时，…；…时，…；否则…". Every number comes from the IR through `values`, never from a template.
"""
from __future__ import annotations

from decimal import Decimal

from policylang import ir
from policylang.publish import values

ARITH = {"+": "+", "-": "−", "*": "×"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2}
_ORDERED = {"<": "低于", "<=": "不超过", ">": "超过", ">=": "不低于"}
_DATES = {"<": "早于", "<=": "不晚于", ">": "晚于", ">=": "不早于"}
_FLIP = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


# ---- values -----------------------------------------------------------------------------------
def value(e: ir.Expr, top: bool = True) -> str:
    """A value expression as words. `top`: the whole of a rule or a branch (no brackets needed)."""
    kind = type(e)
    if kind is ir.Const:
        return values.show(e.value, e.type)
    if kind in (ir.InputRef, ir.RuleRef, ir.AccRef, ir.BracketsRef):
        return e.name
    if kind is ir.TableRef:
        return f"查表「{e.name}」" + (f"（按{'，'.join(value(a) for a in e.args)}）" if _explicit(e) else "")
    if kind is ir.Side:
        return f"{'左' if e.side == 'left' else '右'}边的{value(e.ref)}"
    if kind is ir.NotApplicable:
        return f"{values.NOT_GIVEN}（{e.reason}）"
    if kind is ir.Arith:
        return _arith(e)
    if kind is ir.Neg:
        return f"−{_operand(e.operand, 3)}"
    if kind is ir.MinMax:
        return _minmax(e, top)
    if kind is ir.Round:
        return f"{value(e.operand, top)}（{values.ROUNDING_NAMES[e.mode]}）"
    if kind is ir.If:
        text = chain(e)
        return text if top else f"（{text}）"
    if e.type == ir.BOOL:
        return condition(e)
    raise TypeError(f"no prose for {kind.__name__}")


def _explicit(ref: ir.TableRef) -> bool:
    """A lookup written with its own arguments (表名(二级, 病种)), not the table's declared columns."""
    return any(not isinstance(a, ir.InputRef) for a in ref.args)


def _arith(e: ir.Arith) -> str:
    if e.op == "+" and isinstance(e.right, ir.Const) and e.right.type == ir.POINTS:
        return f"{_operand(e.left, 1)}提高{values.points(e.right.value)}"
    if e.op == "-" and isinstance(e.right, ir.Const) and e.right.type == ir.POINTS:
        return f"{_operand(e.left, 1)}降低{values.points(e.right.value)}"
    level = _PRECEDENCE[e.op]
    right_level = level + 1 if e.op in "-*" else level  # a − (b + c), a × (b × c) keep their brackets
    return f"{_operand(e.left, level)} {ARITH[e.op]} {_operand(e.right, right_level)}"


def _operand(e: ir.Expr, level: int) -> str:
    if isinstance(e, ir.Arith) and _PRECEDENCE[e.op] < level and not _points_step(e):
        return f"({_arith(e)})"
    if isinstance(e, (ir.MinMax, ir.If, ir.Round)) or _points_step(e):
        return f"（{value(e, top=True)}）" if not isinstance(e, ir.MinMax) else value(e, top=False)
    return value(e, top=False)


def _points_step(e) -> bool:
    return isinstance(e, ir.Arith) and e.op in "+-" and isinstance(e.right, ir.Const) and e.right.type == ir.POINTS


def _minmax(e: ir.MinMax, top: bool) -> str:
    args = [value(a, top=False) for a in e.args]
    if len(args) == 1:
        return args[0]
    if top and len(args) == 2:
        return f"{args[0]}，但{'不超过' if e.op == 'min' else '不低于'}{args[1]}"
    return f"{'较小值' if e.op == 'min' else '较大值'}({', '.join(args)})"


def chain(e: ir.If) -> str:
    """if c1 then v1 else if c2 then v2 else v3 → "c1时，v1；c2时，v2；否则v3"."""
    parts = []
    while isinstance(e, ir.If):
        parts.append(f"{condition(e.cond)}时，{value(e.then, top=not isinstance(e.then, ir.If))}")
        e = e.otherwise
    parts.append(f"否则{value(e, top=True)}")
    return "；".join(parts)


def band(b: ir.Band) -> tuple:
    """A band as (from, to, rate) in words: constants as numbers, bounds and rates evaluated per claim as
    their formulas ("起付线 + 50000.00元", "贫困人员为是时，60%；否则55%")."""
    return value(b.low), value(b.high) if b.high is not None else "以上", value(b.rate)


# ---- conditions -------------------------------------------------------------------------------
def condition(e: ir.Expr, negated: bool = False) -> str:
    """A bool expression as a clause; `negated` reads its opposite."""
    kind = type(e)
    if kind is ir.Compare:
        return _compare(e.left, _FLIP[e.op] if negated else e.op, e.right)
    if kind is ir.InSet:
        return _in_set(e.operand, e.items, e.negated != negated)
    if kind is ir.Not:
        return condition(e.operand, not negated)
    if kind is ir.Logic:
        op = e.op if not negated else ("or" if e.op == "and" else "and")  # De Morgan
        left, right = _logic_side(e.left, op, negated), _logic_side(e.right, op, negated)
        return f"{left}{'且' if op == 'and' else '或'}{right}"
    if kind is ir.Const and e.type == ir.BOOL:
        return "总是成立" if e.value != negated else "从不成立"
    if kind in (ir.InputRef, ir.RuleRef, ir.AccRef, ir.Side):
        return f"{value(e)}为{'否' if negated else '是'}"
    if kind is ir.If:
        text = f"（{chain(e)}）"
        return f"{text}不成立" if negated else f"{text}成立"
    return f"{value(e)}{'不成立' if negated else '成立'}"


def _logic_side(e: ir.Expr, op: str, negated: bool) -> str:
    text = condition(e, negated)
    inner = e.op if isinstance(e, ir.Logic) else None
    if isinstance(e, ir.Not) and isinstance(e.operand, ir.Logic):
        inner = e.operand.op if negated else ("or" if e.operand.op == "and" else "and")
    elif isinstance(e, ir.Logic) and negated:
        inner = "or" if e.op == "and" else "and"
    return f"（{text}）" if inner is not None and inner != op else text


def _compare(left: ir.Expr, op: str, right: ir.Expr) -> str:
    l, r = value(left, top=False), value(right, top=False)
    t = getattr(left, "type", None)
    if op in ("==", "!="):
        if t is not None and t.name in ("enum", "bool", "text"):
            if t == ir.BOOL and isinstance(right, ir.Const):
                return f"{l}为{values.boolean(right.value == (op == '=='))}"
            if not isinstance(right, ir.Const):
                return f"{l}与{r}{'相同' if op == '==' else '不同'}"
            return f"{l}{'为' if op == '==' else '不是'}{r}"
        return f"{l}{'等于' if op == '==' else '不等于'}{r}"
    words = _DATES if t == ir.DATE else _ORDERED
    return f"{l}{words[op]}{r}"


def _in_set(operand: ir.Expr, items: tuple, negated: bool) -> str:
    t = operand.type
    shown = [values.show(i, t) for i in items]
    listed = shown[0] if len(shown) == 1 else "、".join(shown[:-1]) + "或" + shown[-1]
    return f"{value(operand, top=False)}{'不是' if negated else '为'}{listed}"


# ---- table cells ------------------------------------------------------------------------------
def cell(c: ir.Cell, column: str, t: ir.Type) -> str | None:
    """One cell as a condition on its column; None for `_` (any value)."""
    shown = [values.show(v, t) if v is not None else None for v in c.values]
    if c.kind == "any":
        return None
    if c.kind == "eq":
        return f"{column}为{shown[0]}" if t.name in ("enum", "bool", "text") else f"{column}等于{shown[0]}"
    if c.kind in ("in", "not_in"):
        listed = shown[0] if len(shown) == 1 else "、".join(shown[:-1]) + "或" + shown[-1]
        return f"{column}{'为' if c.kind == 'in' else '不是'}{listed}"
    if c.kind == "cmp":
        words = _DATES if t == ir.DATE else {"<": "低于", "<=": "不超过", ">": "大于", ">=": "不低于"}
        return f"{column}{words[c.op]}{shown[0]}"
    low, high = shown
    return f"{column}不低于{low}" + (f"且低于{high}" if high is not None else "")


def cell_text(c: ir.Cell, t: ir.Type) -> str:
    """A cell as a table shows it: 基层, 一级、三级, 除退休外, >12%, 1,000.00元–5,000.00元."""
    shown = [values.show(v, t) if v is not None else None for v in c.values]
    if c.kind == "any":
        return "任意"
    if c.kind == "eq":
        return shown[0]
    if c.kind == "in":
        return "、".join(shown)
    if c.kind == "not_in":
        return f"除{'、'.join(shown)}外"
    if c.kind == "cmp":
        return {"<": "低于", "<=": "不超过", ">": "大于", ">=": "不低于"}[c.op] + shown[0]
    low, high = shown
    return f"{low}（含）至{high}（不含）" if high is not None else f"{low}及以上"


def row_condition(table: ir.Table, row: ir.Row) -> str:
    """The conditions of a row on every column, joined: 机构级别为基层且病种为肺结核."""
    parts = [cell(c, column_name(col), t) for c, col, t in zip(row.cells, table.columns, table.column_types)]
    parts = [p for p in parts if p]
    return "且".join(parts) if parts else "任何情况下"


def column_name(e: ir.Expr) -> str:
    return value(e, top=False)


def table_summary(table: ir.Table, version: ir.TableVersion) -> str:
    """A first-hit table in one sentence, exceptions folded in: 机构级别为基层时，70%（其中…）.

    Consecutive rows that share their first cell and end in a row that matches anything on the
    other columns read as "X时，v（其中 … v′）": the earlier rows are the exceptions.
    """
    rows = list(version.rows)
    parts = []
    i = 0
    while i < len(rows):
        j = i
        if table.hit == "first" and len(table.columns) > 1:
            while j + 1 < len(rows) and _cell_key(rows[j + 1].cells[0]) == _cell_key(rows[i].cells[0]):
                j += 1
        group = rows[i:j + 1]
        last = group[-1]
        if len(group) > 1 and all(c.kind == "any" for c in last.cells[1:]):
            first = cell(last.cells[0], column_name(table.columns[0]), table.column_types[0])
            exceptions = "，".join(
                f"{_rest_condition(table, r)}{_row_value(r)}" for r in group[:-1])
            parts.append(f"{first or '任何情况下'}时，{_row_value(last)}（其中{exceptions}）")
        else:
            parts.extend(f"{row_condition(table, r)}时，{_row_value(r)}" for r in group)
        i = j + 1
    if version.default is not None:
        parts.append(f"{'其余情况' if parts else '任何情况下'}，{_row_value(version.default)}")
    return "；".join(parts)


def _cell_key(c: ir.Cell):
    return (c.kind, c.op, c.values)


def _rest_condition(table: ir.Table, row: ir.Row) -> str:
    parts = [cell(c, column_name(col), t) for c, col, t in
             zip(row.cells[1:], table.columns[1:], table.column_types[1:])]
    return "且".join(p for p in parts if p)


def _row_value(row: ir.Row) -> str:
    return value(row.output)


# ---- constants --------------------------------------------------------------------------------
