"""The VS Code extension (editors/vscode): its TextMate grammar passes the grammar tests
(vscode-tmgrammar-test from npm, installed by `make test`'s editor-deps step from the lockfile), a
wrong expectation makes them fail, and the grammar knows every keyword of grammar/policy.lark.

Without npm's tool the runs skip, or fail when POLICYLANG_REQUIRE_SYSTEM_DEPS is set (as in CI).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
TOOL = VSCODE / "node_modules" / ".bin" / "vscode-tmgrammar-test"
GRAMMAR = VSCODE / "syntaxes" / "policylang.tmLanguage.json"
CASES = VSCODE / "tests" / "grammar.syntax-test"


def _tool() -> Path:
    if TOOL.exists() and shutil.which("node"):
        return TOOL
    why = "vscode-tmgrammar-test is not installed (make editor-deps needs node and npm)"
    if os.environ.get("POLICYLANG_REQUIRE_SYSTEM_DEPS"):
        pytest.fail(why)
    pytest.skip(why)


def _run(cases: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(_tool()), "--compact", str(cases), "-g", str(GRAMMAR)], cwd=VSCODE,
                          capture_output=True, text=True, timeout=120)


def test_grammar_tests_pass():
    result = _run(CASES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_expectation_fails(tmp_path):
    """The runner really checks the scopes: the same cases with one expectation changed fail."""
    text = CASES.read_text(encoding="utf-8")
    broken = tmp_path / "broken.syntax-test"
    broken.write_text(text.replace("support.function.policylang", "string.quoted.double.policylang", 1),
                      encoding="utf-8")
    result = _run(broken)
    assert result.returncode != 0, result.stdout


def test_the_grammar_knows_every_keyword():
    lark = re.sub(r"//[^\n]*", "", (ROOT / "grammar" / "policy.lark").read_text(encoding="utf-8"))
    keywords = set(re.findall(r'"([a-z]+)"', lark))
    patterns = json.dumps(json.loads(GRAMMAR.read_text(encoding="utf-8"))["repository"], ensure_ascii=False)
    missing = sorted(k for k in keywords if not re.search(rf"[(|:]{k}[|)]", patterns))
    assert not missing, f"keywords of grammar/policy.lark the TextMate grammar does not colour: {missing}"


def test_the_extension_declares_language_grammar_and_server():
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    contributes = package["contributes"]
    assert contributes["languages"][0]["extensions"] == [".pol"]
    assert (VSCODE / contributes["grammars"][0]["path"]).exists()
    config = json.loads((VSCODE / contributes["languages"][0]["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert ["{", "}"] in config["brackets"] and ["(", ")"] in config["brackets"]
    assert contributes["configuration"]["properties"]["policylang.server.args"]["default"] == ["lsp"]
    lock = json.loads((VSCODE / "package-lock.json").read_text(encoding="utf-8"))
    assert "node_modules/vscode-tmgrammar-test" in lock["packages"]
