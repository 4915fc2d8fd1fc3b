"""Experiments run through tracked runs, not directly.

Seed 001, *🚨 CRITICAL: Job Submission via API*: "NEVER plan to run experiments directly
(e.g. ``python train.py``, ``bash run.sh``). ALL experiments MUST be tracked through the
server API." With planc, the tracked way is a ``command:`` template in the front-matter and
``planc submit`` (or a ``POST /runs`` body whose ``"command"`` holds the script). Reported
in prose, code spans and code blocks of every section: ``python <script>.py``,
``uv run <script>.py``, ``bash|sh <script>.sh``, ``./<script>.sh``, a bare ``sbatch``,
``torchrun``, ``accelerate launch``, ``deepspeed``, ``tune run``. Not reported: the
``"command": "…"`` of a runs API body, a ``command:`` line, a sentence that says not to do
it ("never", "do not", "instead of", "avoid"), and helper scripts whose names say they
do not train (option ``allow_scripts``: name fragments).

Severity: warning — seed 001 says NEVER and MUST, but a direct command is found in prose,
where a mention (for example of what a tracked run executes) is not always a plan to run it
directly; planc cannot tell the two apart with certainty, so it asks the author to look
rather than fail the commit.

Failing::

    2. **Train** — run `python train.py --lr 1e-4` on each GPU

Passing::

    2. **Train** — `planc submit plans/lora/plan.md` creates one tracked run per configuration

Options: ``allow_scripts`` (list of name fragments, default analysis/plotting/data prep).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan, plan_text, position

CODE = "PL015"
NAME = "direct-execution"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {
    "allow_scripts": [
        "analy", "plot", "report", "summar", "aggregat", "collect", "prepare", "prep_",
        "download", "preprocess", "setup", "install", "check", "verify", "inspect",
        "visuali", "compare", "stats", "convert", "export", "figure", "table", "split",
    ],
}

_DIRECT = re.compile(
    r"(?:^|(?<=[\s;&|(`'\"$]))(?P<cmd>"
    r"(?:python3?(?:\.\d+)?|uv\s+run(?:\s+python3?)?)\s+(?:-[uBO]\s+)*(?P<py>[\w./~-]+\.py)\b"
    r"|(?:bash|sh|zsh)\s+(?P<sh>[\w./~-]+\.sh)\b"
    r"|\./(?P<dotsh>[\w./-]+\.sh)\b"
    r"|sbatch\s+(?:--?\w|[\w./~-]+)"
    r"|torchrun\b"
    r"|accelerate\s+launch\b"
    r"|deepspeed\s+[\w./~-]"
    r"|tune\s+run\b"
    r")",
    re.MULTILINE,
)
# A runs API body's "command" string, and any "command: …" / "command = …" (planc's
# front-matter form, or prose quoting a tracked run's command) to the end of the line.
# Cheap pre-filter: every pattern of _DIRECT contains one of these words.
_QUICK = re.compile(r"python|\.sh\b|sbatch|torchrun|accelerate|deepspeed|tune run|uv run")
_TRACKED = re.compile(r'"command"\s*:\s*"(?:[^"\\]|\\.)*"|\bcommand\b[`*"\']*\s*[:=].*$',
                      re.MULTILINE | re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:never|not|don't|do not|instead of|avoid|rather than|nor)\b",
                       re.IGNORECASE)
_CLAUSE = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)(?<!\bvs)[.!?;]\s|\n")


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    model = plan(ctx)
    if not model.sections and model.title is None:
        return
    if not _QUICK.search(doc.text):
        return
    allow = tuple(str(a).lower() for a in ctx.options.get("allow_scripts", []))
    for line, text, is_code in plan_text(doc, model.body_start):
        if not _QUICK.search(text) or not _DIRECT.search(text):
            continue
        masked = _TRACKED.sub(_blank, text)
        for m in _DIRECT.finditer(masked):
            script = m.group("py") or m.group("sh") or m.group("dotsh")
            if script and any(a in script.rsplit("/", 1)[-1].lower() for a in allow):
                continue
            if not is_code:
                starts = [c.end() for c in _CLAUSE.finditer(masked, 0, m.start())]
                clause = masked[starts[-1] if starts else 0 : m.start()]
                if _NEGATION.search(clause):
                    continue
            row, col = position(doc, line, text, m.start("cmd"))
            cmd = " ".join(m.group("cmd").split())
            yield Finding(row, col, f"'{cmd}' runs an experiment directly, untracked",
                          "launch it as a tracked run: a front-matter 'command:' template and "
                          "'planc submit', or a POST /runs body")
