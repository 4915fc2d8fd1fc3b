"""Which compiled group folder a command means: a group folder, its ``runs_status.yaml``, or
the plan it was compiled from.

``planc submit|run|status|sync|results`` accept a plan path wherever a group folder is
accepted (the example plans tell readers to type ``planc submit plans/lr-sweep/plan.md``).
A plan's group is found from the groups' ``manifest.json`` (``source.path``, relative to the
project root, and ``source.sha256``; :func:`compiler.emit.manifest_data`) under the output
folder (``--out``, else ``[tool.planc] out``). The output folder's fingerprint index
(:data:`compiler.layout.GROUP_INDEX`, what ``planc compile``'s no-op path reads) is asked
first, so a plan compiled with its own choices is found without reading other manifests.
Then:

- one group compiled from this plan's current bytes: that group;
- none, and the command may compile (``submit``, ``run``): :func:`compiler.pipeline.
  compile_plan` with the plan's own choices, reported (the guards of ``planc compile``
  hold: never over a group another plan owns, edited files kept);
- only groups compiled from an earlier version of the plan: ``submit``/``run`` refuse (a
  recompile with the plan's own choices could drop the ``--cluster``/``--layout`` it was
  compiled with), the read-only commands use the group and say so;
- several current groups: refused, naming them.

Errors are :class:`GroupError` (one line; the CLI exits 2).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import layout


class GroupError(Exception):
    """The target names no usable group (missing, ambiguous, stale, not compiled)."""


@dataclass
class Target:
    """A resolved target: the group folder, the plan it came from (when a plan was named;
    :func:`plan_of` finds it from a group) and whether this call compiled it."""

    group: Path
    plan: Path | None = None
    compiled: bool = False


def is_plan(path: Path) -> bool:
    """A file that is not a tracker: a plan (``*.md``, ``experiment_summary.yaml``, …)."""
    return path.is_file() and not layout.is_status_file(path)


def _manifest(group: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((group / layout.MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _source(manifest: dict[str, Any]) -> tuple[str, str] | None:
    src = manifest.get("source")
    if isinstance(src, dict) and isinstance(src.get("path"), str):
        return src["path"], str(src.get("sha256") or "")
    return None


def groups_of(plan: Path, out: Path, root: Path) -> list[tuple[Path, bool]]:
    """``(group folder, compiled from the plan's current bytes)`` for every group under
    ``out`` whose manifest names ``plan`` (paths compared resolved, relative to ``root``)."""
    me = plan.resolve()
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    found = []
    for manifest_path in sorted(out.glob(f"*/{layout.MANIFEST}")):
        data = _manifest(manifest_path.parent)
        src = _source(data) if data else None
        if src is None:
            continue
        path = Path(src[0])
        if (path if path.is_absolute() else root / path).resolve() == me:
            found.append((manifest_path.parent, src[1] == digest))
    return found


def plan_of(group: Path) -> Path | None:
    """The plan file ``group/manifest.json`` names, looked up from the current folder, then
    from the folders above the group (as :func:`compiler.summary.group_outcome` does)."""
    data = _manifest(group)
    src = _source(data) if data else None
    if src is None:
        return None
    for root in (Path.cwd(), *group.resolve().parents):
        if (root / src[0]).is_file():
            return root / src[0]
    return None


def is_current(group: Path, plan: Path) -> bool:
    """Whether ``group`` was compiled from the current bytes of ``plan``."""
    data = _manifest(group)
    src = _source(data) if data else None
    return src is not None and src[1] == hashlib.sha256(plan.read_bytes()).hexdigest()


def resolve(target: str | Path, *, out: str | None = None, compile_missing: bool = False,
            echo: Callable[[str], None] = print) -> Target:
    """The group ``target`` names (module docstring has the rules).

    ``target``: a group folder, its ``runs_status.yaml``, or a plan file. ``out``: the
    output folder plans are compiled into (default ``[tool.planc] out`` of the plan's
    project). ``compile_missing``: compile a plan that has no current group. ``echo``
    receives one line when a plan's group is found or compiled. Raises :class:`GroupError`.
    """
    path = Path(target)
    if not path.exists():
        raise GroupError(f"{path}: no such group folder or plan")
    if not is_plan(path):
        # the plan stays unread (a large group's manifest is megabytes): plan_of() on demand
        return Target(path.parent if layout.is_status_file(path) else path)
    from .config import load_settings

    settings, config_diags = load_settings(path)
    if config_diags:  # as planc compile: a broken [tool.planc] is not guessed around
        from .diagnostics import format_text

        raise GroupError("the project configuration has errors:\n"
                         + format_text(config_diags).rstrip())
    root = Path(settings.root)
    out_dir = Path(out) if out else root / settings.out
    indexed = _indexed_group(path, settings, out_dir)
    if indexed is not None:  # compiled from these bytes with the plan's own choices
        echo(f"{path}: group {indexed}")
        return Target(indexed, path)
    found = groups_of(path, out_dir, root) if out_dir.is_dir() else []
    current = [g for g, ok in found if ok]
    if len(current) > 1:
        raise GroupError(f"{path} was compiled into {len(current)} groups under {out_dir} ("
                         + ", ".join(g.name for g in current) + "): name the group folder")
    if current:
        echo(f"{path}: group {current[0]}")
        return Target(current[0], path)
    if found and not compile_missing:
        names = ", ".join(str(g) for g, _ok in found)
        if len(found) > 1:
            raise GroupError(f"{path} changed since it was compiled into {names}: "
                             "name the group folder")
        echo(f"{path}: group {found[0][0]} (compiled from an earlier version of the plan)")
        return Target(found[0][0], path)
    if found:
        names = ", ".join(str(g) for g, _ok in found)
        raise GroupError(f"{path} changed since it was compiled into {names}: compile it again "
                         f"(planc compile {path}, with the --cluster/--layout it was compiled "
                         "with), then run this command again")
    if not compile_missing:
        raise GroupError(f"{path} has not been compiled into {out_dir} (planc compile {path})")
    return _compile(path, settings, out_dir, echo)


def _indexed_group(plan: Path, settings: Any, out: Path) -> Path | None:
    """The group the output folder's index (:data:`compiler.layout.GROUP_INDEX`) records for
    the inputs fingerprint of ``plan`` with default options, when it is still there: no
    manifest of any other group is read."""
    from .expand import Options
    from .pipeline import _group_hint, fingerprint

    if not (out / layout.GROUP_INDEX).is_file():
        return None
    group = _group_hint(out, fingerprint(plan.read_bytes(), settings, Options()))
    return group if group is not None and (group / layout.MANIFEST).is_file() else None


def _compile(plan: Path, settings: Any, out: Path, echo: Callable[[str], None]) -> Target:
    from .diagnostics import format_text
    from .expand import Options
    from .pipeline import compile_plan, summary
    from .tracker import TrackerError

    try:
        res = compile_plan(plan, settings, out=out, options=Options())
    except TrackerError as exc:
        raise GroupError(f"cannot compile {plan}: {exc}") from exc
    if res.report is None or res.group_dir is None:
        errors = sorted(res.diagnostics, key=lambda d: (d.path, d.line, d.column))
        raise GroupError(f"{plan} does not compile ({len(errors)} error(s)):\n"
                         + format_text(errors).rstrip())
    echo(f"compiled {summary(res)}")
    if res.report.refused or res.report.kept:
        raise GroupError(f"{res.group_dir} kept or refused files (listed above): review them, "
                         f"then name the group folder ({res.group_dir}) or compile with --force")
    return Target(res.group_dir, plan, compiled=True)
