"""Parse a seed 004 ``runs_plan.md`` (the run-group document *body*) into :class:`RunPlanDoc`.

Source: seed 004 "Output Deliverables → runs_plan.md" template (``../shared/reference/
formats.md`` §3). The structure comes from markdown-it tokens only (``doc.sections``,
``doc.iter_tables``, ``doc.iter_list_items``); regexes read the *text* of a bullet or a cell.
Parsing never raises: what cannot be read is left ``None`` / empty, and the rules report it.

Every value that a rule may point at keeps its 1-based line and column (:class:`Located`).
The model is built once per document with :func:`parse_run_plan` (memoised via
``doc.cached``).

Value helpers (tolerant, used by the rules and by the compiler):

- :func:`parse_number` — ``"8,000"``, ``"~2.4"``, ``"1 000"`` → float;
- :func:`parse_int` — ``"16"``, ``"16 (1B)"`` → int;
- :func:`parse_batch_sizes` — ``"16 (1B), 8 (3B)"`` → ``{"1B": 16, "3B": 8}``; ``"16"`` →
  ``{"": 16}``;
- :func:`parse_recipe` — ``"`lora_finetune_single_device.py` (1 GPU)"`` →
  ``"lora_finetune_single_device"``;
- :func:`parse_bool` — ``"True - explanation"``, ``"yes"``, ``"no (faster)"`` → bool;
- :func:`parse_levels` — ``"4, 64"`` → ``["4", "64"]``;
- :func:`eval_epochs` — ``"last epoch only (epoch_1)"`` with 2 epochs → ``[1]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..document import Document, ListItem, Section, normalise_title

T = TypeVar("T")

#: The ``##`` sections of the seed 004 template, in order.
SECTIONS: tuple[str, ...] = (
    "Overview",
    "Variables",
    "All Runs",
    "Resources",
    "Evaluations",
    "Configuration",
    "Directory Structure",
    "Compute Estimates",
    "Quick Reference",
    "Notes",
)

_KEY = re.compile(r"^\s*\*\*([^*]+?):?\*\*\s*:?\s*(.*)$", re.S)
_PLAIN_KEY = re.compile(r"^\s*([A-Za-z][\w .()/-]*?)\s*:\s*(.*)$", re.S)
_NUM = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-+]?\d+(?:\.\d+)?")
_TOTAL_RUNS = re.compile(
    r"(\d+)\s*\(\s*(\d+)\s*fine[- ]?tuned\s*\+\s*(\d+)\s*control", re.I)
_SPLIT = re.compile(r"([A-Za-z]+)\s*\(\s*([\d,]+)\s*\)")
_TOTAL_EVALS = re.compile(r"^\s*\**\s*total\s*:?\s*\**\s*:?\s*~?\s*([\d,]+)\s*evaluations?", re.I)
_BS = re.compile(r"(\d+)\s*\(([^()]*)\)|\([^()]*\)|(\d+)")
_EPOCH_N = re.compile(r"epoch[_ ]?(\d+)", re.I)
_TITLE = re.compile(r"^Run Plan:\s*(.*)$")


@dataclass(frozen=True)
class Located(Generic[T]):
    """A value read from the document and where it is (1-based line and column)."""

    value: T
    line: int
    column: int


@dataclass(frozen=True)
class Factor:
    """A row of the Variables table: factor name and its levels (``"4, 64"`` → two)."""

    name: str
    levels: list[str]
    line: int


@dataclass(frozen=True)
class RunRow:
    """A row of the All Runs table.

    ``type`` is ``"fine-tuned"``, ``"control"`` or the raw lower-cased text; ``cells`` maps
    every lower-cased header to the cell text (for factors with a column of their own).
    """

    name: str
    model: str
    lora_rank: int | None
    batch_size: int | None
    type: str
    est_time: str
    line: int
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def is_control(self) -> bool:
        return self.type == "control"


@dataclass(frozen=True)
class EvalTaskRow:
    """A row of the Evaluation Tasks table (backticks stripped)."""

    name: str
    script: str
    dataset: str
    description: str
    line: int


@dataclass(frozen=True)
class MatrixRow:
    """A row of the Evaluation Matrix: ``tasks`` maps task name → will evaluate (✓)."""

    run: str
    tasks: dict[str, bool]
    notes: str
    line: int


@dataclass
class ModelEstimate:
    """One ``**<model> models:**`` block of Training Time Estimates (seed 004 template).

    ``samples``/``batch_size``/``its`` come from the "Prior run data" (or "Assumed speed")
    bullet, with ``batch_per_gpu``/``batch_gpus`` from a breakdown such as
    ``batch_size=8 (4 per GPU × 2 GPUs)``; ``steps`` from "Steps per epoch" (its numerator and
    divisor kept too); ``epoch_minutes`` from "Time per epoch"; ``run_minutes`` from
    "**E epochs × N runs**: ~M minutes …", whose ``run_basis`` is ``"per run"`` when the line
    says "per run"/"each", ``"total"`` when it says "total" (seed 004's template wording:
    "~{total_min} minutes total"), else ``""``; ``seq_runs``/``seq_per_run``/``seq_minutes``
    from "**Sequential**: N runs × T min = S minutes"; ``gpu_hours`` from "**GPU hours**".
    Lines are 1-based.
    """

    model: str
    line: int
    samples: float | None = None
    batch_size: float | None = None
    batch_per_gpu: float | None = None
    batch_gpus: int | None = None
    its: float | None = None
    data_line: int = 0
    steps: Located[float] | None = None
    steps_num: float | None = None
    steps_div: float | None = None
    epoch_minutes: Located[float] | None = None
    run_minutes: Located[float] | None = None
    run_epochs: int | None = None
    run_count: int | None = None
    run_basis: str = ""
    seq_runs: int | None = None
    seq_per_run: Located[float] | None = None
    seq_minutes: Located[float] | None = None
    gpu_hours: Located[float] | None = None


@dataclass(frozen=True)
class CheckpointLine:
    """``- <model>: N runs × E epochs × S GiB = T GiB`` (Disk Space Estimates)."""

    model: str
    runs: int
    epochs: int
    size_gib: float
    total_gib: float
    line: int


@dataclass
class Estimates:
    """Numbers of the Compute Estimates section (minutes, hours, GiB)."""

    section_line: int = 0
    models: list[ModelEstimate] = field(default_factory=list)
    total_gpu_hours: Located[float] | None = None
    parallel_minutes: Located[float] | None = None  # "Total training compute" → Parallel
    sequential_minutes: Located[float] | None = None  # "Total training compute" → Sequential
    eval_gpu_hours: Located[float] | None = None
    ckpt_per_model: dict[str, Located[float]] = field(default_factory=dict)  # GiB per epoch
    ckpt_totals: list[Located[float]] = field(default_factory=list)  # per-model totals, GiB
    ckpt_lines: list[CheckpointLine] = field(default_factory=list)
    ckpt_total: Located[float] | None = None  # "**Total**: ~X GiB for all checkpoints"
    eval_logs_gib: float | None = None
    margin_gib: float | None = None
    disk_total: Located[float] | None = None  # "Total disk space needed"
    summary: dict[str, tuple[int, list[str]]] = field(default_factory=dict)  # row → (line, cells)
    backed: bool = False  # names a prior run directory
    hedged: bool = False  # says estimated / preliminary / conservative
    claims: list[Located[str]] = field(default_factory=list)  # "based on actual …" claims
    items: list[ListItem] = field(default_factory=list)  # every bullet of the section


@dataclass
class RunPlanDoc:
    """The seed 004 ``runs_plan.md`` as data (see the module docstring)."""

    name: Located[str] | None = None
    title_line: int = 0
    overview: dict[str, Located[str]] = field(default_factory=dict)
    total_runs: Located[int] | None = None
    finetune_count: int | None = None
    control_count: int | None = None
    variables: list[Factor] = field(default_factory=list)
    runs: list[RunRow] = field(default_factory=list)
    runs_line: int = 0
    models_location: Located[str] | None = None
    models_used: dict[str, Located[str]] = field(default_factory=dict)
    dataset_path: Located[str] | None = None
    dataset_size: Located[str] | None = None
    dataset_splits: dict[str, int] = field(default_factory=dict)
    splits_line: int = 0
    finetuned_epochs: Located[str] | None = None
    stated_eval_jobs: Located[int] | None = None
    eval_tasks: list[EvalTaskRow] = field(default_factory=list)
    tasks_line: int = 0
    matrix: list[MatrixRow] = field(default_factory=list)
    matrix_line: int = 0
    matrix_tasks: list[str] = field(default_factory=list)
    config: dict[str, Located[str]] = field(default_factory=dict)
    system_prompts: list[Located[str]] = field(default_factory=list)
    estimates: Estimates = field(default_factory=Estimates)
    sections: list[Section] = field(default_factory=list)  # the ``##`` sections, in order

    # -- derived -----------------------------------------------------------------------
    @property
    def finetuned(self) -> list[RunRow]:
        return [r for r in self.runs if r.type == "fine-tuned"]

    @property
    def controls(self) -> list[RunRow]:
        return [r for r in self.runs if r.type == "control"]

    @property
    def epochs(self) -> int | None:
        """Training epochs from Configuration ("**Epochs**: 2"), else ``None``."""
        e = self.config.get("epochs")
        return parse_int(e.value) if e else None

    @property
    def gpus(self) -> int | None:
        g = self.config.get("gpus per job")
        return parse_int(g.value) if g else None

    @property
    def eval_epoch_list(self) -> Sequence[int] | None:
        """0-based epochs evaluated for fine-tuned runs (see :func:`eval_epochs`)."""
        if self.finetuned_epochs is None:
            return None
        return eval_epochs(self.finetuned_epochs.value, self.epochs)

    def matrix_for(self, run: str) -> MatrixRow | None:
        for row in self.matrix:
            if row.run == run:
                return row
        return None


# -- value helpers -----------------------------------------------------------------------
def strip_md(text: str) -> str:
    """Drop backticks, bold/italic markers and surrounding quotes/space."""
    return text.replace("`", "").replace("**", "").strip().strip("*").strip()


def parse_number(text: str) -> float | None:
    """The first number in ``text`` (thousands separators allowed), else ``None``.

    ``"~8,000 samples"`` → 8000.0; ``"2.4 GiB"`` → 2.4; ``"n/a"`` → ``None``.
    """
    m = _NUM.search(text)
    if not m:
        return None
    try:
        return float(m.group(0).replace(",", ""))
    except ValueError:  # pragma: no cover - the regex only matches numbers
        return None


def parse_int(text: str) -> int | None:
    """The first number in ``text`` as an int when it is whole, else ``None``."""
    v = parse_number(text)
    if v is None or v != int(v):
        return None
    return int(v)


def parse_levels(text: str) -> list[str]:
    """Levels of a Variables row: comma (or semicolon) separated, markdown stripped.

    Thousands separators inside a level are not split (``"1,000, 2,000"`` → two levels).
    """
    clean = strip_md(text)
    parts = re.split(r"\s*[;,]\s*(?!\d{3}\b)", clean)
    return [p.strip() for p in parts if p.strip()]


def parse_batch_sizes(text: str) -> dict[str, int]:
    """``"16 (1B), 8 (3B)"`` → ``{"1B": 16, "3B": 8}``; ``"16"`` → ``{"": 16}``.

    Trailing notes such as ``"(adjusted for packing)"`` without a number before them are
    ignored. Labels are stripped of markdown.
    """
    out: dict[str, int] = {}
    clean = strip_md(text)
    for m in _BS.finditer(clean):
        if m.group(1) is not None:
            number, label = int(m.group(1)), m.group(2).strip()
        elif m.group(3) is not None:
            number, label = int(m.group(3)), ""
        else:
            continue  # a parenthetical note after the sizes
        # "8 (unpacked, 80 GB GPU defaults)" style notes are not labels
        if label and not re.search(r"\d+\s*B\b|[A-Za-z]+-\d", label):
            label = ""
        out.setdefault(label, number)
    return out


def parse_recipe(text: str) -> str:
    """Recipe name without backticks, ``.py`` or a trailing note.

    ``"`lora_finetune_single_device.py` (1 GPU)"`` → ``"lora_finetune_single_device"``.
    """
    clean = strip_md(text)
    word = clean.split()[0] if clean.split() else ""
    word = word.strip(",;")
    if word.endswith(".py"):
        word = word[:-3]
    return word


def parse_bool(text: str) -> bool | None:
    """``True``/``yes``/``on`` → True, ``False``/``no``/``off``/``none`` → False (first word).

    ``"True - explanation"`` and ``"no (simpler, faster)"`` are accepted; else ``None``.
    """
    m = re.match(r"\s*[`*\"']*([A-Za-z]+)", text)
    if not m:
        return None
    w = m.group(1).lower()
    if w in ("true", "yes", "on", "enabled", "y"):
        return True
    if w in ("false", "no", "off", "disabled", "none", "n"):
        return False
    return None


def eval_epochs(text: str, epochs: int | None) -> Sequence[int] | None:
    """0-based epochs evaluated, from the "Fine-tuned models:" text.

    Explicit ``epoch_N`` mentions win; else "all epochs" → ``0..E-1``, "last" → ``[E-1]``,
    "first" → ``[0]``; "best epoch" → ``None`` (chosen at run time). ``epochs`` is the
    Configuration epoch count (``None`` when unknown).
    """
    low = text.lower()
    found = sorted({int(m.group(1)) for m in _EPOCH_N.finditer(text)})
    if found:
        return found
    if "best" in low:
        return None
    if epochs is None:
        return None
    if "all" in low:
        return range(epochs)  # lazy: "**Epochs**: 100000000" must not build a list
    if "last" in low or "final" in low:
        return [epochs - 1]
    if "first" in low:
        return [0]
    return None


def split_key(text: str) -> tuple[str, str, int] | None:
    """A ``**Key**: value`` bullet → (lower-case key, value, 0-based offset of value)."""
    m = _KEY.match(text)
    if not m:
        return None
    return m.group(1).strip().lower(), m.group(2).strip(), m.start(2)


def _located(doc: Document, line: int, value: str) -> Located[str]:
    return Located(value, line, doc.col_of(line, value[:20]) if value else doc.col_of(line))


def _cell_text(cell: str) -> str:
    return strip_md(cell)


# -- the parser -----------------------------------------------------------------------
MODEL_KEY = "rungroup.doc"


def parse_run_plan(doc: Document) -> RunPlanDoc:
    """The :class:`RunPlanDoc` of ``doc`` (built once per document, memoised under
    :data:`MODEL_KEY`)."""
    return doc.cached(MODEL_KEY, build_run_plan)


def _sub(doc: Document, sec: Section) -> list[Section]:
    """Direct ``###`` subsections of a ``##`` section."""
    return [s for s in doc.sections
            if s.level == sec.level + 1 and sec.start <= s.start - 3 < sec.end]


