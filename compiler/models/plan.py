"""The ``plan`` kind (seed 000/001 "📋 Plan:" format) parsed into a typed model.

Seed 001 ("Plan Mode — Planning Assistant", *Required Output Format*) defines the document::

    ## 📋 Plan: <concise plan title>
    ### Objective            1-2 sentences
    ### Compute Setup        - Cluster type: / - GPU count: / - gpuwrap: / - Environment:
    ### Approach             1. **Step title** — description
    ### Parameters to Sweep  | Parameter | Values | Rationale |   (only when sweeping)
    ### Metrics              - **Primary**: <metric> — <why> / - **Secondary**: …
    ### Success Criteria     - [ ] <criterion>
    ### Risks & Mitigations  - **Risk**: … → **Mitigation**: …
    ### Estimated Effort     - **Runs**: / - **Time**: / - **Resources**:
    ### 💡 Workflow Improvements

:func:`parse_plan` reads a loaded :class:`~compiler.document.Document` into a
:class:`PlanModel` once per document (memoised with ``doc.cached("plan", …)``); every part
keeps its 1-based line and column so rules can point at it. Parsing never raises on bad
content: what cannot be read is left ``None``/empty and the rules (``compiler/rules/plan``)
report it. Markdown structure comes from markdown-it tokens; regular expressions only read
the *content* of one list item or table cell.

Public API for the compiler:

- :func:`sweep_parameters` ``(doc) -> list[(name, [values])]`` — the Parameters to Sweep
  table as concrete values (ints, floats or strings);
- :func:`sweep_size` ``(parameters) -> int`` — the number of grid combinations;
- :func:`parse_values` ``(cell) -> ParsedValues`` — one Values cell;
- :func:`parse_int` ``(text) -> int | None`` — a leading integer such as ``1,200`` or
  ``24 (4 ranks × 2 learning rates × 3 seeds)``;
- :func:`count_sentences` ``(text) -> int``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from ..document import Document

# -- the format (seed 001, "Required Output Format") -----------------------------------------
#: (key, heading as the seed writes it, required?) in the seed's order.
SECTIONS: tuple[tuple[str, str, bool], ...] = (
    ("objective", "Objective", True),
    ("compute_setup", "Compute Setup", True),
    ("approach", "Approach", True),
    ("parameters", "Parameters to Sweep", False),
    ("metrics", "Metrics", True),
    ("success_criteria", "Success Criteria", True),
    ("risks", "Risks & Mitigations", True),
    ("effort", "Estimated Effort", True),
    ("workflow", "💡 Workflow Improvements", True),
)
SECTION_ORDER: dict[str, int] = {key: i for i, (key, _t, _r) in enumerate(SECTIONS)}
SECTION_TITLES: dict[str, str] = {key: title for key, title, _r in SECTIONS}
TITLE_EMOJI = "📋"

#: Compute Setup keys (lower-case) → field; the seed's four bullets.
SETUP_FIELDS: dict[str, str] = {
    "cluster type": "cluster_type",
    "gpu count": "gpu_count",
    "gpuwrap": "gpuwrap",
    "environment": "environment",
}
SETUP_LABELS: dict[str, str] = {
    "cluster_type": "Cluster type",
    "gpu_count": "GPU count",
    "gpuwrap": "gpuwrap",
    "environment": "Environment",
}
CLUSTER_TYPES = ("local_gpu", "slurm", "cpu_only")
GPUWRAP_VALUES = ("enabled", "disabled")
ENVIRONMENTS = ("venv", "conda", "system")

# Seed 001 says "cpu_only → not applicable" for gpuwrap; read as disabled.
_GPUWRAP_ALIASES = {"n/a": "disabled", "na": "disabled", "not applicable": "disabled"}

_MOJIBAKE_PUNCT = (("â€”", "—"), ("â€“", "–"), ("â†’", "→"))

_TITLE = re.compile(r"^(?:(?P<prefix>[^\sA-Za-z0-9]\S*)\s*)?Plan:(?P<title>.*)$")
_LEADING_SYMBOL = re.compile(r"^[^\sA-Za-z0-9]+\s*")
_LABEL = re.compile(
    r"^\s*(?P<open>\*\*|__)?\s*(?P<label>[^*_:\n]+?)\s*"
    r"(?:(?P<c1>:)\s*(?P<close1>\*\*|__)|(?P<close2>\*\*|__)\s*(?P<c2>:)?|(?P<c3>:))\s*(?P<rest>.*)$",
    re.DOTALL,
)
_BOLD_HEAD = re.compile(r"^\s*(?:\*\*|__)(?P<title>.+?)(?:\*\*|__)(?P<rest>.*)$", re.DOTALL)
_DASH = re.compile(r"^\s*(?P<dash>—|–|--?|:)(?:\s+|$)(?P<rest>.*)$", re.DOTALL)
_SPLIT_DASH = re.compile(r"\s+(?P<dash>—|–)\s+|(?P<dash2>—)")
_ARROW = re.compile(r"\s*(?:→|->|⟶|=>)\s*")
_CHECKBOX = re.compile(r"^\[(?P<mark>[^\]]?)\]\s*(?P<text>.*)$", re.DOTALL)
_CODE_SPAN = re.compile(r"`+([^`]*)`+")
_EMPHASIS = re.compile(r"(?<![\w*])(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_PAREN = re.compile(r"\s*\([^()]*\)")
_INT_HEAD = re.compile(r"^\s*(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?![\d.,]\d)(?P<rest>.*)$", re.DOTALL)
_NUMBER = re.compile(
    r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?$|^[-+]?\.\d+(?:[eE][-+]?\d+)?$"
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# Words that always mean "not a list", and "to"/"between"/"from" only between numbers
# ("from scratch, pretrained" is a list of two strings).
_RANGE_WORDS = re.compile(
    r"\b(?:up to|uniform|log-uniform|loguniform|sampled?|etc|tbd|todo)\b|…|\.\.\.|~"
    rf"|{_NUM}[A-Za-z%]*\s*(?:to|through|thru|until)\s+[-+]?[\d.]"
    rf"|\bbetween\s+{_NUM}|\bfrom\s+{_NUM}",
    re.IGNORECASE,
)
_RANGE_CALL = re.compile(r"\b(?:range|linspace|logspace|arange)\s*\(", re.IGNORECASE)
_DASH_RANGE = re.compile(rf"^{_NUM}\s*(?:-|–|—)\s*{_NUM}$")
_ABBREV = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|fig|eq|al|resp|w\.r\.t|no|dr|mr|ms|st)\.$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s|$)")


# Immutable NamedTuples rather than pydantic models or dataclasses: the parser builds them
# from values it has already checked, and class creation at import is ~10x cheaper than
# dataclasses (``planc lint FILE`` in a pre-commit hook pays the import on every call).


class PlanSection(NamedTuple):
    """A heading after the plan title (level 2 or 3) and its body.

    ``key`` is the seed section it stands for (:data:`SECTIONS`) or ``None``; ``exact`` is
    false when the title only resembles the seed's (then ``key`` is the best guess, e.g.
    "Risks and Mitigations" → ``risks``). ``start``/``end`` index ``doc.tokens``: the body
    runs to the next heading of level ≤ 3 (deeper headings stay inside).
    """

    title: str
    key: str | None
    exact: bool
    level: int
    line: int
    column: int
    start: int
    end: int


class SetupItem(NamedTuple):
    """One Compute Setup bullet: ``raw`` is the text after the key, ``value`` the
    normalised value (``str`` for cluster type, gpuwrap and environment, ``int`` for GPU
    count; ``None`` when unreadable), ``note`` a parenthetical note such as
    "(shared node)". ``value_column`` is where ``raw`` starts on ``line``."""

    key: str
    field: str | None
    raw: str
    value: str | int | None
    note: str | None
    line: int
    column: int
    value_column: int


class ApproachStep(NamedTuple):
    """A numbered Approach item ``**title** — description``; ``dash`` is the separator
    found (``—``, ``–``, ``-``, ``--``, ``:`` or ``""``), ``bold`` whether the title was bold."""

    number: int | None
    ordered: bool
    title: str | None
    bold: bool
    dash: str
    description: str
    text: str
    line: int
    column: int


class SweepParameter(NamedTuple):
    """A row of the Parameters to Sweep table.

    ``name`` is the parameter as written (markup removed; when the cell has a code span,
    its content, so "Learning rate (`lr`)" gives ``lr``); ``values`` the concrete values
    (``int``/``float``/``str``; empty when ``range_reason`` is set); ``raw`` the Values cell.
    ``column``/``values_column`` are 1-based columns of the two cells on ``line``.
    """

    name: str
    raw_name: str
    values: list[Any]
    raw: str
    range_reason: str | None
    rationale: str
    line: int
    column: int
    values_column: int


class SweepTable(NamedTuple):
    header: list[str]
    rows: list[SweepParameter]
    line: int


class Metric(NamedTuple):
    """``- **Primary**: name — why``; ``role`` is ``primary``/``secondary``/the label
    as written (lower-case) or ``None`` without a bold label."""

    role: str | None
    name: str
    why: str
    text: str
    line: int
    column: int


class Criterion(NamedTuple):
    """A Success Criteria item; ``mark`` is the checkbox mark (``" "``, ``"x"``, …) or
    ``None`` when the item is not a checkbox."""

    mark: str | None
    text: str
    line: int
    column: int


class Risk(NamedTuple):
    """``- **Risk**: … → **Mitigation**: …``; missing parts are ``None``; ``arrow`` is
    whether an arrow (``→``/``->``) separates the two."""

    risk: str | None
    mitigation: str | None
    arrow: bool
    text: str
    line: int
    column: int


class EffortItem(NamedTuple):
    key: str
    raw: str
    line: int
    column: int
    value_column: int


class Effort(NamedTuple):
    """Estimated Effort: ``runs`` is the leading integer of ``**Runs**:`` (``None`` when it
    is not an exact integer); ``time`` and ``resources`` the raw texts (free-form in seed
    001, e.g. "~6 hours wall-clock"); ``items`` maps every lower-case label to its item."""

    runs: int | None
    time: str | None
    resources: str | None
    items: dict[str, EffortItem]


class PlanModel(NamedTuple):
    """A parsed plan. ``title`` is ``None`` without a ``Plan:`` heading; ``titles`` lists
    every such heading (line, column, level, prefix, text). ``body_start`` indexes
    ``doc.tokens`` at the title heading (0 without one): text above it, such as an agent's
    preface, is not part of the saved plan (seed 001: ``raw_markdown`` starts "from
    ``## 📋 Plan: ...``")."""

    title: str | None
    title_line: int
    title_column: int
    title_level: int
    title_prefix: str | None
    titles: list[tuple[int, int, int, str | None, str]]
    body_start: int
    sections: list[PlanSection]
    objective: str | None
    objective_line: int
    setup: list[SetupItem]
    approach: list[ApproachStep]
    sweep: SweepTable | None
    metrics: list[Metric]
    criteria: list[Criterion]
    risks: list[Risk]
    effort: Effort | None
    workflow: list[str]

    def section(self, key: str) -> PlanSection | None:
        """The section for ``key``: the first exact match, else the first near miss."""
        best = None
        for sec in self.sections:
            if sec.key == key:
                if sec.exact:
                    return sec
                best = best or sec
        return best

    def setup_value(self, fieldname: str) -> str | int | None:
        """The normalised Compute Setup value of ``fieldname`` (first occurrence)."""
        for item in self.setup:
            if item.field == fieldname:
                return item.value
        return None


class ParsedValues(NamedTuple):
    """A Values cell read by :func:`parse_values`: ``values`` (empty when the cell is a
    range), ``items`` the raw item strings, ``range_reason`` why it is not a concrete list."""

    values: list[Any]
    items: list[str]
    range_reason: str | None


# -- small text helpers -------------------------------------------------------------------
def fix_punct(text: str) -> str:
    """Undo mojibake of — – → (seed 000) so a mis-encoded plan is still parsed; rule
    CM004 reports the mojibake itself."""
    if "â" in text:
        for bad, good in _MOJIBAKE_PUNCT:
            text = text.replace(bad, good)
    return text


def strip_markup(text: str) -> str:
    """Code-span backticks and wrapping ``**``/``__`` emphasis removed; the content of code
    spans is kept verbatim (``__init__`` stays), stray markers stay."""
    out = []
    last = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_EMPHASIS.sub(r"\2", text[last : m.start()]))
        out.append(m.group(1))
        last = m.end()
    out.append(_EMPHASIS.sub(r"\2", text[last:]))
    return "".join(out)


