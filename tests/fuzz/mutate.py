"""Fuzz inputs from the real policies: byte and token mutations, line edits, splices of two files,
deep nesting, long literals, big tables, hostile file names, titles and paths.

Every generator takes a `random.Random`, so a run is reproduced from its seed.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from policylang.syntax.parser import TOP_KEYWORDS
from tests.fuzz.harness import Input

ROOT = Path(__file__).resolve().parents[2]
POLICIES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "policies").glob("*.pol"))]
SEEDS = POLICIES + [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "composition").glob("*.pol"))
                    + sorted((ROOT / "guidelines").glob("*.pol"))]
GRAMMAR = (ROOT / "policylang" / "syntax" / "policy.lark").read_text(encoding="utf-8")
KEYWORDS = sorted(set(re.findall(r'"([^"\s]+)"', GRAMMAR)))
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\d+(?:\.\d+)?(?:元|%|pp)?|[\w]+|\S')
TOP = re.compile(r"^(?=policy|guideline|use|enum|input|scope|accumulator|rule|output|table|brackets|update|"
                 r"example|property|invariant|constraint|amend|quote|assumption)", re.M)
HOSTILE_NAMES = [
    "javascript:alert(document.domain).pol", "{{7*7}}.pol", "{% raw %}.pol", "<script>alert(1)</script>.pol",
    "a\"b'c.pol", "..pol", "-rf.pol", "%2e%2e.pol", "空 格.pol", "\u202eloP.pol", "a" * 240 + ".pol",
    "con.pol", "x#y?z.pol", "\\back.pol", "data:text,x.pol",
]
HOSTILE_TEXT = ["{{7*7}}", "{% raw %}", "--><script>alert(1)</script>", "\"", "\\", "</title>", "`", "*_[]|",
                "\u202e", "\u0000", "\u2028", "# ", "1. ", "&amp;", "javascript:alert(1)"]
HOSTILE_PATHS = ["/etc/passwd", "../../../../etc/hostname", "a" * 5000 + ".pol", "x\u0000.pol", "", ".", "..",
                 "/", "fuzz.pol", "~/.ssh/id_rsa", "C:\\\\Windows\\\\win.ini", "ok.pol/../../x.pol"]
NUMBER = re.compile(r"\d+(?:\.\d+)?(?=元|%|pp|\b)")


def header_free(text: str) -> str:
    """A seed without its `extends` / `conforms to` (relative paths that do not exist in the work dir)."""
    return re.sub(r'\s*(extends|conforms to) "[^"]*"', "", text)


def seed(rng: random.Random) -> str:
    text = rng.choice(SEEDS)
    return header_free(text) if rng.random() < 0.8 else text


def _tokens(text: str) -> list:
    return TOKEN.findall(text)


def byte_flip(rng, text):
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        i = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.4:
            data[i] = rng.randrange(256)
        elif choice < 0.7:
            del data[i]
        else:
            data.insert(i, rng.randrange(256))
    return bytes(data)


def token_edit(rng, text):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 5)):
        i = rng.randrange(len(lines))
        toks = _tokens(lines[i])
        if not toks:
            continue
        j = rng.randrange(len(toks))
        op = rng.random()
        if op < 0.3:
            del toks[j]
        elif op < 0.5:
            toks.insert(j, toks[j])
        elif op < 0.8:
            toks[j] = rng.choice(KEYWORDS + ["0元", "100%", "2pp", "1.5", "2024-13-01", "not applicable", "_"])
        else:
            k = rng.randrange(len(toks))
            toks[j], toks[k] = toks[k], toks[j]
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
        lines[i] = indent + " ".join(toks)
    return "\n".join(lines)


def line_edit(rng, text):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        op = rng.random()
        if op < 0.4:
            del lines[i]
        elif op < 0.7:
            lines.insert(i, lines[j])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            lines = [""]
    return "\n".join(lines)


def splice(rng, text):
    """Declarations of another policy inserted among this one's (the resolver sees strange company)."""
    other = TOP.split(header_free(rng.choice(SEEDS)))
    mine = TOP.split(text)
    for _ in range(rng.randint(1, 4)):
        mine.insert(rng.randrange(1, len(mine) + 1), rng.choice(other[1:] or other))
    return "".join(part if part.endswith("\n") else part + "\n" for part in mine)


