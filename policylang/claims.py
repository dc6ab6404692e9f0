"""Claims at the edges: read claims in the platform's or the policy's words, exactly; write results.

Money is read from its text (a JSON number never passes through a float); more
than two decimals, a negative amount, NaN or Infinity is refused. Every bad field
is reported with the claim's position, never dropped.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from policylang import ir
from policylang.diagnostics import did_you_mean
from policylang.domains import describe, domain, show, state_problem
from policylang.platform import is_fund, sources
from policylang.runtime import ZERO, NotApplicable, Outcome, format_value, missing_input
from policylang.year import Totals, once_update

# Digits are ASCII everywhere (re.ASCII): a full-width １２３ is refused in money, numbers and dates alike,
# never read as a number by one field and refused by another.
MONEY_TEXT = re.compile(r"^\d+(\.\d{1,2})?$", re.ASCII)
NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$", re.ASCII)
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$", re.ASCII)
COMPACT_DATE = re.compile(r"^\d{8}$", re.ASCII)  # 20240110: how some settlement exports write a day
CODE_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$", re.ASCII)
FULL_WIDTH = re.compile(r"[\uff01-\uff5e\u3000]")
PASS_THROUGH = ("claim_id", "mdtrt_id", "setl_id", "psn_name", "fixmedins_code", "fixmedins_name", "state")
TRUE_TEXT, FALSE_TEXT = ("true", "1", "是", "yes"), ("false", "0", "否", "no")


@dataclass(frozen=True)
class ClaimError:
    position: str
    field: str | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.position}: field `{self.field}`" if self.field else self.position
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


class StateError(ValueError):
    """A bad year-to-date in a claim's `state`: where inside it (".二级"), what, and how to write it."""

    def __init__(self, where: str, message: str, hint: str = ""):
        super().__init__(message)
        self.where, self.message, self.hint = where, message, hint


@dataclass(frozen=True)
class Claim:
    position: str
    values: dict  # input name -> typed value
    state: dict  # accumulator seed given with the claim (year-to-date before it)
    extra: dict  # pass-through identifiers
    notes: dict = field(default_factory=dict)  # field -> what a reader should know of how it was read


