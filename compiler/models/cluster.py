"""Cluster profiles: a typed YAML file per cluster (``clusters/<name>.yaml``).

Replaces seed 004's free-form ``claude.local.md``. Field names borrow submitit's resource
vocabulary (``../shared/reference/formats.md`` §13). Example::

    name: della
    type: slurm                  # slurm | local_gpu | cpu_only
    account: mylab
    constraint: gpu80
    qos: null
    modules: [anaconda3/2025.6]
    activate: conda activate ttenv
    env: {HF_HUB_OFFLINE: "1"}
    defaults: {mem: 80G, cpus_per_task: 4, time: "01:00:00"}
    partitions:
      - {name: gpu, max_time: "24:00:00", gpus_per_node: 4, gpu_type: a100,
         gpu_memory_gib: 80, default: true}
      - {name: cpu, max_time: "72:00:00", gpus_per_node: 0}

``local_gpu`` profiles give ``gpu_count`` and ``gpu_memory_gib``; ``cpu_only`` needs nothing.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_TIME = re.compile(r"^(?:(\d+)-)?(\d{1,3}):(\d{2})(?::(\d{2}))?$")


def parse_slurm_time(value: str) -> int:
    """SLURM time (``D-HH:MM:SS``, ``HH:MM:SS``, ``MM:SS``, minutes) → seconds.

    Raises ``ValueError`` for other forms. Source: sbatch(1) ``--time``.
    """
    v = str(value).strip()
    if v.isdigit():
        return int(v) * 60
    m = _TIME.match(v)
    if not m:
        raise ValueError(f"not a SLURM time: {value!r} (use HH:MM:SS or D-HH:MM:SS)")
    days, a, b, c = m.groups()
    if c is None:  # MM:SS
        h, mi, s = 0, int(a), int(b)
    else:
        h, mi, s = int(a), int(b), int(c)
    return int(days or 0) * 86400 + h * 3600 + mi * 60 + s


def format_slurm_time(seconds: float) -> str:
    """Seconds → ``HH:MM:SS`` (or ``D-HH:MM:SS`` from one day), rounded up to the minute."""
    total = int(-(-int(seconds) // 60) * 60)
    days, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    hms = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{days}-{hms}" if days else hms


_MEM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$", re.I)


def parse_mem_mib(value: str) -> float:
    """A SLURM memory size (``--mem``: a number with an optional ``K``/``M``/``G``/``T``
    suffix; no suffix means megabytes) → MiB. Raises ``ValueError`` for other forms.
    Source: sbatch(1) ``--mem``."""
    m = _MEM.match(str(value))
    if not m:
        raise ValueError(f"not a SLURM memory size: {value!r} (use e.g. 32G or 4000M)")
    scale = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024 * 1024}
    return float(m.group(1)) * scale[m.group(2).upper()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Partition(Strict):
    name: str
    max_time: str | None = None
    gpus_per_node: int = 0
    gpu_type: str | None = None
    gpu_memory_gib: float | None = None
    cpus_per_node: int | None = None
    mem_per_node: str | None = None
    default: bool = False

    @field_validator("max_time")
    @classmethod
    def _time(cls, v: str | None) -> str | None:
        if v is not None:
            parse_slurm_time(v)
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", v):
            raise ValueError(f"partition name {v!r} has characters SLURM does not allow")
        return v


class QosLimits(Strict):
    """The limits of one SLURM QoS as ``sacctmgr show qos --parsable2`` states them.

    ``max_submit_jobs_per_user`` (``MaxSubmitJobsPerUser``: jobs pending or running per
    user), ``max_wall`` (``MaxWall``, a SLURM time), ``max_tres_per_user`` (``MaxTRESPerUser``)
    and ``grp_tres`` (``GrpTRES``) as TRES mappings like ``{"cpu": 64, "gres/gpu": 8}``.
    ``None``/empty: no limit stated. Source: sacctmgr(1) "SPECIFICATIONS FOR QOS".
    """

    max_submit_jobs_per_user: int | None = None
    max_wall: str | None = None
    max_tres_per_user: dict[str, int] = Field(default_factory=dict)
    grp_tres: dict[str, int] = Field(default_factory=dict)

    @field_validator("max_wall")
    @classmethod
    def _wall(cls, v: str | None) -> str | None:
        if v is not None:
            parse_slurm_time(v)
        return v


class JobDefaults(Strict):
    """Resources of one job unless a plan overrides them (``--mem``, ``--cpus-per-task``,
    ``--time``)."""

    mem: str = "16G"
    cpus_per_task: int = 1
    time: str = "01:00:00"
    gpus: int = 1


class ClusterProfile(Strict):
    """A cluster planc compiles for. ``type`` picks the launch artifacts: SLURM scripts,
    a local GPU launcher, or a CPU launcher."""

    name: str = "local"
    type: Literal["slurm", "local_gpu", "cpu_only"] = "cpu_only"
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    mail_user: str | None = None
    modules: list[str] = Field(default_factory=list)
    activate: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    defaults: JobDefaults = Field(default_factory=JobDefaults)
    partitions: list[Partition] = Field(default_factory=list)
    gpu_count: int = 0
    gpu_memory_gib: float | None = None
    gpu_type: str | None = None
    models_dir: str | None = None
    scratch_dir: str | None = None
    qos_limits: dict[str, QosLimits] = Field(default_factory=dict)
    max_queued: int | None = Field(default=None, ge=1)

    def qos_limit(self) -> QosLimits | None:
        """The limits of the QoS jobs are submitted under (``qos``, else ``normal``, the
        SLURM default QoS); ``None`` when the profile states none."""
        return self.qos_limits.get(self.qos or "normal")

    def queue_cap(self) -> int | None:
        """Jobs one user may have pending or running: ``max_queued`` if stated, else the
        QoS ``MaxSubmitJobsPerUser``; ``None`` without either."""
        if self.max_queued:
            return self.max_queued
        q = self.qos_limit()
        return q.max_submit_jobs_per_user if q is not None else None

    def partition(self, name: str | None = None) -> Partition | None:
        """The named partition, else the default one, else the first; ``None`` without any."""
        if name:
            return next((p for p in self.partitions if p.name == name), None)
        return next(
            (p for p in self.partitions if p.default),
            self.partitions[0] if self.partitions else None,
        )


CPU_ONLY = ClusterProfile(
    name="cpu_only", type="cpu_only", defaults=JobDefaults(gpus=0, mem="4G", time="00:30:00")
)
