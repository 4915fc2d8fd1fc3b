"""The plan model parser (compiler/models/plan.py): examples, then hypothesis properties.

Examples pin the readings the rules and the compiler rely on (sweep values, Runs counts,
sentence counts, Compute Setup values); properties check that arbitrary text under plan
headings never crashes the parser or any rule, and that values written in the seed's
format read back as written.
"""

from __future__ import annotations

import math
import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compiler.config import Settings
from compiler.document import load
from compiler.lint import INTERNAL_ERROR, lint_document
from compiler.models.plan import (
    SECTIONS,
    cell_columns,
    classify_section,
    count_sentences,
    parse_int,
    parse_plan,
    parse_values,
    split_label,
    sweep_parameters,
    sweep_size,
)

from .conftest import FIXTURES, ROOT

GOOD = FIXTURES / "plan" / "good"


def _doc(text: str, path: str = "plan.md"):
    return load(path, text=text)


# -- examples ----------------------------------------------------------------------------
def test_seed_style_plan_is_read_completely() -> None:
    doc = load(GOOD / "seed-style-lora-sweep.md")
    assert doc.kind == "plan"
    m = parse_plan(doc)
    assert m.title == "LoRA rank and learning-rate sweep for Llama-3.2-1B capitalization"
    assert (m.title_line, m.title_level, m.title_prefix) == (1, 2, "📋")
    assert [s.key for s in m.sections] == [k for k, _t, _r in SECTIONS]
    assert all(s.exact and s.level == 3 for s in m.sections)
    assert m.objective is not None and count_sentences(m.objective) == 1
    assert [(i.field, i.value, i.note) for i in m.setup] == [
        ("cluster_type", "local_gpu", None),
        ("gpu_count", 4, None),
        ("gpuwrap", "enabled", "shared node"),
        ("environment", "venv", None),
    ]
    gpuwrap = m.setup[2]
    assert (gpuwrap.line, gpuwrap.value_column) == (9, 12)
    assert [s.number for s in m.approach] == [1, 2, 3, 4, 5]
    assert all(s.bold and s.dash == "—" and s.description for s in m.approach)
    assert m.approach[2].title == "Create one tracked run per configuration"
    assert [(r.name, r.values) for r in m.sweep.rows] == [
        ("lora_rank", [4, 8, 16, 64]), ("lr", [1e-4, 3e-4]), ("seed", [0, 1, 2])]
    assert m.sweep.rows[0].line == 33 and m.sweep.rows[0].values_column == 17
    assert [(x.role, x.name) for x in m.metrics] == [
        ("primary", "exact-match accuracy"), ("secondary", "validation loss"),
        ("secondary", "tokens/s")]
    assert [c.mark for c in m.criteria] == [" ", " ", "x"]
    assert [(r.risk is not None, r.mitigation is not None) for r in m.risks] == [(True, True)] * 2
    assert m.effort is not None and m.effort.runs == 24
    assert set(m.effort.items) == {"runs", "time", "resources"}
    assert m.effort.time == "~6 hours wall-clock with 4 runs in parallel"
    assert m.effort.resources == "4× A100 80GB, about 40 GB disk for checkpoints"
    assert len(m.workflow) == 3  # two bullets and the "✅ Plan saved" line


def test_parse_is_cached_per_document() -> None:
    doc = load(GOOD / "cpu-no-sweep.md")
    assert parse_plan(doc) is parse_plan(doc)


def test_sweep_api_on_the_shipped_example() -> None:
    doc = load(ROOT / "plans" / "lr-sweep" / "plan.md")
    params = sweep_parameters(doc)
    assert params == [("alpha", [1e-4, 1e-3, 1e-2]), ("seed", [0, 1])]
    assert sweep_size(params) == 6 == parse_plan(doc).effort.runs
    # every placeholder of the command template is a sweep parameter or the output folder
    placeholders = set(re.findall(r"\{(\w+)\}", doc.front_matter["command"]))
    assert placeholders == {name for name, _v in params} | {"out"}


