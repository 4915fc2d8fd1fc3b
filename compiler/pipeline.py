"""Compile one plan: lint → expand → emit → write, with a fast path for no-op recompiles.

:func:`compile_plan` is the library entry point ``planc compile`` calls per plan (and the
one tests and benchmarks import). Steps: load the plan; when the inputs fingerprint
(:func:`fingerprint`) matches the group's ``manifest.json`` and every file is still there,
return at once; else lint (errors stop the compile), build the typed spec
(:func:`compiler.spec.build`: the same build lint ran, reused when the plan's own choices
stand), emit (:mod:`compiler.emit`) and write (:mod:`compiler.write`). ``check`` writes
nothing and reports stale files.

The fingerprint covers every input: plan bytes, options, cluster profiles, model registry,
templates, settings, history, and the code of the modules that shape the output
(``OUTPUT_MODULES``). The group name is only known after expansion; a small index in the
output folder (:data:`compiler.layout.GROUP_INDEX`) maps a fingerprint to its group.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from . import layout
from .diagnostics import Diagnostic

TEMPLATE_DIRS = ("rungroup", "sweep", "slurm", "local", "api")
# planc modules whose code decides what a compile writes (lint rules do not)
OUTPUT_MODULES = ("__init__.py", "document.py", "expand.py", "emit.py", "estimate.py",
                  "registry.py", "scripts.py", "render.py", "matrix.py", "clusters.py",
                  "tracker.py", "write.py", "pipeline.py", "layout.py", "models/rungroup.py",
                  "models/rungroup_doc.py", "models/plan.py", "models/frontmatter.py",
                  "models/cluster.py", "models/status.py")


@dataclass
class Result:
    """One plan's compile: the group folder, the write report, diagnostics, the matrix."""

    plan: str
    group_dir: Path | None
    report: Any
    diagnostics: list[Diagnostic]
    matrix: Any = None


def _hash_tree(h: Any, folder: Path) -> None:
    if not folder.is_dir():
        return
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes())


def fingerprint(plan_bytes: bytes, settings: Any, options: Any) -> str:
    """sha256 of everything a compile's output depends on (see the module docstring)."""
    from . import __version__
    from .clusters import clusters_dir

    h = hashlib.sha256()
    h.update(f"planc {__version__}\n".encode())
    h.update(hashlib.sha256(plan_bytes).digest())
    h.update(repr((options.cluster, options.layout, options.out_root)).encode())
    if options.history is not None:
        h.update(repr([vars(o) for o in options.history.observations]).encode())
    # settings that change output, never machine paths (root, pyproject)
    h.update(repr(sorted((k, v) for k, v in vars(settings).items()
                         if k not in ("root", "pyproject"))).encode())
    _hash_tree(h, clusters_dir(settings))
    if getattr(settings, "models", None):
        mp = Path(settings.models)
        mp = mp if mp.is_absolute() else Path(settings.root) / mp
        if mp.is_file():
            h.update(mp.read_bytes())
    pkg = Path(str(resources.files("compiler")))
    h.update((pkg / "data" / "models.yaml").read_bytes())
    for mod in OUTPUT_MODULES:  # the code that shapes the output (an upgrade changes it)
        src = pkg / mod
        if src.is_file():
            h.update(mod.encode())
            h.update(src.read_bytes())
    for sub in TEMPLATE_DIRS:
        _hash_tree(h, pkg / "templates" / sub)
        _hash_tree(h, Path(settings.root) / settings.templates / sub)
    return h.hexdigest()


def compile_plan(plan: Path, settings: Any, *, out: Path, options: Any, force: bool = False,
                 check: bool = False, lint: bool = True) -> Result:
    """Compile one plan file into ``out/<group>/`` (see the module docstring).

    Returns a :class:`Result`; ``report`` is ``None`` when the plan did not compile (its
    ``diagnostics`` say why). Raises nothing for plan problems.
    """
    from .document import load

    doc = load(plan)
    try:
        plan_bytes = plan.read_bytes()
    except OSError:
        plan_bytes = doc.text.encode("utf-8")
    fp = fingerprint(plan_bytes, settings, options)
    git, done = _previous_compile(plan, out, fp, settings, check=check, force=force)
    if done is not None:
        return done
    if lint:
        errors = _lint_errors(doc, settings)
        if errors:
            return Result(str(plan), None, None, errors)
    options.out_dir = out
    matrix, diags = _expand(doc, settings, options)
    if matrix is None:
        return Result(str(plan), None, None, [d for d in diags if d.severity.value == "error"]
                      or diags)
    files, problems = _render(plan, doc, matrix, settings, git=git, inputs=fp)
    if files is None:
        return Result(str(plan), None, None, problems)
    return _write(plan, out, fp, matrix, files, diags, force=force, check=check)