def build_run_plan(doc: Document) -> RunPlanDoc:
    """Parse ``doc`` without memoising (use :func:`parse_run_plan`)."""
    plan = RunPlanDoc()
    h2: dict[str, Section] = {}
    for sec in doc.sections:
        if sec.level == 1 and plan.name is None:
            m = _TITLE.match(sec.title)
            if m:
                plan.title_line = sec.line
                plan.name = _located(doc, sec.line, m.group(1).strip())
        elif sec.level == 2:
            plan.sections.append(sec)
            h2.setdefault(normalise_title(sec.title), sec)
    if (sec := h2.get("overview")) is not None:
        _overview(doc, sec, plan)
    if (sec := h2.get("variables")) is not None:
        _variables(doc, sec, plan)
    if (sec := h2.get("all runs")) is not None:
        _runs(doc, sec, plan)
    if (sec := h2.get("resources")) is not None:
        _resources(doc, sec, plan)
    if (sec := h2.get("evaluations")) is not None:
        _evaluations(doc, sec, plan)
    if (sec := h2.get("configuration")) is not None:
        _configuration(doc, sec, plan)
    if (sec := h2.get("compute estimates")) is not None:
        _estimates(doc, sec, plan)
    _system_prompts(doc, plan)
    return plan


def _overview(doc: Document, sec: Section, plan: RunPlanDoc) -> None:
    for item in doc.iter_list_items(doc.section_tokens(sec)):
        kv = split_key(item.text)
        if not kv:
            continue
        key, value, _ = kv
        plan.overview[key] = _located(doc, item.line, value)
        if key == "total runs":
            m = _TOTAL_RUNS.search(value)
            n = parse_int(value)
            if n is not None:
                plan.total_runs = Located(n, item.line, doc.col_of(item.line, value[:8]))
            if m:
                plan.finetune_count, plan.control_count = int(m.group(2)), int(m.group(3))