def plain(text: str) -> str:
    """Markdown inline markup removed (:func:`strip_markup`) and surrounding quotes."""
    return strip_markup(text).strip().strip("\"'").strip()


def normalise_section_title(title: str) -> str:
    """Lower-case title without a leading emoji (or its mojibake), spaces collapsed, no
    trailing ':'. ``"💡 Workflow Improvements"`` and ``"Workflow Improvements"`` agree."""
    t = _LEADING_SYMBOL.sub("", title.strip())
    t = plain(t)
    return " ".join(t.split()).lower().rstrip(":").strip()


_CANON = {normalise_section_title(t): k for k, t, _r in SECTIONS}


def classify_section(title: str) -> tuple[str | None, bool]:
    """``(key, exact)`` for a heading title; near misses ("Risks and Mitigations",
    "Parameters") give the guessed key with ``exact=False``; unknown titles ``(None, False)``."""
    norm = normalise_section_title(title)
    if norm in _CANON:
        return _CANON[norm], True
    alt = norm.replace(" and ", " & ")
    near = difflib.get_close_matches(alt, list(_CANON), n=1, cutoff=0.75)
    if near:
        return _CANON[near[0]], False
    return None, False


def parse_int(text: str) -> int | None:
    """The integer a text starts with: ``"24"``, ``"1,200"``, ``"24 (4 ranks × 2 lr × 3
    seeds)"``, ``"6 runs"``. ``None`` for ``"~24"``, ``"24-30"``, ``"2.5"``, ``"many"``."""
    m = _INT_HEAD.match(plain(text))
    if not m:
        return None
    rest = m.group("rest").strip()
    if re.match(r"^(?:[-–—]|to\b|or\b|\+\s*\d|%)", rest, re.IGNORECASE):
        return None
    return int(m.group("num").replace(",", ""))


