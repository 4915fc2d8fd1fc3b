"""A plan that runs experiments has tasks that create them as tracked runs.

Both planning seeds require it: "Your plan MUST include explicit tasks for creating sweeps
and runs via the API" (002), "If the plan includes experiments, include tasks that use this
flow" (003: create a sweep, create runs, monitor). A plan whose goal or tasks talk about
training, evaluation or sweeps (file names such as ``train.py`` do not count) but whose
tasks never create a run through the API (``POST /runs``, ``/sweeps``) or ``planc
submit``/``planc run`` leaves the runs untracked.

Severity: warning — seed 002 says the plan MUST include tasks that create sweeps and runs,
but whether a plan runs experiments is read from prose, which planc cannot judge with
certainty.

Failing::

    # Tasks
    ## Goal
    Train the classifier with three learning rates.
    ## Tasks
    - [ ] Task 1: Read train.py
    - [ ] Task 2: Try each learning rate and compare

Passing::

    # Tasks
    ## Goal
    Train the classifier with three learning rates.
    ## Tasks
    - [ ] Task 1: Read train.py
    - [ ] Task 2: Create one run per learning rate through POST /runs and compare

Options: ``experiment_words`` (words in the goal or tasks that mean the plan runs experiments).

Seeds: 002 and 003 (CRITICAL: Formal Experiment Tracking).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK025"
NAME = "tracked-run-tasks"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {
    "experiment_words": ["train", "fine-tun", "finetun", "evaluat", "experiment", "sweep",
                         "hyperparameter", "ablation", "benchmark"],
}

_TRACKED = re.compile(r"/runs\b|/sweeps\b|\bplanc (?:submit|run)\b|tracked runs?\b|run api")
# "Read train.py" is not training: file names are removed before the words are matched.
_FILE = re.compile(r"[\w./-]+\.(?:py|sh|ya?ml|json|md|toml|cfg|txt)\b")


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form in ("abort", "stub"):  # a stub has no tasks yet (TK026)
        return
    if plan.form == "flat":
        texts = [t.text.lower() for t in plan.flat_items]
    else:
        texts = [t.lower for t in plan.tasks if t.is_task]
    if not texts:
        return
    joined = "\n".join(texts)
    if _TRACKED.search(joined):
        return
    goal = plan.goal.text.lower() if plan.goal is not None else ""
    goal, joined = _FILE.sub(" ", goal), _FILE.sub(" ", joined)
    words = [str(w).lower() for w in ctx.options.get("experiment_words", [])]
    hit = next((w for w in words if w in goal or w in joined), None)
    if hit is None:
        return
    line, col = plan.anchor()
    yield Finding(line, col,
                  f"the plan runs experiments ('{hit}…') but no task creates tracked runs",
                  "add tasks that create the sweep and runs through POST /sweeps/wild and "
                  "POST /runs, or through `planc submit`")