class ClaimReader:
    """Turns raw records (dicts of JSON values or CSV strings) into typed claims of one policy."""

    def __init__(self, policy: ir.Policy):
        self.policy = policy
        self.by_key: dict[str, str] = {}
        for name, inp in policy.inputs.items():
            self.by_key[name] = name
            if inp.field:
                self.by_key[inp.field] = name

    def read_all(self, records) -> tuple[list[Claim], list[ClaimError]]:
        """Every (position, record) read, all errors at once: what `eval` and the service both refuse by."""
        claims, errors = [], []
        for position, record in records:
            claim, claim_errors = self.read(record, position)
            errors.extend(claim_errors)
            if claim is not None:
                claims.append(claim)
        return claims, errors

    def read(self, record, position: str) -> tuple[Claim | None, list[ClaimError]]:
        errors: list[ClaimError] = []
        if not isinstance(record, dict):
            return None, [ClaimError(position, None, "a claim must be a JSON object")]
        values, extra, state, invalid, notes = {}, {}, {}, set(), {}
        for key in getattr(record, "duplicates", ()):
            errors.append(ClaimError(position, key, "given twice in the same claim", "give each field once"))
        for key, raw in record.items():
            if key in PASS_THROUGH:
                if key == "state":
                    state = self.read_state(raw, position, errors)
                    continue
                if isinstance(raw, (str, Decimal, int)) and not isinstance(raw, bool):
                    extra[key] = format_value(raw)
                elif raw is not None:
                    errors.append(ClaimError(position, key, f"an identifier must be a string or a number, found "
                                             f"{shown(raw)}", "it is copied into the result as text"))
                    continue
                if key not in self.by_key:  # mdtrt_id is also the prelude's 就诊ID (once per 就诊ID)
                    continue
            name = self.by_key.get(key)
            if name is None:
                if raw in (None, ""):
                    continue
                errors.append(ClaimError(position, key, "unknown field",
                                         did_you_mean(key, self.by_key) or "not an input of this policy"))
                continue
            if name in values:
                errors.append(ClaimError(position, key, f"given twice (as `{name}` and its platform name)"))
                continue
            if raw is None or raw == "":
                continue
            try:
                values[name] = self.convert(self.policy.inputs[name], raw, notes)
            except ValueError as exc:
                errors.append(ClaimError(position, key, str(exc)))
                invalid.add(name)
        for name, inp in self.policy.inputs.items():
            if not inp.optional and name not in values and name not in invalid:
                label = f"{name}" + (f" / {inp.field}" if inp.field else "")
                errors.append(ClaimError(position, label, "missing required field", self.why_required(name)))
        self.check_amounts(values, position, errors)
        if not errors:
            self.check_constraints(values, position, errors)
        if errors:
            return None, errors
        return Claim(position, values, state, extra, notes), []

    def why_required(self, name: str) -> str:
        """What a required input the policy's year needs is for (a rule's input needs no saying)."""
        if name == self.policy.year.date and name != self.policy.service_date:
            return f"it places the claim in its 医保年度 (`year by {name}`)"
        keyed = [a.name for a in self.policy.accumulators.values() if name in a.keys]
        if keyed:
            return f"the year keeps `{keyed[0]}` per {name}"
        if any(u.once == name for u in self.policy.updates):
            return f"the policy counts once per {name} (中途结算)"
        return ""

    def read_state(self, raw, position, errors) -> dict:
        if not isinstance(raw, dict):
            errors.append(ClaimError(position, "state", "must be an object of accumulator values"))
            return {}
        state = {}
        for key in getattr(raw, "duplicates", ()):
            errors.append(ClaimError(position, f"state.{key}", "given twice in the same state"))
        for key, value in raw.items():
            acc = self.policy.accumulators.get(key)
            if acc is None:
                errors.append(ClaimError(position, f"state.{key}", "unknown accumulator",
                                         did_you_mean(key, self.policy.accumulators)))
                continue
            try:
                state[key] = self.read_totals(acc, value)
            except StateError as exc:
                errors.append(ClaimError(position, f"state.{key}{exc.where}", exc.message, exc.hint))
        return state

    def read_totals(self, acc: ir.Accumulator, raw):
        """An accumulator's year-to-date as format_totals writes it: one value, or (kept `per` keys) an object
        per key level, each value {"value": …, "counted": [ids]} when counted `once per` an input."""
        counted = once_update(self.policy, acc.name) is not None
        if not acc.keys and not counted:
            return self.read_leaf(acc, raw, False, "")[0]
        totals = Totals(acc.initial)
        self.read_level(acc, raw, (), totals, counted, "")
        return totals

    def read_level(self, acc, raw, key: tuple, totals: Totals, counted: bool, where: str):
        if len(key) == len(acc.keys):
            value, ids = self.read_leaf(acc, raw, counted, where)
            totals.values[key] = value
            if ids:
                totals.counted[key] = ids
            return
        name = acc.keys[len(key)]
        inp = self.policy.inputs[name]
        if not isinstance(raw, dict):
            raise StateError(where, f"expected an object of `{name}` values", f'kept per {name}: write {{"…": value}}')
        for text, inner in raw.items():
            try:
                member = self.convert(inp, text)
            except ValueError as exc:
                raise StateError(f"{where}.{text}", str(exc)) from None
            self.read_level(acc, inner, key + (member,), totals, counted, f"{where}.{text}")

    def read_leaf(self, acc, raw, counted: bool, where: str) -> tuple:
        """(value, counted ids) of one key: a value, {"unknown": why}, or {"value": …, "counted": [ids]}."""
        if isinstance(raw, dict) and set(raw) == {UNKNOWN}:
            reason = raw[UNKNOWN]
            if isinstance(reason, str) and reason:
                return NotApplicable(reason), []
        if counted and isinstance(raw, dict) and set(raw) <= {"value", "counted"} and "value" in raw:
            ids = raw.get("counted", [])
            if not isinstance(ids, list) or not all(isinstance(i, (str, Decimal)) for i in ids):
                raise StateError(f"{where}.counted", "must be a list of the ids counted", 'such as ["M001"]')
            return self.read_leaf(acc, raw["value"], False, where)[0], [str(i) for i in ids]
        if isinstance(raw, dict):
            shape = '{"value": …, "counted": [ids]} or ' if counted else ""
            raise StateError(where, "an object here must be " + ("a counted total or " if counted else "")
                             + "an unknown year-to-date", f'write {shape}{{"{UNKNOWN}": "why"}}, as results print it')
        try:
            value = convert_value(acc.type, raw, None)
        except ValueError as exc:
            raise StateError(where, str(exc)) from None
        problem = state_problem(self.policy, acc.name, value)  # a state no year reaches (domains.py)
        if problem:
            raise StateError(where, problem)
        return value, []

    def convert(self, inp: ir.Input, raw, notes: dict | None = None):
        enum = self.policy.enums.get(inp.type.enum) if inp.type.name == "enum" else None
        if enum is not None:
            value, note = match_member(raw, enum)
            if note and notes is not None:
                notes[inp.field or inp.name] = note
            return value
        value = convert_value(inp.type, raw, enum)
        problem = domain_problem(inp, value)
        if problem:
            raise ValueError(problem)
        return value

    def check_constraints(self, values, position, errors):
        """The policy's `constraint`s: a claim that breaks one is invalid (NotApplicable means not checked)."""
        from policylang.backends.interpreter import Interpreter

        interpreter = Interpreter(self.policy)
        for c in self.policy.constraints:
            if interpreter.holds(c.expr, values, {}) is False:
                errors.append(ClaimError(position, None, c.message, f"constraint at {c.span}"))

    def check_amounts(self, values, position, errors):
        parts = [values.get(n, ZERO) for n in ("全自费金额", "超限价自费", "先行自付")]
        total = values.get("医疗费总额")
        inscp = values.get("政策范围内费用")
        if total is not None and inscp is not None and total != inscp + sum(parts):
            errors.append(ClaimError(position, "medfee_sumamt",
                                     f"医疗费总额 {total} ≠ 政策范围内费用 {inscp} + 全自费 + 超限价 + 先行自付 "
                                     f"({inscp + sum(parts)})"))


