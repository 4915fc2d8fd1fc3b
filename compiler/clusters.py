"""Load cluster profiles: ``<root>/<Settings.clusters>/<name>.yaml`` → :class:`ClusterProfile`.

Profiles are typed (``compiler.models.cluster``); every problem (unreadable file, bad
YAML, unknown key, wrong type, a profile whose ``name`` differs from its file name) is a
diagnostic with the YAML position (code ``CP001`` "cluster-profile"), never an exception.
Shipped profiles: ``clusters/della.yaml`` (SLURM, Princeton-like partitions),
``clusters/local-cpu.yaml`` (``cpu_only``) and ``clusters/ci-slurm.yaml`` (the CI's
single-node SLURM with fake GRES).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .diagnostics import Diagnostic, Severity
from .document import compose_yaml, node_position
from .models.cluster import ClusterProfile

CODE = "CP001"
NAME = "cluster-profile"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def clusters_dir(settings: Any) -> Path:
    """The folder holding cluster profiles (``Settings.clusters`` relative to the root)."""
    root = Path(getattr(settings, "root", None) or Path.cwd())
    folder = Path(getattr(settings, "clusters", "clusters") or "clusters")
    return folder if folder.is_absolute() else root / folder


def profile_path(name: str, settings: Any) -> Path | None:
    """The profile file for ``name`` (``.yaml`` or ``.yml``), ``None`` when absent or when
    ``name`` is not a safe file name."""
    if not _SAFE.match(name or ""):
        return None
    folder = clusters_dir(settings)
    for ext in (".yaml", ".yml"):
        p = folder / f"{name}{ext}"
        if p.is_file():
            return p
    return None


def parse_profile(text: str, path: str, expect_name: str | None = None
                  ) -> tuple[ClusterProfile | None, list[Diagnostic]]:
    """Parse one profile's YAML text. Returns ``(profile, [])`` or ``(None, diagnostics)``."""
    def diag(line: int, col: int, msg: str) -> Diagnostic:
        return Diagnostic(path, line, col, CODE, Severity.ERROR, msg, NAME)

    try:
        node, data = compose_yaml(text)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [diag((mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1,
                           f"invalid YAML: {getattr(exc, 'problem', None) or exc}")]
    if not isinstance(data, dict):
        return None, [diag(1, 1, "a cluster profile is a YAML mapping (name, type, partitions …)")]
    data = dict(data)
    data.setdefault("name", expect_name or "local")
    try:
        profile = ClusterProfile.model_validate(data)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            line0, col0, _ = node_position(node, loc)
            dotted = ".".join(str(s) for s in loc) or "(profile)"
            msg = (f"unknown key {dotted!r}" if err["type"] == "extra_forbidden"
                   else f"{dotted}: {err['msg']}")
            out.append(diag(line0 + 1, col0 + 1, msg))
        return None, out
    if expect_name and profile.name != expect_name:
        line0, col0, _ = node_position(node, ("name",))
        return None, [diag(line0 + 1, col0 + 1, f"profile name {profile.name!r} differs from "
                           f"its file name {expect_name!r}")]
    return profile, []


def load_profile(name: str, settings: Any) -> tuple[ClusterProfile | None, list[Diagnostic]]:
    """Load the profile ``name``. An unknown name gives ``(None, [diagnostic])`` naming the
    folder searched and the profiles that exist."""
    path = profile_path(name, settings)
    if path is None:
        known = ", ".join(available(settings)) or "none"
        return None, [Diagnostic(str(clusters_dir(settings)), 1, 1, CODE, Severity.ERROR,
                                 f"no cluster profile {name!r} (known: {known})", NAME)]
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Diagnostic(str(path), 1, 1, CODE, Severity.ERROR,
                                 f"cannot read cluster profile: {exc}", NAME)]
    return parse_profile(text, str(path), expect_name=name)


def available(settings: Any) -> list[str]:
    """Names of the profiles in the clusters folder, sorted."""
    folder = clusters_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


# --- QoS limits (sacctmgr) -------------------------------------------------------------------
QOS_FIELDS = ("Name", "MaxSubmitJobsPerUser", "MaxWall", "MaxTRESPerUser", "GrpTRES")
"""The ``format=`` fields asked of ``sacctmgr show qos`` (sacctmgr(1) "LIST/SHOW QOS FORMAT
OPTIONS"). Its header spells some shorter (``MaxSubmitPU``, ``MaxTRESPU``); the columns come
back in this order either way."""


def parse_tres(text: str) -> dict[str, int]:
    """A TRES list (``cpu=64,gres/gpu=8,mem=500G``) → ``{"cpu": 64, "gres/gpu": 8,
    "mem": 512000}``; memory in MiB (a size suffix is read with
    :func:`~compiler.models.cluster.parse_mem_mib`), others as integers; unreadable items are
    left out. Source: sacctmgr(1) "TRES" (``name=count`` pairs, comma-separated)."""
    from .models.cluster import parse_mem_mib

    out: dict[str, int] = {}
    for item in (text or "").split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key:
            continue
        try:
            out[key] = int(parse_mem_mib(value)) if key == "mem" else int(value)
        except ValueError:
            continue
    return out


def parse_qos(text: str) -> dict[str, Any]:
    """``sacctmgr -n --parsable2 show qos format=<QOS_FIELDS>`` output → ``{qos name:
    QosLimits}``. Empty columns mean "no limit"; a line with too few columns or an unreadable
    MaxWall is skipped rather than guessed."""
    from .models.cluster import QosLimits

    out: dict[str, Any] = {}
    for line in text.splitlines():
        cols = line.split("|")
        if len(cols) < len(QOS_FIELDS) or not cols[0].strip():
            continue
        name, submit, wall, per_user, grp = (c.strip() for c in cols[:len(QOS_FIELDS)])
        try:
            out[name] = QosLimits(
                max_submit_jobs_per_user=int(submit) if submit.isdigit() else None,
                max_wall=wall or None, max_tres_per_user=parse_tres(per_user),
                grp_tres=parse_tres(grp))
        except ValueError:
            continue
    return out


def detect_qos(runner: Any = None) -> tuple[dict[str, Any], str]:
    """QoS limits of this cluster from ``sacctmgr`` and a one-line note on how that went
    (accounting disabled, sacctmgr missing, or how many QoS were read). Never raises."""
    from .backends.slurm import SlurmError, run_command

    runner = runner or run_command
    argv = ["sacctmgr", "-n", "--parsable2", "show", "qos",
            "format=" + ",".join(QOS_FIELDS)]
    try:
        proc = runner(argv, None)
    except SlurmError as exc:
        return {}, f"no QoS limits: {exc}"
    if proc.returncode != 0:
        why = (proc.stderr or proc.stdout or "").strip().splitlines()
        return {}, "no QoS limits: " + (why[0] if why else f"sacctmgr exited {proc.returncode}")
    limits = parse_qos(proc.stdout)
    return limits, f"{len(limits)} QoS read from sacctmgr"
