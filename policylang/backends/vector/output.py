"""The result table of a batch, in schema.result_schema's order and types, built column by column.

Money goes from int64 fen to decimal128(20, 2) through the array's buffer (no Decimal per row); a rate,
points or number becomes its exact text once per distinct value; reasons are interned texts. The
columns follow claims.result_record and schema.flatten exactly, so the table equals ScalarEngine's.
"""
from __future__ import annotations

import datetime
import json
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policylang import ir
from policylang.batch.schema import IDENTIFIERS, MONEY, plain, setl_fields
from policylang.backends.vector.evaluate import date_of, number_text
from policylang.platform import is_fund, sources
from policylang.year import year_label


def pick(values, keep: np.ndarray) -> pa.Array:
    """values[keep] as an Arrow string array, from Arrow strings or a numpy object array."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if len(keep) == len(values) and (len(keep) == 0 or (keep[0] == 0 and np.all(np.diff(keep) == 1))):
            return values
        return values.take(pa.array(keep))
    return pa.array(values[keep], pa.string())


def money_array(fen: np.ndarray, valid: np.ndarray) -> pa.Array:
    fen = np.ascontiguousarray(fen, dtype=np.int64)
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = fen >> 63
    bits = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(MONEY, len(fen), [bits, pa.py_buffer(words)])


def text_array(values: np.ndarray, valid: np.ndarray, render) -> pa.Array:
    """Texts made once per distinct value."""
    if not valid.any():
        return pa.nulls(len(values), pa.string())
    encoded = pc.dictionary_encode(pa.array(np.asarray(values)))
    texts = [render(u) for u in encoded.dictionary.to_pylist()]
    return interned(encoded.indices.to_numpy(zero_copy_only=False), valid, texts)


def interned(index: np.ndarray, valid: np.ndarray, texts: list) -> pa.Array:
    """texts[index] where valid, else null: built as a dictionary array and decoded in Arrow."""
    if not valid.any():
        return pa.nulls(len(valid), pa.string())
    indices = pa.array(index.astype(np.int32), mask=~valid)
    return pa.DictionaryArray.from_arrays(indices, pa.array(texts, pa.string())).dictionary_decode()


def render(plan, type_: ir.Type, scale: int, exp):
    """How schema.flatten writes a non-money value as text (format_typed, then JSON for non-strings)."""
    if type_ in (ir.RATE, ir.POINTS):
        return lambda v: format(Decimal(int(v)).scaleb(-scale).normalize(), "f")
    if type_ == ir.NUMBER:
        return lambda v: format(Decimal(number_text(v, scale, exp)), "f")
    if type_ == ir.BOOL:
        return lambda v: "true" if v else "false"
    if type_.name == "enum":
        names = plan.members[type_.enum]
        return lambda v: names[int(v)]
    if type_ == ir.DATE:
        return lambda v: date_of(v).isoformat()
    return lambda v: v


def build(plan, edge, res, keep: np.ndarray, rows: np.ndarray, reasons, schema: pa.Schema) -> pa.Table:
    """The result rows for the batch rows `keep` (input order), with the columns of `schema`: the full
    result schema, or a part of it (simulate reads the amounts and reasons only; the rest is not built)."""
    p = plan.policy
    want = set(schema.names)
    cols: dict = {}

    def put(name: str, make) -> None:
        """A column, built only when the schema asks for it."""
        if name in want:
            cols[name] = make()

    ok = res.applicable[keep]
    na_of: dict = {}  # result_record's not_applicable: outputs first, then setlinfo's (same key: setlinfo wins)
    values: dict = {}
    for rule in p.outputs:
        data = res.out[rule.name][0]
        data = data[keep] if data is not None else np.zeros(len(keep), dtype=np.int64)
        na = res.out[rule.name][1][keep]
        values[rule.name] = (data, na, rule.type, res.out_scale.get(rule.name, 0))
        na_of[rule.name] = na
    setl, setl_na = setl_columns(plan, edge, keep, values, reasons)
    na_of.update(setl_na)
    texts = np.array(reasons.texts, dtype=object)
    put("row", lambda: pa.array(rows[keep].astype(np.int64)))
    for key in IDENTIFIERS:
        given = edge.extras.get(key)
        put(key, lambda: pick(given, keep) if given is not None else pa.nulls(len(keep), pa.string()))
    person = edge.inputs[p.person]
    source = person.arrow if person.arrow is not None else person.data
    put("psn_no", lambda: pc.if_else(pa.array(person.present[keep]), pick(source, keep), pa.scalar(None, pa.string())))
    put("begntime", lambda: pa.array(edge.inputs[p.service_date].data[keep].astype(np.int32), pa.date32()))
    put("year", lambda: _years(p, res.year[keep]))
    put("applicable", lambda: pa.array(ok))
    put("reason", lambda: interned(res.reason[keep], ~ok, list(texts)))
    for rule in p.outputs:
        data, na, type_, scale = values[rule.name]
        put(f"out.{rule.name}", lambda: column(plan, data, ok & (na == 0), type_, scale, rule))
        put(f"na.out.{rule.name}", lambda: na_text(na_of.get(rule.name), ok, texts))
    for name, type_ in setl_fields(p):
        data, good, scale, t = setl.get(name, (None, None, 2, ir.MONEY))
        if data is None:
            put(f"setl.{name}", lambda: pa.nulls(len(keep), type_))
        elif type_ == MONEY:
            put(f"setl.{name}", lambda: money_array(data, good & ok))
        else:
            put(f"setl.{name}", lambda: text_array(data, good & ok, render(plan, t, scale, plan.exponents.get(name))))
        put(f"na.setl.{name}", lambda: na_text(na_of.get(name), ok, texts))
    for name, acc in p.accumulators.items():
        for when in ("before", "after"):
            data, na = res.state[(name, when)]
            data, na = data[keep], na[keep]
            if not plain(acc, p):
                text = res.texts[(name, when)][keep] if (name, when) in res.texts else np.full(len(keep), None)
                put(f"state.{name}.{when}", lambda: pa.array(np.where(ok, text, None), pa.string()))
                put(f"na.state.{name}.{when}", lambda: pa.nulls(len(keep), pa.string()))
            elif acc.type == ir.MONEY:
                put(f"state.{name}.{when}", lambda: money_array(data, ok & (na == 0)))
                put(f"na.state.{name}.{when}", lambda: na_text(na, ok, texts))
            else:
                put(f"state.{name}.{when}", lambda: text_array(
                    data, ok & (na == 0), render(plan, acc.type, plan.acc_scale[name], plan.acc_exponent[name])))
                put(f"na.state.{name}.{when}", lambda: na_text(na, ok, texts))
    put("notes", lambda: _notes(edge, keep, ok))
    return pa.table([cols[f.name] for f in schema], schema=schema)


def _years(p: ir.Policy, starts: np.ndarray) -> pa.Array:
    """Each claim's 医保年度 label (null for a policy without year-to-dates)."""
    if not (p.accumulators and len(starts)):
        return pa.nulls(len(starts), pa.string())
    years = np.unique(starts)
    labels = [year_label(p.year, datetime.date(int(y), p.year.month, p.year.day)) for y in years]
    return interned(np.searchsorted(years, starts), starts >= 0, labels)