def typed_claim_errors(policy: ir.Policy, values: dict, position: str) -> list[ClaimError]:
    """What the edge refuses in a claim whose values are already typed (an example's constants): the
    checks `ClaimReader.read` makes after reading each field — no negative amount, the amounts add
    up, every constraint holds — so an example can only show a claim `eval` would accept."""
    errors = [ClaimError(position, name, problem) for name, value in values.items()
              if (problem := domain_problem(policy.inputs[name], value))]
    reader = ClaimReader(policy)
    reader.check_amounts(values, position, errors)
    if not errors:
        reader.check_constraints(values, position, errors)
    return errors


def domain_problem(inp: ir.Input, value) -> str | None:
    """Why a typed value is outside what `check` assumes of the input (domains.py), or None."""
    d = domain(inp)
    if d is None or not isinstance(value, Decimal):
        return None
    problem = d.problem(value)
    if problem is None:
        return None
    if value < 0 and inp.type == ir.MONEY:
        return f"negative amount {value}"
    if problem == "is outside":
        return f"{show(value, inp.type)} {problem} {describe(inp)}"
    unit = {ir.RATE: "0.01%", ir.POINTS: "0.01pp"}.get(inp.type, f"{Decimal(1).scaleb(-d.places)}")
    return f"{show(value, inp.type)} is finer than {unit} (a {inp.type} is exact to {unit})"


def shown(raw) -> str:
    """A field's value in a message as the claim wrote it: JSON text, never a Python repr (Decimal('1'))."""
    if isinstance(raw, str):
        text = repr(raw)
    elif isinstance(raw, Decimal):
        text = str(raw)
    else:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    if FULL_WIDTH.search(text):
        text += " (full-width characters: write ASCII digits and letters)"
    return text if len(text) <= 80 else text[:77] + "…"