def _variables(doc: Document, sec: Section, plan: RunPlanDoc) -> None:
    for table in doc.iter_tables(doc.section_tokens(sec)):
        fi, li = table.column("factor"), table.column("levels")
        if fi is None or li is None:
            continue
        for row in table.rows:
            if max(fi, li) < len(row.cells):
                plan.variables.append(Factor(_cell_text(row.cells[fi]),
                                             parse_levels(row.cells[li]), row.line))
        return


def _col(table, *names: str) -> int | None:  # type: ignore[no-untyped-def]
    for n in names:
        i = table.column(n)
        if i is not None:
            return i
    return None


def _runs(doc: Document, sec: Section, plan: RunPlanDoc) -> None:
    for table in doc.iter_tables(doc.section_tokens(sec)):
        ni = _col(table, "run name", "run", "name", "#")
        if ni is None:
            continue
        plan.runs_line = table.line
        heads = [h.strip().lower() for h in table.header]
        for row in table.rows:
            cells = {h: _cell_text(c) for h, c in zip(heads, row.cells, strict=False)}
            raw_type = cells.get("type", "").lower()
            if raw_type.startswith("fine") or raw_type in ("ft", "lora"):
                typ = "fine-tuned"
            elif "control" in raw_type or "base" in raw_type:
                typ = "control"
            else:
                typ = raw_type
            rank = cells.get("lora rank", cells.get("rank", ""))
            plan.runs.append(RunRow(
                name=cells.get(heads[ni], ""),
                model=cells.get("model", ""),
                lora_rank=parse_int(rank),
                batch_size=parse_int(cells.get("batch size", "")),
                type=typ,
                est_time=cells.get("est. time", cells.get("est time", "")),
                line=row.line,
                cells=cells,
            ))
        return