def _notes(edge, keep: np.ndarray, ok: np.ndarray) -> pa.Array:
    """The reading notes of each applicable claim, as JSON text."""
    notes = np.full(len(keep), None, dtype=object)
    said = np.array([bool(edge.notes[i]) for i in keep.tolist()], dtype=bool) if any(edge.notes) else np.zeros(len(keep), bool)
    for j in np.flatnonzero(said & ok):
        notes[j] = json.dumps(edge.notes[keep[j]], ensure_ascii=False)
    return pa.array(notes, pa.string())


def na_text(na, ok, texts) -> pa.Array:
    if na is None:
        return pa.nulls(len(ok), pa.string())
    return interned(na, ok & (na != 0), list(texts))


def column(plan, data, good, type_: ir.Type, scale: int, rule) -> pa.Array:
    if type_ == ir.MONEY:
        return money_array(data if scale == 2 else data * 10 ** (2 - scale), good)
    return text_array(data, good, render(plan, type_, scale, plan.exponents.get(rule.name)))


def setl_columns(plan, edge, keep, values, reasons):
    """claims.setlinfo column-wise: {platform name: (data, valid, scale, type)} and {name: reason ids}."""
    p = plan.policy
    n = len(keep)
    out: dict = {}
    na: dict = {}
    inscp = edge.inputs.get("政策范围内费用")
    medfee = None
    if "政策范围内费用" in p.inputs:
        has = inscp.present[keep]
        out["inscp_scp_amt"] = (inscp.data[keep], has, 2, ir.MONEY)
        total = edge.inputs["医疗费总额"]
        parts = sum(edge.inputs[k].data[keep] * edge.inputs[k].present[keep]
                    for k in ("全自费金额", "超限价自费", "先行自付") if k in edge.inputs)
        medfee = np.where(total.present[keep], total.data[keep], inscp.data[keep] + parts)
        out["medfee_sumamt"] = (medfee, has, 2, ir.MONEY)
    funds = []
    for source in sources(p):
        if source.kind == "input":
            col = edge.inputs[source.name]
            reason = np.where(col.present[keep], 0, reasons.id(f"缺少输入 `{source.name}`")).astype(np.int32)
            na[source.platform] = reason
            out[source.platform] = (col.data[keep], col.present[keep], col.scale, p.inputs[source.name].type)
        else:
            data, reason, type_, scale = values[source.name]
            out[source.platform] = (data, reason == 0, scale, type_)
        if is_fund(source.platform):
            funds.append((source.platform, out[source.platform][0], reason))
    if funds:
        missing = np.stack([r != 0 for _, _, r in funds], axis=1)
        anyna = missing.any(axis=1)
        total = sum(np.where(r == 0, d, 0) for _, d, r in funds)
        out["fund_pay_sumamt"] = (total, ~anyna, 2, ir.MONEY)
        why = np.zeros(n, dtype=np.int32)
        if anyna.any():
            names = [name for name, _, _ in funds]
            why[anyna] = reasons.per_row(missing[anyna],
                                         lambda m: f"{', '.join(x for x, hit in zip(names, m) if hit)} 不适用")
        na["fund_pay_sumamt"] = why
        if medfee is not None:
            has = inscp.present[keep]
            out["psn_part_amt"] = (medfee - total, ~anyna & has, 2, ir.MONEY)
            na["psn_part_amt"] = why
    return out, na