def _previous_compile(plan: Path, out: Path, fp: str, settings: Any, *, check: bool,
                      force: bool) -> tuple[str | None, Result | None]:
    """``(git commit to record, fast-path result or None)`` from the group the
    fingerprint index names: same inputs keep the commit they were generated at, and when
    every file is still there nothing needs rendering."""
    from .emit import git_commit
    from .write import read_manifest

    git = git_commit(Path(settings.root))
    group_guess = _group_hint(out, fp)
    prev = read_manifest(group_guess) if group_guess is not None else None
    if prev and prev.get("inputs_sha256") == fp:
        # Same inputs, same artifacts: keep the commit they were generated at, so that a new
        # commit alone never makes `compile --check` (pre-commit, CI) report a stale manifest.
        git = prev.get("git_commit")
    if group_guess is not None and not check and not force:
        if (prev and prev.get("inputs_sha256") == fp
                and all((group_guess / k).exists() for k in prev["files"])):
            from .write import WriteReport

            rep = WriteReport(unchanged=sorted(prev["files"]), fast_path=True)
            return git, Result(str(plan), group_guess, rep, [])
    return git, None


def _lint_errors(doc: Any, settings: Any) -> list[Diagnostic]:
    from .lint import lint_document

    return [d for d in lint_document(doc, settings) if d.severity.value == "error"]


def _expand(doc: Any, settings: Any, options: Any) -> tuple[Any, list[Diagnostic]]:
    """The run matrix of ``doc`` from :func:`compiler.spec.build` (the build lint made when
    the options leave every choice to the plan) and its diagnostics."""
    from .spec import build

    plan_choices = (options.cluster is None and options.layout is None
                    and options.out_root is None and options.history is None)
    built = build(doc, settings, None if plan_choices else options)
    return built.matrix, list(built.diagnostics)


def _render(plan: Path, doc: Any, matrix: Any, settings: Any, *, git: str | None,
            inputs: str) -> tuple[dict[str, bytes] | None, list[Diagnostic]]:
    """Every file of the group (:func:`compiler.emit.emit`), or ``None`` and why not."""
    import jinja2

    from .emit import emit
    from .registry import load_registry
    from .render import describe_template_error, environment

    registry, rdiags = load_registry(settings)
    if any(d.severity.value == "error" for d in rdiags):
        return None, rdiags
    env = environment(Path(settings.root) / settings.templates)
    env.auto_reload = False  # one compile: load each template once, no stat per render
    try:
        return emit(matrix, env, registry, git=git, inputs=inputs), []
    except (ValueError, jinja2.TemplateError) as exc:
        # a broken project template override is a located finding, not a traceback
        why = (describe_template_error(exc, Path(settings.root))
               if isinstance(exc, jinja2.TemplateError) else exc)
        return None, [Diagnostic(
            str(plan), 1, 1, "EX012", _sev_error(), f"cannot generate the artifacts: {why}",
            "compile-render")]


def _write(plan: Path, out: Path, fp: str, matrix: Any, files: dict[str, bytes],
           diags: list[Diagnostic], *, force: bool, check: bool) -> Result:
    from .emit import status_data
    from .write import write_group

    group_dir = out / matrix.group
    clash = _clash(plan, group_dir, matrix, files, force=force)
    if clash is not None:
        return Result(str(plan), None, None, [Diagnostic(
            str(plan), 1, 1, "EX012", _sev_error(), f"cannot write the artifacts: {clash}",
            "compile-render")])
    report = write_group(group_dir, files, force=force, check=check,
                         status_data=status_data(matrix))
    if not check:
        # only a clean compile may be skipped next time (kept files must be reported again)
        _remember_group(out, fp, matrix.group, clean=not (report.kept or report.refused))
    return Result(str(plan), group_dir, report, diags, matrix)


