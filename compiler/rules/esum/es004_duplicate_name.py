"""Run, model and task names in ``experiment_summary.yaml`` are unique.

A run's name is its folder under ``experiment.dir``; two runs with one name write into one
folder. Likewise ``models.base[].name`` and ``evaluation.tasks[].name`` are looked up by
name, so a second entry with the same name is unreachable.

Severity: error — the runs cannot be scaffolded as written (one overwrites the other).

Failing::

    runs:
      - {name: r1, type: control, model: m, parameters: {}}
      - {name: r1, type: control, model: m, parameters: {}}

Passing::

    runs:
      - {name: r1, type: control, model: m, parameters: {}}
      - {name: r2, type: control, model: m, parameters: {}}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import data, items, key_pos, section

CODE = "ES004"
NAME = "esum-duplicate-name"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    d = data(ctx)
    for loc, what in ((["runs"], "run"), (["models", "base"], "model"),
                      (["evaluation", "tasks"], "task")):
        seen: dict[str, int] = {}
        for i, entry in items(section(d, *loc)):
            name = entry.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                line, _ = key_pos(ctx, [*loc, seen[name], "name"])
                yield Finding(*key_pos(ctx, [*loc, i, "name"]),
                              f"{what} name {name!r} is used twice (first at line {line})")
            else:
                seen[name] = i