def parse_number(token: str) -> int | float | None:
    """``"4"`` → 4, ``"1,000"`` → 1000, ``"1e-4"`` → 0.0001, ``"-0.5"`` → -0.5; else ``None``."""
    t = token.strip()
    if not _NUMBER.match(t):
        return None
    t = t.replace(",", "")
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    value = float(t)
    return value if math.isfinite(value) else None


def parse_values(cell: str) -> ParsedValues:
    """Read one Values cell of the sweep table into concrete values.

    Rules (documented for plan authors): markup and parenthetical notes are dropped and
    surrounding ``[...]``/``{...}`` removed. Items are separated by ``;``, `` / `` or commas;
    when the cell uses ", " (comma and space) anywhere, a bare comma inside a number
    followed by three digits is a thousands separator (``1,000, 2,000`` → 1000, 2000),
    otherwise bare commas separate items (``4,8,16``; ``1,200`` is 1 and 200) except in a
    lone number with a group starting with 0 (``1,000``). A cell without commas or
    semicolons is split on whitespace when every word is a number (``4 8 16``), else it is
    one value. A leading "and"/"or" on the last item is dropped. Numbers become ``int`` or
    ``float``; everything else stays a string.

    The cell is a *range*, not a list (``range_reason`` set, ``values`` empty) when it says
    "to"/"through" between numbers, "between <n>", "from <n>", "range(", "up to",
    "uniform"/"sampled", "etc", "TBD", uses an ellipsis (``…``/``...``) or ``~``, or an
    item is ``a-b`` of two numbers (``1-5``, ``0.1–0.5``). Negative numbers and exponents
    (``-1``, ``1e-5``) are concrete, and so are words such as "from scratch".
    """
    text = fix_punct(cell)
    text = strip_markup(text)
    if _RANGE_CALL.search(text):
        return ParsedValues(values=[], items=[text.strip()],
                            range_reason=f"{text.strip()!r} describes a range, not values")
    text = _PAREN.sub("", text).strip()
    if len(text) >= 2 and text[0] + text[-1] in ("[]", "{}"):
        text = text[1:-1].strip()
    if not text:
        return ParsedValues(values=[], items=[], range_reason="no values")
    m = _RANGE_WORDS.search(text)
    if m:
        reason = f"{text!r} describes a range, not values"
        return ParsedValues(values=[], items=[text], range_reason=reason)
    if ";" in text or "," in text or " / " in text:
        spaced = ";" in text or " / " in text or re.search(r",\s", text) is not None
        if spaced:
            protected = _THOUSANDS.sub("\x00", text)
            parts = re.split(r"\s*[;,]\s*|\s+/\s+", protected)
            parts = [p.replace("\x00", ",") for p in parts]
        elif re.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+", text) and re.search(r",0", text):
            parts = [text]  # "1,000": one number; "100,200" stays two items
        else:
            parts = text.split(",")
    else:
        words = text.split()
        numeric = len(words) > 1 and all(parse_number(w) is not None for w in words)
        parts = words if numeric else [text]
    items: list[str] = []
    for i, part in enumerate(parts):
        p = part.strip().strip("\"'").strip()
        if i == len(parts) - 1 and i > 0:
            p = re.sub(r"^(?:and|or|&)\s+", "", p, flags=re.IGNORECASE)
        if p:
            items.append(p)
    if not items:
        return ParsedValues(values=[], items=[], range_reason="no values")
    for item in items:
        if _DASH_RANGE.match(item):
            return ParsedValues(values=[], items=items, range_reason=f"{item!r} is a range")
    values: list[Any] = []
    for item in items:
        num = parse_number(item)
        values.append(item if num is None else num)
    return ParsedValues(values=values, items=items, range_reason=None)