def test_sweep_size_edge_cases() -> None:
    assert sweep_size([]) == 1
    assert sweep_size([("a", [1, 2]), ("b", [])]) == 0
    assert sweep_size([("a", [1, 2, 3]), ("b", ["x", "y"])]) == 6


def test_sweep_parameters_without_table_and_with_ranges() -> None:
    assert sweep_parameters(load(GOOD / "cpu-no-sweep.md")) == []
    doc = load(FIXTURES / "plan" / "bad" / "sweep-ranges.md")
    params = dict(sweep_parameters(doc))
    assert params["lr"] == [] and params["seed"] == [-1, 0, 1e-5]


def test_code_span_names_the_parameter() -> None:
    doc = load(GOOD / "front-matter-slurm.md")
    assert sweep_parameters(doc) == [("batch_size", [8, 16, 32]), ("lr", [2e-4])]


@pytest.mark.parametrize("cell,values,is_range", [
    ("1e-5, 3e-5, 1e-4", [1e-5, 3e-5, 1e-4], False),
    ("4,8,16", [4, 8, 16], False),
    ("4 8 16", [4, 8, 16], False),
    ("4, 8, and 16", [4, 8, 16], False),
    ("1,000, 2,000", [1000, 2000], False),
    ("1,000", [1000], False),
    ("100,200", [100, 200], False),
    ("[1, 2, 3]", [1, 2, 3], False),
    ("-1, -0.5, 1e-5", [-1, -0.5, 1e-5], False),
    ("`adamw`, `sgd`", ["adamw", "sgd"], False),
    ("1e-4 (default), 3e-4", [1e-4, 3e-4], False),
    ("cosine with warmup; linear", ["cosine with warmup", "linear"], False),
    ("Llama-3.2-1B, Llama-3.2-3B", ["Llama-3.2-1B", "Llama-3.2-3B"], False),
    ("from scratch, pretrained", ["from scratch", "pretrained"], False),
    ("4 / 8 / 16", [4, 8, 16], False),
    ("Adam (lr 1e-3 to 1e-4), SGD", ["Adam", "SGD"], False),
    ("warmup to cosine; linear", ["warmup to cosine", "linear"], False),
    ("1e-5 to 1e-3", [], True),
    ("4k to 8k", [], True),
    ("from 1", [], True),
    ("range(1, 5)", [], True),
    ("np.logspace(-5, -3, 3)", [], True),
    ("8, 16, up to 64", [], True),
    ("between 4 and 64", [], True),
    ("1-5", [], True),
    ("0.1–0.5", [], True),
    ("8, 16, ...", [], True),
    ("8, 16, …", [], True),
    ("~1e-4", [], True),
    ("TBD", [], True),
    ("", [], True),
])
def test_parse_values(cell: str, values: list, is_range: bool) -> None:
    parsed = parse_values(cell)
    assert parsed.values == values
    assert (parsed.range_reason is not None) == is_range
    assert all(type(a) is type(b) for a, b in zip(parsed.values, values, strict=True))


@pytest.mark.parametrize("text,value", [
    ("24", 24), ("1,200", 1200), ("24 (4 ranks × 2 learning rates × 3 seeds)", 24),
    ("6 runs", 6), ("**6**", 6), ("~24", None), ("24-30", None), ("24 – 30", None),
    ("2.5", None), ("many", None), ("12 + 1 baseline", None), ("", None),
])
def test_parse_int(text: str, value: int | None) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize("text,n", [
    ("Find the best rank.", 1),
    ("Find the best rank", 1),
    ("Sweep lr 1e-3 and 0.5. Compare e.g. ranks 4 vs. 8, i.e. small ones.", 2),
    ("One. Two! Three?", 3),
    ("Use `train.py. it` wisely. Then stop.", 2),
    ("Wait... what? Yes.", 3),
    ("", 0),
])
def test_count_sentences(text: str, n: int) -> None:
    assert count_sentences(text) == n


