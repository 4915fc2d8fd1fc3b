"""Rule families load lazily by document kind, and no rule is lost by it."""

from __future__ import annotations

import subprocess
import sys

from compiler import rules

from .conftest import ROOT


def test_every_rule_runs_only_on_kinds_its_family_declares() -> None:
    for name, kinds in rules.FAMILIES.items():
        for rule in rules.family(name):
            assert set(rule.KINDS) <= set(kinds), (name, rule.CODE, rule.KINDS)


def test_rules_for_kind_is_every_rule_of_that_kind_in_registry_order() -> None:
    for kind in ("plan", "tasks", "run-group", "status", "experiment-summary", "unknown"):
        want = tuple(r for r in rules.RULES if kind in r.KINDS)
        assert rules.rules_for_kind(kind) == want


def test_linting_a_task_plan_imports_no_other_family() -> None:
    code = (
        "import sys; from compiler.cli import main;"
        "main(['lint', '-q', 'plans/digits-study/tasks.md']);"
        "print(sorted(m for m in sys.modules if m.startswith('compiler.rules.')"
        " and m.count('.') == 2))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "['compiler.rules.base', 'compiler.rules.common', 'compiler.rules.tasks']" in out