def count_sentences(text: str) -> int:
    """Sentences in prose: a run of ``.``/``!``/``?`` followed by a space (or the end)
    ends one, except after abbreviations (e.g., i.e., etc., vs., approx.).
    Numbers such as ``1e-3`` or ``0.5`` never end a sentence; code spans are ignored. A
    trailing fragment without final punctuation counts as one sentence."""
    text = _CODE_SPAN.sub("x", text.replace("\n", " ")).strip()
    if not text:
        return 0
    count = 0
    last = 0
    for m in _SENTENCE_END.finditer(text):
        before = text[last : m.end()].rstrip("\"')]")
        if m.group(0).startswith(".") and _ABBREV.search(before[-8:]):
            continue
        count += 1
        last = m.end()
    if text[last:].strip():
        count += 1
    return count


def split_label(text: str) -> tuple[str, str] | None:
    """``("Cluster type", "local_gpu")`` from ``Cluster type: local_gpu``,
    ``**Cluster type**: local_gpu`` or ``**Cluster type:** local_gpu``; ``None`` when the
    text has no ``label:`` or bold label."""
    m = _LABEL.match(text)
    if not m:
        return None
    bold = m.group("open") is not None
    closed = m.group("close1") is not None or m.group("close2") is not None
    colon = m.group("c1") or m.group("c2") or m.group("c3")
    if bold != closed or not colon:
        return None
    return m.group("label").strip(), m.group("rest")


