"""``planc compile PLAN... [--out DIR] [--check] [--force] [--layout per-run|array]
[--history DIR] [--cluster NAME]``: plans → launch artifacts in ``<out>/<group>/``.

Steps per plan: lint (errors stop the compile, exit 1), expand (``compiler.expand``),
emit (``compiler.emit``), write (``compiler.write``). ``--check`` writes nothing and exits
1 naming stale files. The default output folder is ``[tool.planc] out`` (relative to the
project root). A summary line per plan reports written / unchanged / kept files and the
tracker merge. Exit codes: 0 done (or up to date), 1 lint/expansion errors, refused or kept
files, or stale files with ``--check``; 2 configuration or internal errors.

A no-op recompile is fast: the manifest records a fingerprint of every input (plan bytes,
options, cluster profiles, model registry, templates, settings, history, and the code of
the modules that shape the output);
when it matches and every file is still there, nothing is rendered.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, format_text

TEMPLATE_DIRS = ("rungroup", "sweep", "slurm", "local", "api")
# planc modules whose code decides what a compile writes (lint rules do not)
OUTPUT_MODULES = ("__init__.py", "document.py", "expand.py", "emit.py", "estimate.py",
                  "registry.py", "scripts.py", "render.py", "matrix.py", "clusters.py",
                  "tracker.py", "write.py", "commands/compile.py", "models/rungroup.py",
                  "models/rungroup_doc.py", "models/plan.py", "models/frontmatter.py",
                  "models/cluster.py", "models/status.py")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("plans", nargs="+", metavar="PLAN", help="run-group or sweep plan files")
    p.add_argument("--out", "-o", help="output folder (default: [tool.planc] out)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 naming files a compile would change")
    p.add_argument("--force", action="store_true",
                   help="overwrite files planc did not write or that were edited")
    p.add_argument("--layout", choices=("per-run", "array"), help="SLURM script layout")
    p.add_argument("--history", metavar="DIR", help="prior runs to learn estimates from")
    p.add_argument("--cluster", metavar="NAME", help="cluster profile (clusters/<NAME>.yaml)")


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
    from .. import __version__
    from ..clusters import clusters_dir

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
    """Compile one plan file into ``out/<group>/`` (see the module docstring)."""
    import jinja2

    from ..document import load
    from ..emit import emit, git_commit, status_data
    from ..lint import lint_document
    from ..registry import load_registry
    from ..render import describe_template_error, environment
    from ..spec import build
    from ..write import read_manifest, write_group

    doc = load(plan)
    try:
        plan_bytes = plan.read_bytes()
    except OSError:
        plan_bytes = doc.text.encode("utf-8")
    fp = fingerprint(plan_bytes, settings, options)
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
            from ..write import WriteReport

            rep = WriteReport(unchanged=sorted(prev["files"]), fast_path=True)
            return Result(str(plan), group_guess, rep, [])
    if lint:
        diags = [d for d in lint_document(doc, settings) if d.severity.value == "error"]
        if diags:
            return Result(str(plan), None, None, diags)
    options.out_dir = out
    built = build(doc, settings, None if _plan_choices(options) else options)
    matrix, diags = built.matrix, list(built.diagnostics)
    if matrix is None:
        return Result(str(plan), None, None, built.errors or diags)
    registry, rdiags = load_registry(settings)
    if any(d.severity.value == "error" for d in rdiags):
        return Result(str(plan), None, None, rdiags)
    env = environment(Path(settings.root) / settings.templates)
    env.auto_reload = False  # one compile: load each template once, no stat per render
    extra = _format_facts(doc, settings)
    try:
        files = emit(matrix, env, registry, git=git, inputs=fp, **extra)
    except (ValueError, jinja2.TemplateError) as exc:
        # a broken project template override is a located finding, not a traceback
        why = (describe_template_error(exc, Path(settings.root))
               if isinstance(exc, jinja2.TemplateError) else exc)
        return Result(str(plan), None, None, [Diagnostic(
            str(plan), 1, 1, "EX012", _sev_error(), f"cannot generate the artifacts: {why}",
            "compile-render")])
    group_dir = out / matrix.group
    report = write_group(group_dir, files, force=force, check=check,
                         status_data=status_data(matrix))
    if not check:
        # only a clean compile may be skipped next time (kept files must be reported again)
        _remember_group(out, fp, matrix.group, clean=not (report.kept or report.refused))
    return Result(str(plan), group_dir, report, diags, matrix)


def _plan_choices(options: Any) -> bool:
    """Whether ``options`` leave every choice to the plan (then compile reuses the build
    lint already made of this document)."""
    return (options.cluster is None and options.layout is None and options.out_root is None
            and options.history is None)


def _sev_error() -> Any:
    from ..diagnostics import Severity

    return Severity.ERROR


def _format_facts(doc: Any, settings: Any) -> dict[str, Any]:
    """Dataset format, type and split field names for the torchtune config (front-matter
    run groups state them; seed-form plans use JSON with train/validation fields)."""
    if doc.kind != "run-group":
        return {}
    from ..spec import build

    spec = build(doc, settings).spec
    if spec is None:
        return {}
    return {"data_format": spec.data_format, "dataset_type": spec.dataset_type,
            "splits": spec.splits}


# The group name is only known after expansion; a tiny index in the output folder maps a
# fingerprint to its group so that a no-op recompile can skip the work.
_INDEX = ".planc-groups.json"


def _group_hint(out: Path, fp: str) -> Path | None:
    try:
        data = json.loads((out / _INDEX).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    group = data.get(fp) if isinstance(data, dict) else None
    if not isinstance(group, str):
        return None
    from ..write import safe_relpath

    return safe_relpath(group, out)


def _remember_group(out: Path, fp: str, group: str, clean: bool = True) -> None:
    from ..tracker import atomic_write

    path = out / _INDEX
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
        if m.added_runs:
            lines.append(f"  runs_status.yaml: {len(m.added_runs)} run(s) added as pending")
        if m.added_stages:
            lines.append(f"  runs_status.yaml: {len(m.added_stages)} stage(s) added as pending")
        for name in m.removed_runs:
            lines.append(f"  runs_status.yaml: run {name} is no longer in the plan (kept)")
        for name in m.removed_stages:
            lines.append(f"  runs_status.yaml: stage {name} is no longer in the plan (kept)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..config import load_settings
    from ..estimate import read_history
    from ..expand import Options
    from ..registry import load_registry
    from ..rules import BUILTIN_CODES, BY_CODE

    plans = [Path(p) for p in args.plans]
    missing = [str(p) for p in plans if not p.is_file()]
    if missing:
        print(f"planc: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    settings, cdiags = load_settings(plans[0], set(BY_CODE) | set(BUILTIN_CODES))
    if cdiags:
        sys.stdout.write(format_text(cdiags))
        return 2
    out = Path(args.out) if args.out else Path(settings.root) / settings.out
    history = None
    if args.history:
        hist_dir = Path(args.history)
        if not hist_dir.is_dir():
            print(f"planc: --history {hist_dir}: not a folder", file=sys.stderr)
            return 2
        registry, _ = load_registry(settings)
        history = read_history(hist_dir, tuple(registry.models))
    rc = 0
    for plan in plans:
        options = Options(cluster=args.cluster, layout=args.layout, history=history)
        res = compile_plan(plan, settings, out=out, options=options, force=args.force,
                           check=args.check)
        if res.report is None:
            sys.stdout.write(format_text(sorted(res.diagnostics,
                                                key=lambda d: (d.path, d.line, d.column))))
            print(f"{plan}: not compiled ({len(res.diagnostics)} error(s))", file=sys.stderr)
            rc = max(rc, 1)
            continue
        if args.check:
            if res.report.stale:
                for k in res.report.stale:
                    print(f"{res.group_dir}/{k}: stale")
                rc = max(rc, 1)
            else:
                print(f"{plan}: {res.group_dir}: up to date")
            continue
        print(summary(res))
        if res.report.refused or res.report.kept:
            rc = max(rc, 1)
    return rc