def convert_value(t: ir.Type, raw, enum: ir.Enum | None):
    """One field's text or JSON value → the IR's value for type t, or ValueError saying why."""
    if t.name == "money":
        return parse_money(raw)
    if t.name in ("number", "rate", "points"):
        return parse_number(raw, t)
    if t.name == "bool":
        if isinstance(raw, bool):
            return raw
        text = raw.strip().lower() if isinstance(raw, str) else None  # a JSON number is not a bool (docs/claims.md)
        if text in TRUE_TEXT + FALSE_TEXT:
            return text in TRUE_TEXT
        raise ValueError(f"expected true or false, found {shown(raw)}")
    if t.name == "date":
        if isinstance(raw, datetime.date):  # a date or timestamp from Python or Arrow (JSON gives text)
            return raw.date() if isinstance(raw, datetime.datetime) else raw
        if not isinstance(raw, str):
            raise ValueError(f"expected a date YYYY-MM-DD, found {shown(raw)}")
        text = raw.strip()
        try:
            if COMPACT_DATE.match(text):
                return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            if not DATE_TEXT.match(text):
                raise ValueError
            return datetime.datetime.fromisoformat(text).date() if len(text) > 10 else datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD (or YYYY-MM-DD HH:MM:SS, or YYYYMMDD), found {shown(raw)}") from None
    if t.name == "text":
        if isinstance(raw, (str, Decimal, int)) and not isinstance(raw, bool):
            return str(raw)
        raise ValueError(f"expected text, found {shown(raw)}")
    if t.name == "enum":
        return parse_member(raw, enum)
    raise ValueError(f"unsupported type {t}")


def parse_money(raw) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (str, Decimal, int)):
        raise ValueError(f"expected an amount in yuan such as \"12.50\", found {shown(raw)}")
    text = str(raw).strip()
    if text.endswith("元"):
        text = text[:-1]
    if text.lower() in ("nan", "-nan", "inf", "-inf", "infinity", "-infinity") or (
            isinstance(raw, Decimal) and not raw.is_finite()):
        raise ValueError(f"{raw} is not an amount")
    if text.startswith("-"):
        raise ValueError(f"negative amount {text}")
    if not MONEY_TEXT.match(text):
        if re.match(r"^\d+\.\d{3,}$", text):
            raise ValueError(f"{text} has more than two decimals (money is exact to the fen)")
        raise ValueError(f"expected an amount in yuan such as \"12.50\", found {shown(raw)}")
    return Decimal(text)


def parse_number(raw, t: ir.Type) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (str, Decimal, int)):
        raise ValueError(f"expected a {t.name}, found {shown(raw)}")
    text = str(raw).strip()
    scaled = {"rate": "%", "points": "pp"}.get(t.name)
    percent = bool(scaled) and text.endswith(scaled)
    if percent:
        text = text[: -len(scaled)]
    if not NUMBER_TEXT.match(text):
        raise ValueError(f"expected a {t.name}, found {shown(raw)}")
    return Decimal(text).scaleb(-2) if percent else Decimal(text)


def parse_member(raw, enum: ir.Enum) -> str:
    """A member by its name, or by platform code (exact, else the longest matching prefix)."""
    return match_member(raw, enum)[0]


def normal_code(text: str) -> str:
    """A platform code as the coding standard reads it: full-width folded (ａ１５ → A15), spaces dropped,
    letters upper-case (ICD-10 codes are case-insensitive: a15.0 is A15.0)."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def match_member(raw, enum: ir.Enum) -> tuple[str, str | None]:
    """(member, note): the note says when a code fell to a catch-all (`*`), so a reader sees it."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise ValueError(f"expected a member of {enum.name}, found {shown(raw)}")
    text = str(raw).strip()
    names = enum.member_names()
    if text in names:
        return text, None
    code_text = normal_code(text)
    best, best_len = None, -1
    for m in enum.members:
        for code in m.codes:
            if code.endswith("*"):
                prefix = code[:-1].upper()
                if code_text.startswith(prefix) and len(prefix) > best_len and CODE_TEXT.match(code_text):
                    best, best_len = m.name, len(prefix)
            elif code.upper() == code_text:
                return m.name, None
    if best is not None:
        note = (f"code {text!r} matches no listed code of {enum.name}; read as {best} (the catch-all `*`)"
                if best_len == 0 else None)
        return best, note
    codes = [f"{c}={m.name}" for m in enum.members for c in m.codes]
    hint = did_you_mean(text, names) or f"members: {', '.join(names)}" + (f"; codes: {', '.join(codes)}" if codes else "")
    raise ValueError(f"unknown {enum.name} {shown(text)}; {hint}")


# ---- files -------------------------------------------------------------------------------
def _reject_constant(name):
    raise ValueError(f"{name} is not a number")