def split_dash(text: str) -> tuple[str, str, str]:
    """Split ``name — why`` at the first spaced em/en dash (or any em dash):
    ``(name, dash, why)``; ``dash`` is ``""`` when there is none."""
    m = _SPLIT_DASH.search(text)
    if not m:
        return text.strip(), "", ""
    dash = m.group("dash") or m.group("dash2")
    return text[: m.start()].strip(), dash, text[m.end() :].strip()


# -- building the model ------------------------------------------------------------------
def _title_match(title: str) -> re.Match[str] | None:
    return _TITLE.match(title.strip())


TitleInfo = tuple[int, int, int, str | None, str]  # line, column, level, prefix, title


def _plan_sections(doc: Document) -> tuple[list[TitleInfo], list[PlanSection], int]:
    toks = doc.tokens
    # (heading_open token index, level, title, line); doc.sections has every heading
    heads = [(s.start - 3, s.level, s.title, s.line) for s in doc.sections]
    titles: list[TitleInfo] = []
    title_index: int | None = None
    for n, (_i, level, title, line) in enumerate(heads):
        m = _title_match(title)
        if m and level <= 3:
            prefix, text = m.group("prefix"), m.group("title").strip()
            titles.append((line, doc.col_of(line), level, prefix, text))
            if title_index is None:
                title_index = n
    start = 0 if title_index is None else title_index + 1
    sections: list[PlanSection] = []
    candidates = [
        (n, h) for n, h in enumerate(heads)
        if n >= start and h[1] <= 3 and (h[1] >= 2 or title_index is not None)
        and not (_title_match(h[2]) and h[1] <= 3)
    ]
    # token index of the next heading of level <= 3 after each heading (one backward pass)
    next_end = [len(toks)] * len(heads)
    following = len(toks)
    for n in range(len(heads) - 1, -1, -1):
        next_end[n] = following
        if heads[n][1] <= 3:
            following = heads[n][0]
    for n, (i, level, title, line) in candidates:
        end = next_end[n]
        key, exact = classify_section(title)
        sections.append(PlanSection(title=title, key=key, exact=exact, level=level, line=line,
                                    column=doc.col_of(line), start=i + 3, end=end))
    body_start = heads[title_index][0] if title_index is not None else 0
    return titles, sections, body_start