@pytest.mark.parametrize("text,parts", [
    ("Cluster type: local_gpu", ("Cluster type", "local_gpu")),
    ("**Cluster type**: slurm", ("Cluster type", "slurm")),
    ("**Cluster type:** slurm", ("Cluster type", "slurm")),
    ("__Runs__: 6", ("Runs", "6")),
    ("no label here", None),
    ("**bold** without colon", None),
])
def test_split_label(text: str, parts: tuple[str, str] | None) -> None:
    assert split_label(text) == parts


@pytest.mark.parametrize("title,key,exact", [
    ("Objective", "objective", True),
    ("💡 Workflow Improvements", "workflow", True),
    ("Workflow Improvements", "workflow", True),
    ("ðŸ’¡ Workflow Improvements", "workflow", True),  # mojibake emoji: CM004's job
    ("Success criteria:", "success_criteria", True),
    ("Risks and Mitigations", "risks", False),
    ("Parameters to sweep", "parameters", True),
    ("Parameter Sweep", "parameters", False),
    ("Timeline", None, False),
])
def test_classify_section(title: str, key: str | None, exact: bool) -> None:
    assert classify_section(title) == (key, exact)


def test_cell_columns() -> None:
    assert cell_columns("| `lr` | 1e-4, 3e-4 | why |") == [3, 10, 23]
    assert cell_columns("a | b\\|c | d") == [1, 5, 12]


# -- properties ---------------------------------------------------------------------------
_HEADINGS = [f"### {t}" for _k, t, _r in SECTIONS] + [
    "## 📋 Plan: x", "### Workflow Improvements", "### Risks and Mitigations", "## Objective",
    "#### Notes", "### ",
]
_MD_BITS = st.sampled_from([
    "- ", "1. ", "**", "—", "–", "→", "->", "[ ]", "[x]", "|", "| a | b | c |\n|---|---|---|\n",
    ":", "`", "```\n", "\n", "  ", "...", "1e-5 to 1e-3", "Cluster type:", "GPU count:",
    "**Runs**:", "**Primary**:", "**Risk**:", "**Mitigation**:", "python train.py", "e.g.",
])
_BODY = st.lists(st.one_of(_MD_BITS, st.text(max_size=12)), max_size=25).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_HEADINGS), _BODY), max_size=12))
def test_arbitrary_text_under_plan_headings_never_crashes(parts: list[tuple[str, str]]) -> None:
    text = "## 📋 Plan: fuzz\n" + "".join(f"{h}\n{body}\n" for h, body in parts)
    doc = _doc(text)
    model = parse_plan(doc)
    assert model.title == "fuzz"
    for sec in model.sections:
        assert 1 <= sec.line <= len(doc.lines)
    diags = lint_document(doc, Settings(root=Path.cwd()))
    assert [d for d in diags if d.code == INTERNAL_ERROR] == []
    assert all(d.line >= 1 and d.column >= 1 for d in diags)


# words parse_values reads as "not a list" on their own, and float spellings
_RESERVED = re.compile(r"^(?:uniform|loguniform|sampled?|etc|tbd|todo|inf|nan|infinity)$",
                       re.IGNORECASE)
_IDENT = st.text(string.ascii_letters + "_", min_size=1, max_size=8).filter(
    lambda s: not _RESERVED.match(s))
_FLOAT = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).filter(
    lambda f: not f.is_integer())
_VALUE = st.one_of(st.integers(-10**6, 10**9), _FLOAT, _IDENT)


def _fmt(value: object, grouped: bool = True) -> str:
    if isinstance(value, int):
        return f"{value:,}" if grouped else str(value)
    if isinstance(value, str):
        return f"`{value}`"  # a code span keeps markdown emphasis markers literal
    return repr(value)


def _cell(values: list) -> str:
    # thousands separators are unambiguous only beside ", " separators (parse_values doc)
    return ", ".join(_fmt(v, grouped=len(values) > 1) for v in values)