def deep_nesting(rng, text):
    depth = rng.choice([rng.randint(1, 60), rng.randint(40, 60), rng.randint(60, 300)])
    form = rng.choice(["min", "max", "paren", "sum", "if", "not"])
    if form in ("min", "max"):
        expr = f"{form}(" * depth + "政策范围内费用" + ", 1元)" * depth
    elif form == "paren":
        expr = "(" * depth + "政策范围内费用" + ")" * depth
    elif form == "sum":
        expr = " + ".join(["政策范围内费用"] * depth)
    elif form == "if":
        expr = "if 政策范围内费用 > 1元 then " * depth + "1元" + " else 0元" * depth
    else:
        expr = "if " + "not " * depth + "true then 1元 else 0元"
    return text + f"\noutput 模糊深度: money = {expr}\n"


def long_literal(rng, text):
    def longer(m):
        whole = "".join(rng.choice("0123456789") for _ in range(rng.choice([rng.randint(1, 20), rng.randint(14, 90)])))
        if rng.random() < 0.5:
            return whole
        return whole + "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 80)))
    count = [0]

    def maybe(m):
        count[0] += 1
        return longer(m) if rng.random() < 0.2 else m.group(0)
    return NUMBER.sub(maybe, text)


def big_table(rng, text):
    # mostly small; near the limit (a 500-row table takes the checker ~10 s) and far past it now and then
    rows = rng.choice([rng.randint(1, 50)] * 8 + [rng.randint(450, 520), rng.randint(900, 1200)])
    kind = rng.choice(["money", "rate"])
    lines = [f"  {i * 10}元 -> {i}{'元' if kind == 'money' else '%'}" if rng.random() < 0.9
             else f"  < {i * 10}元 -> {i % 100}{'元' if kind == 'money' else '%'}" for i in range(rows)]
    use = "T模糊" if kind == "money" else "政策范围内费用 × T模糊"
    return (text + "\ntable T模糊 (政策范围内费用) -> " + kind + " first {\n" + "\n".join(lines)
            + "\n  default -> 0" + ("元" if kind == "money" else "%") + "\n}\n"
            + f"output 模糊表: money = {use}\n")


def hostile_text(rng, text):
    s = rng.choice(HOSTILE_TEXT)
    return re.sub(r'"([^"\n]*)"', lambda m: '"' + (s + m.group(1) if rng.random() < 0.3 else m.group(1)) + '"', text)


def hostile_path(rng, text):
    word = rng.choice(["extends", "conforms to"])
    path = rng.choice(HOSTILE_PATHS)
    return re.sub(r"(in force from)", f'{word} "{path}"\n  \\1', text, count=1)


# ---- slices: a policy cut down to a few outputs and what they read -----------------------------------------
# Most of a mutant is its seed unchanged, and every command's cost grows with the policy (check most of all):
# a slice keeps the header, the vocabulary, scope and constraints, one to three outputs with the definitions
# they read (by name, from the text), the updates of the year-to-dates kept, and the properties, examples and
# quotes that name nothing left out. The back ends then spend their time on what the mutation touched.
DECL = re.compile(r"^(?=(?:%s)\b)" % "|".join(TOP_KEYWORDS), re.M)
_DEFINES = re.compile(r"(rule|output|assumption|table|brackets|accumulator|fact)\s+([^\W\d]\w*)")
_UPDATES = re.compile(r"update\s+([^\W\d]\w*)")
_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
_WORD = re.compile(r"[^\W\d]\w*")
_ALWAYS = ("policy", "use", "enum", "input", "year", "fact", "page", "scope", "constraint", "amend", "guideline")