class Record(dict):
    """A JSON object that remembers the keys it was given more than once (json keeps the last silently)."""

    duplicates: tuple = ()


def _record(pairs) -> Record:
    record = Record(pairs)
    if len(record) < len(pairs):
        seen: set = set()
        record.duplicates = tuple(k for k, _ in pairs if k in seen or seen.add(k))
    return record


def load_json(text: str):
    """JSON with exact numbers, duplicate keys remembered, and nesting too deep for the parser refused."""
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant,
                          object_pairs_hook=_record)
    except RecursionError:
        raise ValueError("nested too deeply (a claim is an object of fields, and `state` one level more)") from None


def read_records(path: Path) -> tuple[list[tuple[str, object]], list[ClaimError]]:
    """(position, raw record) pairs from .json, .jsonl or .csv; file-level errors separately."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [ClaimError(name, None, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1  # a line a person can find, not a byte offset
        return [], [ClaimError(f"{name}:{line}", None, f"not UTF-8 (byte 0x{data[exc.start]:02x})",
                               "save the file as UTF-8; exports on Chinese Windows are often GBK")]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(text, name)
    if suffix == ".jsonl":
        records, errors = [], []
        # Lines end at \n only: U+2028, U+0085 … are valid inside a JSON string (str.splitlines would cut there).
        for number, line in enumerate(text.split("\n"), 1):
            if line.strip():
                try:
                    records.append((f"{name}:{number}", load_json(line)))
                except ValueError as exc:
                    errors.append(ClaimError(f"{name}:{number}", None, f"invalid JSON: {exc}"))
        return records, errors
    return parse_json_document(text, name)


def read_csv(text: str, name: str):
    """Rows of a CSV file: a header named twice, a row longer than the header or a cell larger than the
    csv module can hold is an error with its line, never a value silently kept or cut."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        return [], [ClaimError(f"{name}:1", None, f"unreadable CSV header: {exc}")]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        return [], [ClaimError(f"{name}:1", None, f"column {', '.join(map(repr, twice))} appears more than once",
                               "give each field one column")]
    rows = []
    try:
        for row in reader:
            if None in row:
                return [], [ClaimError(f"{name}:{reader.line_num}", None, "more cells than header columns")]
            rows.append((f"{name}:{reader.line_num}", row))
    except csv.Error as exc:
        return [], [ClaimError(f"{name}:{reader.line_num + 1}", None, f"unreadable CSV: {exc}",
                               f"a cell may hold at most {csv.field_size_limit()} characters")]
    return rows, []


def parse_json_document(text: str, name: str):
    try:
        data = load_json(text)
    except ValueError as exc:
        return [], [ClaimError(name, None, f"invalid JSON: {exc}")]
    if isinstance(data, dict):
        return [(name, data)], []
    if isinstance(data, list):
        return [(f"{name}[{i}]", item) for i, item in enumerate(data, 1)], []
    return [], [ClaimError(name, None, "expected a claim object or a list of claims")]


# ---- results -------------------------------------------------------------------------------
def result_record(policy: ir.Policy, claim: Claim, state_before: dict, outcome: Outcome, year: str | None = None,
                  totals: tuple | None = None) -> dict:
    """The JSON result of one claim: the policy's outputs and the platform's setlinfo names.

    With `year` (the 医保年度's label) and `totals` (the person's year before and after the claim, as
    evaluators.Evaluated carries them) the state is the whole year's, in the shape a claim's `state` takes.
    """
    record = {"position": claim.position, **claim.extra,
              "psn_no": claim.values.get(policy.person),
              "begntime": claim.values[policy.service_date].isoformat(),
              "applicable": outcome.applicable}
    if year is not None and policy.accumulators:
        record["year"] = year
    if not outcome.applicable:
        record["reason"] = outcome.reason
        return record
    record["outputs"] = {n: format_typed(v, policy.rules[n].type) for n, v in outcome.outputs.items()}
    na = {n: v.reason for n, v in outcome.outputs.items() if isinstance(v, NotApplicable)}
    record["setlinfo"], setl_na = setlinfo(policy, claim, outcome)
    na.update(setl_na)
    if na:
        record["not_applicable"] = na
    if claim.notes:
        record["notes"] = dict(claim.notes)
    if totals is not None:
        before, after = totals
        record["state"] = {n: {"before": format_totals(policy, a, before[n]), "after": format_totals(policy, a, after[n])}
                           for n, a in policy.accumulators.items()}
    else:
        record["state"] = {n: {"before": format_state(state_before.get(n, a.initial), a.type),
                               "after": format_state(outcome.state[n], a.type)}
                           for n, a in policy.accumulators.items()}
    return record


