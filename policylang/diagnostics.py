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
    "E0106": ("the expression is nested too deeply", "split it into several rules"),
    # names (E02xx)
    "E0201": ("unknown name `{name}`", "{hint}"),
    "E0202": ("`{name}` is defined twice", "the first definition is at {first}"),
    "E0203": ("unknown type `{name}`", "{hint}"),
    "E0204": ("unknown function `{name}`", "available functions: {known}"),
    "E0205": ("`{name}` is not an accumulator", "only an `accumulator` can be updated with +="),
    "E0206": ("unknown prelude `{name}`", "the only prelude is `prelude`"),
    "E0207": ("`{name}` refers to itself through {cycle}", "a rule cannot depend on its own value"),
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
    "E0307": ("bracket bands of `{name}` must be rates, found {found}", "write each band's rate as e.g. 60%"),
    "E0308": ("money literal {text} has more than two decimals", "money is exact to the fen (分): at most two decimals"),
    "E0309": ("rounding mode `{name}` is unknown", "use one of: {known}"),
    "E0310": ("`not applicable` has no type here", "use it as a whole branch of `if` or as the value of a rule, "
              "where the type is known"),
    "E0311": ("`round` applies to money, but `{name}` is {found}", "rates, points and numbers are exact; remove `round`"),
    "E0312": ("{what} cannot be {value} here", "{hint}"),
    "E0313": ("`{side}.{name}` outside a property that compares two claims", "add `vary FIELD: A vs B` to the "
              "property, or write `{name}` alone"),
    "E0314": ("`{name}` cannot be varied: it is not an input", "vary an input such as 机构级别 or 病种"),
    # structure (E04xx)
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
    "E0418": ("`amend {name}`: there is no rule, assumption or table `{name}` to amend", "an amendment changes a "
              "definition of this policy or of the one it extends"),
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
    # warnings: the policy loads, but something the user asked for does not happen
    "W0424": ("`--assume {name}={value}` does not reach this policy's value: {how} gives `{name}` outright",
              "`--assume` replaces `{name}` in the file that declares it, before any amendment; this policy "
              "then gives its own value, so its results do not depend on the assumption (those of the policies "
              "before it in the `extends` chain still do)"),
    # The 医保年度, keyed accumulators and once-per updates (E044x).
    "E0440": ("accumulator `{name}` is kept `per {key}`, {what}",
              "a key is an input of the claim whose value is an enumeration member or text, such as 机构级别"),
    "E0441": ("`year by {name}`: {what}",
              "the year is placed by a date input of the claim: `year by 出院日期` (enddate), `year by 结算日期` "
              "(setl_time) or the default `year by 就诊日期`"),
    "E0442": ("the 医保年度 cannot start on {text}", "write the first day as MM-DD, such as 07-01 (not 02-29, "
              "which most years do not have)"),
    "E0443": ("the 医保年度 is declared twice", "the first `year` declaration is at {first}"),
    "E0444": ("`once per {key}`: {what}", "count once per an input that identifies what is counted, such as 就诊ID "
              "(mdtrt_id: every part of a 中途结算 admission carries the same one)"),
    "E0445": ("`update {name} … once per {key}` must add a positive constant, such as 1",
              "a once-per update counts (`+= 1`): a later part of an admission reads the total less its own count, "
              "which is exact only for a constant. To add up what an admission pays over its parts, keep the total "
              "per admission instead: `accumulator … per person per 医保年度 per {key}` and an update without `once`"),
    "E0446": ("accumulator `{name}` has an update counted `once per {key}` and another update (line {other})",
              "a counted accumulator takes one update: join the conditions with `or` in its `when`"),
    "E0447": ("property `{name}` reads year-to-dates kept per different keys ({keys})",
              "a property of the year's state alone is proved one key at a time (a claim changes only its own "
              "key's totals): compare accumulators kept per the same keys"),
    "E0413": ("platform name `{platform}` is used by both `{first}` and `{second}`", "each platform name names one output"),
    "E0414": ("band of `{name}` ends at {hi}, which is not above its start {lo}", "write each band as low .. high with low < high"),
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
