"""What this machine or cluster is: NVML GPUs, SLURM partitions and GRES → a cluster record.

:func:`detect_cluster` returns the research-agent server's cluster shape
(``../shared/reference/research-agent-api.md`` §6)::

    {"type": "slurm" | "local_gpu" | "cpu_only", "server_type": "slurm" | "local_gpu" |
     "unknown", "status": "healthy" | "degraded" | "unknown", "source": "detected" | "manual",
     "label", "description", "head_node", "node_count", "gpu_count" (int | None), "notes",
     "confidence" (float), "details": {"signals": [...], "slurm_nodes", "kubernetes_nodes",
     "ssh_hosts", "partitions": [...], "gpus": [...], "nvml": {...}, "cpus", "memory_gib"},
     "last_detected_at", "updated_at"}

Detection order (§6, the parts planc can act on): ``RESEARCH_AGENT_CLUSTER_TYPE`` (0.98,
``source: manual``); any ``SLURM_*`` variable (0.9) or ``sinfo -h -N`` listing nodes (0.8) →
``slurm``; NVML GPUs → ``local_gpu`` (0.78 with more than one GPU, else 0.68); otherwise
``cpu_only`` — the server's ``unknown`` (0.35), ``gpu_count`` ``None`` without an NVML
library and ``0`` when NVML lists no device.

NVML (package ``nvidia-ml-py``, module ``pynvml``) is imported lazily inside
:func:`nvml_inventory` — never at import time, so ``planc lint`` never loads it — and
degrades to ``cpu_only`` on ``ImportError``, on any ``pynvml.NVMLError`` (the base class:
``NVMLError_LibraryNotFound`` on GPU-less hosts, DriverNotLoaded, NoPermission, …) and on
zero devices; ``nvmlShutdown()`` always runs in ``finally`` (toolchain.md §4). Tests inject a
fake module through the ``nvml`` argument.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
from collections.abc import Mapping
from typing import Any

from .backends.slurm import Runner, SlurmError, run_command
from .models.cluster import ClusterProfile, JobDefaults, Partition, parse_slurm_time

MIB = 1024 ** 2
LABELS = {"slurm": "Slurm", "local_gpu": "Local GPU", "cpu_only": "CPU only",
          "kubernetes": "Kubernetes", "ray": "Ray", "shared_head_node": "Shared GPU Head Node",
          "unknown": "Unknown"}
ALIASES = {"localgpu": "local_gpu", "local_gpu_cluster": "local_gpu",
           "shared_gpu_head_node": "shared_head_node", "shared_gpu": "shared_head_node",
           "head_node": "shared_head_node", "k8s": "kubernetes", "cpu": "cpu_only"}
SINFO_PARTITIONS = "%P|%a|%l|%D|%c|%m|%G"
SINFO_NODES = "%N|%T|%c|%m|%G"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# --- NVML ---------------------------------------------------------------------------------


def _processes(nvml: Any, handle: Any) -> list[Any]:
    """Compute (v3, v2, plain) plus graphics processes; a call NVML lacks is skipped."""
    procs: list[Any] = []
    for name in ("nvmlDeviceGetComputeRunningProcesses_v3",
                 "nvmlDeviceGetComputeRunningProcesses_v2",
                 "nvmlDeviceGetComputeRunningProcesses"):
        fn = getattr(nvml, name, None)
        if fn is None:
            continue
        try:
            procs = list(fn(handle))
            break
        except nvml.NVMLError:
            continue
    fn = getattr(nvml, "nvmlDeviceGetGraphicsRunningProcesses", None)
    if fn is not None:
        try:
            seen = {getattr(p, "pid", None) for p in procs}
            procs += [p for p in fn(handle) if getattr(p, "pid", None) not in seen]
        except nvml.NVMLError:
            pass
    return procs


def nvml_inventory(nvml: Any | None = None) -> dict[str, Any]:
    """GPUs through NVML: ``{"source", "mode", "reason", "driver_version", "gpus"}``.

    ``source`` is ``pynvml`` or ``none``; ``mode`` ``gpu`` or ``cpu_only``; GPU rows are
    ``{index, name, uuid, memory_total_mb, memory_used_mb, utilization_gpu (% or None),
    process_count}`` (the gpuwrap detector's row, research-agent-api.md §5). ``nvml`` is the
    ``pynvml`` module (``None``: import it). Never raises for a missing library, driver or
    device.
    """
    def cpu(reason: str, library: bool) -> dict[str, Any]:
        return {"source": "pynvml" if library else "none", "mode": "cpu_only", "reason": reason,
                "driver_version": None, "gpus": [], "library": library}

    if nvml is None:
        try:
            import pynvml as nvml  # type: ignore[import-not-found, no-redef]
        except ImportError:
            return cpu("nvidia-ml-py (pynvml) is not installed", False)
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        return cpu(f"{type(exc).__name__}: {exc}", False)
    gpus: list[dict[str, Any]] = []
    driver = None
    try:
        try:
            driver = _text(nvml.nvmlSystemGetDriverVersion())
        except (nvml.NVMLError, AttributeError):
            driver = None
        count = int(nvml.nvmlDeviceGetCount())
        for index in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                util: int | None = int(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
            except nvml.NVMLError:  # NotSupported on MIG
                util = None
            gpus.append({
                "index": index,
                "name": _text(nvml.nvmlDeviceGetName(handle)),
                "uuid": _text(nvml.nvmlDeviceGetUUID(handle)),
                "memory_total_mb": round(mem.total / MIB),
                "memory_used_mb": round(mem.used / MIB),
                "utilization_gpu": util,
                "process_count": len(_processes(nvml, handle)),
            })
    except nvml.NVMLError as exc:
        return cpu(f"{type(exc).__name__}: {exc}", True)
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError:
            pass
    if not gpus:
        return cpu("NVML lists no GPU", True)
    return {"source": "pynvml", "mode": "gpu", "reason": f"{len(gpus)} GPU(s) found by NVML",
            "driver_version": driver, "gpus": gpus, "library": True}


# --- SLURM (sinfo) -------------------------------------------------------------------------

_GRES_ITEM = re.compile(r"^(?P<name>[A-Za-z0-9_]+)(?::(?P<type>[A-Za-z0-9_.-]+))?"
                        r"(?::(?P<count>\d+))?")


def parse_gres(text: str) -> list[dict[str, Any]]:
    """GRES of one node/partition: ``"gpu:a100:4(S:0-1),gpu:2"`` →
    ``[{"name": "gpu", "type": "a100", "count": 4}, {"name": "gpu", "type": None, "count": 2}]``.

    ``(null)`` and empty give ``[]``; a missing count is 1.
    """
    out: list[dict[str, Any]] = []
    text = (text or "").strip()
    if text in ("", "(null)", "N/A"):
        return out
    depth, part, parts = 0, "", []
    for ch in text:  # split on commas outside parentheses (S:0-1 socket lists)
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    for p in parts:
        p = re.sub(r"\(.*?\)", "", p.strip())
        bits = p.split(":")
        if not bits or not bits[0]:
            continue
        name, typ, count = bits[0], None, 1
        if len(bits) == 2:
            if bits[1].isdigit():
                count = int(bits[1])
            else:
                typ = bits[1]
        elif len(bits) >= 3:
            typ = bits[1] or None
            count = int(bits[2]) if bits[2].isdigit() else 1
        out.append({"name": name, "type": typ, "count": count})
    return out


def _int(text: str) -> int | None:
    m = re.match(r"\d+", text.strip())
    return int(m.group(0)) if m else None


def parse_sinfo_partitions(text: str) -> list[dict[str, Any]]:
    """Rows of ``sinfo -h -o '%P|%a|%l|%D|%c|%m|%G'``: ``{name, default, available,
    time_limit, nodes, cpus, memory_mb, gres}`` (``*`` marks the default partition;
    ``time_limit`` is SLURM's text, ``infinite`` included)."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 7 or not parts[0]:
            continue
        name = parts[0]
        out.append({"name": name.rstrip("*"), "default": name.endswith("*"),
                    "available": parts[1], "time_limit": parts[2], "nodes": _int(parts[3]),
                    "cpus": _int(parts[4]), "memory_mb": _int(parts[5]),
                    "gres": parse_gres(parts[6])})
    return out


def parse_sinfo_nodes(text: str) -> list[dict[str, Any]]:
    """Unique nodes of ``sinfo -h -N -o '%N|%T|%c|%m|%G'`` (one line per partition per
    node): ``{name, state, cpus, memory_mb, gres, gpus}``."""
    nodes: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 5 or not parts[0] or parts[0] in nodes:
            continue
        gres = parse_gres(parts[4])
        nodes[parts[0]] = {"name": parts[0], "state": parts[1], "cpus": _int(parts[2]),
                           "memory_mb": _int(parts[3]), "gres": gres,
                           "gpus": sum(g["count"] for g in gres if g["name"] == "gpu")}
    return list(nodes.values())


def slurm_inventory(runner: Runner = run_command) -> dict[str, Any] | None:
    """Partitions and nodes from two ``sinfo`` calls; ``None`` when sinfo is missing or fails."""
    try:
        parts = runner(["sinfo", "-h", "-o", SINFO_PARTITIONS], None)
        nodes = runner(["sinfo", "-h", "-N", "-o", SINFO_NODES], None)
    except SlurmError:
        return None
    if parts.returncode != 0 or nodes.returncode != 0:
        return None
    return {"partitions": parse_sinfo_partitions(parts.stdout),
            "nodes": parse_sinfo_nodes(nodes.stdout)}


# --- the cluster record --------------------------------------------------------------------


def _memory_gib() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 1024 ** 3, 1)


def normalize_type(value: str) -> str:
    """Lower-case, ``-`` → ``_``, aliases resolved (research-agent-api.md §6)."""
    v = value.strip().lower().replace("-", "_")
    return ALIASES.get(v, v)


def detect_cluster(env: Mapping[str, str] | None = None, runner: Runner = run_command,
                   nvml: Any | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Detect the cluster (module docstring: shape and order). ``env`` defaults to
    ``os.environ``; ``runner`` runs ``sinfo``; ``nvml`` is the ``pynvml`` module to use."""
    env = os.environ if env is None else env
    signals: list[str] = []
    gpu_info = nvml_inventory(nvml)
    slurm_info: dict[str, Any] | None = None
    slurm_env = sorted(k for k in env if k.startswith("SLURM_"))
    if slurm_env:
        signals.append(f"environment has {slurm_env[0]}")
    slurm_info = slurm_inventory(runner)
    if slurm_info and slurm_info["nodes"]:
        signals.append(f"sinfo -h -N lists {len(slurm_info['nodes'])} node(s)")
    if gpu_info["gpus"]:
        signals.append(f"NVML lists {len(gpu_info['gpus'])} GPU(s)")
    else:
        signals.append(f"no NVML GPU ({gpu_info['reason']})")

    source = "detected"
    forced = env.get("RESEARCH_AGENT_CLUSTER_TYPE")
    if forced and normalize_type(forced) not in ("", "unknown"):
        ctype = normalize_type(forced)
        confidence = 0.98
        source = "manual"
        signals.insert(0, f"RESEARCH_AGENT_CLUSTER_TYPE={forced}")
    elif slurm_env:
        ctype, confidence = "slurm", 0.9
    elif slurm_info and slurm_info["nodes"]:
        ctype, confidence = "slurm", 0.8
    elif gpu_info["gpus"]:
        ctype = "local_gpu"
        confidence = 0.78 if len(gpu_info["gpus"]) > 1 else 0.68
    else:
        ctype, confidence = "cpu_only", 0.35

    host = socket.gethostname().split(".")[0]
    partitions = slurm_info["partitions"] if slurm_info else []
    nodes = slurm_info["nodes"] if slurm_info else []
    if ctype == "slurm":
        node_count: int | None = len(nodes) or None
        gpu_count: int | None = sum(n["gpus"] for n in nodes) if nodes else None
        bad = [n for n in nodes if re.search(r"down|drain|fail", n["state"], re.I)]
        status = "healthy" if nodes and not bad else ("degraded" if nodes else "unknown")
        head_node = None
    elif ctype == "local_gpu":
        node_count, gpu_count, status, head_node = 1, len(gpu_info["gpus"]), "healthy", host
    else:
        node_count, head_node = (1 if ctype == "cpu_only" else None), None
        gpu_count = 0 if gpu_info["library"] else None
        status = "unknown" if ctype in ("cpu_only", "unknown") else "healthy"
    if source == "manual":
        status, confidence = "healthy", 0.98
    gpu_names = sorted({g["name"] for g in gpu_info["gpus"]}) or sorted(
        {g["type"] for n in nodes for g in n["gres"] if g["name"] == "gpu" and g["type"]})
    desc = {"slurm": f"SLURM cluster: {node_count or 0} node(s), {gpu_count or 0} GPU(s), "
                     f"partitions {', '.join(p['name'] for p in partitions) or 'none'}",
            "local_gpu": f"{host}: {gpu_count} GPU(s) ({', '.join(gpu_names)})",
            "cpu_only": f"{host}: no GPU ({gpu_info['reason']})"}.get(ctype, LABELS.get(ctype,
                                                                                      ctype))
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    server_type = "unknown" if ctype == "cpu_only" else ctype
    return {
        "type": ctype,
        "server_type": server_type,
        "status": status,
        "source": source,
        "label": LABELS.get(ctype, ctype),
        "description": desc,
        "head_node": head_node,
        "node_count": node_count,
        "gpu_count": gpu_count,
        "notes": None,
        "confidence": confidence,
        "details": {
            "signals": signals,
            "slurm_nodes": len(nodes),
            "kubernetes_nodes": 0,
            "ssh_hosts": 0,
            "partitions": partitions,
            "nodes": nodes,
            "gpus": gpu_info["gpus"],
            "gpu_names": gpu_names,
            "nvml": {"source": gpu_info["source"], "reason": gpu_info["reason"],
                     "driver_version": gpu_info["driver_version"]},
            "cpus": os.cpu_count(),
            "memory_gib": _memory_gib(),
        },
        "last_detected_at": stamp,
        "updated_at": stamp,
    }


def profile_from_cluster(cluster: dict[str, Any], name: str | None = None) -> ClusterProfile:
    """A starting :class:`~compiler.models.cluster.ClusterProfile` for a detected cluster
    (partitions, GPUs per node and memory from sinfo or NVML). Unknown types → ``cpu_only``."""
    ctype = cluster["type"] if cluster["type"] in ("slurm", "local_gpu") else "cpu_only"
    details = cluster["details"]
    gpus = details["gpus"]
    gpu_mem = round(min(g["memory_total_mb"] for g in gpus) / 1024, 1) if gpus else None
    gpu_type = (details["gpu_names"] or [None])[0]
    partitions = []
    for p in details["partitions"] if ctype == "slurm" else []:
        max_time = p["time_limit"]
        try:
            parse_slurm_time(max_time)
        except ValueError:
            max_time = None
        per_node = max((g["count"] for g in p["gres"] if g["name"] == "gpu"), default=0)
        partitions.append(Partition(
            name=p["name"], max_time=max_time, gpus_per_node=per_node,
            gpu_type=next((g["type"] for g in p["gres"] if g["name"] == "gpu" and g["type"]),
                          None),
            cpus_per_node=p["cpus"],
            mem_per_node=f"{p['memory_mb']}M" if p["memory_mb"] else None,
            default=p["default"]))
    gpus_default = 1 if ctype != "cpu_only" and (gpus or cluster.get("gpu_count")) else 0
    return ClusterProfile(
        name=name or (cluster.get("head_node") or socket.gethostname().split(".")[0]),
        type=ctype,
        partitions=partitions,
        gpu_count=len(gpus) if ctype == "local_gpu" else 0,
        gpu_memory_gib=gpu_mem,
        gpu_type=gpu_type,
        defaults=JobDefaults(gpus=gpus_default),
    )
