"""The published ratio matrix and chart headline the ordinary claim, never an exception.

`policylang/publish/representative.py` orders each input's values most ordinary first (the policy's
examples, then the rules' structure, then a fixed order); the matrix and the chart both use it.
For every policy in `policies/` the expected headline cells are listed here, and a county policy
with a penalty branch (未办理转诊手续 40%) and a +5pp group headlines neither, with or without its
examples.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from policylang.pipeline import load_policy, load_text, policy_files
from policylang.publish import chart
from policylang.publish.matrix import ratio_matrices
from policylang.publish.representative import Preferences

ROOT = Path(__file__).resolve().parent.parent
COUNTY = ROOT / "tests" / "publish" / "policies" / "county-inpatient-referral.pol"

# policy stem -> {(险种, 就诊类型, 机构级别): (headline, exceptions that must be listed under it)}
HEADLINES = {
    "shaoxing-2024": {
        ("城乡居民", "门诊慢特病", "基层"): ("65%", ["病种为肺结核：70%"]),
        ("城乡居民", "门诊慢特病", "二级"): ("50%", []),
        ("城乡居民", "门诊慢特病", "三级"): ("15%", []),
    },
    "zhejiang-2022-outpatient": {
        ("职工", "普通门诊", "基层"): ("60%", ["人员类别为退休：65%"]),
        ("职工", "普通门诊", "二级"): ("50%", ["人员类别为退休：55%"]),
    },
    "zhoushan-2023-baseline": {
        ("城乡居民", "普通门诊", "基层"): ("60%", []),
        ("城乡居民", "门诊慢特病", "基层"): ("60%", ["病种为肺结核：65%"]),
        ("城乡居民", "普通住院", "基层"): ("80%", []),
        ("城乡居民", "普通住院", "三级"): ("60%", []),
    },
    "zhoushan-2023": {
        ("城乡居民", "普通门诊", "基层"): ("62%", ["家庭医生签约为是：65%"]),
        ("城乡居民", "普通门诊", "二级"): ("55%", []),
        ("城乡居民", "门诊慢特病", "基层"): ("65%", ["病种为肺结核：70%", "家庭医生签约为是：68%"]),
        ("城乡居民", "普通住院", "基层"): ("85%", []),
        ("城乡居民", "普通住院", "二级"): ("75%", []),
        ("城乡居民", "普通住院", "三级"): ("65%", []),
    },
    "zibo-2023": {
        ("城乡居民", "普通门诊", "基层"): ("70%", []),
        ("城乡居民", "普通住院", "基层"): ("85%", []),
        ("城乡居民", "普通住院", "三级"): ("55%", []),
    },
}


def cells(policy) -> dict:
    matrix = ratio_matrices(policy)[0]
    return {(*row.labels, column): cell for row in matrix.rows for column, cell in zip(matrix.columns, row.cells)}


def test_every_policy_has_its_headlines_listed():
    assert {p.stem for p in policy_files([ROOT / "policies"])} == set(HEADLINES)


@pytest.mark.parametrize("stem", sorted(HEADLINES))
def test_the_matrix_headlines_the_ordinary_case(stem):
    found = cells(load_policy(ROOT / "policies" / f"{stem}.pol"))
    for key, (headline, exceptions) in HEADLINES[stem].items():
        assert found[key].text == headline, (key, found[key].text, found[key].exceptions)
        assert set(exceptions) <= set(found[key].exceptions), (key, found[key].exceptions)


def test_zibo_holds_an_ordinary_person_not_a_relief_recipient():
    """救助类别 is named by every rule (特困 first): the old fixed order held 特困 on the public page."""
    matrix = ratio_matrices(load_policy(ROOT / "policies" / "zibo-2023.pol"))[0]
    assert "救助类别：普通" in matrix.held


ORDINARY = {"基层": "90%", "一级": "80%", "二级": "75%", "三级": "65%"}
PLUS_FIVE = {"基层": "95%", "一级": "85%", "二级": "80%", "三级": "70%"}


@pytest.mark.parametrize("examples", [True, False], ids=["with-examples", "structure-alone"])
def test_a_penalty_and_a_bonus_group_are_not_the_headline(examples):
    """The issue's policy: 90/80/75/65% in the county, 40% without 转诊手续 outside it, +5pp for 特困人员 etc.
    The old order headlined 40% in every cell and held 参保身份 at 特困人员."""
    policy = load_policy(COUNTY)
    if not examples:
        policy = dataclasses.replace(policy, examples=())
    found = cells(policy)
    for level, headline in ORDINARY.items():
        cell = found[("城乡居民", "普通住院", level)]
        assert cell.text == headline, (level, cell.text, cell.held)
        assert f"参保身份为特困人员、低保对象、返贫致贫人口：{PLUS_FIVE[level]}" in cell.exceptions
        assert cell.held["参保身份"] == "一般居民" and cell.held["就医地"] == "辖区内"
    # the ordinary claim has no 未定级 ratio: the cell says so rather than headline the 40% penalty
    assert found[("城乡居民", "普通住院", "未定级")].text == "未规定"
    assert not any(c.text in ("40%", "95%") for c in found.values())


def test_the_chart_draws_the_claim_the_matrix_holds():
    policy = load_policy(COUNTY)
    model = chart._Model.build(policy)
    base = model.representative()
    held = cells(policy)[("城乡居民", "普通住院", "基层")].held
    assert base["就医地"] == held["就医地"] == "辖区内"
    assert base["参保身份"] == held["参保身份"] == "一般居民"
    assert "已办理转诊手续" not in base  # left out, as a county claim is


HEADER = 'policy "测试" { in force from 2024-01-01 }\nuse prelude\n'


@pytest.mark.parametrize("body, name, ordinary", [
    # a bonus written as the adjusted branch: the plain branch is the ordinary one
    ("input 签约: bool \"签约\"\noutput 比例: rate = if 签约 then 60% + 3pp else 60%\n", "签约", False),
    # a penalty written ok-first: the flat constant beside the schedule is the exception
    ("input 已转诊: bool \"已转诊\"\ntable 级别比例 (机构级别) -> rate first {\n  基层 -> 90%\n  _ -> 70%\n}\n"
     "output 比例: rate = if 已转诊 then 级别比例 else 40%\n", "已转诊", True),
    # points added for a group: the zero side is the ordinary one
    ("input 困难: bool \"困难群体\"\nrule 加点: points = if not 困难 then 0pp else 5pp\n"
     "output 比例: rate = 60% + 加点\n", "困难", False),
])
def test_the_structure_finds_the_ordinary_side_of_a_flag(body, name, ordinary):
    policy = load_text(HEADER + body)
    assert Preferences(policy).order(policy.inputs[name])[0] is ordinary


def test_the_county_policy_passes_its_own_examples():
    from policylang.testing import run_examples
    results = run_examples(load_policy(COUNTY))
    assert results and all(r.passed for r in results)