UNKNOWN = "unknown"


def format_state(value, type_: ir.Type):
    """An accumulator's value; an unknown one as {"unknown": why}, never 0 or null, and read back as such."""
    if isinstance(value, NotApplicable):
        return {UNKNOWN: value.reason}
    return format_typed(value, type_)


def format_totals(policy: ir.Policy, acc: ir.Accumulator, totals: Totals):
    """A year's totals of one accumulator, as a claim's `state` reads them back (ClaimReader.read_totals):
    one value; kept `per` keys, one object level per key (only the keys the year has seen); counted `once
    per` an input, each value as {"value": …, "counted": [the ids counted]}."""
    counted = once_update(policy, acc.name) is not None

    def leaf(key):
        value = totals.values.get(key, totals.default)
        if counted and not isinstance(value, NotApplicable):
            return {"value": format_typed(value, acc.type), "counted": list(totals.counted.get(key, []))}
        return format_state(value, acc.type)

    if not acc.keys:
        return leaf(())
    out: dict = {}
    for key in totals.values:
        level = out
        for part in key[:-1]:
            level = level.setdefault(part, {})
        level[key[-1]] = leaf(key)
    return out


def format_typed(value, type_: ir.Type):
    """Money always with two decimals, rates and points as plain ratios (0.65); anything else as format_value."""
    if isinstance(value, Decimal):
        if type_ == ir.MONEY:
            return format(value.quantize(Decimal("0.01")), "f")
        if type_ in (ir.RATE, ir.POINTS):
            return format(value.normalize(), "f")
    return format_value(value)


def setlinfo(policy: ir.Policy, claim: Claim, outcome: Outcome) -> tuple[dict, dict]:
    """The platform's settlement names for one applicable claim, and why any of them is null.

    Every settlement name the policy defines is reported (platform.sources): a stage read from the
    claim with the claim's value, a stage this policy computes with its output. Each fund amount
    counts once in fund_pay_sumamt; if one is not applicable (an optional stage input the claim
    does not carry included: never read as 0), the sums are null with the reason.
    """
    values = claim.values
    inscp = values.get("政策范围内费用")
    out: dict = {}
    na: dict = {}
    if inscp is not None:
        out["inscp_scp_amt"] = format_typed(inscp, ir.MONEY)
        total = values.get("医疗费总额")
        if total is None:
            total = inscp + sum(values.get(n, ZERO) for n in ("全自费金额", "超限价自费", "先行自付"))
        out["medfee_sumamt"] = format_typed(total, ir.MONEY)
    funds = []
    for source in sources(policy):
        if source.kind == "input":
            value = values[source.name] if source.name in values else missing_input(source.name)
            if isinstance(value, NotApplicable):
                na[source.platform] = value.reason
            type_ = policy.inputs[source.name].type
        else:
            value = outcome.outputs[source.name]
            type_ = policy.rules[source.name].type
        out[source.platform] = format_typed(value, type_)
        if is_fund(source.platform):
            funds.append((source.platform, value))
    missing = [n for n, v in funds if isinstance(v, NotApplicable)]
    if funds and not missing:
        fund_total = sum((v for _, v in funds), ZERO)
        out["fund_pay_sumamt"] = format_typed(fund_total, ir.MONEY)
        if inscp is not None:
            out["psn_part_amt"] = format_typed(Decimal(out["medfee_sumamt"]) - fund_total, ir.MONEY)
    elif missing:
        reason = f"{', '.join(missing)} 不适用"
        out["fund_pay_sumamt"] = out["psn_part_amt"] = None
        na["fund_pay_sumamt"] = na["psn_part_amt"] = reason
    return out, na


__all__ = ["ClaimReader", "Claim", "ClaimError", "read_records", "result_record", "typed_claim_errors",
           "InvalidOperation"]