def _resources(doc: Document, sec: Section, plan: RunPlanDoc) -> None:
    in_models = False
    for item in doc.iter_list_items(doc.section_tokens(sec)):
        kv = split_key(item.text)
        if item.depth == 1 and kv:
            key, value, _ = kv
            in_models = key == "models used"
            value_clean = strip_md(value)
            if key == "location":
                plan.models_location = _located(doc, item.line, value_clean)
            elif key == "path":
                plan.dataset_path = _located(doc, item.line, value_clean)
            elif key == "size":
                plan.dataset_size = _located(doc, item.line, value_clean)
            elif key == "splits":
                plan.splits_line = item.line
                for m in _SPLIT.finditer(value):
                    name = m.group(1).lower()
                    name = {"val": "validation", "valid": "validation", "eval": "validation"
                            }.get(name, name)
                    plan.dataset_splits[name] = int(m.group(2).replace(",", ""))
        elif item.depth >= 2 and in_models:
            m = _PLAIN_KEY.match(strip_md(item.text)) or re.match(r"^(\S+)\s*:\s*(.*)$", item.text)
            if m:
                name = strip_md(m.group(1))
                path = strip_md(m.group(2))
                plan.models_used[name] = _located(doc, item.line, path)
        elif item.depth == 1:
            in_models = False


