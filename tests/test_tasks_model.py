"""The task-plan model (seeds 002/003): text splitting, positions, forms, and robustness.

hypothesis checks that arbitrary task-line text never crashes the parser (nor any TK rule),
that every position a rule reports lies inside the file, and that ids and fields written by
:func:`format_task_line` parse back to the same values.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.config import Settings
from compiler.document import load
from compiler.lint import lint_document
from compiler.models.tasks import (
    SENTINEL,
    STUB_TASK,
    build_task_plan,
    format_task_line,
    locate,
    parse_flat_text,
    parse_task_text,
    task_plan,
)

from .conftest import FIXTURES, ROOT

GOOD = FIXTURES / "tasks" / "good"


def _plan(text: str, path: str = "tasks.md"):
    return task_plan(load(path, text=text))


# -- one task line ------------------------------------------------------------------------
def test_parse_seed_003_task_line() -> None:
    text = "[/] [P2-T3] Run the baseline | deliverable: results/base.csv | done-when: 5 rows"
    p = parse_task_text(text)
    assert (p.mark, p.id, p.phase, p.index) == ("/", "[P2-T3]", 2, 3)
    assert p.description == "Run the baseline"
    assert text[p.description_at:].startswith("Run the baseline")
    value, at = p.fields["deliverable"]
    assert value == "results/base.csv" and text[at:].startswith("results/base.csv")
    value, at = p.fields["done-when"]
    assert value == "5 rows" and text[at:] == "5 rows"
    assert "depends" not in p.fields


def test_parse_lenient_spellings() -> None:
    p = parse_task_text("[x] [p1 - t2] Map | Deliverable: a.md | done when: ok | Depends on: P1-T1")
    assert (p.mark, p.phase, p.index) == ("x", 1, 2)
    assert p.id == "[p1 - t2]"
    assert set(p.fields) == {"deliverable", "done-when", "depends"}
    assert p.fields["depends"][0] == "P1-T1"
    p = parse_task_text("[ ] **[P3-T4]** Bold id | deliverable: b.md")
    assert (p.id, p.phase, p.index, p.description) == ("**[P3-T4]**", 3, 4, "Bold id")


def test_parse_empty_field_points_at_its_key() -> None:
    text = "[ ] [P1-T1] Map | deliverable: | done-when: ok"
    value, at = parse_task_text(text).fields["deliverable"]
    assert value == "" and text[at:].startswith("deliverable")


def test_parse_without_checkbox_or_id() -> None:
    p = parse_task_text("[P1-T1] Map the code")
    assert p.mark is None and (p.phase, p.index) == (1, 1)
    p = parse_task_text("plain note")
    assert p.mark is None and p.id is None and p.description == "plain note"
    # a markdown link is not a checkbox
    p = parse_task_text("[x](https://example.org) link")
    assert p.mark is None


def test_parse_odd_checkbox_marks_are_kept_for_the_rules() -> None:
    assert parse_task_text("[X ] [P1-T1] a").mark == "X "
    assert parse_task_text("[-] [P1-T1] a").mark == "-"
    assert parse_task_text("[] [P1-T1] a").mark == ""


def test_parse_flat_line() -> None:
    text = "[ ] Task 12: Create the runs through POST /runs"
    mark, number, number_at, desc, desc_at = parse_flat_text(text)
    assert (mark, number, desc) == (" ", 12, "Create the runs through POST /runs")
    assert text[number_at:].startswith("12") and text[desc_at:] == desc
    assert parse_flat_text("[ ] (Agent will decompose…)")[1] is None


# -- documents ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,form", [("phased.md", "phased"), ("flat.md", "flat"),
                                       ("abort.md", "abort"), ("transcript.md", "phased")])
def test_good_fixture_forms(name: str, form: str) -> None:
    doc = load(GOOD / name)
    assert doc.kind == "tasks"
    assert task_plan(doc).form == form


def test_digits_study_plan_model() -> None:
    plan = task_plan(load(ROOT / "plans" / "digits-study" / "tasks.md"))
    assert plan.form == "phased"
    assert [p.number for p in plan.phases] == [1, 2, 3, 4, 5]
    assert [len(p.tasks) for p in plan.phases] == [3, 3, 3, 4, 2]
    first = plan.phases[0].tasks[0]
    assert first.key == (1, 1) and first.mark is not None and first.mark.text == " "
    assert first.deliverable is not None
    assert first.deliverable.text == "exp/digits-study/analysis/code_map.md"
    kinds = {c.kind for c in plan.contract_items}
    assert kinds == {"primary", "secondary", "statistical", "artifacts"}
    final = plan.phases[4].tasks[0]
    assert [d.text for d in final.depends_ids] == ["P4-T2", "P4-T3", "P4-T4"]


def test_positions_point_at_the_text() -> None:
    text = (
        "# Tasks\n\n## Phase 1 - A\n"
        "- [ ] [P1-T1] Map the code\n"
        "  across lines | deliverable: a.md\n"
        "  | done-when: ok | depends: P1-T0\n"
    )
    doc = load("t.md", text=text)
    task = task_plan(doc).tasks[0]
    assert task.mark is not None and (task.mark.line, task.mark.column) == (4, 3)  # the '['
    assert task.description.text == "Map the code\nacross lines"
    for part in (task.id, task.description, task.deliverable, task.done_when,
                 task.depends_ids[0]):
        assert part is not None
        line = doc.lines[part.line - 1]
        assert line[part.column - 1 :].startswith(part.text.split("\n")[0]), (part, line)
    assert task.deliverable is not None and task.done_when is not None
    assert (task.deliverable.line, task.deliverable.column) == (5, 31)
    assert (task.done_when.line, task.done_when.column) == (6, 16)
    assert (task.depends_ids[0].line, task.depends_ids[0].column) == (6, 30)


def test_positions_in_a_blockquote_and_with_tabs() -> None:
    text = "# Tasks\n\n## Phase 1 - A\n> - [ ] [P1-T1] Quoted | deliverable: q.md\n"
    doc = load("t.md", text=text)
    task = task_plan(doc).tasks[0]
    assert task.deliverable is not None
    assert doc.lines[3][task.deliverable.column - 1 :] == "q.md"
    assert locate(doc, 4, "[ ] [P1-T1] Quoted", 4) == (4, 9)


def test_item_whose_text_starts_on_the_next_line() -> None:
    # "-" alone on its line: markdown-it reports the marker's line; the text is one below
    doc = load("t.md", text="# Tasks\n\n## Phase 1 - A\n-\n  [ ] [P1-T1] Map | deliverable: a.md\n")
    task = task_plan(doc).tasks[0]
    assert task.id is not None and (task.id.line, task.id.column) == (5, 7)
    assert task.deliverable is not None
    assert (task.deliverable.line, task.deliverable.column) == (5, 34)


def test_transcript_lines_point_into_the_transcript() -> None:
    body = (FIXTURES / "tasks" / "bad" / "transcript.md").read_text("utf-8")
    inner = body[body.index("<plan>") + len("<plan>\n") : body.index("</plan>")]
    alone = task_plan(load("alone.md", text=inner)).tasks[1]
    inside = task_plan(load("transcript.md", text=body)).tasks[1]
    offset = body[: body.index("<plan>")].count("\n") + 1
    assert inside.line == alone.line + offset == 16
    assert inside.id is not None and alone.id is not None
    assert inside.id.column == alone.id.column == 7


def test_forms() -> None:
    stub = "# Tasks\n\n## Goal\ng\n\n## Tasks\n- [ ] (Agent will decompose…)\n"
    assert _plan(stub).form == "flat"
    assert _plan(f"# Tasks\n\n- [x] {SENTINEL}\n").form == "abort"
    # a misspelt sentinel in a document without phases is still an abort checklist
    plan = _plan("# Tasks\n\n## Tasks\n- [x] ABORT_EARLY_DOCS_FAILED\n")
    assert plan.form == "abort" and plan.sentinel is not None
    assert plan.sentinel.text == "ABORT_EARLY_DOCS_FAILED"
    # a phased plan that mentions a misspelt sentinel stays phased
    assert _plan("# Tasks\n\n## Phase 1 - A\n- [ ] [P1-T1] ABORT_EARLY_X\n").form == "phased"
    assert _plan("# Tasks\n\n## Analysis\nx\n").form == "flat"
    assert _plan("# Tasks\n\nnothing\n").form == "phased"


def test_sentinel_in_a_code_block_has_its_file_line() -> None:
    plan = _plan(f"# Tasks\n\n```\nfirst\n{SENTINEL}\n```\n- [x] done\n")
    assert plan.form == "abort"
    assert plan.sentinel is not None and (plan.sentinel.line, plan.sentinel.column) == (5, 1)


def test_model_is_built_once_per_document() -> None:
    doc = load(GOOD / "phased.md")
    assert task_plan(doc) is task_plan(doc)


# -- hypothesis ----------------------------------------------------------------------------
_FIELD_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"),
                           exclude_characters="|\n\r[]`<>&\\*_"),
    min_size=1, max_size=40,
).map(str.strip).filter(bool)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_arbitrary_task_text_never_crashes(text: str) -> None:
    p = parse_task_text(text)
    for value, at in p.fields.values():
        assert 0 <= at <= len(text)
        assert value == value.strip()
    assert 0 <= p.description_at <= len(text)
    parse_flat_text(text)


_ALL_TK = Settings(select=("TK",))


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80),
                      min_size=1, max_size=6),
       header=st.sampled_from(["## Phase 1 - A", "## Tasks", "## Phase x", "## Planning Notes"]))
def test_arbitrary_task_lines_lint_without_internal_errors(lines: list[str], header: str) -> None:
    body = "\n".join(f"- {line}" for line in lines)
    text = f"# Tasks\n\n{header}\n{body}\n"
    doc = load("fuzz.md", text=text)
    build_task_plan(doc)
    diags = lint_document(doc, _ALL_TK)
    assert not [d for d in diags if d.code == "PC999"], diags
    n = len(doc.lines)
    for d in diags:
        assert 1 <= d.line <= n, d
        assert 1 <= d.column <= len(doc.lines[d.line - 1]) + 1, d


@settings(max_examples=200, deadline=None)
@given(phase=st.integers(1, 99), index=st.integers(1, 99), desc=_FIELD_TEXT,
       deliverable=_FIELD_TEXT, done=_FIELD_TEXT, mark=st.sampled_from([" ", "x", "/"]),
       depends=st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), max_size=3))
def test_task_line_round_trip(phase: int, index: int, desc: str, deliverable: str, done: str,
                              mark: str, depends: list[tuple[int, int]]) -> None:
    dep_ids = [f"P{p}-T{t}" for p, t in depends]
    line = format_task_line(phase, index, desc, deliverable, done, mark, dep_ids)
    doc = load("rt.md", text=f"# Tasks\n\n## Phase {phase} - Round trip\n{line}\n")
    task = task_plan(doc).tasks[0]
    assert task.key == (phase, index)
    assert task.mark is not None and task.mark.text == mark
    assert task.id is not None and task.id.text == f"[P{phase}-T{index}]"
    assert task.description.text == desc
    assert task.deliverable is not None and task.deliverable.text == deliverable
    assert task.done_when is not None and task.done_when.text == done
    assert [d.text for d in task.depends_ids] == dep_ids
    assert task.depends_other == []
    # and the positions point at those texts in the file
    src = doc.lines[3]
    for part in (task.id, task.description, task.deliverable, task.done_when):
        assert src[part.column - 1 :].startswith(part.text)


def test_good_fixtures_exist() -> None:
    names = sorted(p.name for p in Path(GOOD).glob("*.md"))
    assert names == ["abort-untitled.md", "abort.md", "flat.md", "phased.md",
                     "plain-checklist-under-title.md", "plain-checklist.md", "transcript.md"]


# -- plain checklists and research-agent's stub (issue 10, item 5) ------------------------
# research-agent writes this before planning: hao-ai-lab/research-agent
# server/agent/research_agent.py line 215 and server/agent/wild_loop_v2.py line 238
# (vendored at /work/shared/vendor/research-agent):
# f"# Tasks\n\n## Goal\n{goal}\n\n## Tasks\n- [ ] (Agent …)\n".
RA_STUB = ("# Tasks\n\n## Goal\nTune alpha\n\n## Tasks\n"
           "- [ ] (Agent will decompose the goal into tasks on iteration 1)\n")


def test_research_agent_stub_is_its_own_form() -> None:
    plan = _plan(RA_STUB)
    assert plan.form == "stub"
    assert plan.stub is not None and plan.stub.text == STUB_TASK
    assert (plan.stub.line, plan.stub.column) == (7, 7)
    assert plan.goal is not None and plan.goal.text == "Tune alpha"


def test_a_stub_with_real_tasks_beside_it_is_a_flat_list() -> None:
    plan = _plan(RA_STUB + "- [ ] Task 1: Read train.py\n")
    assert plan.form == "flat" and plan.stub is None
    assert [t.number for t in plan.flat_items] == [None, 1]


def test_plain_checklist_under_the_title_is_flat() -> None:
    plan = _plan("# Tasks\n\n- [ ] Read train.py\n- [x] Seed it\n  - a detail\n\n## Goal\nG\n")
    assert plan.form == "flat"
    assert plan.tasks_heading is not None and plan.tasks_heading.line == 1
    assert [(t.line, t.description.text) for t in plan.flat_items] == [
        (3, "Read train.py"), (4, "Seed it")]
    assert plan.phases == []


def test_a_title_over_prose_or_plain_bullets_is_not_a_checklist() -> None:
    # bullets that are not checkboxes keep the phased default (its rules explain the form)
    assert _plan("# Tasks\n\n- Read train.py\n- Seed it\n").form == "phased"
    assert _plan("# Notes\n\n- [ ] Read train.py\n").form == "phased"
    # an abort checklist stays an abort checklist
    assert _plan(f"# Tasks\n- [x] Preflight failed\n- [x] {SENTINEL}\n").form == "abort"


def test_plain_checklist_is_judged_by_seed_002_rules_only() -> None:
    text = "".join(f"- [ ] Step {n} of the work\n" for n in range(1, 4))
    doc = load("tasks.md", text="# Tasks\n\n" + text)
    codes = sorted({d.code for d in lint_document(doc, Settings(root=ROOT))})
    assert codes == ["TK002", "TK003", "TK021"]  # no TK004/TK017/… phased findings
