"""The corpus of inputs that once broke a command, minimised, one JSON file each, replayed on every CI
run (tests/test_fuzz_corpus.py): {"name": file name, "text" or "base64": the bytes, "found": what broke}."""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from tests.fuzz.harness import Failure, Input, run

CORPUS = Path(__file__).with_name("corpus")


def save(case: Input, failure: Failure, directory: Path = CORPUS) -> Path:
    digest = hashlib.sha256(case.name.encode("utf-8", "surrogatepass") + b"\0" + case.data).hexdigest()[:16]
    entry = {"name": case.name, "found": failure.signature, "message": failure.message}
    try:
        entry["text"] = case.data.decode("utf-8")
    except UnicodeDecodeError:
        entry["base64"] = base64.b64encode(case.data).decode("ascii")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{digest}.json"
    path.write_text(json.dumps(entry, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load(path: Path) -> Input:
    entry = json.loads(path.read_text(encoding="utf-8"))
    data = entry["text"].encode("utf-8") if "text" in entry else base64.b64decode(entry["base64"])
    return Input(entry["name"], data)


def entries(directory: Path = CORPUS) -> list:
    return sorted(directory.glob("*.json"))


def minimise(case: Input, failure: Failure, attempts: int = 300) -> Input:
    """A smaller input with the same signature: delta debugging over lines, then over characters of
    each remaining line, within `attempts` runs."""
    budget = [attempts]

    def still_fails(data: bytes) -> bool:
        if budget[0] <= 0:
            return False
        budget[0] -= 1
        found = run(Input(case.name, data))
        return found is not None and found.signature == failure.signature

    units = case.data.split(b"\n")
    units = _ddmin(units, lambda parts: still_fails(b"\n".join(parts)))
    for i in range(len(units)):
        chars = list(units[i])
        kept = _ddmin(chars, lambda cs: still_fails(b"\n".join(units[:i] + [bytes(cs)] + units[i + 1:])))
        units[i] = bytes(kept)
    return Input(case.name, b"\n".join(units))


def _ddmin(parts: list, fails) -> list:
    n = 2
    while len(parts) >= 2:
        size = max(1, len(parts) // n)
        chunks = [parts[i:i + size] for i in range(0, len(parts), size)]
        for i in range(len(chunks)):
            rest = [p for j, c in enumerate(chunks) if j != i for p in c]
            if rest and fails(rest):
                parts, n = rest, max(n - 1, 2)
                break
        else:
            if n >= len(parts):
                break
            n = min(len(parts), n * 2)
    return parts
