"""Diagnostics: every message has a code in one registry, a span and a hint.

Wording lives here and nowhere else, so golden tests pin it and it never drifts.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_SPAN = Span("<builtin>", 0, 0, 0, 0)
# The prelude ships inside the package; messages name it by this short name, not its install path.
PRELUDE_NAME = "<prelude>"
PRELUDE_PATH = Path(__file__).parent / "semantics" / "prelude.pol"

# code -> (title template, default hint template or "")
MESSAGES: dict[str, tuple[str, str]] = {
    # syntax (E01xx)
    "E0101": ("unexpected character {char!r}", "{hint}"),
    "E0102": ("unexpected {found}; expected {expected}", "{hint}"),
    "E0103": ("unexpected end of {where}; expected {expected}", "{hint}"),
    "E0104": ("invalid date {text!r}", "dates are written YYYY-MM-DD, e.g. 2024-01-01"),
    "E0105": ("the file cannot be read: {reason}", "{hint}"),
    "E0106": ("the expression is nested too deeply", "at most 50 levels (each operator, call, `if` or `not` "
              "around another counts one); split it into several rules"),
    "E0107": ("the number {text} is too long: {problem}", "literals have at most 18 digits before the decimal point "
              "(16 for money) and 18 after it; see Limits in docs/language.md"),
    # amendments the grammar does not take (E012x): what the author reached for, and how to say it
    "E0120": ("`amend {name}` then `{found}`: the rows of a table are named by a key in parentheses",
              "write `amend {name}({key}) {op} …`: one cell per column, as the rows write them (`_` for any value)"),
    "E0121": ("`amend {name} where …`: rows are named by a key, not by a condition",
              "write the values the rows have, one cell per column: `amend {name}(二级, _) += 2pp`; several "
              "values in one column: `{{二级, 三级}}`; any value: `_`"),
    "E0122": ("`amend {name} add (…)`: a new row is written as the table writes its rows, without parentheses",
              "write `amend {name} add {cells} -> …`"),
    "E0123": ("`amend {name} remove`: the key of the rows to remove goes in parentheses",
              "write `amend {name} remove ({cells})`"),
    "E0124": ("`amend {name} {word}`: there is no `{word}` amendment",
              "change rows with `amend {name}(二级, _) += 2pp` (or `-=`, `*=`, `=` to replace), add one with "
              "`amend {name} add 二级, 跨省 -> 50%`, drop rows with `amend {name} remove (二级, 跨省)`"),
    "E0125": ("`amend {name}`: the operation is missing before the value",
              "write `+= 2pp` to add points, `-= 2pp`, `*= 50%` to scale, or `= 77%` to replace the value"),
    # names (E02xx)
    "E0201": ("unknown name `{name}`", "{hint}"),
    "E0202": ("`{name}` is defined twice", "the first definition is at {first}"),
    "E0203": ("unknown type `{name}`", "{hint}"),
    "E0204": ("unknown function `{name}`", "available functions: {known}"),
    "E0205": ("`{name}` is not an accumulator", "only an `accumulator` can be updated with +="),
    "E0206": ("unknown prelude `{name}`", "the only prelude is `prelude`"),
    "E0207": ("`{name}` refers to itself through {cycle}", "{hint}"),
    "E0208": ("`{name}` is not an input or accumulator", "an example may set inputs (claim) and accumulators (state)"),
    "E0209": ("`{name}` is not a rule", "an example can only expect rules and outputs"),
    "E0210": ("unknown member `{name}` of {enum}", "{hint}"),
    "E0211": ("ambiguous name `{name}`: it is a member of {enums}", "compare it with a field so its enumeration is known"),
    # types (E03xx)
    "E0301": ("type mismatch: expected {expected}, found {found}", "{hint}"),
    "E0302": ("cannot apply `{op}` to {left} and {right}", "{hint}"),
    "E0303": ("{left} compared with {right}", "{hint}"),
    "E0304": ("`{func}` expects {expected}", "{hint}"),
    "E0305": ("a condition must be bool, found {found}", "{hint}"),
    "E0306": ("table `{name}` has {cols} but the row has {cells}", "every row gives one cell per column"),
    "E0307": ("bracket bands of `{name}` must be rates, found {found}", "write each band's rate as a rate, "
              "e.g. 60% or `if 贫困人员 then 60% else 55%`; an amount paid on top is a rule that adds to the brackets"),
    "E0308": ("money literal {text} has more than two decimals", "money is exact to the fen (分): at most two decimals"),
    "E0309": ("rounding mode `{name}` is unknown", "use one of: {known}"),
    "E0310": ("`not applicable` has no type here", "use it as a whole branch of `if` or as the value of a rule, "
              "where the type is known"),
    "E0311": ("`round` applies to money, but `{name}` is {found}", "rates, points and numbers are exact; remove `round`"),
    "E0312": ("{what} cannot be {value} here", "{hint}"),
    "E0313": ("`{side}.{name}` outside a property that compares two claims", "add `vary FIELD: A vs B` (FIELD an "
              "input or an accumulator) to the property, or write `{name}` alone"),
    "E0314": ("`{name}` cannot be varied: it is {what}", "{hint}"),
    "E0315": ("unknown name `{name}` after `vary`", "{hint}"),
    "E0316": ("`{side}.{name}` is the same in both claims: they differ only in {varied}",
              "write `{name}` alone, or `vary {name}` to compare two values of it"),
    "E0317": ("a cell of `vary {name}` must be {expected}, found {found}", "{hint}"),
    "E0318": ("`{side}.{name}` cannot be read on one side: `{name}` is {what}", "{hint}"),
    # structure (E04xx)
    "E0450": ("input `{name}`: {problem}", "{hint}"),
    # limits and the root (E047x): what every back end carries, and where `extends` / `conforms to` may look
    "E0470": ("table `{name}` has {count} rows, more than the {most} a table may have",
              "split it by a column into several tables, or group rows with sets {{a, b}} and ranges; see Limits in docs/language.md"),
    "E0471": ("`{keyword} \"{path}\"` lies outside the root {root}",
              "`extends` and `conforms to` name files inside the policy's repository (the nearest directory above it with "
              ".git or pyproject.toml) or inside `--root DIR`"),
    "E0472": ("`{keyword} \"{path}\"` does not name a .pol file",
              "`extends` names a policy and `conforms to` a guideline, both .pol files"),
    "E0473": ("{expr} can need {digits} significant digits, more than the {most} the evaluators compute exactly",
              "the result can have {places} decimal places: round an intermediate rule to the fen (a money "
              "rule rounds), or write a literal with fewer decimal places; see Limits in docs/language.md"),
    "E0474": ("rounding {expr} to the fen can need {digits} digits, more than the {most} the evaluators carry",
              "the amount can be too large: multiply by fewer large numbers, or split the computation into "
              "rules of money's range; see Limits in docs/language.md"),
    "E0401": ("the file has no `policy` header", "start with: policy \"名称\" {{ document \"文号\" in force from 2024-01-01 }}"),
    "E0402": ("more than one `policy` header", "a file describes one policy"),
    "E0403": ("versions of `{name}` overlap on {date}", "give each version a `from` / `until` that does not overlap"),
    "E0404": ("versions of `{name}` differ in more than their dates and bodies", "versions must agree on kind (rule or output), type, platform name, rounding and table columns"),
    "E0405": ("accumulator `{name}` must be `per person per 医保年度`", "accumulators reset each 医保年度 for each person"),
    "E0406": ("`until` {until} is before `from` {start}", "swap the dates"),
    "E0407": ("hit policy of table `{name}` is missing", "say `first` (first matching row wins) or `unique` (overlap is an error)"),
    "E0408": ("example `{name}` sets `{field}` twice", "{hint}"),
    "E0409": ("output `{name}` uses platform name `{platform}` that is not known", "known names: {known}"),
    "E0410": ("the prelude is not used", "add `use prelude` so 险种, 就诊类型, 机构级别 … are known"),
    "E0411": ("example `{name}` is missing required input `{field}`", "every claim must give every required input"),
    "E0412": ("band of `{name}` starts at {lo} but the previous band ends at {prev}", "bands must be ascending and contiguous"),
    "E0415": ("{path} is a guideline, not a policy", "a guideline is checked through the policies that say "
              "`conforms to` it; run `policylang check` on those"),
    "E0416": ("`extends \"{path}\"` makes a cycle", "a policy cannot extend itself, directly or through others"),
    "E0417": ("{path} is not a guideline", "`conforms to` names a file whose header is `guideline \"…\" {{ … }}`"),
    "E0418": ("`amend {name}`: there is no rule, assumption or table `{name}` to amend", "{hint}"),
    "E0419": ("`--assume {name}`: the policy has no assumption `{name}`", "its assumptions: {known}"),
    "E0420": ("`--assume {name}`: {reason}", "give the value as a claim would, e.g. 55% or 1200.00"),
    "E0421": ("`quote \"{clause}\"`: nothing in the policy cites clause {clause}", "{hint}"),
    "E0422": ("clause {clause} is quoted twice", "the first quote is at {first}"),
    "E0423": ("`update {name}` adds an amount that is not always a whole number of fen",
              "an accumulator of money holds whole fen, as the settlement record does: add a money rule "
              "(rounded to the fen where it is defined) or write round(…) around the amount"),
    "E0424": ("platform name `{platform}` is both the field of input `{input}` and the `as` of output `{output}` ({where})",
              "a stage's amount is either read from the claim or computed by this policy, not both: setlinfo "
              "would carry two `{platform}` amounts and the sums could not say which one counts. Drop `as "
              "{platform}` from the output, or `field {platform}` from the input"),
    "E0425": ("field `{field}` is given to both input `{first}` ({where}) and input `{second}`",
              "a claim's `{field}` fills one input: give one of them another field, or read one input twice"),
    # row amendments (E043x): `amend T(key) OP v`, `amend T add cells -> v`, `amend T remove (key)`
    "E0430": ("`amend {name}({key})`: no row of `{name}` lies within the key ({key})",
              "a key names the rows whose cells it covers, written as the table writes them (`_` for any "
              "value); the rows of `{name}`: {rows}"),
    "E0431": ("`amend {name}(…)` gives {given} key cells, but `{name}` has {count} columns ({columns})",
              "give one cell per column, in this order, `_` for any value: `amend {name}({example}) …`"),
    "E0432": ("cannot {verb} `{name}`: it is {kind}, not a table",
              "only a table has rows, named by a key; a rule, output or assumption is amended as a whole: "
              "`amend {name} += …` (or `-=`, `*=`, `=`)"),
    "E0433": ("`{cell}` is a condition; a key cell is a value, as in the rows of `{name}`",
              "write the value column `{column}` has in the rows you mean, as a row writes it: "
              "`amend {name}({fix}) …` (several values: `{{二级, 三级}}`; any value: `_`)"),
    "E0434": ("`amend {name}({key})`: claims with ({claim}) reach the row at {line} (`{row}`), which "
              "also matches claims outside the key",
              "changing that row would change them too, and leaving it would leave these claims unchanged. "
              "Name it by its own cells, `amend {name}({cells}) …`, or first give these claims a row of their "
              "own: `amend {name} add {own} -> …`"),
    "E0435": ("`amend {name} add {key}`: the row at {line} already has this key",
              "to give it another value write `amend {name}({key}) = …`"),
    "E0436": ("`amend {name} add {key}`: `{name}` is `unique` and claims with ({claim}) would match both "
              "the new row and the row at {line} (`{row}`)",
              "a claim of a `unique` table matches one row: narrow the new row's cells, or first remove "
              "the other row (`amend {name} remove ({cells})`)"),
    "E0437": ("`amend {name} add {key}`: the new row and the row at {line} (`{row}`) both match claims "
              "with ({claim}), and neither contains the other",
              "a new row goes just before the first row that contains it, so that it wins for its own claims "
              "and no row is hidden; here which row should win is not clear: narrow the new row's cells to "
              "lie within `{cells}` or apart from it, or first remove that row"),
    "E0438": ("`amend {name} add {key}`: the new row would never be reached",
              "every claim it matches is matched by a row before it (or by none at all: a range must end above "
              "its start); give it cells that some claim reaches, or change the rows that take its claims"),
    "E0439": ("`amend {name}({key})`: claims with ({claim}) reach the `default` row ({line}), which the "
              "key does not change",
              "the default also serves claims outside the key; first give the key's claims a row of their own: "
              "`amend {name} add {key} -> …`"),
    "E0460": ("`amend {name} band {band}`: {problem}", "{hint}"),
    # the docs page an author controls (`page`, `fact`, `assumed`)
    "E0440": ("`page` is declared twice", "a policy has one `page` block; the first is at {first}"),
    "E0441": ("`{name}` is a fact: no rule can read it", "a `fact` ({where}) is shown on the docs page and "
              "nowhere else; to compute with the value, declare it as a `rule`, or as an `assumption` when the "
              "document does not state it"),
    "E0442": ("`representative {name}`: `{name}` is not an input", "{hint}"),
    "E0443": ("`axis {name}`: {reason}", "{hint}"),
    "E0444": ("`page` names `{name}` twice", "the first is at {first}"),
    "E0445": ("{what} must be a constant", "write a literal (56元, 60%, 2024-01-01, true) or a member: it does "
              "not depend on any claim"),
    # warnings: the policy loads, but something the user asked for does not happen
    "W0424": ("`--assume {name}={value}` does not reach this policy's value: {how} gives `{name}` outright",
              "`--assume` replaces `{name}` in the file that declares it, before any amendment; this policy "
              "then gives its own value, so its results do not depend on the assumption (those of the policies "
              "before it in the `extends` chain still do)"),
    # The 医保年度, keyed accumulators and once-per updates (E048x).
    "E0480": ("accumulator `{name}` is kept `per {key}`, {what}",
              "a key is an input of the claim whose value is an enumeration member or text, such as 机构级别"),
    "E0481": ("`year by {name}`: {what}",
              "the year is placed by a date input of the claim: `year by 出院日期` (enddate), `year by 结算日期` "
              "(setl_time) or the default `year by 就诊日期`"),
    "E0482": ("the 医保年度 cannot start on {text}", "write the first day as MM-DD, such as 07-01 (not 02-29, "
              "which most years do not have)"),
    "E0483": ("the 医保年度 is declared twice", "the first `year` declaration is at {first}"),
    "E0484": ("`once per {key}`: {what}", "count once per an input that identifies what is counted, such as 就诊ID "
              "(mdtrt_id: every part of a 中途结算 admission carries the same one)"),
    "E0485": ("`update {name} … once per {key}` must add a positive constant, such as 1",
              "a once-per update counts (`+= 1`): a later part of an admission reads the total less its own count, "
              "which is exact only for a constant. To add up what an admission pays over its parts, keep the total "
              "per admission instead: `accumulator … per person per 医保年度 per {key}` and an update without `once`"),
    "E0486": ("accumulator `{name}` has an update counted `once per {key}` and another update (line {other})",
              "a counted accumulator takes one update: join the conditions with `or` in its `when`"),
    "E0487": ("property `{name}` reads year-to-dates kept per different keys ({keys})",
              "a property of the year's state alone is proved one key at a time (a claim changes only its own "
              "key's totals): compare accumulators kept per the same keys"),
    "E0413": ("platform name `{platform}` is used by both `{first}` and `{second}`", "each platform name names one output"),
    "E0414": ("band of `{name}` ends at {hi}, which is not above its start {lo}", "write each band as low .. high with low < high"),
    # simulate, sweep and the Dask runner (E0495-E0499)
    "E0495": ("`{policy}` computes no {what}: simulate compares {what_cn} claim by claim",
              "simulate needs a policy whose outputs are tagged with the platform's fund names (`as hifp_pay`) and "
              "that reads 政策范围内费用, so that fund_pay_sumamt and psn_part_amt are defined"),
    "E0496": ("the baseline results in {path} were computed {what}",
              "delete the file (it is written again) or give another --baseline-results path"),
    "E0497": ("`--assume {text}`: {what}", "write NAME=FROM..TO/STEP, such as 居民普通门诊基层比例=55%..70%/5pp"),
    "E0498": ("the Dask run did not finish: {what}", "{hint}"),
    # examples (E05xx)
    "E0501": ("example failed", ""),
}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    span: Span
    args: dict = field(default_factory=dict, hash=False, compare=False)
    severity: str = "error"

    @property
    def message(self) -> str:
        return MESSAGES[self.code][0].format(**self.args)

    @property
    def hint(self) -> str:
        template = MESSAGES[self.code][1]
        return template.format(**self.args) if template else ""


class DiagnosticError(Exception):
    """Raised by a stage that found errors; carries all of them."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = diagnostics


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class SourceCache:
    """Reads source lines for rendering; files may be absent (builtins)."""

    def __init__(self, texts: dict[str, str] | None = None):
        self._texts = dict(texts or {})

    def line(self, file: str, line: int) -> str | None:
        if file not in self._texts:
            try:
                path = PRELUDE_PATH if file == PRELUDE_NAME else Path(file)
                self._texts[file] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[file] = ""
        # Count lines as the lexer does, at "\n" only: splitlines() would also break at \f, \v, \u2028 …
        lines = self._texts[file].split("\n")
        return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None


