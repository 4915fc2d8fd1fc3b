"""What the CI integrations (``action.yml``, ``ci/planc.gitlab-ci.yml``) ask of planc
beyond its subcommands: which paths to lint, which plans compile, where the output goes,
and the job summary a reviewer reads.

Run as ``python -m compiler.ci COMMAND`` (the CI files call it through the same
interpreter as ``planc``)::

    paths   [PATH ...]      the paths to lint: the given ones, else [tool.planc] paths
    plans   [PATH ...]      the compilable plans (run groups, plans with a command) under them
    out     [DIR]           the compile output folder: DIR, else [tool.planc] out (absolute)
    summary --out DIR [--sarif FILE | --codequality FILE] [--mode check|compile] [PLAN ...]
                            the job summary (markdown) on stdout

Paths are printed one a line, relative to the working folder when they lie under it:
GitHub maps annotations and SARIF results to a pull request's files only by paths relative
to the repository root, which is where CI runs planc. Exit codes: 0 done, 2 usage or
configuration error (the configuration's diagnostics are printed as text).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from .config import Settings, load_settings
from .diagnostics import format_text
from .layout import MANIFEST, README


def _rel(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when it lies under it, else absolute (POSIX form)."""
    path = (path if path.is_absolute() else cwd / path).resolve()
    cwd = cwd.resolve()
    if path.is_relative_to(cwd):
        return path.relative_to(cwd).as_posix() or "."
    return path.as_posix()


def lint_paths(paths: Sequence[str], settings: Settings, cwd: Path) -> list[str]:
    """The paths ``planc lint`` should check: ``paths`` as given, else ``[tool.planc]
    paths`` (relative to the project root) made relative to ``cwd``."""
    if paths:
        return list(paths)
    return [_rel(Path(settings.root) / p, cwd) for p in settings.paths]


def is_compilable(path: Path, settings: Settings) -> bool:
    """True for a run group, or a plan with a command template (what ``planc compile``
    takes); tasks, status files and unknown documents are not compiled."""
    from .document import load

    doc = load(path)
    if doc.kind == "run-group":
        return True
    if doc.kind == "plan":
        from .expand import sweep_spec_from_document

        spec, _ = sweep_spec_from_document(doc)
        return spec is not None
    return False


def iter_compilable(paths: Sequence[str], settings: Settings) -> Iterator[Path]:
    """The compilable markdown documents under ``paths`` (``planc lint``'s discovery, so
    ``exclude`` applies), in sorted order."""
    from .lint import discover

    for path in discover(paths, settings):
        if path.suffix == ".md" and path.is_file() and is_compilable(path, settings):
            yield path


def out_dir(out: str | None, settings: Settings) -> Path:
    """The compile output folder: ``out`` (relative to the working folder), else
    ``[tool.planc] out`` relative to the project root; absolute."""
    if out:
        return Path(out).absolute()
    return (Path(settings.root) / settings.out).absolute()


