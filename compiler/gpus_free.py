"""Free GPUs on this machine, through NVML, for the local launcher (``launch_local.sh``).

Run as ``python3 -m compiler.gpus_free [--min-free-gib X] [--format uuid|index|json]``.
It prints one free GPU per line (its UUID by default, the value ``launch_local.sh`` puts in
``CUDA_VISIBLE_DEVICES`` of one run), or with ``--format json`` one object::

    {"mode": "gpu" | "cpu_only", "reason": str, "gpus": [
        {"index": int, "uuid": str, "name": str, "memory_free_gib": float,
         "memory_total_gib": float, "process_count": int | None, "free": bool}, ...]}

A GPU is free when it runs no compute process (the research-agent gpuwrap rule,
``../shared/reference/research-agent-api.md`` §5) and has at least ``--min-free-gib`` GiB of
free memory; a GPU whose processes NVML cannot list (``NVMLError_NotSupported``) is busy.

It degrades to "no GPUs" (prints nothing, ``mode: cpu_only``, exit status 0) when the
``pynvml`` module (package ``nvidia-ml-py``) is missing, when ``nvmlInit()`` raises any
``pynvml.NVMLError`` (``NVMLError_LibraryNotFound`` on GPU-less hosts), or when NVML counts
zero devices (``../shared/reference/toolchain.md`` §4).

NVML indices are physical (PCI order) and ignore ``CUDA_VISIBLE_DEVICES``. When that variable
is already set, only the GPUs it names are candidates: an entry ``GPU-…`` is matched against
NVML UUIDs (by prefix, as CUDA does), an integer entry against the NVML index (which assumes
``CUDA_DEVICE_ORDER=PCI_BUS_ID``; ``launch_local.sh`` exports it). UUIDs are printed by
default because they are unambiguous whatever the CUDA device order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

GIB = 1024 ** 3


def _visible_filter(visible: str | None) -> list[str] | None:
    """Entries of ``CUDA_VISIBLE_DEVICES`` (``None`` when unset: every GPU is a candidate)."""
    if visible is None:
        return None
    return [e.strip() for e in visible.split(",") if e.strip()]


def _is_visible(index: int, uuid: str, entries: list[str] | None) -> bool:
    if entries is None:
        return True
    for entry in entries:
        if entry.startswith("GPU-") or entry.startswith("MIG-"):
            if uuid.startswith(entry):
                return True
        elif entry.isdigit() and int(entry) == index:
            return True
    return False


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def detect(min_free_gib: float = 0.0, visible: str | None = None) -> dict[str, Any]:
    """Query NVML once; return ``{"mode", "reason", "gpus"}`` (shape in the module docstring).

    ``min_free_gib`` is in GiB; ``visible`` is a ``CUDA_VISIBLE_DEVICES`` value (``None`` =
    unset). Never raises for a missing library, driver or device.
    """
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return {"mode": "cpu_only", "reason": "nvidia-ml-py (pynvml) not installed", "gpus": []}
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return {"mode": "cpu_only", "reason": f"{type(exc).__name__}: {exc}", "gpus": []}
    entries = _visible_filter(visible)
    gpus: list[dict[str, Any]] = []
    try:
        count = pynvml.nvmlDeviceGetCount()
        for index in range(count):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            uuid = _text(pynvml.nvmlDeviceGetUUID(handle))
            if not _is_visible(index, uuid, entries):
                continue
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                procs: int | None = len(pynvml.nvmlDeviceGetComputeRunningProcesses(handle))
            except pynvml.NVMLError:  # e.g. NotSupported: unknown use counts as busy
                procs = None
            free_gib = mem.free / GIB
            gpus.append({
                "index": index,
                "uuid": uuid,
                "name": _text(pynvml.nvmlDeviceGetName(handle)),
                "memory_free_gib": round(free_gib, 3),
                "memory_total_gib": round(mem.total / GIB, 3),
                "process_count": procs,
                "free": procs == 0 and free_gib >= min_free_gib,
            })
    except pynvml.NVMLError as exc:
        return {"mode": "cpu_only", "reason": f"{type(exc).__name__}: {exc}", "gpus": []}
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
    if count == 0:
        return {"mode": "cpu_only", "reason": "NVML found no GPU", "gpus": []}
    return {"mode": "gpu", "reason": f"{count} GPU(s) found by NVML", "gpus": gpus}


def free_gpus(min_free_gib: float = 0.0, visible: str | None = None) -> list[dict[str, Any]]:
    """The free GPUs (rows of :func:`detect`), in NVML index order."""
    return [g for g in detect(min_free_gib, visible)["gpus"] if g["free"]]


def main(argv: Sequence[str] | None = None) -> int:
    """Print free GPUs; exit 0 (also with none), 2 on bad arguments."""
    parser = argparse.ArgumentParser(prog="python3 -m compiler.gpus_free",
                                     description="Print the free GPUs of this machine (NVML).")
    parser.add_argument("--min-free-gib", type=float, default=0.0,
                        help="minimum free memory of a free GPU, GiB (default 0)")
    parser.add_argument("--format", choices=("uuid", "index", "json"), default="uuid")
    args = parser.parse_args(argv)
    result = detect(args.min_free_gib, os.environ.get("CUDA_VISIBLE_DEVICES"))
    if args.format == "json":
        print(json.dumps(result))
        return 0
    if result["mode"] == "cpu_only":
        print(f"gpus_free: no GPUs ({result['reason']})", file=sys.stderr)
    for gpu in result["gpus"]:
        if gpu["free"]:
            print(gpu["uuid"] if args.format == "uuid" else gpu["index"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