def _evaluations(doc: Document, sec: Section, plan: RunPlanDoc) -> None:
    toks = doc.section_tokens(sec)
    for item in doc.iter_list_items(toks):
        low = strip_md(item.text).lower()
        if low.startswith(("fine-tuned models", "fine-tuned:", "finetuned models")) and \
                plan.finetuned_epochs is None and ":" in item.text and "×" not in item.text:
            value = item.text.split(":", 1)[1].strip()
            plan.finetuned_epochs = _located(doc, item.line, value)
        m = _TOTAL_EVALS.match(item.text)
        if m:
            num = m.group(1)
            plan.stated_eval_jobs = Located(int(num.replace(",", "")), item.line,
                                            doc.col_of(item.line, num))
    for table in doc.iter_tables(toks):
        if table.column("script") is not None:
            plan.tasks_line = table.line
            ni = _col(table, "task name", "task", "name")
            si = table.column("script")
            di = table.column("dataset")
            de = table.column("description")
            for row in table.rows:
                def cell(i: int | None, row=row) -> str:
                    return _cell_text(row.cells[i]) if i is not None and i < len(row.cells) else ""
                plan.eval_tasks.append(
                    EvalTaskRow(cell(ni), cell(si), cell(di), cell(de), row.line))
        elif _col(table, "run name", "run") is not None:
            plan.matrix_line = table.line
            ri = _col(table, "run name", "run")
            notes_i = table.column("notes")
            task_cols = [(i, _cell_text(h)) for i, h in enumerate(table.header)
                         if i != ri and i != notes_i]
            plan.matrix_tasks = [t for _, t in task_cols]
            for row in table.rows:
                tasks = {}
                for i, t in task_cols:
                    v = row.cells[i].strip() if i < len(row.cells) else ""
                    tasks[t] = v in ("✓", "✔", "✅", "x", "X", "yes", "y", "[x]")
                has_notes = notes_i is not None and notes_i < len(row.cells)
                notes = row.cells[notes_i] if has_notes else ""  # type: ignore[index]
                run = _cell_text(row.cells[ri]) if ri is not None and ri < len(row.cells) else ""
                plan.matrix.append(MatrixRow(run, tasks, notes, row.line))