def _clash(plan: Path, group_dir: Path, matrix: Any, files: dict[str, bytes], *,
           force: bool) -> str | None:
    """Why writing ``files`` into ``group_dir`` would lose someone's data, else None.

    Never (not even with ``--force``) over the plan being compiled (``--out plans``); not
    over a group another plan compiled (two sweep plans without ``name:`` in one folder get
    that folder's name) unless ``--force``.
    """
    from .write import read_manifest

    try:  # one resolve each, not one per file (80,000 files in a large group)
        me, home = plan.resolve(), group_dir.resolve()
        rel = me.relative_to(home).as_posix() if me.is_relative_to(home) else None
        # links inside the group folder are never followed by the writer (compiler.write)
        if rel is not None and rel in files:
            return (f"{group_dir / rel} is the plan being compiled; choose an --out "
                    "folder outside the plan's own folder")
    except (OSError, RuntimeError):  # a symlink loop: let the writer report it
        pass
    prev = read_manifest(group_dir)
    source = prev.get("source") if prev else None
    other = source.get("path") if isinstance(source, dict) else None
    if not force and isinstance(other, str) and other != matrix.source:
        return (f"{group_dir} holds group {matrix.group!r} compiled from {other}, not from "
                f"{matrix.source}: give one of the plans its own `name:` (or pass --force "
                "to move the group to this plan)")
    return None


def _sev_error() -> Any:
    from .diagnostics import Severity

    return Severity.ERROR


# -- the group index: fingerprint → group, beside the groups -------------------------------
def _group_hint(out: Path, fp: str) -> Path | None:
    try:
        data = json.loads((out / layout.GROUP_INDEX).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    group = data.get(fp) if isinstance(data, dict) else None
    if not isinstance(group, str):
        return None
    from .write import safe_relpath

    return safe_relpath(group, out)


def _remember_group(out: Path, fp: str, group: str, clean: bool = True) -> None:
    from .tracker import atomic_write

    path = out / layout.GROUP_INDEX
    try:
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    if clean and data.get(fp) == group:
        return
    if not clean and group not in data.values():
        return
    data = {k: v for k, v in data.items() if v != group}
    if clean:
        data[fp] = group
    try:
        atomic_write(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
    except OSError:
        pass


def summary(res: Result) -> str:
    """One human line (plus detail lines) for a compile result."""
    r = res.report
    lines = [f"{res.plan}: {res.group_dir}: {len(r.written)} written, {len(r.unchanged)} "
             f"unchanged, {len(r.kept)} kept" + (" (up to date)" if r.fast_path else "")]
    for k in r.kept_foreign:
        lines.append(f"  kept {k}: not written by planc (use --force to overwrite)")
    for k in r.kept_edited:
        lines.append(f"  kept {k}: edited since planc wrote it (use --force to overwrite)")
    for k in r.refused:
        lines.append(f"  refused {k}: path escapes the output folder")
    for k in r.orphaned:
        lines.append(f"  orphaned {k}: no longer generated (left in place)")
    m = r.merge
    if m is not None:
        status = layout.STATUS_FILE
        if m.added_runs:
            lines.append(f"  {status}: {len(m.added_runs)} run(s) added as pending")
        if m.added_stages:
            lines.append(f"  {status}: {len(m.added_stages)} stage(s) added as pending")
        for name in m.removed_runs:
            lines.append(f"  {status}: run {name} is no longer in the plan (kept)")
        for name in m.removed_stages:
            lines.append(f"  {status}: stage {name} is no longer in the plan (kept)")
        for name in m.flat_runs:
            lines.append(f"  {status}: run {name} is in the flat form (finetune_status, …); "
                         "kept as written, no stage added")
    return "\n".join(lines)


def load_history(history_dir: Path, settings: Any) -> Any:
    """Prior runs under ``history_dir`` (:func:`compiler.history.read_history`): each run is
    keyed by what its own config and log recorded, never by its folder's name."""
    from .history import read_history

    return read_history(history_dir)