def _read_manifest(group: Path) -> dict | None:
    try:
        data = json.loads((group / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def iter_groups(out: Path, plans: Sequence[str | Path], settings: Settings
                ) -> Iterator[tuple[Path, dict]]:
    """``(group folder, manifest)`` for every compiled group in ``out`` whose plan is one of
    ``plans`` (all groups when ``plans`` is empty), sorted by folder name."""
    root = Path(settings.root).resolve()
    wanted = {Path(p).resolve() for p in plans}
    if not out.is_dir():
        return
    for group in sorted(p for p in out.iterdir() if p.is_dir()):
        manifest = _read_manifest(group)
        if manifest is None:
            continue
        source = (manifest.get("source") or {}).get("path")
        if wanted and (not isinstance(source, str) or (root / source).resolve() not in wanted):
            continue
        yield group, manifest


# GitLab code-quality severities back to SARIF levels (``diagnostics.format_gitlab``)
_CODEQUALITY_LEVEL = {"blocker": "error", "critical": "error", "major": "error",
                      "minor": "warning", "info": "note"}


def lint_counts(report: Path) -> dict[str, int]:
    """Findings per level (``error``, ``warning``, ``note``) in a lint report planc wrote:
    a SARIF log (an object) or a GitLab code-quality report (an array). An unreadable
    report counts nothing."""
    counts = {"error": 0, "warning": 0, "note": 0}
    try:
        data = json.loads(report.read_text("utf-8"))
        if isinstance(data, list):
            levels = [_CODEQUALITY_LEVEL.get(i.get("severity"), "warning") for i in data]
        else:
            levels = [r.get("level", "warning") for run in data.get("runs", [])
                      for r in run.get("results", [])]
    except (OSError, ValueError, AttributeError):
        return counts
    for level in levels:
        counts[level] = counts.get(level, 0) + 1
    return counts


def summary(out: Path, plans: Sequence[str | Path], settings: Settings, *,
            lint_report: Path | None = None, mode: str | None = None) -> str:
    """The job summary: lint counts (from ``lint_report``, a SARIF log or a GitLab
    code-quality report), one table row per compiled group
    (plan, its sha256, the commit it was compiled at, file count), then each group's
    generated ``README.md`` as it stands in ``out``."""
    lines = ["# planc"]
    facts = []
    if lint_report is not None:
        c = lint_counts(lint_report)
        facts.append(f"- **Lint**: {c['error']} error(s), {c['warning']} warning(s), "
                     f"{c['note']} note(s)")
    if mode == "check":
        facts.append("- **Compile**: `planc compile --check` (the committed artifacts "
                     "against the plans)")
    elif mode == "compile":
        facts.append("- **Compile**: `planc compile` (artifacts written)")
    if facts:
        lines += ["", *facts]
    groups = list(iter_groups(out, plans, settings))
    if not groups:
        lines += ["", "No compiled groups."]
        return "\n".join(lines) + "\n"
    lines += ["", "| Group | Plan | Plan sha256 | Commit | Files |",
              "|-------|------|-------------|--------|-------|"]
    for group, m in groups:
        source = m.get("source") or {}
        sha = str(source.get("sha256") or "")[:12]
        commit = str(m.get("git_commit") or "-")[:12]
        lines.append(f"| `{group.name}` | `{source.get('path', '?')}` | `{sha}` | `{commit}` "
                     f"| {len(m.get('files') or {})} |")
    for group, _ in groups:
        try:
            readme = (group / README).read_text("utf-8")
        except OSError:
            continue
        lines += ["", "---", "", readme.rstrip("\n")]
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m compiler.ci",
                                description="helpers for planc's CI integrations")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("paths", "plans"):
        sub.add_parser(name).add_argument("paths", nargs="*")
    sub.add_parser("out").add_argument("out", nargs="?")
    s = sub.add_parser("summary")
    s.add_argument("plans", nargs="*")
    s.add_argument("--out", required=True)
    report = s.add_mutually_exclusive_group()
    report.add_argument("--sarif", help="the lint's SARIF log (counts in the summary)")
    report.add_argument("--codequality", help="the lint's GitLab code-quality report")
    s.add_argument("--mode", choices=("check", "compile"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m compiler.ci``. Returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    cwd = Path.cwd()
    settings, diags = load_settings(cwd)
    if any(d.severity.value == "error" for d in diags):
        sys.stdout.write(format_text(diags))
        return 2
    if args.command == "paths":
        print("\n".join(lint_paths(args.paths, settings, cwd)))
    elif args.command == "plans":
        paths = lint_paths(args.paths, settings, cwd)
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            print(f"planc: no such file or folder: {', '.join(missing)}", file=sys.stderr)
            return 2
        for plan in iter_compilable(paths, settings):
            print(_rel(plan, cwd))
    elif args.command == "out":
        print(out_dir(args.out, settings).as_posix())
    else:
        sys.stdout.write(summary(Path(args.out), args.plans, settings,
                                 lint_report=Path(r) if (r := args.sarif or args.codequality)
                                 else None,
                                 mode=args.mode))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
