"""The 绍兴 rules (policies/shaoxing-2024.pol) as an OpenFisca (openfisca-core) model, for bench_batch.py.

Why: issue 14 compares the vectorized back end with the established rules-as-code engine on the same
claims, for speed and for exactness. The model is written the way OpenFisca models are: a person entity
(here one claim), a group entity (the patient's 医保年度, whose members are its claims in date order), and
one Variable per rule with a numpy formula. Money is OpenFisca's `float` (numpy float32, the library's
choice for float variables), and rounding to the fen is `numpy.round`, as models usually write it. The
bench counts the claims where its 统筹支付 differs from policylang's exact one by a fen or more.

OpenFisca has no running total over a group's members, so the cap reads the group's members in order
(`members_entity_id`, `members_position`) and takes a cumulative sum in numpy inside the formula: the same
closed form as numpy_shaoxing.py, in float32.
"""
from __future__ import annotations

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.periods import YEAR
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable


PERIOD = "2024"  # one period: a claim's 医保年度 is carried by the group entity, not by OpenFisca periods

Claim = build_entity(key="claim", plural="claims", label="一次就诊结算", is_person=True)
PatientYear = build_entity(key="patient_year", plural="patient_years", label="参保人的一个医保年度",
                           roles=[{"key": "visit", "plural": "visits", "label": "就诊"}])


def _input(name: str, value_type, label: str, default=0):
    return type(name, (Variable,), {"value_type": value_type, "entity": Claim, "definition_period": YEAR,
                                    "label": label, "default_value": default})


INPUTS = [
    _input("in_force", bool, "就诊日期在施行期内", False),
    _input("resident", bool, "城乡居民", False),
    _input("kind_in_scope", bool, "普通门诊、急诊或门诊慢特病", False),
    _input("chronic", bool, "门诊慢特病", False),
    _input("level", int, "机构级别 (0 基层 … 5 定点零售药店)"),
    _input("tb", bool, "肺结核", False),
    _input("place", int, "就医地 (0 市内, 1 备案地, 2 其他异地)"),
    _input("registered", bool, "已备案慢病", False),
    _input("inscp", float, "政策范围内费用（元）"),
    _input("other", float, "其他门诊应付（元，缺省为 -1）", -1),
]


class own_rate(Variable):
    value_type, entity, definition_period, label = bool, Claim, YEAR, "第（六）条规定了报销比例"

    def formula(claim, period):
        place, level = claim("place", period), claim("level", period)
        return claim("chronic", period) * ((place == 0) + (place == 1) * (level != 5))


class applicable(Variable):
    value_type, entity, definition_period, label = bool, Claim, YEAR, "在本文件范围内"

    def formula(claim, period):
        known = (~claim("registered", period)) + claim("own_rate", period) + (claim("other", period) >= 0)
        return claim("in_force", period) * claim("resident", period) * claim("kind_in_scope", period) * known


class rate(Variable):
    value_type, entity, definition_period, label = float, Claim, YEAR, "慢性病门诊报销比例"

    def formula(claim, period):
        level = claim("level", period)
        by_level = np.array([0.65, 0.15, 0.5, 0.15, 0.15, 0.15])[np.clip(level, 0, 5)]
        return np.where((level == 0) * claim("tb", period), 0.7, by_level)


class due(Variable):
    value_type, entity, definition_period, label = float, Claim, YEAR, "计限额前的统筹支付"

    def formula(claim, period):
        computed = np.round(claim("inscp", period) * claim("rate", period), 2)
        return np.where(claim("own_rate", period), computed, claim("other", period))


class pay(Variable):
    value_type, entity, definition_period, label = float, Claim, YEAR, "统筹支付（限额 1200 元/医保年度）"

    def formula(claim, period):
        counted = claim("applicable", period) * claim("registered", period)
        amount = np.where(counted, claim("due", period), 0).astype(np.float32)
        years = claim.simulation.populations["patient_year"]
        group, position = years.members_entity_id, years.members_position
        order = np.lexsort((position, group))
        running = np.cumsum(amount[order])
        start = np.ones(len(order), dtype=bool)
        start[1:] = group[order][1:] != group[order][:-1]
        first = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
        after_sorted = running - (running - amount[order])[first]
        after = np.empty_like(after_sorted)
        after[order] = after_sorted
        before = after - amount
        paid = np.minimum(1200, after) - np.minimum(1200, before)
        return np.where(counted, paid, -1)


class ShaoxingSystem(TaxBenefitSystem):
    def __init__(self):
        super().__init__([Claim, PatientYear])
        for variable in (*INPUTS, own_rate, applicable, rate, due, pay):
            self.add_variable(variable)


def simulate(c: dict, system: ShaoxingSystem | None = None) -> np.ndarray:
    """统筹支付 in yuan (float32; -1 where not applicable) for the claims of numpy_shaoxing.columns(…).

    Claims must come person by person in date order (as synth writes them): a patient-year's members are
    its claims in that order."""
    system = system or ShaoxingSystem()
    year = c["day"].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    starts = np.ones(len(year), dtype=bool)
    starts[1:] = (c["person"][1:] != c["person"][:-1]) | (year[1:] != year[:-1])
    group = np.cumsum(starts) - 1
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("claim", np.arange(len(year)))
    years = builder.declare_entity("patient_year", np.arange(group[-1] + 1))
    builder.join_with_persons(years, group, ["visit"] * len(group))
    simulation = builder.build(system)
    values = {"in_force": c["day"] >= np.datetime64("2024-01-01", "D").astype(np.int64), "resident": c["resident"],
              "kind_in_scope": c["kind_in_scope"], "chronic": c["chronic"], "level": c["level"], "tb": c["tb"],
              "place": c["place"], "registered": c["registered"],
              "inscp": c["inscp"] / 100.0, "other": np.where(c["other"] >= 0, c["other"] / 100.0, -1.0)}
    for name, value in values.items():
        simulation.set_input(name, PERIOD, value)
    return simulation.calculate("pay", PERIOD)
