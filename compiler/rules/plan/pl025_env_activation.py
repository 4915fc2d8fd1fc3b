"""Run commands activate the plan's environment.

Seed 001, *Python Environment*: "Always include environment activation in planned run
commands — the ``command`` field runs in a fresh shell." Each ``"command": "…"`` of a runs
API body in a code block must activate the environment named in Compute Setup: for
``venv`` ``source …/activate`` or a ``…/bin/python``/``uv run``; for ``conda`` ``conda
activate``/``conda run`` (or micromamba/mamba). ``system`` needs nothing. planc's own
front-matter ``command:`` is not checked (planc's job templates activate the environment).

Severity: warning — seed 001 "always include environment activation", but a command may run
an interpreter or wrapper that sets its environment in ways planc cannot see; planc asks the
author to look rather than fail the commit.

Failing::

    -d '{"name": "a", "command": "cd /work && python train.py --lr 1e-4"}'

Passing::

    -d '{"name": "a", "command": "source .venv/bin/activate && python train.py --lr 1e-4"}'
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan, plan_text, position

CODE = "PL025"
NAME = "command-env-activation"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}

_COMMAND = re.compile(r'"command"\s*:\s*"(?P<cmd>(?:[^"\\]|\\.)*)"')
_ACTIVATE = {
    "venv": re.compile(r"(?:source|\.)\s+\S*activate\b|/bin/python|\buv\s+run\b|\bpoetry\s+run\b"),
    "conda": re.compile(r"\b(?:conda|micromamba|mamba)\s+(?:activate|run)\b"
                        r"|(?:source|\.)\s+\S*activate\b|/envs/\S+/bin/python"),
}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    env = model.setup_value("environment")
    pattern = _ACTIVATE.get(env) if isinstance(env, str) else None
    if pattern is None:
        return
    doc = ctx.doc
    for line, text, is_code in plan_text(doc, model.body_start):
        if not is_code or '"command"' not in text:
            continue
        for m in _COMMAND.finditer(text):
            if pattern.search(m.group("cmd")):
                continue
            row, col = position(doc, line, text, m.start())
            yield Finding(row, col, f"run command does not activate the {env} environment",
                          "start it with 'source .venv/bin/activate && …'" if env == "venv"
                          else "start it with 'conda activate <env> && …'")
