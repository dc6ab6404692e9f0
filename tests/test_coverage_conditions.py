"""Coverage counts every condition, bare or compared, and each side of and / or / not.

Before, only comparisons were items: `if 贫困人员 then … else …` with no 贫困 example reported
everything exercised, while `if 贫困人员 == true` was tracked.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from policylang.pipeline import load_policy, policy_files
from policylang.testing import coverage

ROOT = Path(__file__).resolve().parent.parent

HEADER = """policy "p" {
  document "d"
  in force from 2024-01-01
}

use prelude

input 贫困人员: bool "特困、低保等救助对象"
input 签约: bool "家庭医生签约"
rule 已结算: bool = true
"""
FIRST = HEADER.count("\n") + 1  # the line of the body's first line


def claim(**given) -> str:
    values = {"就诊日期": "2024-03-01", "政策范围内费用": "100元", "贫困人员": "false", "签约": "false", **given}
    return "claim { " + ", ".join(f"{k} = {v}" for k, v in values.items()) + " }\n  expect { 已结算 = true }"


def gaps(tmp_path, body: str, *claims: str) -> list[str]:
    examples = "".join(f'example "e{i}" {{\n  {c}\n}}\n' for i, c in enumerate(claims))
    path = tmp_path / "p.pol"
    path.write_text(HEADER + body + "\n" + examples, encoding="utf-8")
    return [f"{g.span.line}:{g.span.col} {g.text}" for g in coverage(load_policy(path)) if g.kind == "branch"]


def at(body: str, fragment: str, nth: int = 0) -> str:
    """line:col of the nth occurrence of fragment in body."""
    index = -1
    for _ in range(nth + 1):
        index = body.index(fragment, index + 1)
    line = body.count("\n", 0, index)
    col = index - (body.rfind("\n", 0, index) + 1) + 1
    return f"{FIRST + line}:{col}"


@pytest.mark.parametrize("condition", ["贫困人员", "贫困人员 == true"])
def test_a_condition_is_an_item_bare_or_compared(tmp_path, condition):
    body = f"output 比例: rate = if {condition} then 90% else 70%\n"
    assert gaps(tmp_path, body, claim()) == [f"{at(body, condition)} `{condition}` is never true"]
    assert gaps(tmp_path, body, claim(), claim(贫困人员="true")) == []


def test_each_side_of_and_or_not(tmp_path):
    body = "output 比例: rate = if 贫困人员 and not 签约 then 90% else if 签约 or 贫困人员 then 80% else 70%\n"
    found = gaps(tmp_path, body, claim(贫困人员="true"), claim(贫困人员="true", 签约="true"))
    assert found == [
        f"{at(body, '贫困人员')} `贫困人员` is never false",
        f"{at(body, '签约 or 贫困人员')} `签约 or 贫困人员` is never false",
        f"{at(body, '签约', 1)} `签约` is never false",
        f"{at(body, '贫困人员', 1)} `贫困人员` is never false",  # `签约` was true the one time: never read
        f"{at(body, '贫困人员', 1)} `贫困人员` is never true",
    ]
    assert gaps(tmp_path, body, claim(贫困人员="true"), claim(贫困人员="true", 签约="true"), claim(),
                claim(贫困人员="false", 签约="false")) == [
        f"{at(body, '贫困人员', 1)} `贫困人员` is never true",  # reached only with 贫困人员 false
    ]


def test_not_is_covered_through_its_operand(tmp_path):
    body = "output 比例: rate = if not 签约 then 90% else 70%\n"
    assert gaps(tmp_path, body, claim()) == [f"{at(body, '签约')} `签约` is never true"]


def test_an_operand_short_circuit_skipped_is_not_exercised(tmp_path):
    body = "output 比例: rate = if 贫困人员 and 签约 then 90% else 70%\n"
    found = gaps(tmp_path, body, claim(), claim(签约="true"))  # 贫困人员 false both times: 签约 never read
    assert f"{at(body, '贫困人员')} `贫困人员` is never true" in found
    assert f"{at(body, '签约')} `签约` is never true" in found and f"{at(body, '签约')} `签约` is never false" in found


def test_update_when_and_scope_require_are_conditions(tmp_path):
    body = ('accumulator 次数: number per person per 医保年度\n'
            'update 次数 += 1 when 签约\n'
            'scope {\n  require not 贫困人员 else "救助对象另行结算"\n}\n'
            'output 比例: rate = 70%\n')
    assert gaps(tmp_path, body, claim()) == [f"{at(body, '签约')} `签约` is never true",
                                              f"{at(body, '贫困人员')} `贫困人员` is never true"]


def test_a_condition_the_policy_settles_is_not_an_item(tmp_path):
    body = ('rule 仅限签约机构: bool = false\n'
            'output 比例: rate = if not 仅限签约机构 or 贫困人员 then 90% else 70%\n')
    # `not 仅限签约机构` is always true: neither it nor `贫困人员` (never evaluated) can be exercised.
    assert gaps(tmp_path, body, claim()) == []
    flipped = body.replace("= false", "= true")  # now `贫困人员` decides, and is an item again
    assert gaps(tmp_path, flipped, claim()) == [f"{at(flipped, 'not 仅限')} `not 仅限签约机构 or 贫困人员` is never true",
                                                 f"{at(flipped, '贫困人员')} `贫困人员` is never true"]


@pytest.mark.parametrize("path", policy_files([ROOT / "policies"]), ids=lambda p: p.name)
def test_every_policy_exercises_everything(path):
    assert [f"{g.kind} {g.span} {g.text}" for g in coverage(load_policy(path))] == []


def test_a_presence_test_is_not_asked_to_be_false():
    """`x >= 0元` on a money input and `e in {every member}` are true whenever given: no example can make
    them false (绍兴 requires 其他门诊应付 this way), so coverage must not report them."""
    for name in ("shaoxing-2024.pol", "zibo-2023.pol"):
        found = coverage(load_policy(Path(__file__).resolve().parent.parent / "policies" / name))
        assert not found, found