def _configuration(doc: Document, sec: Section, plan: RunPlanDoc) -> None:
    for item in doc.iter_list_items(doc.section_tokens(sec)):
        if item.depth != 1:
            continue
        kv = split_key(item.text)
        if not kv:
            continue
        key, value, _ = kv
        loc = _located(doc, item.line, strip_md(value))
        plan.config.setdefault(key, loc)


_PROMPT = re.compile(r"system prompt\**\s*:?\s*\**\s*:?\s*(.*)$", re.I)


def _system_prompts(doc: Document, plan: RunPlanDoc) -> None:
    """Every ``System prompt: "…"`` bullet of Configuration and Evaluations (training and
    evaluation prompts), in document order."""
    for sec in plan.sections:
        if normalise_title(sec.title) in ("configuration", "evaluations"):
            _prompts_in(doc, plan, doc.iter_list_items(doc.section_tokens(sec)))


def _prompts_in(doc: Document, plan: RunPlanDoc, items) -> None:  # type: ignore[no-untyped-def]
    for item in items:
        if "ystem prompt" not in item.text:
            continue
        kv = split_key(item.text)
        if not kv or "system prompt" not in kv[0]:
            continue
        value = kv[1]
        m = re.match(r'\s*"([^"]*)"|\s*“([^”]*)”|\s*`([^`]*)`', value)
        text = next((g for g in m.groups() if g is not None), "") if m else strip_md(value)
        col = doc.col_of(item.line, value[:20]) if value else doc.col_of(item.line)
        plan.system_prompts.append(Located(text, item.line, col))


_BLOCK = re.compile(r"^\*\*(.+?)\s+models?:?\*\*:?$")
_ITS = re.compile(r"speed\s*=?\s*~?\s*([\d.]+)\s*it/s|([\d.]+)\s*it/s", re.I)
_SAMPLES = re.compile(r"([\d,]+)\s*samples", re.I)
_BATCH = re.compile(r"batch[_ ]size\s*=\s*(\d+)", re.I)
_PER_GPU = re.compile(r"batch[_ ]size\s*=\s*\d+\s*\(\s*(\d+)\s*per[- ]GPU\s*[×x*]\s*(\d+)\s*GPUs?",
                      re.I)
_SEQ = re.compile(r"^\s*\**sequential\**\s*:?\s*\**\s*:?\s*(\d+)\s*runs?\s*[×x*]\s*~?([\d,.]+)\s*"
                  r"(minutes?|mins?|hours?|h)\b[^=]*=\s*~?([\d,.]+)\s*(minutes?|mins?|hours?|h)\b",
                  re.I)
_STEPS = re.compile(r"steps per epoch\**\s*:?\s*\**\s*~?([\d,.]+)\s*(?:/|÷)\s*([\d,.]+)"
                    r"\s*[=≈]\s*~?([\d,.]+)", re.I)
_MINUTES = re.compile(r"~?\s*([\d,.]+)\s*(minutes?|mins?|hours?|h|s|seconds?)\b", re.I)
_RUNS_LINE = re.compile(r"\*\*\s*(\d+)\s*epochs?\s*×\s*(\d+)\s*runs?\s*\*\*", re.I)
_CKPT = re.compile(r"^\s*(.+?):\s*(\d+)\s*runs?\s*×\s*(\d+)\s*epochs?\s*×\s*~?([\d.]+)\s*"
                   r"(GiB|GB|MiB|MB)\s*=\s*~?([\d.]+)\s*(GiB|GB|MiB|MB)")
_GIB = re.compile(r"~?\s*([\d,.]+)\s*(GiB|GB|MiB|MB|TiB|TB)\b")
_BACKED = re.compile(r"prior runs?\b[^`]*`[^`\s{}]*/[^`\s{}]*`", re.I)
_HEDGE = re.compile(r"\b(estimated?|estimates|preliminary|conservative|assumed|approximate)\b",
                    re.I)
