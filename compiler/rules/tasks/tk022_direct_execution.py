"""Experiments run as tracked runs, never as direct commands in a task.

"NEVER run training, evaluation, or experiment scripts directly (e.g. ``python train.py``).
ALL experiments MUST be tracked through the server API." A task that says to run
``python train.py``, ``bash run.sh``, ``torchrun`` or a bare ``sbatch`` produces runs nobody
can see or audit. A task that creates the run through ``curl … /runs`` (the command goes in
the run's ``command`` field) or through ``planc submit``/``planc run`` is tracked and fine,
and so is a sentence that forbids the direct command ("never run python train.py").
Python and shell scripts count as experiments when a part of their name starts with one of
``script_words`` (``train``, ``eval`` …); analysis scripts are not flagged.

Severity: warning — seed 002 says NEVER, but the command is found in prose, where a mention
is not always a plan to run it directly; planc asks the author to look rather than fail the
commit.

Failing::

    - [ ] [P3-T1] Run `python train.py --alpha 1e-3` for seeds 0-4 | deliverable: results/ |
      done-when: 5 metrics files

Passing::

    - [ ] [P3-T1] Submit the sweep with `planc submit plans/lr-sweep/plan.md` | deliverable:
      results/ | done-when: 5 runs COMPLETED in runs_status.yaml

Options: ``script_words`` (name parts that mark an experiment script).

Seeds: 003 and 002 (CRITICAL: Formal Experiment Tracking).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...models.tasks import locate
from ..base import Context, Finding
from ._common import plan_of

CODE = "TK022"
NAME = "direct-experiment-run"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {
    "script_words": ["train", "eval", "finetun", "fine_tun", "sweep", "experiment", "run",
                     "launch", "bench", "pretrain"],
}

_COMMAND = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?:python3?(?:\.\d+)?|uv\s+run(?:\s+python3?)?)\s+(?:-[uOB]\s+)*(?P<py>[\w./~-]+\.py)\b"
    r"|(?:bash|sh|zsh)\s+(?P<sh>[\w./~-]+\.sh)\b"
    r"|(?P<dot>\./[\w./-]+\.(?:sh|py))\b"
    r"|(?P<launcher>torchrun|accelerate\s+launch|deepspeed|srun|sbatch)\b)",
)
_TRACKED = re.compile(r"curl\b[^\n]*?/runs\b|POST\s+\S*/runs\b|\bplanc\s+(?:submit|run)\b",
                      re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:never|not|don't|do not|instead of|rather than|avoid|no|without)\b[^.;|]*$",
    re.IGNORECASE)


def _is_experiment(script: str, words: list[str]) -> bool:
    name = script.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    parts = [p for p in re.split(r"[_\-.]", name) if p]
    return any(p.startswith(w) or (len(w) >= 5 and w in p) for p in parts for w in words)


# Every command _COMMAND finds contains one of these; checking them first keeps the rule cheap.
_TRIGGERS = (".py", ".sh", "torchrun", "srun", "sbatch", "accelerate", "deepspeed")


def _findings(text: str, words: list[str]) -> Iterator[tuple[int, str]]:
    if not any(t in text for t in _TRIGGERS):  # most tasks name no command at all
        return
    for m in _COMMAND.finditer(text):
        script = m.group("py") or m.group("sh") or m.group("dot")
        if script is not None and not _is_experiment(script, words):
            continue
        if _NEGATION.search(text[max(0, m.start() - 60) : m.start()]):
            continue
        yield m.start(), " ".join(m.group(0).split())


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form in ("abort", "stub"):
        return
    words = [str(w).lower() for w in ctx.options.get("script_words", [])]
    items = [(t.text, t.content, t.details) for t in plan.tasks if t.is_task]
    items += [(t.text, t.content, "") for t in plan.flat_items]
    for text, content, details in items:
        found = list(_findings(text, words))
        if not found or _TRACKED.search(text) or (details and _TRACKED.search(details)):
            continue
        for offset, cmd in found:
            line, col = locate(ctx.doc, content.line, text, offset)
            yield Finding(line, col,
                          f"task runs {cmd!r} directly; experiments must be tracked runs",
                          "create the run through POST /runs (curl) or `planc submit`")
