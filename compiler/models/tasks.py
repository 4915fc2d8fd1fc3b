"""Task-plan model: a ``tasks`` document (seeds 002 and 003) parsed into phases and tasks.

Three forms exist (``../shared/reference/formats.md`` §2):

- ``"phased"`` (seed 003, current): ``# Tasks``, ``## Goal``, ``## Planning Notes``,
  ``## Phase N - Title`` sections holding task lines
  ``- [ ] [P2-T3] description | deliverable: <path> | done-when: <condition>``
  (optionally ``| depends: P1-T2, P2-T1``), and ``## Shared Metrics and Analytics Contract``;
- ``"flat"`` (seed 002, older): ``# Tasks``, ``## Goal``, ``## Analysis``, ``## Tasks`` with
  ``- [ ] Task N: description``; also a ``# Tasks`` title over a plain checkbox list (no
  phases, no ``[Pn-Tm]`` ids, no ``## Tasks``), whose items are then the task lines;
- ``"stub"``: research-agent's placeholder, written before the agent has planned
  (hao-ai-lab/research-agent ``server/agent/research_agent.py`` and
  ``server/agent/wild_loop_v2.py``: ``# Tasks``, ``## Goal``, ``## Tasks`` and the one line
  ``- [ ] (Agent will decompose the goal into tasks on iteration 1)``, :data:`STUB_TASK`);
- ``"abort"`` (seed 003 preflight failure): a checklist carrying the sentinel
  ``ABORT_EARLY_DOCS_CHECK_FAILED``.

Structure (headings, list items, nesting) comes from markdown-it tokens through
:class:`~compiler.document.Document`; regular expressions only split the *text* of one list
item into checkbox, id, description and ``| key: value`` fields. Parsing never raises for
bad input: anything that does not fit is kept with ``None`` parts for the rules to report.

Positions are 1-based file lines and character columns (transcripts included: a document
extracted from ``<plan> … </plan>`` keeps the transcript's line numbers).
Build a model once per document with :func:`task_plan` (``doc.cached``).

The model types are slotted dataclasses and named tuples rather than pydantic models: they
are built from markdown tokens, so there is nothing to validate, and pydantic's per-object
validation cost more than all the TK rules together (lint must stay cheap next to parsing).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from ..document import Document, ListItem, Section, normalise_title

MODEL_KEY = "tasks"
SENTINEL = "ABORT_EARLY_DOCS_CHECK_FAILED"
VALID_MARKS = (" ", "x", "/")  # open, done, in progress (server's checkbox states)

Form = Literal["phased", "flat", "abort", "stub"]
STUB_TASK = "(Agent will decompose the goal into tasks on iteration 1)"
"""The one task line research-agent writes into a new session's ``tasks.md`` (vendored
``server/agent/research_agent.py`` line 215, ``server/agent/wild_loop_v2.py`` line 238)."""

# A checkbox: up to three characters in brackets, not a link (``[x](url)``) and not an id.
_BOX = re.compile(r"\[([^\[\]\n]{0,3})\](?!\()")
# An id, leniently: case, spaces, an en dash, bold or code wrapping ("**[P1-T2]**"); TK008
# reports every spelling other than "[P1-T2]".
_ID_BRACKETED = re.compile(
    r"(?:\*\*|__|`)?\[\s*[Pp]\s*(\d{1,9})\s*[-–]\s*[Tt]\s*(\d{1,9})\s*\](?:\*\*|__|`)?")
_ID_BARE = re.compile(r"[Pp](\d{1,9})-[Tt](\d{1,9})\b:?")
_ID_CANONICAL = re.compile(r"\[P\d+-T\d+\]")
_FIELD = re.compile(r"\|\s*(deliverable|done[-_ ]?when|depends(?:[-_ ]on)?)\s*:", re.IGNORECASE)
_DEP_TOKEN = re.compile(r"[^\s,;]+")
_DEP_ID = re.compile(r"^[\[(`]*[Pp](\d{1,9})-[Tt](\d{1,9})[\])`.]*$")
_DEP_NONE = {"none", "n/a", "-", "—", "and", "&", "nothing"}
_PHASE_TITLE = re.compile(r"^phase\s+(\d{1,9})\b\s*(?:[-–—:.]\s*)?(.*)$", re.IGNORECASE)
_PHASE_ANY = re.compile(r"^phase\b", re.IGNORECASE)
_FLAT = re.compile(r"task\s+(\d{1,9})\s*(?:[:.)\-–—]\s*)?", re.IGNORECASE)
_NEAR_SENTINEL = re.compile(r"ABORT_EARLY[A-Z_]*")
_CONTRACT_KEYS = {
    "primary": re.compile(r"primary\s+metric", re.IGNORECASE),
    "secondary": re.compile(r"secondary\s+diagnostic", re.IGNORECASE),
    "statistical": re.compile(r"statistical", re.IGNORECASE),
    "artifacts": re.compile(r"required\s+arte?i?facts?", re.IGNORECASE),
}


class Part(NamedTuple):
    """A located piece of text: ``text`` starts at 1-based ``line``/``column`` of the file."""

    text: str
    line: int
    column: int


@dataclass(slots=True)
class Heading:
    """A heading: its title, level, position, whether text follows it in its section, and
    that text (the raw markdown of its inline and code tokens, joined by newlines)."""

    title: str
    level: int
    line: int
    column: int
    nonempty: bool
    text: str = ""


@dataclass(slots=True, kw_only=True)
class Task:
    """One seed-003 task line (``- [ ] [P2-T3] desc | deliverable: … | done-when: …``).

    ``mark`` is the checkbox content (``" "``, ``"x"``, ``"/"`` or anything else written),
    located at the ``[``; ``None`` when the line has no checkbox. ``id`` is the id as
    written (``"[P2-T3]"``), with ``phase``/``index`` parsed from it. ``deliverable``,
    ``done_when`` and ``depends`` are the field values (located at the value, or at the key
    when the value is empty); ``None`` when the field is absent. ``depends_ids`` and
    ``depends_other`` split the depends value into ids and tokens that are not ids.
    ``details`` holds the text of nested list items under the task, ``lower`` the text and
    details lower-cased (for keyword rules). ``section_phase`` is the number of the phase
    heading the task sits under (``None`` if it has none).
    """

    line: int
    column: int
    text: str
    details: str = ""
    content: Part
    mark: Part | None = None
    id: Part | None = None
    phase: int | None = None
    index: int | None = None
    description: Part
    deliverable: Part | None = None
    done_when: Part | None = None
    depends: Part | None = None
    depends_ids: list[Part] = field(default_factory=list)
    depends_other: list[Part] = field(default_factory=list)
    section_phase: int | None = None
    lower: str = ""

    @property
    def key(self) -> tuple[int, int] | None:
        """``(phase, index)`` of the id, or ``None`` without one."""
        if self.phase is None or self.index is None:
            return None
        return (self.phase, self.index)

    @property
    def is_task(self) -> bool:
        """Whether the item was written as a task (it has a checkbox or an id)."""
        return self.mark is not None or self.id is not None

    @property
    def all_text(self) -> str:
        """The item's text plus the text of its nested items, for keyword checks."""
        return f"{self.text}\n{self.details}" if self.details else self.text


@dataclass(slots=True)
class Phase:
    """A ``## Phase N - Title`` section. ``number``/``title`` are ``None``/``""`` when the
    heading does not carry them; ``tasks`` are its top-level list items in order."""

    heading: str
    number: int | None
    title: str
    line: int
    column: int
    tasks: list[Task] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class FlatTask:
    """One seed-002 line ``- [ ] Task N: description`` (``number`` ``None`` when absent)."""

    line: int
    column: int
    text: str
    content: Part
    mark: Part | None = None
    number: int | None = None
    number_part: Part | None = None
    description: Part


@dataclass(slots=True)
class ContractItem:
    """A ``- Key: value`` item of the Shared Metrics and Analytics Contract; ``kind`` is
    ``primary``/``secondary``/``statistical``/``artifacts`` or ``None`` for other keys."""

    key: str
    kind: str | None
    value: str
    line: int
    column: int


@dataclass(slots=True)
class TaskPlan:
    """A parsed task plan. ``form`` decides which rules apply (see the module docstring)."""

    form: Form
    title: Heading | None = None
    goal: Heading | None = None
    notes: Heading | None = None
    tasks_heading: Heading | None = None
    phases: list[Phase] = field(default_factory=list)
    flat_tasks: list[FlatTask] = field(default_factory=list)
    flat_items: list[FlatTask] = field(default_factory=list)
    contract: Heading | None = None
    contract_items: list[ContractItem] = field(default_factory=list)
    sentinel: Part | None = None
    boxes: list[Part] = field(default_factory=list)
    stub: Part | None = None
    """Form ``stub``: the placeholder line's text and position."""

    @property
    def tasks(self) -> list[Task]:
        """Every task-like item of every phase, in document order."""
        return [t for p in self.phases for t in p.tasks]

    def anchor(self) -> tuple[int, int]:
        """Where plan-wide findings point: the ``# Tasks`` title, else the first line."""
        if self.title is not None:
            return self.title.line, self.title.column
        return 1, 1


# -- text-level parsing (offsets into one list item's text) ----------------------------
@dataclass(slots=True)
class ParsedLine:
    """Offsets (0-based, into the item text) of a task line's parts; values stripped.
    ``fields`` maps ``deliverable``/``done-when``/``depends`` to ``(value, offset)``."""

    mark: str | None = None
    mark_at: int = 0
    id: str | None = None
    id_at: int = 0
    phase: int | None = None
    index: int | None = None
    description: str = ""
    description_at: int = 0
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    return pos


def parse_task_text(text: str) -> ParsedLine:
    """Split a seed-003 task item's text into checkbox, id, description and fields.

    ``text`` is the raw markdown of the item's first paragraph (``"[ ] [P1-T2] Do x |
    deliverable: a.md | done-when: y"``). Field keys are matched case-insensitively and
    normalised to ``deliverable``, ``done-when`` and ``depends``; the first occurrence of a
    key wins. Never raises.
    """
    out = ParsedLine()
    pos = 0
    m = _BOX.match(text)
    if m and not _ID_BRACKETED.fullmatch(m.group(0)):
        out.mark, out.mark_at = m.group(1), 0
        pos = _skip_space(text, m.end())
    m = _ID_BRACKETED.match(text, pos) or _ID_BARE.match(text, pos)
    if m:
        out.id, out.id_at = m.group(0).rstrip(":"), pos
        out.phase, out.index = int(m.group(1)), int(m.group(2))
        pos = _skip_space(text, m.end())
    markers = list(_FIELD.finditer(text, pos))
    end = markers[0].start() if markers else len(text)
    desc = text[pos:end]
    out.description = desc.strip()
    out.description_at = pos + (len(desc) - len(desc.lstrip()))
    for i, mk in enumerate(markers):
        stop = markers[i + 1].start() if i + 1 < len(markers) else len(text)
        raw = text[mk.end() : stop]
        value = raw.strip()
        key = mk.group(1).lower()
        name = ("deliverable" if key.startswith("deliv")
                else "done-when" if key.startswith("done") else "depends")
        if name in out.fields:
            continue
        at = mk.end() + (len(raw) - len(raw.lstrip())) if value else mk.start(1)
        out.fields[name] = (value, at)
    return out


def parse_flat_text(text: str) -> tuple[str | None, int | None, int, str, int]:
    """Split a seed-002 item ``"[ ] Task 3: description"`` → ``(mark, number, number_at,
    description, description_at)`` (offsets 0-based into ``text``). Never raises."""
    mark = None
    pos = 0
    m = _BOX.match(text)
    if m:
        mark = m.group(1)
        pos = _skip_space(text, m.end())
    number = None
    number_at = pos
    m = _FLAT.match(text, pos)
    if m:
        number, number_at = int(m.group(1)), m.start(1)
        pos = m.end()
    desc = text[pos:]
    return mark, number, number_at, desc.strip(), pos + (len(desc) - len(desc.lstrip()))


def format_task_line(phase: int, index: int, description: str, deliverable: str,
                     done_when: str, mark: str = " ", depends: list[str] | None = None) -> str:
    """The seed-003 task line for these parts (the inverse of :func:`parse_task_text`)."""
    line = (f"- [{mark}] [P{phase}-T{index}] {description} | deliverable: {deliverable}"
            f" | done-when: {done_when}")
    if depends:
        line += " | depends: " + ", ".join(depends)
    return line


# -- document-level building ------------------------------------------------------------
class Locator:
    """Maps 0-based offsets in a list item's ``text`` (its first paragraph, starting on file
    line ``item_line``) to 1-based file (line, column).

    markdown-it strips a continuation line's indentation (and a blockquote's ``>``) from the
    paragraph text, so each text line is found again in its source line once, here. An item
    whose paragraph starts on the line after its marker (``-`` alone on a line) is found on
    that later line. Columns never pass the end of their line.
    """

    __slots__ = ("_doc", "_line", "_text", "_starts", "_bases")

    def __init__(self, doc: Document, item_line: int, text: str) -> None:
        self._doc, self._line, self._text = doc, item_line, text
        self._starts = [0]
        nl = text.find("\n")
        while nl >= 0:
            self._starts.append(nl + 1)
            nl = text.find("\n", nl + 1)
        self._bases: list[int | None] = [None] * len(self._starts)
        first = text[: self._starts[1] - 1] if len(self._starts) > 1 else text
        if first and first not in doc.line_text(item_line):
            for later in range(item_line + 1, item_line + 4):
                if first in doc.line_text(later):
                    self._line = later
                    break

    def _base(self, k: int) -> int:
        base = self._bases[k]
        if base is None:
            start = self._starts[k]
            stop = self._starts[k + 1] - 1 if k + 1 < len(self._starts) else len(self._text)
            segment = self._text[start:stop]
            line = self._line + k
            base = self._doc.line_text(line).rfind(segment) if segment else -1
            if base < 0:
                base = self._doc.col_of(line) - 1
            self._bases[k] = base
        return base

    def at(self, offset: int) -> tuple[int, int]:
        """File (line, column) of ``offset`` (clamped to the text)."""
        offset = max(0, min(offset, len(self._text)))
        k = 0
        if len(self._starts) > 1:
            k = bisect_right(self._starts, offset) - 1
        line = self._line + k
        column = self._base(k) + offset - self._starts[k] + 1
        return line, max(1, min(column, len(self._doc.line_text(line)) + 1))

    def part(self, text: str, offset: int) -> Part:
        """A :class:`Part` holding ``text``, located at ``offset``."""
        line, col = self.at(offset)
        return Part(text, line, col)


def locate(doc: Document, item_line: int, text: str, offset: int) -> tuple[int, int]:
    """File (line, column), 1-based, of 0-based ``offset`` in a list item's ``text`` (the
    item's first paragraph, which starts on file line ``item_line``)."""
    return Locator(doc, item_line, text).at(offset)


def _heading(doc: Document, sec: Section | None) -> Heading | None:
    if sec is None:
        return None
    parts = [tok.content for tok in doc.section_tokens(sec)
             if tok.type in ("inline", "fence", "code_block", "html_block") and tok.content.strip()]
    return Heading(title=sec.title, level=sec.level, line=sec.line, column=sec.column,
                   nonempty=bool(parts), text="\n".join(parts))


def _title_items(doc: Document, title: Section, h2: list[Section]) -> list[ListItem]:
    """Top-level checkbox items directly under the ``# Tasks`` title (before its first
    ``##`` section); ``[]`` unless every top-level item there is a checkbox."""
    stop = next((s.line for s in h2 if s.line > title.line), None)
    items = [item for item, _d in _top_items(doc, title)
             if stop is None or item.line < stop]
    if not items or not all(_BOX.match(item.text) for item in items):
        return []
    return items


def _top_items(doc: Document, sec: Section) -> list[tuple[ListItem, list[str]]]:
    """Top-level list items of a section, each with the texts of the items nested in it."""
    out: list[tuple[ListItem, list[str]]] = []
    for item in doc.iter_list_items(doc.section_tokens(sec)):
        if item.depth <= 1 or not out:
            out.append((item, []))
        else:
            out[-1][1].append(item.text)
    return out


def _task(doc: Document, item: ListItem, details: list[str], section_phase: int | None) -> Task:
    p = parse_task_text(item.text)
    loc = Locator(doc, item.line, item.text)
    fields: dict[str, object] = {}
    depends_ids: list[Part] = []
    depends_other: list[Part] = []
    for name, (value, at) in p.fields.items():
        part = loc.part(value, at)
        if name != "depends":
            fields["deliverable" if name == "deliverable" else "done_when"] = part
            continue
        fields["depends"] = part
        for m in _DEP_TOKEN.finditer(value):
            tok = m.group(0)
            if tok.lower().strip("`*_") in _DEP_NONE:
                continue
            dm = _DEP_ID.match(tok)
            if dm:
                label = f"P{int(dm.group(1))}-T{int(dm.group(2))}"
                depends_ids.append(loc.part(label, at + m.start()))
            else:
                depends_other.append(loc.part(tok, at + m.start()))
    return Task(
        line=item.line,
        column=item.column,
        text=item.text,
        details="\n".join(details),
        content=loc.part(item.text, 0),
        mark=None if p.mark is None else loc.part(p.mark, p.mark_at),
        id=None if p.id is None else loc.part(p.id, p.id_at),
        phase=p.phase,
        index=p.index,
        description=loc.part(p.description, p.description_at),
        depends_ids=depends_ids,
        depends_other=depends_other,
        section_phase=section_phase,
        lower=(f"{item.text}\n{joined}" if (joined := "\n".join(details)) else item.text).lower(),
        **fields,  # type: ignore[arg-type]
    )


def _flat(doc: Document, item: ListItem) -> FlatTask:
    mark, number, number_at, desc, desc_at = parse_flat_text(item.text)
    loc = Locator(doc, item.line, item.text)
    return FlatTask(
        line=item.line, column=item.column, text=item.text,
        content=loc.part(item.text, 0), number=number,
        mark=None if mark is None else loc.part(mark, 0),
        number_part=None if number is None else loc.part(str(number), number_at),
        description=loc.part(desc, desc_at),
    )


def _find_sentinel(doc: Document) -> tuple[Part | None, Part | None]:
    """(exact sentinel, near-miss such as ``ABORT_EARLY_DOCS_FAILED``) in the parsed body."""
    exact = near = None
    for tok in doc.tokens:
        content = tok.content
        if not content or "ABORT_EARLY" not in content:
            continue
        first = doc.line_of(tok) + (1 if tok.type == "fence" else 0)
        for m in _NEAR_SENTINEL.finditer(content):
            line = first + content.count("\n", 0, m.start())
            part = Part(text=m.group(0), line=line, column=doc.col_of(line, m.group(0)))
            if m.group(0) == SENTINEL:
                exact = exact or part
            else:
                near = near or part
    return exact, near


def build_task_plan(doc: Document) -> TaskPlan:
    """Parse ``doc`` (kind ``tasks``) into a :class:`TaskPlan`. Never raises for bad input.

    The form is ``"abort"`` when the sentinel appears (or a misspelt one in a document
    without phases or ``[Pn-Tm]`` ids), ``"flat"`` for seed 002's ``## Tasks`` /
    ``## Analysis`` layout without phases or ids (or a ``# Tasks`` title over a plain
    checkbox list), ``"stub"`` when that flat list is only research-agent's placeholder
    line (:data:`STUB_TASK`), and ``"phased"`` otherwise.
    """
    title = next((s for s in doc.sections if s.level == 1), None)
    h2 = [s for s in doc.sections if s.level == 2]
    by_title = {}
    for s in h2:
        by_title.setdefault(normalise_title(s.title), s)
    phase_secs = [s for s in h2 if _PHASE_ANY.match(s.title)]
    contract_sec = by_title.get("shared metrics and analytics contract") or next(
        (s for s in h2 if "metrics" in s.title.lower() and "contract" in s.title.lower()), None)
    tasks_sec = by_title.get("tasks")
    exact, near = _find_sentinel(doc)
    has_ids = bool(_ID_BRACKETED.search(doc.text)) if "[" in doc.text else False
    title_items: list[ListItem] = []

    form: Form
    if exact is not None:
        form = "abort"
    elif phase_secs or "planning notes" in by_title or has_ids:
        form = "phased"
    elif near is not None:
        form = "abort"
    elif tasks_sec is None and title is not None and normalise_title(title.title) == "tasks" \
            and (title_items := _title_items(doc, title, h2)):
        form = "flat"  # a plain checkbox list right under '# Tasks'
        tasks_sec = title
    elif tasks_sec is not None or "analysis" in by_title:
        form = "flat"
    else:
        form = "phased"

    plan = TaskPlan(
        form=form,
        title=_heading(doc, title),
        goal=_heading(doc, by_title.get("goal")),
        notes=_heading(doc, by_title.get("analysis" if form == "flat" else "planning notes")),
        tasks_heading=_heading(doc, tasks_sec),
        contract=_heading(doc, contract_sec),
        sentinel=exact or near,
    )
    if form == "abort":
        for item in doc.iter_list_items():
            m = _BOX.match(item.text)
            if m:
                plan.boxes.append(Locator(doc, item.line, item.text).part(m.group(1), 0))
        return plan
    if form == "flat":
        if tasks_sec is not None and tasks_sec is title:
            items = title_items
        else:
            items = [item for item, _d in _top_items(doc, tasks_sec)] if tasks_sec else []
        plan.flat_items = [_flat(doc, item) for item in items]
        plan.flat_tasks = [t for t in plan.flat_items
                           if t.mark is not None or t.number is not None]
        if len(plan.flat_items) == 1 and plan.flat_items[0].number is None and \
                " ".join(plan.flat_items[0].description.text.split()) == STUB_TASK:
            plan.form = "stub"
            plan.stub = plan.flat_items[0].description
        return plan
    for sec in phase_secs:
        m = _PHASE_TITLE.match(sec.title)
        number = int(m.group(1)) if m else None
        phase = Phase(heading=sec.title, number=number, title=(m.group(2).strip() if m else ""),
                      line=sec.line, column=sec.column)
        for item, details in _top_items(doc, sec):
            phase.tasks.append(_task(doc, item, details, number))
        plan.phases.append(phase)
    if contract_sec is not None:
        for item, _details in _top_items(doc, contract_sec):
            text = item.text
            colon = text.find(":")
            key = text[:colon].strip(" *_`") if colon >= 0 else text.strip(" *_`")
            value = text[colon + 1 :].strip(" *_\n") if colon >= 0 else ""
            kind = next((k for k, rx in _CONTRACT_KEYS.items() if rx.search(key)), None)
            line, col = locate(doc, item.line, text, 0)
            plan.contract_items.append(ContractItem(key=key, kind=kind, value=value,
                                                    line=line, column=col))
    return plan


def task_plan(doc: Document) -> TaskPlan:
    """The document's :class:`TaskPlan`, built once per document and cached on it."""
    return doc.cached(MODEL_KEY, build_task_plan)


def is_canonical_id(text: str) -> bool:
    """Whether an id is written exactly as seed 003 shows it: ``[P2-T3]``."""
    return bool(_ID_CANONICAL.fullmatch(text))