@given(st.lists(_VALUE, min_size=1, max_size=6))
def test_values_round_trip(values: list) -> None:
    cell = _cell(values)
    parsed = parse_values(cell)
    assert parsed.range_reason is None, cell
    assert parsed.values == values
    assert [type(v) for v in parsed.values] == [type(v) for v in values]


@given(st.integers(0, 10**7), st.sampled_from(["", " runs", " (4 ranks × 2 lrs × 3 seeds)"]))
def test_runs_count_round_trips(n: int, note: str) -> None:
    assert parse_int(f"{n:,}{note}") == n
    assert parse_int(f"{n}{note}") == n


@given(st.integers(1, 6), st.lists(_IDENT, min_size=1, max_size=5))
def test_sentence_count_round_trips(n: int, words: list[str]) -> None:
    from compiler.models.plan import _ABBREV

    # a sentence ending in an abbreviation ("No.", "Fig.") does not end there, by design
    assume(not _ABBREV.search(words[-1] + "."))
    sentence = " ".join(w.capitalize() for w in words)
    assert count_sentences(" ".join([sentence + "."] * n)) == n


_KEY_STYLES = ["{k}: {v}", "**{k}**: {v}", "**{k}:** {v}", "{k}: `{v}`"]


@given(
    st.sampled_from(["local_gpu", "slurm", "cpu_only"]), st.integers(0, 4096),
    st.sampled_from(["enabled", "disabled"]), st.sampled_from(["venv", "conda", "system"]),
    st.lists(st.sampled_from(_KEY_STYLES), min_size=4, max_size=4),
    st.sampled_from(["", " (shared node)", " (see notes)"]),
)
def test_compute_setup_round_trips(cluster, gpus, wrap, env, styles, note) -> None:
    pairs = [("Cluster type", cluster), ("GPU count", gpus), ("gpuwrap", wrap),
             ("Environment", env)]
    body = "\n".join("- " + style.format(k=k, v=v) + note
                     for style, (k, v) in zip(styles, pairs, strict=True))
    m = parse_plan(_doc(f"## 📋 Plan: t\n### Compute Setup\n{body}\n"))
    got = {i.field: i.value for i in m.setup}
    assert got == {"cluster_type": cluster, "gpu_count": gpus, "gpuwrap": wrap, "environment": env}
    for item in m.setup:
        line = m.setup[0].line + m.setup.index(item)
        assert item.line == line
        assert _doc_line(body, line - 3)[item.value_column - 1 :].lstrip("`").startswith(
            str(got[item.field]))


def _doc_line(body: str, index: int) -> str:
    return body.split("\n")[index]


@given(st.lists(st.tuples(_IDENT, st.lists(_VALUE, min_size=1, max_size=4)), min_size=1,
                max_size=4, unique_by=lambda p: p[0]))
def test_sweep_table_round_trips(params: list[tuple[str, list]]) -> None:
    rows = "".join(f"| `{name}` | {_cell(values)} | because |\n"
                   for name, values in params)
    text = ("## 📋 Plan: t\n### Parameters to Sweep\n| Parameter | Values | Rationale |\n"
            f"|---|---|---|\n{rows}")
    doc = _doc(text)
    assert sweep_parameters(doc) == params
    assert sweep_size(sweep_parameters(doc)) == math.prod(len(v) for _n, v in params)


@given(st.text(max_size=80))
def test_cell_readers_never_crash_on_any_text(text: str) -> None:
    parsed = parse_values(text)
    if parsed.range_reason is None:
        assert len(parsed.values) == len(parsed.items) >= 1
    else:
        assert parsed.values == []
    assert count_sentences(text) >= 0
    n = parse_int(text)
    assert n is None or n >= 0
    parts = split_label(text)
    assert parts is None or parts[0] == parts[0].strip()
    cols = cell_columns(text)
    assert all(1 <= c <= len(text) + 1 for c in cols)
