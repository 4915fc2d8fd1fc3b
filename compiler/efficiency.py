"""Resource efficiency of finished jobs: what each stage asked for against what it used.

Per stage of a group (``runs_status.yaml`` stages with a ``job_id``):

- ``elapsed_s`` / ``time_limit_s`` and ``time_used`` (their ratio),
- ``max_rss_mib`` (largest ``MaxRSS`` of the job's steps) / ``req_mem_mib`` (``ReqMem``) and
  ``mem_used``,
- ``cpu_efficiency`` = ``TotalCPU`` / (``Elapsed`` × ``AllocCPUS``),
- ``gpu_peak_gib``: torchtune's largest "peak memory allocation" (its
  ``training.log_memory_stats`` lines, read by
  :func:`compiler.results.parse_torchtune_console`) for fine-tune stages.

The SLURM numbers come from one ``sacct -n --parsable2 -j <ids> -o <SACCT_FIELDS>`` call
(steps included: ``MaxRSS`` lives on the ``.batch`` step). Field meanings: sacct(1) "Job
Accounting Fields". Without accounting, sacct prints "Slurm accounting storage is disabled"
and the report says so instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .backends.slurm import parse_duration

SACCT_FIELDS = ("JobID", "State", "Elapsed", "Timelimit", "TotalCPU", "AllocCPUS", "MaxRSS",
                "ReqMem")
"""The ``--format`` fields asked of sacct, in this order."""

OVER_REQUEST = 4.0
"""A request above this many times the measured use is reported (issue 14)."""

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGTP]?)[nc]?$", re.I)
_SCALE = {"": 1 / 1024 / 1024, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 ** 2,
          "P": 1024.0 ** 3}


def parse_size_mib(text: str) -> float | None:
    """A sacct size (``MaxRSS`` ``1234K``, ``ReqMem`` ``4G``; a bare number is bytes for
    MaxRSS; the pre-21.08 ``n``/``c`` per-node/per-CPU suffix is dropped) → MiB; ``None``
    when empty or unreadable. ``ReqMem`` always carries a unit in 22.05."""
    m = _SIZE.match((text or "").strip())
    if not m:
        return None
    return float(m.group(1)) * _SCALE[m.group(2).upper()]


@dataclass
class JobUsage:
    """One job's accounting (a job line merged with its steps' ``MaxRSS``).

    Seconds, MiB and CPU counts; ``None`` where sacct gave nothing (a job still running has
    no ``MaxRSS``; ``Timelimit`` ``UNLIMITED``)."""

    job_id: str
    state: str
    elapsed_s: float | None = None
    time_limit_s: float | None = None
    total_cpu_s: float | None = None
    alloc_cpus: int | None = None
    max_rss_mib: float | None = None
    req_mem_mib: float | None = None

    def report(self) -> dict[str, Any]:
        """The fields plus ``time_used``, ``mem_used`` (use ÷ request) and
        ``cpu_efficiency`` (``TotalCPU ÷ (Elapsed × AllocCPUS)``), each ``None`` when a part
        is missing or zero."""
        def ratio(a: float | None, b: float | None) -> float | None:
            return round(a / b, 4) if a is not None and b else None

        out = asdict(self)
        out["time_used"] = ratio(self.elapsed_s, self.time_limit_s)
        out["mem_used"] = ratio(self.max_rss_mib, self.req_mem_mib)
        cpu_s = (self.elapsed_s * self.alloc_cpus
                 if self.elapsed_s is not None and self.alloc_cpus else None)
        out["cpu_efficiency"] = ratio(self.total_cpu_s, cpu_s)
        return out


def parse_sacct_usage(text: str) -> dict[str, JobUsage]:
    """``sacct -n --parsable2 -o <SACCT_FIELDS>`` lines (job lines and their ``.batch``/
    ``.extern``/numbered steps) → ``{job id: JobUsage}``. The job line gives state, elapsed,
    time limit, TotalCPU, AllocCPUS and ReqMem; ``MaxRSS`` is the largest over the job's
    steps. Lines with too few fields are skipped."""
    jobs: dict[str, JobUsage] = {}
    rss: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.rstrip("\r\n").split("|")
        if len(parts) < len(SACCT_FIELDS):
            continue
        jid, state, elapsed, limit, total, alloc, max_rss, req = (
            p.strip() for p in parts[:len(SACCT_FIELDS)])
        base, _, step = jid.partition(".")
        size = parse_size_mib(max_rss)
        if size is not None:
            rss[base] = max(rss.get(base, 0.0), size)
        if step:
            continue
        jobs[base] = JobUsage(job_id=base, state=state.split(" ")[0],
                              elapsed_s=parse_duration(elapsed),
                              time_limit_s=parse_duration(limit),
                              total_cpu_s=parse_duration(total),
                              alloc_cpus=int(alloc) if alloc.isdigit() else None,
                              req_mem_mib=parse_size_mib(req))
    for base, size in rss.items():
        if base in jobs:
            jobs[base].max_rss_mib = size
    return jobs


def query_usage(ids: Iterable[str], runner: Any = None) -> tuple[dict[str, JobUsage], str]:
    """Accounting of ``ids`` from one sacct call, and a note (how many jobs were read, or
    why none: accounting disabled, sacct missing or failing). Never raises."""
    from .backends import slurm

    ids = sorted({str(i) for i in ids if i})
    if not ids:
        return {}, "no jobs"
    runner = runner or slurm.run_command
    argv = ["sacct", "-n", "--parsable2", "-j", ",".join(ids),
            "-o", ",".join(SACCT_FIELDS)]
    try:
        proc = runner(argv, None)
    except slurm.SlurmError as exc:
        return {}, f"no accounting: {exc}"
    text = (proc.stdout or "") + (proc.stderr or "")
    if slurm.accounting_disabled(text):
        return {}, "no accounting: Slurm accounting storage is disabled"
    if proc.returncode != 0:
        first = text.strip().splitlines()
        return {}, "no accounting: " + (first[0] if first else f"sacct exited {proc.returncode}")
    usage = parse_sacct_usage(proc.stdout)
    return usage, f"{len(usage)} job(s) read from sacct"


def _gpu_peak(group: Path, run: str, stage: dict[str, Any]) -> float | None:
    """torchtune's largest peak memory allocation (GiB) in the stage's console log."""
    from .results import parse_torchtune_console

    out = stage.get("output")
    if not out:
        return None
    path = Path(str(out))
    path = path if path.is_absolute() else group / path
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return None
    return parse_torchtune_console(text).get("peak_memory_gib")


def group_report(group: Path | str, runner: Any = None) -> dict[str, Any]:
    """The efficiency report of a compiled group: ``{"note": str, "stages": [row, …]}``, one
    row per stage with a job id: ``run``, ``stage``, ``job_id`` and :meth:`JobUsage.report`'s
    fields (absent ones ``None``), plus ``gpu_peak_gib`` for ``finetune`` stages. Reads
    ``runs_status.yaml`` (an unreadable tracker gives no rows and says so)."""
    from . import tracker
    from .models.status import iter_stages
    from .sync import status_path

    group = Path(group)
    data = tracker.read(status_path(group))
    if not isinstance(data, dict):
        return {"note": f"no readable {status_path(group).name}", "stages": []}
    stages = [(run, key, st) for run, key, st in iter_stages(data)
              if isinstance(st, dict) and st.get("job_id")]
    usage, note = query_usage((str(st["job_id"]) for _, _, st in stages), runner)
    rows = []
    for run, key, st in stages:
        u = usage.get(str(st["job_id"]))
        row = {"run": run, "stage": key, "job_id": str(st["job_id"])}
        row.update(u.report() if u else JobUsage(str(st["job_id"]), "unknown").report())
        row["gpu_peak_gib"] = _gpu_peak(group, run, st) if key == "finetune" else None
        rows.append(row)
    return {"note": note, "stages": rows}


def over_requests(rows: Iterable[dict[str, Any]], factor: float = OVER_REQUEST
                  ) -> list[str]:
    """Sentences for every stage whose request exceeds ``factor`` × its measured use (time or
    memory): what the next compile should ask for less of. Stages without a measurement are
    not judged."""
    out = []
    for r in rows:
        for used, what, have, unit in (
                (r.get("elapsed_s"), "time", r.get("time_limit_s"), "s"),
                (r.get("max_rss_mib"), "memory", r.get("req_mem_mib"), "MiB")):
            if used and have and have > factor * used:
                out.append(f"{r['run']} {r['stage']}: requested {what} {have:.0f} {unit} is "
                           f"{have / used:.1f} × the {used:.0f} {unit} used")
    return out


def format_report(report: dict[str, Any]) -> list[str]:
    """Text lines of :func:`group_report` for ``planc results``."""
    def pct(v: float | None) -> str:
        return f"{v * 100:.0f}%" if v is not None else "-"

    lines = [f"efficiency ({report['note']}):"]
    for r in report["stages"]:
        gpu = f", GPU peak {r['gpu_peak_gib']:.2f} GiB" if r.get("gpu_peak_gib") else ""
        lines.append(f"  {r['run']} {r['stage']} (job {r['job_id']}): time {pct(r['time_used'])}"
                     f", memory {pct(r['mem_used'])}, CPU {pct(r['cpu_efficiency'])}{gpu}")
    lines += [f"  over-request: {s}" for s in over_requests(report["stages"])]
    return lines


REPORT_FILE = "efficiency.json"


def store_report(group: Path | str, report: dict[str, Any]) -> Path:
    """Write ``report`` to ``<group>/efficiency.json`` atomically (the tracker's writer); the
    next compile's CL012 reads it. Returns the path."""
    import json

    from .tracker import atomic_write

    path = Path(group) / REPORT_FILE
    atomic_write(path, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    return path


def load_report(group: Path | str) -> dict[str, Any] | None:
    """The stored report of ``group``, ``None`` when absent or unreadable."""
    import json

    try:
        data = json.loads((Path(group) / REPORT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("stages"), list) else None