def render(diag: Diagnostic, sources: SourceCache) -> str:
    """rustc-style text: header, location, the source line with a caret, and the hint."""
    out = [f"{diag.severity}[{diag.code}]: {diag.message}"] + render_location(diag.span, sources)
    if diag.hint:
        out.append(f"  = hint: {diag.hint}")
    return "\n".join(out)


def render_location(span: Span, sources: SourceCache) -> list[str]:
    """The `-->` line and the source line with a caret under the span (CJK counts two columns)."""
    out = [f"  --> {span.file}:{span.line}:{span.col}"]
    text = sources.line(span.file, span.line) if span.line else None
    if text is not None:
        gutter = " " * len(str(span.line))
        prefix = text[: max(span.col - 1, 0)]
        if span.end_line == span.line and span.end_col > span.col:
            marked = text[span.col - 1 : span.end_col - 1]
        else:
            marked = text[span.col - 1 : span.col] or " "
        out.append(f"{gutter} |")
        out.append(f"{span.line} | {text}")
        out.append(f"{gutter} | {' ' * display_width(prefix)}{'^' * max(display_width(marked), 1)}")
    return out


def render_all(diags: list[Diagnostic], sources: SourceCache | None = None) -> str:
    sources = sources or SourceCache()
    ordered = sorted(diags, key=lambda d: (d.span.file, d.span.line, d.span.col, d.code))
    body = "\n\n".join(render(d, sources) for d in ordered)
    count = len(ordered)
    return f"{body}\n\n{count} error{'s' if count != 1 else ''} found"


def did_you_mean(name: str, candidates) -> str:
    """A hint naming the closest candidate, by edit distance over characters."""
    import difflib

    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.5)
    if close:
        return f"did you mean `{close[0]}`?"
    return ""