def _setup(doc: Document, sec: PlanSection) -> list[SetupItem]:
    out = []
    for item in doc.iter_list_items(doc.tokens[sec.start : sec.end]):
        if item.depth != 1:
            continue
        first = item.text.split("\n", 1)[0]
        parts = split_label(first)
        if parts is None:
            out.append(SetupItem(key="", field=None, raw=plain(first), value=None, note=None,
                                 line=item.line, column=item.column,
                                 value_column=item.column))
            continue
        key, raw_md = parts
        fieldname = SETUP_FIELDS.get(" ".join(key.lower().split()))
        raw = raw_md.strip()
        value, note = _setup_value(fieldname, raw)
        vcol = doc.col_of(item.line, raw) if raw else len(doc.line_text(item.line)) + 1
        out.append(SetupItem(key=key, field=fieldname, raw=raw, value=value, note=note,
                             line=item.line, column=item.column, value_column=vcol))
    return out


def _setup_value(fieldname: str | None, raw: str) -> tuple[str | int | None, str | None]:
    notes = re.findall(r"\(([^()]*)\)", raw)
    note = "; ".join(n.strip() for n in notes) or None
    text = plain(_PAREN.sub("", raw)).strip().rstrip(".")
    if fieldname is None:
        return (text or None), note
    if fieldname == "gpu_count":
        return parse_int(text), note
    low = " ".join(text.lower().split())
    if fieldname == "gpuwrap":
        if low in _GPUWRAP_ALIASES:
            return _GPUWRAP_ALIASES[low], note
        word = re.split(r"[\s,;—–]", low, maxsplit=1)[0]
        return (word if word in GPUWRAP_VALUES else None), note
    if fieldname == "cluster_type":
        word = re.split(r"[\s,;—–]", low, maxsplit=1)[0]
        return (word if word in CLUSTER_TYPES else None), note
    if fieldname == "environment":
        # "uv venv (.venv)" is venv; "venv / conda / system" (the template) is no choice
        found = {w for w in re.findall(r"[a-z_]+", low) if w in ENVIRONMENTS}
        return (found.pop() if len(found) == 1 else None), note
    return None, note  # pragma: no cover - all fields handled above


def _approach(doc: Document, sec: PlanSection) -> list[ApproachStep]:
    out = []
    for item in doc.iter_list_items(doc.tokens[sec.start : sec.end]):
        if item.depth != 1:
            continue
        text = fix_punct(item.text)
        m = _BOLD_HEAD.match(text)
        title: str | None = None
        bold = False
        rest = text
        if m:
            title, rest, bold = m.group("title").strip(), m.group("rest"), True
            if title.endswith(":"):
                title, rest = title[:-1].rstrip(), ":" + rest
        dash = ""
        description = rest.strip()
        if bold:
            d = _DASH.match(rest)
            if d:
                dash, description = d.group("dash"), d.group("rest").strip()
        else:
            name, sep, why = split_dash(text)
            if sep:
                title, dash, description = name, sep, why
        out.append(ApproachStep(number=item.number, ordered=item.ordered, title=title, bold=bold,
                                dash=dash, description=description, text=item.text,
                                line=item.line, column=item.column))
    return out


