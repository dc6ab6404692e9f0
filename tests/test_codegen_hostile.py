"""Text from a .pol file never becomes executable Python in the compiled evaluator."""
from __future__ import annotations

import ast
import datetime
import re
from decimal import Decimal

import pytest

from policylang.backends.interpreter import Interpreter
from policylang.backends.python import RUNTIME_NAMES, compile_policy, generate_source
from policylang.pipeline import load_text

PAYLOADS = [
    '"); __import__("os").system("touch /tmp/policylang-pwned"); ("',
    "\n__import__('os').system('touch /tmp/policylang-pwned')\n",
    "'''; import os; os.system('touch /tmp/policylang-pwned'); '''",
    '""" + __import__("os").getcwd() + """',
    "{__import__('os').system('touch /tmp/policylang-pwned')}",
    "\\ \t tab and a backslash at the end \\",
    "\u202e RTL override and \u0430 (Cyrillic a) and ｉｍｐｏｒｔ (fullwidth)",
]
HOSTILE_NAMES = ["__import__", "exec", "eval", "os", "claim", "state", "day", "r0", "K0", "check", "Outcome",
                 "__builtins__", "ｅｖａｌ", "раss", "None_"]


def pol_string(text: str) -> str:
    """The .pol spelling of a string: backslash escapes for \\, " and newlines."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def hostile_policy(text: str, name: str) -> str:
    reason = pol_string(text)
    return f'''
policy "{reason}" {{
  document "{reason}"
  issuer "{reason}"
  in force from 2024-01-01
}}
use prelude
enum {name}类 {{
  {name} "{reason}"
  import "{reason}"
}}
input {name}: {name}类 "{reason}"
input x{name}: money "{reason}"
scope clause "{reason}" {{
  require 险种 == 城乡居民 else "{reason}"
}}
accumulator {name}累计: money per person per 医保年度 "{reason}" = 0元
table {name}表 ({name}) -> rate first clause "{reason}" "{reason}" {{
  {name} -> 50% clause "{reason}"
  import -> not applicable "{reason}"
}}
output {name}输出: money clause "{reason}" "{reason}" = x{name} × {name}表
output {name}理由: money = if x{name} > 100元 then not applicable "{reason}" else 1元
update {name}累计 += {name}输出
'''


ALLOWED_NAME = re.compile(r"^([rianbtKMm]\d+|day|claim|state|exc|hits|c\d+|amount|base|bands|disorder|evaluate)$")
ALLOWED_GLOBALS = set(RUNTIME_NAMES) | {"Decimal", "localcontext", "datetime", "frozenset", "min", "max", "len"}


@pytest.mark.parametrize("reason", PAYLOADS)
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_text_stays_data(tmp_path, reason, name):
    marker = __import__("pathlib").Path("/tmp/policylang-pwned")
    marker.unlink(missing_ok=True)
    policy = load_text(hostile_policy(reason, name), "hostile.pol")
    source = generate_source(policy)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert ALLOWED_NAME.match(node.id) or node.id in ALLOWED_GLOBALS, node.id
        if isinstance(node, ast.FunctionDef):
            assert ALLOWED_NAME.match(node.name), node.name
        if isinstance(node, ast.Attribute):
            assert node.attr in ("date", "get", "append", "reason", "quantize", "__class__", "add", "subtract",
                                 "multiply", "minus"), node.attr
        assert not isinstance(node, (ast.JoinedStr, ast.Lambda, ast.Global, ast.Nonlocal, ast.Delete))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert node in tree.body[:4]
    evaluate = compile_policy(policy)
    for member, amount in ((name, "50.00"), ("import", "50.00"), (name, "500.00")):
        claim = {"就诊日期": datetime.date(2024, 5, 1), "险种": "城乡居民", name: member,
                 f"x{name}": Decimal(amount)}
        got = evaluate(claim, {})
        assert got == Interpreter(policy).evaluate(claim, {})
    out = evaluate({"就诊日期": datetime.date(2024, 5, 1), "险种": "职工", name: name, f"x{name}": Decimal(1)}, {})
    assert out.reason == policy.scope[0].message
    assert not marker.exists()
    assert policy.meta.title == policy.scope[0].message == reason
