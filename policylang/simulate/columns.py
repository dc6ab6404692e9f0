"""One side's results of a batch as numpy columns aligned to the batch's rows: money as int64 fen.

Why: every sum the report prints is a sum of integers (fen), so it is exact and the sum of per-claim
differences equals the difference of the totals by construction. A decimal128(20, 2) column is scaled by
100 and cast to int64 by Arrow, which refuses (rather than rounds) a value that is not whole fen.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policylang import ir
from policylang.batch.contract import BatchOutput
from policylang.claims import match_member
from policylang.batch.columns import input_columns
from policylang.batch.schema import MONEY, result_schema
from policylang.platform import is_fund, sources

HUNDRED = pa.scalar(Decimal(100), pa.decimal128(3, 0))
DIMENSIONS = ("机构级别", "就诊类型", "险种", "人员类别")  # the breakdowns, when the policy reads them
LIMIT = 2**62  # a sum of int64 fen is taken in numpy only while it cannot reach this


def fen(column) -> tuple[np.ndarray, np.ndarray]:
    """A money column as (int64 fen, valid mask); nulls are 0 with valid False."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    valid = ~column.is_null().to_numpy(zero_copy_only=False)
    scaled = pc.multiply(column.cast(pa.decimal128(20, 2)), HUNDRED).cast(pa.int64())
    return scaled.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64), valid


def exact_sum(values: np.ndarray) -> int:
    """The sum of int64 fen as a Python int, never wrapped: numpy only when the bound allows it."""
    if not len(values):
        return 0
    if int(np.abs(values).max()) < LIMIT // len(values):
        return int(values.sum(dtype=np.int64))
    return sum(values.tolist())


def stages(policy: ir.Policy) -> list[str]:
    """The fund names the policy computes or reads, in settlement order, then fund_pay_sumamt."""
    names = [s.platform for s in sources(policy) if is_fund(s.platform)]
    return names + ["fund_pay_sumamt"] if names else []


@dataclass
class Side:
    """One policy's results for the rows of a batch (index i is the batch's row i)."""

    accepted: np.ndarray  # bool: the claim edge read the row
    applicable: np.ndarray  # bool: in scope and in force
    reason: pa.Array  # the scope reason where not applicable (null elsewhere)
    money: dict  # platform name -> (int64 fen, valid)
    na_reason: pa.Array  # why psn_part_amt is not applicable on an applicable claim (null elsewhere)
    person: pa.Array  # psn_no (null for a claim without one, or a row this side refused)
    year: pa.Array  # the 医保年度 label


def side(policy: ir.Policy, out: BatchOutput, rows: np.ndarray, names: list[str]) -> Side:
    """Align a BatchOutput (results in input order, rejected rows absent) to `rows`."""
    n = len(rows)
    res = out.results
    at = np.searchsorted(rows, res.column("row").to_numpy(zero_copy_only=False)) if len(res) else np.zeros(0, np.int64)
    pos = np.full(n, -1, np.int64)
    pos[at] = np.arange(len(res))
    take = pa.array(pos, mask=pos < 0)
    built = set(result_schema(policy).names)

    def column(name: str, type_=pa.string()) -> pa.Array:
        if name not in res.column_names:  # a stage this policy does not settle; never one it does
            if name in built:
                raise AssertionError(f"result column {name} was not built (pair.side_schema must list it)")
            return pa.nulls(n, type_)
        return res.column(name).combine_chunks().take(take)

    accepted = pos >= 0
    applicable = column("applicable", pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False)
    money = {}
    for name in names + ["psn_part_amt", "medfee_sumamt"]:
        values, valid = fen(column(f"setl.{name}", MONEY))
        money[name] = (values, valid & applicable)
    na = pa.nulls(n, pa.string())
    funds = [s for s in sources(policy) if is_fund(s.platform)]
    for source in funds:  # the first fund stage that is not applicable says why
        name = f"na.out.{source.name}" if source.kind == "output" else f"na.setl.{source.platform}"
        why = pc.binary_join_element_wise(pa.scalar(f"{source.name}（{source.platform}）："), column(name), "")
        na = pc.coalesce(na, why)
    na = pc.coalesce(na, column("na.setl.psn_part_amt"))
    return Side(accepted, applicable, column("reason"), money, na, column("psn_no"), column("year"))


def dimensions(policy: ir.Policy, table: pa.Table) -> dict[str, tuple[np.ndarray, list]]:
    """The breakdown inputs per row as (codes, members): read from the raw columns as the claim edge reads
    them (a platform code becomes its member); a value the edge refuses is shown as written."""
    found = {inp.name: column for column, inp in input_columns(policy, table.column_names).items()}
    out = {}
    for name in DIMENSIONS:
        inp = policy.inputs.get(name)
        if inp is None or name not in found:
            continue
        encoded = table.column(found[name]).combine_chunks().cast(pa.string()).dictionary_encode()
        enum = policy.enums.get(inp.type.enum) if inp.type.name == "enum" else None
        members = []
        for value in encoded.dictionary.to_pylist():
            try:
                members.append(match_member(value, enum)[0] if enum is not None else value)
            except ValueError:
                members.append(value)
        codes = encoded.indices.fill_null(len(members)).to_numpy(zero_copy_only=False).astype(np.int64)
        out[name] = (codes, members + ["（未填）"])
    return out