def cell_columns(line: str) -> list[int]:
    """1-based columns where each cell's content starts in a pipe-table row ``line``
    (escaped pipes ``\\|`` do not split cells)."""
    cols: list[int] = []
    i = 0
    n = len(line)
    while i < n and line[i] in " \t":
        i += 1
    if i < n and line[i] == "|":
        i += 1
    start = i
    while i <= n:
        if i == n or (line[i] == "|" and (i == 0 or line[i - 1] != "\\")):
            j = start
            while j < i and line[j] in " \t":
                j += 1
            if i < n or line[start:i].strip():
                cols.append(j + 1)
            start = i + 1
        i += 1
    return cols


def _param_name(cell: str) -> str:
    spans = _CODE_SPAN.findall(cell)
    if spans and spans[0].strip():
        return spans[0].strip()
    return plain(cell)


def _sweep(doc: Document, sec: PlanSection) -> SweepTable | None:
    for table in doc.iter_tables(doc.tokens[sec.start : sec.end]):
        pcol = table.column("parameter")
        vcol = table.column("values")
        rcol = table.column("rationale")
        pcol = 0 if pcol is None else pcol
        vcol = 1 if vcol is None else vcol
        rows = []
        for row in table.rows:
            cells = list(row.cells)
            cols = cell_columns(doc.line_text(row.line))
            raw_name = cells[pcol] if pcol < len(cells) else ""
            raw = cells[vcol] if vcol < len(cells) else ""
            parsed = parse_values(raw)
            rows.append(SweepParameter(
                name=_param_name(raw_name), raw_name=raw_name, values=parsed.values, raw=raw,
                range_reason=parsed.range_reason,
                rationale=cells[rcol] if rcol is not None and rcol < len(cells) else "",
                line=row.line,
                column=cols[pcol] if pcol < len(cols) else 1,
                values_column=cols[vcol] if vcol < len(cols) else 1,
            ))
        return SweepTable(header=list(table.header), rows=rows, line=table.line)
    return None


def _metrics(doc: Document, sec: PlanSection) -> list[Metric]:
    out = []
    for item in doc.iter_list_items(doc.tokens[sec.start : sec.end]):
        if item.depth != 1:
            continue
        text = fix_punct(item.text)
        parts = split_label(text) if text.lstrip().startswith(("**", "__")) else None
        role = None
        body = text
        if parts:
            # "**Primary metric**:" reads as Primary
            role = re.sub(r"\s+metrics?$", "", " ".join(parts[0].lower().split()))
            body = parts[1]
        name, _dash, why = split_dash(body)
        out.append(Metric(role=role, name=plain(name), why=why.strip(), text=item.text,
                          line=item.line, column=item.column))
    return out


def _criteria(doc: Document, sec: PlanSection) -> list[Criterion]:
    out = []
    for item in doc.iter_list_items(doc.tokens[sec.start : sec.end]):
        if item.depth != 1:
            continue
        m = _CHECKBOX.match(item.text)
        if m:
            out.append(Criterion(mark=m.group("mark"), text=m.group("text").strip(),
                                 line=item.line, column=item.column))
        else:
            out.append(Criterion(mark=None, text=item.text.strip(), line=item.line,
                                 column=item.column))
    return out


def _risks(doc: Document, sec: PlanSection) -> list[Risk]:
    out = []
    for item in doc.iter_list_items(doc.tokens[sec.start : sec.end]):
        if item.depth != 1:
            continue
        text = fix_punct(item.text)
        halves = _ARROW.split(text, maxsplit=1)
        risk = mitigation = None
        first = split_label(halves[0])
        if first and first[0].lower() == "risk" and first[1].strip():
            risk = first[1].strip()
        if len(halves) == 2:
            second = split_label(halves[1])
            if second and second[0].lower() == "mitigation" and second[1].strip():
                mitigation = second[1].strip()
        out.append(Risk(risk=risk, mitigation=mitigation, arrow=len(halves) == 2,
                        text=item.text, line=item.line, column=item.column))
    return out


