"""One owner for the compiled group layout, and thin commands.

- No module under ``compiler/`` but :mod:`compiler.layout` spells a file name of the group
  folder (:data:`compiler.layout.FILE_NAMES`) as a string literal (docstrings aside), so a
  rename happens in one place.
- ``compiler/commands/*.py`` parse arguments, call the library once and print: no classes,
  no long functions (policy lives in library modules a test can import).
- The layout's path functions agree with each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from compiler import layout

from .conftest import ROOT

PACKAGE = ROOT / "compiler"
MAX_COMMAND_FUNCTION_LINES = 60


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of a module and its classes and functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                found.add(id(body[0].value))
    return found


def _layout_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skip):
            value = node.value
            if value in layout.FILE_NAMES or any(
                    value.endswith("/" + name) for name in layout.FILE_NAMES):
                hits.append(f"{path.relative_to(ROOT)}:{node.lineno}: {value!r}")
    return hits


def test_only_layout_spells_group_file_names() -> None:
    hits = [hit for path in sorted(PACKAGE.rglob("*.py")) if path.name != "layout.py"
            for hit in _layout_literals(path)]
    assert hits == [], "use compiler.layout instead of:\n" + "\n".join(hits)


def test_the_check_sees_a_literal(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('"""runs_status.yaml in a docstring is fine."""\n'
                     'NAME = "runs_status.yaml"\nP = "run/eval.slurm"\n', "utf-8")
    tree = ast.parse(probe.read_text("utf-8"))
    skip = _docstrings(tree)
    values = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
              and isinstance(n.value, str) and id(n) not in skip]
    assert values == ["runs_status.yaml", "run/eval.slurm"]


@pytest.mark.parametrize("path", sorted((PACKAGE / "commands").glob("*.py")),
                         ids=lambda p: p.name)
def test_commands_stay_thin(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    classes = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    assert classes == [], f"{path.name}: move classes into a library module"
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and n.end_lineno is not None
            and n.end_lineno - n.lineno + 1 > MAX_COMMAND_FUNCTION_LINES]
    assert long == [], f"{path.name}: split or move into a library module: {long}"


def test_layout_imports_only_the_standard_library() -> None:
    tree = ast.parse((PACKAGE / "layout.py").read_text("utf-8"))
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
               for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    assert modules <= {"__future__", "pathlib", "re"}


def test_run_side_does_not_import_compile_side() -> None:
    """results, local, submit, sync, site and the commands that drive runs get paths from
    compiler.layout, never from the modules that write the folder."""
    compile_side = {"scripts", "emit", "expand", "write", "pipeline", "skeleton", "render"}
    run_side = ["results.py", "local.py", "submit.py", "sync.py", "summary.py",
                "commands/submit.py", "commands/status.py", "commands/run.py",
                "commands/results.py"]
    for rel in run_side:
        tree = ast.parse((PACKAGE / rel).read_text("utf-8"))
        imported = {(n.module or "").split(".")[-1] for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                     and not n.module for a in n.names}
        assert not imported & compile_side, f"{rel} imports {sorted(imported & compile_side)}"


def test_stage_paths() -> None:
    group = Path("/g")
    assert layout.stage_dir(group, "r1", "finetune") == Path("/g/r1")
    assert layout.stage_dir(group, "r1", layout.eval_stage("acc_epoch_1")) == Path(
        "/g/r1/eval/acc_epoch_1")
    assert layout.stage_script(group, "r1", "finetune") == Path("/g/r1/finetune.slurm")
    assert layout.stage_script(group, "r1", "run") == Path("/g/r1/run.slurm")
    assert layout.stage_script(group, "r1", "evaluations/k") == Path("/g/r1/eval/k/eval.slurm")
    assert layout.eval_dir(Path("/g/r1"), "k") == Path("/g") / layout.eval_relpath("r1", "k")
    assert layout.local_log("finetune") == "local-finetune.out"
    assert layout.local_log("evaluations/k") == "local.out"
    for key, base in (("acc_epoch_1", False), ("acc", True)):
        assert layout.parse_eval_array_script(layout.eval_array_script(key, base)) == (key, base)
    assert layout.lock_file(Path("/g/runs_status.yaml"), "submit") == Path(
        "/g/runs_status.yaml.submit.lock")