_CLAIM = re.compile(r"\bbased on actual|actual (?:slurm logs|prior runs)", re.I)


def _minutes(text: str) -> float | None:
    m = _MINUTES.search(text)
    if not m:
        return None
    v = float(m.group(1).replace(",", ""))
    unit = m.group(2).lower()
    if unit.startswith("h"):
        return v * 60
    if unit.startswith("s"):
        return v / 60
    return v


def gib(value: float, unit: str) -> float:
    """Size in GiB from a number and ``GiB``/``GB``/``MiB``/``MB``/``TiB``/``TB``."""
    u = unit.lower()
    if u in ("mib", "mb"):
        return value / 1024
    if u in ("tib", "tb"):
        return value * 1024
    return value


def _gib_of(text: str) -> float | None:
    m = _GIB.search(text)
    return gib(float(m.group(1).replace(",", "")), m.group(2)) if m else None


def _estimates(doc: Document, sec: Section, plan: RunPlanDoc) -> None:
    est = plan.estimates
    est.section_line = sec.line
    toks = doc.section_tokens(sec)
    subs = {normalise_title(s.title): s for s in _sub(doc, sec)}
    # paragraphs (block headers like "**Llama-3.2-1B-Instruct models:**" and prose)
    headers: list[tuple[int, str]] = []
    for i, tok in enumerate(toks):
        if tok.type == "inline" and i > 0 and toks[i - 1].type == "paragraph_open" \
                and toks[i - 1].level == 0:
            line = doc.line_of(tok)
            headers.append((line, tok.content))
            if _BACKED.search(tok.content):
                est.backed = True
            if _HEDGE.search(tok.content):
                est.hedged = True
            if _CLAIM.search(tok.content):
                est.claims.append(Located(tok.content, line, doc.col_of(line)))
            low = tok.content.lower()
            if "total disk space needed" in low:
                v = _gib_of(tok.content.split(":", 1)[-1])
                if v is not None:
                    est.disk_total = Located(v, line, doc.col_of(line, "~") )
            elif "safety margin" in low:
                tail = tok.content.split("=")[-1] if "=" in tok.content else ""
                est.margin_gib = _gib_of(tail) if tail else None
    items = est.items = list(doc.iter_list_items(toks))

    def within(sub: Section) -> list:  # type: ignore[type-arg]
        end = doc.line_of(doc.tokens[sub.end]) if sub.end < len(doc.tokens) else 10**9
        return [it for it in items if sub.line < it.line < end]

    for item in items:
        if _HEDGE.search(item.text):
            est.hedged = True
        if _BACKED.search(item.text):
            est.backed = True
    for table in doc.iter_tables(toks):
        if table.column("resource") is not None:
            for row in table.rows:
                est.summary[strip_md(row.cells[0]).lower()] = (row.line, list(row.cells))
    training = subs.get("training time estimates")
    if training is not None:
        # a bold-only paragraph opens a block: "**<model> models:**" one per model, any
        # other ("**Total training compute:**") ends the model block before it
        blocks = [(ln, m.group(1) if (m := _BLOCK.match(c.strip())) else None)
                  for ln, c in headers
                  if training.line < ln and re.fullmatch(r"\*\*[^*]+\*\*:?", c.strip())]
        for item in within(training):
            owner = None
            for ln, model in blocks:
                if ln < item.line:
                    owner = (ln, model)
            text = item.text
            low = strip_md(text).lower()
            if low.startswith("total gpu hours") or "**total gpu hours**" in text.lower():
                v = parse_number(text.split(":", 1)[-1])
                if v is not None:
                    est.total_gpu_hours = Located(v, item.line, doc.col_of(item.line, ":") + 2)
                continue
            if owner is not None and owner[1] is None:
                v = _minutes(text.split(":", 1)[-1]) if ":" in text else None
                if v is not None and low.startswith("parallel"):
                    est.parallel_minutes = Located(v, item.line, doc.col_of(item.line, "~"))
                elif v is not None and low.startswith("sequential"):
                    est.sequential_minutes = Located(v, item.line, doc.col_of(item.line, "~"))
                continue
            if owner is None:
                continue
            if not est.models or est.models[-1].line != owner[0]:
                est.models.append(ModelEstimate(owner[1], owner[0]))
            me = est.models[-1]
            if "it/s" in text and me.its is None:
                m = _ITS.search(text)
                if m:
                    me.its = float(m.group(1) or m.group(2))
                    me.data_line = item.line
                if (m := _SAMPLES.search(text)):
                    me.samples = float(m.group(1).replace(",", ""))
                if (m := _BATCH.search(text)):
                    me.batch_size = float(m.group(1))
                if (m := _PER_GPU.search(text)):
                    me.batch_per_gpu, me.batch_gpus = float(m.group(1)), int(m.group(2))
            if (m := _STEPS.search(text)):
                me.steps_num = float(m.group(1).replace(",", ""))
                me.steps_div = float(m.group(2).replace(",", ""))
                me.steps = Located(float(m.group(3).replace(",", "")), item.line,
                                   doc.col_of(item.line, m.group(1)))
            elif low.startswith("time per epoch"):
                v = _minutes(text.split(":", 1)[-1])
                if v is not None:
                    me.epoch_minutes = Located(v, item.line, doc.col_of(item.line, "~"))
            elif (m := _RUNS_LINE.search(text)):
                me.run_epochs, me.run_count = int(m.group(1)), int(m.group(2))
                tail = text[m.end():]
                v = _minutes(tail)
                if v is not None:
                    me.run_minutes = Located(v, item.line, doc.col_of(item.line, "~"))
                tail_low = tail.lower()
                if re.search(r"\bper[- ]run\b|\beach\b|/\s*run\b", tail_low):
                    me.run_basis = "per run"
                elif re.search(r"\btotal\b|\bin all\b|\ball runs\b", tail_low):
                    me.run_basis = "total"
            elif (m := _SEQ.match(strip_md(text))):
                def _min(num: str, unit: str) -> float:
                    v = float(num.replace(",", ""))
                    return v * 60 if unit.lower().startswith("h") else v
                me.seq_runs = int(m.group(1))
                line_text = doc.line_text(item.line)
                me.seq_per_run = Located(_min(m.group(2), m.group(3)), item.line,
                                         doc.col_of(item.line, m.group(2)))
                eq = line_text.find("=")
                col = (eq + 1 + len(line_text[eq + 1:]) - len(line_text[eq + 1:].lstrip(" ~"))
                       + 1) if eq >= 0 else doc.col_of(item.line)
                me.seq_minutes = Located(_min(m.group(4), m.group(5)), item.line, col)
            elif low.startswith("gpu hours"):
                v = parse_number(text.split(":", 1)[-1])
                if v is not None:
                    me.gpu_hours = Located(v, item.line, doc.col_of(item.line, ":") + 2)
    evaluation = subs.get("evaluation time estimates")
    if evaluation is not None:
        for item in within(evaluation):
            if strip_md(item.text).lower().startswith("gpu hours"):
                v = parse_number(item.text.split(":", 1)[-1])
                if v is not None:
                    est.eval_gpu_hours = Located(v, item.line, doc.col_of(item.line, ":") + 2)
    disk = subs.get("disk space estimates")
    if disk is not None:
        for item in within(disk):
            low = strip_md(item.text).lower()
            if "per epoch" in low and "×" not in item.text and ":" in item.text:
                name, value = item.text.split(":", 1)
                v = _gib_of(value)
                if v is not None:
                    est.ckpt_per_model[strip_md(name)] = Located(v, item.line,
                                                                 doc.col_of(item.line))
            elif "all checkpoints" in low:
                v = _gib_of(item.text.split(":", 1)[-1])
                if v is not None:
                    est.ckpt_total = Located(v, item.line, doc.col_of(item.line, "~"))
            elif "×" in item.text and "epoch" in low and "=" in item.text:
                v = _gib_of(item.text.rsplit("=", 1)[-1])
                if v is not None:
                    est.ckpt_totals.append(Located(v, item.line, doc.col_of(item.line)))
                m = _CKPT.match(item.text.replace(",", ""))
                if m:
                    est.ckpt_lines.append(CheckpointLine(
                        strip_md(m.group(1)), int(m.group(2)), int(m.group(3)),
                        gib(float(m.group(4)), m.group(5)), gib(float(m.group(6)), m.group(7)),
                        item.line))
            elif "per evaluation" in low and "=" in item.text:
                est.eval_logs_gib = _gib_of(item.text.rsplit("=", 1)[-1])
