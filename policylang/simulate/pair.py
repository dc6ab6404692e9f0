"""Both policies over one table of whole person-years: the step the streamed run and a Dask partition share.

`Pair` holds the two policies, their engines and what is compared; `tally(table, rows)` evaluates the
same Arrow table with both engines and reduces the results to a Tally. The baseline's results may come
from a cache instead (`baseline.py`): an engine that replays them.
"""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from policylang import ir
from policylang.batch.columns import normalise
from policylang.batch.contract import BatchOutput, Engine
from policylang.batch.engines import engine_for
from policylang.batch.schema import result_schema
from policylang.claims import PASS_THROUGH
from policylang.simulate.columns import dimensions, side, stages
from policylang.simulate.tally import Tally, Thresholds, tally_batch

ALWAYS = ir.Validity(None, None)


class MissingPayment(Exception):
    """A policy that computes no fund payment or patient payment: nothing to compare (E0495)."""

    def __init__(self, policy: ir.Policy, what: str, what_cn: str):
        super().__init__(what)
        self.args_ = {"policy": policy.meta.title, "what": what, "what_cn": what_cn}


def counterfactual(policy: ir.Policy) -> ir.Policy:
    """The policy as if in force on every claim's date: simulate asks what each policy would pay for the
    same claims, so a reform dated after last year's claims is still applied to them (dated versions of a
    value still follow the claim's date). `--keep-in-force` keeps the policies' own periods."""
    return dataclasses.replace(policy, meta=dataclasses.replace(policy.meta, in_force=ALWAYS))


def require_payments(policy: ir.Policy) -> None:
    names = stages(policy)
    if not names:
        raise MissingPayment(policy, "fund payment (fund_pay_sumamt)", "基金支付")
    if "政策范围内费用" not in policy.inputs:
        raise MissingPayment(policy, "patient payment (psn_part_amt)", "个人负担")


@dataclass
class Pair:
    baseline: ir.Policy
    reform: ir.Policy
    base_engine: Engine
    reform_engine: Engine
    thresholds: Thresholds

    @classmethod
    def build(cls, baseline: ir.Policy, reform: ir.Policy, thresholds: Thresholds | None = None,
              keep_in_force: bool = False, base_engine: Engine | None = None) -> "Pair":
        for p in (baseline, reform):
            require_payments(p)
        if not keep_in_force:
            baseline, reform = counterfactual(baseline), counterfactual(reform)
        return cls(baseline, reform, base_engine or engine_for(baseline), engine_for(reform), thresholds or Thresholds())

    @property
    def stages(self) -> list[str]:
        base, reform = stages(self.baseline)[:-1], stages(self.reform)[:-1]
        return base + [n for n in reform if n not in base] + ["fund_pay_sumamt"]

    def tally(self, table: pa.Table, rows: np.ndarray, base: BatchOutput | None = None,
              full_base: bool = False) -> tuple[Tally, BatchOutput]:
        """The Tally of a table of whole person-years, and the baseline's output (every result column when
        `full_base`, for a cache; else only what the tally reads)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="policylang-baseline") as beside:
            # the baseline on a second thread while this one evaluates the reform (numpy and Arrow release the
            # GIL for the work on whole columns, so on two cores both sides run at once); leaving the block
            # waits for it, so no thread outlives a failed reform, whose error is the one reported
            pending = None if base is not None else beside.submit(
                _evaluate, self.base_engine, own_columns(self.baseline, table), rows,
                None if full_base else side_schema(self.baseline))
            # the table was normalised for the baseline (the reader's policy); the reform's own columns again
            reform = _evaluate(self.reform_engine, normalise(own_columns(self.reform, table), self.reform), rows,
                               side_schema(self.reform))
            base = base if pending is None else pending.result()
        names = self.stages
        b, r = side(self.baseline, base, rows, names), side(self.reform, reform, rows, names)
        n = len(rows)
        ids = table.column("claim_id").combine_chunks().cast(pa.string()) if "claim_id" in table.column_names \
            else pa.nulls(n, pa.string())
        dates = _dates(self.baseline, table, n)
        return tally_batch(names, b, r, dimensions(self.baseline, table), rows, ids, dates, self.thresholds), base


def side_schema(policy: ir.Policy) -> pa.Schema:
    """The result columns columns.side reads: a simulation builds no others (outputs as text, year-to-dates,
    notes are for `eval`'s results file)."""
    return pa.schema([f for f in result_schema(policy) if f.name in ("row", "applicable", "reason", "psn_no", "year")
                      or f.name.startswith(("setl.", "na.setl.", "na.out."))])


def _evaluate(engine: Engine, table: pa.Table, rows: np.ndarray, schema: pa.Schema | None) -> BatchOutput:
    """A batch through an engine; the vectorized one builds only the columns of `schema` (others build all)."""
    if schema is not None and engine.name == "vectorized":
        return engine.evaluate(table, rows, schema)
    return engine.evaluate(table, rows)


def own_columns(policy: ir.Policy, table: pa.Table) -> pa.Table:
    """The columns this policy reads (its inputs by name or field) and the identifiers: a reform that
    reads a new input (病组平均付费标准) shares the file with a baseline that does not know it, and the
    claim edge refuses a field it does not know."""
    known = set(PASS_THROUGH) | {k for inp in policy.inputs.values() for k in (inp.name, inp.field) if k}
    keep = [n for n in table.column_names if n in known]
    return table if len(keep) == len(table.column_names) else table.select(keep)


def _dates(policy: ir.Policy, table: pa.Table, n: int) -> pa.Array:
    inp = policy.inputs[policy.service_date]
    for column in (inp.field, inp.name):
        if column and column in table.column_names:
            return table.column(column).combine_chunks().cast(pa.string())
    return pa.nulls(n, pa.string())