def _declarations(text: str) -> list:
    """(kind, name defined or updated, names read, text) of each top-level declaration, in order."""
    out = []
    for chunk in DECL.split(text):
        kind = chunk.split(None, 1)[0] if chunk.strip() else ""
        defined, updated = _DEFINES.match(chunk), _UPDATES.match(chunk)
        name = defined.group(2) if defined else updated.group(1) if updated else None
        out.append((kind, name, set(_WORD.findall(_SKIP.sub(" ", chunk))) - {name}, chunk))
    return out


def slice_policy(rng: random.Random, text: str) -> str:
    decls = _declarations(text)
    defined = {name: i for i, (kind, name, _, _) in enumerate(decls) if name and kind != "update"}
    # the roots: outputs, or (more often: an output reads most of its policy) any rule, table or brackets
    kinds = ("output",) if rng.random() < 0.3 else ("output", "rule", "assumption", "table", "brackets")
    outputs = [i for i, (kind, *_) in enumerate(decls) if kind in kinds]
    alone = 'extends "' not in text  # without the policy it extends, an `amend` has nothing to amend
    keep = {i for i, (kind, *_) in enumerate(decls) if (kind in _ALWAYS and not (alone and kind == "amend")) or kind == ""}
    keep |= set(rng.sample(outputs, min(len(outputs), rng.choice([1, 1, 2, 3]))))
    while True:
        reads = {defined[n] for i in keep for n in decls[i][2] if n in defined}
        updates = {i for i, (kind, name, _, _) in enumerate(decls) if kind == "update" and defined.get(name) in keep}
        if reads | updates <= keep:
            break
        keep |= reads | updates
    names = {decls[i][1] for i in keep}
    for i, (kind, _, reads, chunk) in enumerate(decls):
        if kind in ("property", "example") and all(n in names for n in reads if n in defined) and rng.random() < 0.5:
            keep.add(i)
    kept = "".join(decls[i][3] for i in sorted(keep))
    for i, (kind, _, _, chunk) in enumerate(decls):
        clause = re.match(r'quote\s+("[^"\n]*")', chunk) if kind == "quote" else None
        if clause and f"clause {clause.group(1)}" in kept:
            keep.add(i)
    return "".join(decls[i][3] for i in sorted(keep))


MUTATORS = [byte_flip, token_edit, token_edit, line_edit, splice, deep_nesting, long_literal, big_table,
            hostile_text, hostile_path]


# Mutations that keep a policy valid (or make it invalid in one known way), so most inputs reach the back
# ends; the others mostly stop in the front end, which must then give a diagnostic.
STRUCTURAL = [deep_nesting, long_literal, big_table, hostile_text, hostile_path]


SLICED = 0.85  # the share of inputs from a real policy that start from a slice of it
POLICIES_SET = set(POLICIES)


def whole_or_slice(rng: random.Random, text: str) -> str:
    return slice_policy(rng, text) if rng.random() < SLICED else text


def generate(rng: random.Random) -> Input:
    """One input: a real policy with one structural mutation, or any seed with one to three of any kind;
    a plain or hostile file name."""
    if rng.random() < 0.5:
        data = rng.choice(STRUCTURAL)(rng, whole_or_slice(rng, header_free(rng.choice(POLICIES))))
    else:
        data = seed(rng)
        if rng.random() < SLICED and data in POLICIES_SET:
            data = slice_policy(rng, data)
        for mutator in rng.sample(MUTATORS, rng.randint(1, 3)):
            if isinstance(data, bytes):
                data = data.decode("utf-8", "replace")
            data = mutator(rng, data)
    name = rng.choice(HOSTILE_NAMES) if rng.random() < 0.1 else "fuzz.pol"
    return Input(name, data if isinstance(data, bytes) else data.encode("utf-8"))