def _effort(doc: Document, sec: PlanSection) -> Effort:
    items: dict[str, EffortItem] = {}
    for item in doc.iter_list_items(doc.tokens[sec.start : sec.end]):
        if item.depth != 1:
            continue
        parts = split_label(item.text)
        if not parts:
            continue
        key = " ".join(parts[0].lower().split())
        raw = parts[1].strip()
        if key in items:
            continue
        first_line = raw.split("\n", 1)[0]
        vcol = (doc.col_of(item.line, first_line) if first_line
                else len(doc.line_text(item.line)) + 1)
        items[key] = EffortItem(key=parts[0], raw=raw, line=item.line, column=item.column,
                                value_column=vcol)
    runs = parse_int(items["runs"].raw) if "runs" in items else None
    time = items["time"].raw if "time" in items else None
    resources = items["resources"].raw if "resources" in items else None
    return Effort(runs=runs, time=time, resources=resources, items=items)


def _objective(doc: Document, sec: PlanSection) -> tuple[str | None, int]:
    parts = [(line, text) for line, text in doc.iter_inline(doc.tokens[sec.start : sec.end])]
    if not parts:
        return None, sec.line
    return "\n".join(t for _l, t in parts).strip() or None, parts[0][0]


def _build(doc: Document) -> PlanModel:
    titles, sections, body_start = _plan_sections(doc)
    first = titles[0] if titles else None
    by_key: dict[str, PlanSection] = {}
    for sec in sections:
        if sec.key and (sec.key not in by_key or (sec.exact and not by_key[sec.key].exact)):
            by_key[sec.key] = sec
    objective, objective_line = (None, 0)
    if "objective" in by_key:
        objective, objective_line = _objective(doc, by_key["objective"])
    workflow: list[str] = []
    if "workflow" in by_key:
        sec = by_key["workflow"]
        workflow = [t for _l, t in doc.iter_inline(doc.tokens[sec.start : sec.end]) if t.strip()]
    return PlanModel(
        title=first[4] if first else None,
        title_line=first[0] if first else 1,
        title_column=first[1] if first else 1,
        title_level=first[2] if first else 0,
        title_prefix=first[3] if first else None,
        titles=titles,
        body_start=body_start,
        sections=sections,
        objective=objective,
        objective_line=objective_line,
        setup=_setup(doc, by_key["compute_setup"]) if "compute_setup" in by_key else [],
        approach=_approach(doc, by_key["approach"]) if "approach" in by_key else [],
        sweep=_sweep(doc, by_key["parameters"]) if "parameters" in by_key else None,
        metrics=_metrics(doc, by_key["metrics"]) if "metrics" in by_key else [],
        criteria=_criteria(doc, by_key["success_criteria"]) if "success_criteria" in by_key else [],
        risks=_risks(doc, by_key["risks"]) if "risks" in by_key else [],
        effort=_effort(doc, by_key["effort"]) if "effort" in by_key else None,
        workflow=workflow,
    )


def parse_plan(doc: Document) -> PlanModel:
    """The :class:`PlanModel` of ``doc``, built once per document (``doc.cached("plan")``).

    Never raises for bad content; parts that are absent are ``None`` or empty."""
    return doc.cached("plan", _build)


# -- sweep API for the compiler ----------------------------------------------------------
def sweep_parameters(doc: Document) -> list[tuple[str, list[Any]]]:
    """``[(name, [values]), ...]`` from the Parameters to Sweep table, in table order.

    Names follow :class:`SweepParameter` (a code span in the cell names the identifier).
    A row whose Values cell is a range (or empty) has ``[]``: such a plan cannot be
    expanded and rule PL016 reports it. No table → ``[]``. Values are ``int``, ``float``
    or ``str`` (see :func:`parse_values`)."""
    model = parse_plan(doc)
    if model.sweep is None:
        return []
    return [(row.name, list(row.values)) for row in model.sweep.rows if row.name]


def sweep_size(parameters: Sequence[tuple[str, Sequence[Any]]]) -> int:
    """Grid size: the product of the number of values per parameter (a full factorial,
    which is how seed 001 counts "one run per configuration"). ``1`` for no parameters;
    ``0`` when any parameter has no concrete value."""
    return math.prod(len(values) for _name, values in parameters)
