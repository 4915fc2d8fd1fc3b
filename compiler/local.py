"""Run a compiled group's pending stages on this machine: the local backend of ``planc run``.

The launcher logic (``../shared/reference/research-agent-api.md`` §5, planc policy):

- **Slots.** With NVML GPUs (:mod:`compiler.gpus_free`), each job gets one free GPU through
  ``CUDA_VISIBLE_DEVICES=<uuid>`` (a distributed fine-tune compiled with
  ``--nproc_per_node N`` gets N of them, comma-separated; one needing more GPUs than are
  free at the start is skipped); a GPU is free when it runs no compute process and has
  at least ``min_free_gib`` free memory. NVML is asked again before each start, and GPUs
  already handed to our own jobs are never handed out twice. Without GPUs (``cpu_only``:
  no ``nvidia-ml-py``, no driver, no device) there are ``os.cpu_count()`` slots and
  ``CUDA_VISIBLE_DEVICES`` is set to the empty string.
- **Capacity** of a scheduling round: ``max(0, min(queued, slots - running))`` where
  ``queued`` counts jobs whose dependencies are met and ``running`` the slots in use (GPUs
  held, or jobs on CPU); ``--max-parallel N`` caps the jobs running at once. Jobs start in
  queue order; a job that does not fit waits, and nothing behind it overtakes it.
- **Order.** A fine-tuned run's evaluations wait for its fine-tune (the local form of
  SLURM's ``afterok``); when the fine-tune fails they become ``failed`` with reason
  ``dependency failed`` (SLURM's ``kill_invalid_depend`` cancels them the same way).
- **Statuses** go through :func:`compiler.tracker.update` (locked, atomic): ``running``
  with ``job_id: "local-<pid>"``, ``output: <log>`` and ``gpu`` when started (an old
  attempt's ``exit_code``/``reason`` are removed); ``completed``/``failed`` with
  ``exit_code`` and ``elapsed_s`` (wall seconds) when done (a signal N is recorded as
  ``128 + N``, the shell's convention). Each job's stdout and stderr go to its log (below),
  the stage's ``output``, which ``planc results`` reads as console output.
- **One runner per group** (``runs_status.yaml.run.lock``); stages a dead runner left
  ``running`` (``job_id: local-<pid>`` with no such process) go back to ``pending`` first.
- **Interrupts.** On SIGINT (Ctrl-C) or SIGTERM every child process group gets SIGTERM,
  then SIGKILL after :data:`KILL_GRACE_S` seconds, and every stage this run had started
  goes back to ``pending`` with ``reason: interrupted`` (its partial log stays in
  ``output``), so the next ``planc run`` resumes it. No stage is ever left ``running``.
  :func:`run_local` then raises :class:`KeyboardInterrupt` (the CLI exits 130).

What a stage runs is read from the compiled group (:func:`stage_command`): ``bash
<run>/run_local.sh <stage>`` for groups compiled for a local cluster, else the per-stage
SLURM script (``<run>/finetune.slurm``, ``<run>/run.slurm``, ``<run>/eval/<key>/eval.slurm``;
``#SBATCH`` lines are comments to bash). Jobs get ``PLANC_GROUP_DIR`` (the group),
``PLANC_PROJECT_ROOT`` (planc's working directory unless already set), ``PLANC_LOCAL=1`` and
``PLANC_JOB_ID``. Logs: ``<run>/local-finetune.out``, ``<run>/local-run.out``,
``<run>/eval/<key>/local.out``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layout, tracker
from .backends.slurm import exit_status_text
from .models.status import iter_stages

STATUS_FILE = layout.STATUS_FILE
KILL_GRACE_S = 10.0
POLL_S = 0.2
DONE = ("completed", "skipped")


LOCAL_JOB = re.compile(r"^local-(\d+)$")
NPROC = re.compile(r"--nproc_per_node[= ](\d+)")


class LocalRunError(Exception):
    """The group cannot be run (no tracker, unreadable tracker, another ``planc run`` on
    the same group); the message says why."""


@contextlib.contextmanager
def run_lock(status_path: Path) -> Iterator[None]:
    """One ``planc run`` per group at a time (``runs_status.yaml.run.lock``, non-blocking):
    two runners would start the same pending stages twice."""
    try:
        with tracker.exclusive(status_path, "run"):
            yield
    except tracker.Busy:
        raise LocalRunError(f"another planc run is active for {status_path.parent}") from None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def stale_stages(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """``(run, stage, pid)`` of stages left ``running`` by a local runner that died (killed
    with SIGKILL, machine reboot): ``job_id: local-<pid>`` whose process no longer runs."""
    out = []
    for run, stage, rec in iter_stages(data):
        m = LOCAL_JOB.match(str(rec.get("job_id") or ""))
        if rec.get("status") == "running" and m and not _alive(int(m.group(1))):
            out.append((run, stage, int(m.group(1))))
    return out


@dataclass
class Job:
    """One stage to run: ``stage`` is ``finetune``, ``run`` or ``evaluations/<key>``."""

    run: str
    stage: str
    argv: list[str]
    cwd: Path
    after: str | None = None
    need: int = 1
    log: Path = field(default_factory=Path)
    proc: subprocess.Popen[bytes] | None = None
    gpu: str | None = None
    started: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.run}/{self.stage}"


@dataclass
class Outcome:
    """What :func:`run_local` did: labels of completed, failed and skipped-over stages."""

    completed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mode: str = "cpu_only"
    slots: int = 0


def stage_script(group_dir: Path, run: str, stage: str) -> Path | None:
    """The compiled per-stage SLURM script of one stage (per-run layout,
    :func:`compiler.layout.stage_script`), or ``None`` when the group has none."""
    path = layout.stage_script(group_dir, run, stage)
    return path if path.is_file() else None


stage_dir = layout.stage_dir


def stage_command(group_dir: Path, run: str, stage: str) -> tuple[list[str], Path] | None:
    """``(argv, cwd)`` that runs one stage, from the compiled files, or ``None``.

    Local clusters (``local_gpu``, ``cpu_only``) compile ``<run>/run_local.sh [STAGE…]``:
    it runs as ``bash run_local.sh finetune|run|<eval key>``. SLURM clusters (per-run
    layout) compile one script per stage (:func:`stage_script`), run as ``bash <script>``
    from its folder with ``PLANC_GROUP_DIR`` exported (what ``submit_all.sh`` exports).
    Array layouts have no per-stage script: ``None``.
    """
    launcher = layout.run_dir(group_dir, run) / layout.RUN_LOCAL
    if launcher.is_file():
        name = layout.eval_key(stage) if layout.is_eval_stage(stage) else stage
        return ["bash", str(launcher), name], launcher.parent
    script = stage_script(group_dir, run, stage)
    if script is not None:
        return ["bash", str(script)], script.parent
    return None


def plan_jobs(group_dir: Path, data: dict[str, Any],
              statuses: tuple[str, ...] = ("pending",),
              only: Collection[str] = ()) -> tuple[list[Job], list[str]]:
    """Jobs for every stage whose status is in ``statuses`` (of the runs in ``only`` when
    it is not empty), training stages first.

    Returns ``(jobs, missing)``; ``missing`` names stages without a compiled script (they
    are left as they are). An evaluation depends on its run's ``finetune`` unless that is
    already ``completed`` or ``skipped``.
    """
    jobs: list[Job] = []
    evals: list[Job] = []
    missing: list[str] = []
    runs = data.get("runs") if isinstance(data.get("runs"), dict) else {}
    for run, stage, rec in iter_stages(data):
        if rec.get("status") not in statuses or (only and run not in only):
            continue
        try:  # a tracker key such as "/abs/dir" must never name a script to run
            command = stage_command(group_dir, run, stage)
            log = stage_dir(group_dir, run, stage) / layout.local_log(stage)
        except layout.UnsafeName as exc:
            missing.append(f"{run}/{stage} ({exc})")
            continue
        if command is None:
            missing.append(f"{run}/{stage}")
            continue
        argv, cwd = command
        job = Job(run=run, stage=stage, argv=argv, cwd=cwd, log=log)
        if stage == "finetune":
            job.need = _gpus_needed(Path(argv[1]))
        if layout.is_eval_stage(stage):
            ft = runs.get(run, {}).get("finetune") if isinstance(runs.get(run), dict) else None
            if isinstance(ft, dict) and ft.get("status") not in DONE:
                job.after = "finetune"
            evals.append(job)
        else:
            jobs.append(job)
    return jobs + evals, missing


def _gpus_needed(script: Path) -> int:
    """GPUs a compiled fine-tune wants: ``--nproc_per_node N`` of its ``tune run`` line
    (``lora_finetune_distributed``), else 1."""
    try:
        m = NPROC.search(script.read_text("utf-8", errors="replace"))
    except OSError:
        return 1
    return max(1, int(m.group(1))) if m else 1


def detect_slots(min_free_gib: float = 0.0) -> tuple[str, list[str], str]:
    """``(mode, free GPU UUIDs, reason)`` from NVML via :mod:`compiler.gpus_free`."""
    from .gpus_free import detect

    found = detect(min_free_gib, os.environ.get("CUDA_VISIBLE_DEVICES"))
    return found["mode"], [g["uuid"] for g in found["gpus"] if g["free"]], found["reason"]


def capacity(queued: int, slots: int, running: int) -> int:
    """Jobs to start now: ``max(0, min(queued, slots - running))``."""
    return max(0, min(queued, slots - running))


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


DROP = object()  # a field value that removes the key from the stage record


def _set(status_path: Path, changes: list[tuple[str, str, dict[str, Any]]]) -> None:
    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        if data is None:
            raise tracker.TrackerError(f"{status_path} disappeared while runs were going")
        for run, stage, fields in changes:
            tracker.set_stage(data, run, stage, **{k: v for k, v in fields.items()
                                                    if v is not DROP})
            gone = [k for k, v in fields.items() if v is DROP]
            if gone and tracker.set_stage(data, run, stage):  # the stage exists
                rec = data["runs"][run]
                target = (rec["evaluations"][layout.eval_key(stage)]
                          if layout.is_eval_stage(stage) else rec[stage])
                for k in gone:
                    target.pop(k, None)
        return data

    tracker.update(status_path, change)


def _terminate(jobs: list[Job], grace_s: float) -> None:
    for job in jobs:
        if job.proc is not None and job.proc.poll() is None:
            try:
                os.killpg(job.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace_s
    for job in jobs:
        if job.proc is None:
            continue
        try:
            job.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(job.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            job.proc.wait()


def run_local(group_dir: Path | str, max_parallel: int | None = None, *,
              min_free_gib: float = 0.0, statuses: tuple[str, ...] = ("pending",),
              only: Collection[str] = (),
              detect: Callable[[float], tuple[str, list[str], str]] = detect_slots,
              echo: Callable[[str], None] = print, poll_s: float = POLL_S,
              kill_grace_s: float = KILL_GRACE_S) -> Outcome:
    """Run the group's stages whose status is in ``statuses`` on this machine.

    ``max_parallel`` caps concurrent jobs; ``min_free_gib`` is the free memory a GPU needs
    (GiB); ``only`` limits it to these runs (every run when empty); ``detect`` returns
    ``(mode, free GPU UUIDs, reason)``. Progress lines go to ``echo``. Returns an
    :class:`Outcome`. Raises :class:`LocalRunError` when the tracker is missing or
    unreadable or another ``planc run`` holds the group, :class:`KeyboardInterrupt` after an
    interrupt (see the module docstring for what is recorded).
    """
    group = Path(group_dir).resolve()
    status_path = group / STATUS_FILE
    if not status_path.is_file():
        raise LocalRunError(f"{status_path}: not found; run `planc compile` first")
    with run_lock(status_path):
        return _run_locked(group, status_path, max_parallel, min_free_gib, statuses, detect,
                           echo, poll_s, kill_grace_s, only)


def _run_locked(group: Path, status_path: Path, max_parallel: int | None, min_free_gib: float,
                statuses: tuple[str, ...], detect: Callable[[float], tuple[str, list[str], str]],
                echo: Callable[[str], None], poll_s: float, kill_grace_s: float,
                only: Collection[str] = ()) -> Outcome:
    try:
        data = tracker.read(status_path)
    except tracker.TrackerError as exc:
        raise LocalRunError(str(exc)) from exc
    if data is None:
        raise LocalRunError(f"{status_path}: empty; run `planc compile` first")
    stale = stale_stages(data)
    if stale:
        _set(status_path, [(run, stage, {
            "status": "pending", "reason": f"stale: local job {pid} no longer runs",
            "job_id": None, "last_updated": tracker.now()}) for run, stage, pid in stale])
        for run, stage, pid in stale:
            echo(f"reset {run}/{stage} to pending (its local job {pid} no longer runs)")
        data = tracker.read(status_path) or data
    queue, missing = plan_jobs(group, data, statuses, only)
    outcome = Outcome(missing=missing)
    for label in missing:
        echo(f"skip {label}: no compiled script (run `planc compile`)")
    mode, free, reason = detect(min_free_gib)
    outcome.mode = mode
    slots = len(free) if mode == "gpu" else (os.cpu_count() or 1)
    if max_parallel is not None and mode != "gpu":
        slots = min(slots, max(1, max_parallel))
    limit = max(1, max_parallel) if max_parallel is not None else None  # jobs at once
    outcome.slots = slots
    echo(f"{len(queue)} stage(s) to run; {mode} ({reason}); {slots} slot(s)"
         + (f", at most {limit} job(s) at once" if limit and mode == "gpu" else ""))
    if not queue:
        return outcome
    if mode == "gpu" and slots == 0:
        echo("no free GPU now; waiting for one")
    state: dict[str, str] = {}  # label → completed/failed, for dependencies
    running: list[Job] = []
    started: list[Job] = []
    previous = _install_sigterm()
    try:
        while queue or running:
            for job in list(running):
                rc = job.proc.poll() if job.proc else 0
                if rc is None:
                    continue
                running.remove(job)
                status = "completed" if rc == 0 else "failed"
                state[job.label] = status
                took = time.monotonic() - job.started
                fields: dict[str, Any] = {"status": status, "exit_code": _exit_code(rc),
                                          "elapsed_s": round(took, 3),
                                          "last_updated": tracker.now()}
                if rc < 0:
                    fields["reason"] = f"killed by signal {signal.Signals(-rc).name}"
                elif rc > 128 and "= 128 +" in exit_status_text(rc):
                    fields["reason"] = exit_status_text(rc)
                _set(status_path, [(job.run, job.stage, fields)])
                (outcome.completed if rc == 0 else outcome.failed).append(job.label)
                echo(f"{status} {job.label} (exit {_exit_code(rc)}, {took:.1f} s, log {job.log})")
            # evaluations whose fine-tune failed never run
            dropped = []
            for job in list(queue):
                if job.after and state.get(f"{job.run}/{job.after}") == "failed":
                    queue.remove(job)
                    dropped.append(job)
            if dropped:
                _set(status_path, [(j.run, j.stage, {
                    "status": "failed", "reason": f"dependency failed: {j.run}/{j.after}",
                    "last_updated": tracker.now()}) for j in dropped])
                for j in dropped:
                    outcome.failed.append(j.label)
                    echo(f"failed {j.label} (its {j.after} failed)")
            ready = [j for j in queue
                     if not j.after or state.get(f"{j.run}/{j.after}") == "completed"]
            if mode == "gpu":
                for job in [j for j in ready if j.need > slots]:
                    queue.remove(job)
                    ready.remove(job)
                    outcome.missing.append(job.label)
                    echo(f"skip {job.label}: needs {job.need} GPUs, this machine has {slots} "
                         "free")
            used = sum(j.need for j in running) if mode == "gpu" else len(running)
            n = capacity(len(ready), slots, used)
            if limit is not None:
                n = min(n, max(0, limit - len(running)))
            gpus: list[str] = []
            if n and mode == "gpu":
                busy = {g for j in running for g in (j.gpu or "").split(",") if g}
                _m, now_free, _r = detect(min_free_gib)
                gpus = [g for g in now_free if g not in busy]
            chosen: list[Job] = []
            for job in ready[:n]:
                if mode == "gpu":
                    if job.need > len(gpus):
                        break  # first come, first served: no overtaking by smaller jobs
                    job.gpu = ",".join(gpus[:job.need])
                    del gpus[:job.need]
                chosen.append(job)
            for job in chosen:
                queue.remove(job)
                started.append(job)  # before the process exists: an interrupt sees it
                try:
                    _start(job, group)
                except OSError as exc:
                    state[job.label] = "failed"
                    outcome.failed.append(job.label)
                    _set(status_path, [(job.run, job.stage, {
                        "status": "failed", "reason": f"could not start: {exc}",
                        "last_updated": tracker.now()})])
                    echo(f"failed {job.label} (could not start: {exc})")
                    continue
                running.append(job)
                fields = {"status": "running", "job_id": f"local-{job.proc.pid}",
                          "output": str(job.log), "exit_code": DROP, "reason": DROP,
                          "elapsed_s": DROP, "gpu": job.gpu or DROP,
                          "last_updated": tracker.now()}
                _set(status_path, [(job.run, job.stage, fields)])
                echo(f"started {job.label} (pid {job.proc.pid}"
                     + (f", GPU {job.gpu}" if job.gpu else "") + ")")
            if queue and not running and not ready:
                # nothing can ever become ready (dependency not in this run's queue)
                for job in queue:
                    echo(f"skip {job.label}: waits for {job.run}/{job.after}, which is not "
                         "pending here")
                break
            if queue or running:
                time.sleep(poll_s)
    except KeyboardInterrupt:
        live = [j for j in started if j.proc is not None and j.label not in state]
        echo(f"interrupted: stopping {len(live)} job(s)")
        _terminate(live, kill_grace_s)
        if started:
            unfinished = [j for j in started if j.label not in state]
            _set(status_path, [(j.run, j.stage, {
                "status": "pending", "reason": "interrupted", "job_id": None,
                "exit_code": DROP, "gpu": DROP, "last_updated": tracker.now()})
                for j in unfinished])
        raise
    finally:
        _restore_sigterm(previous)
    return outcome


def _start(job: Job, group: Path) -> None:
    env = dict(os.environ)
    env["PLANC_LOCAL"] = "1"
    env["PLANC_GROUP_DIR"] = str(group)
    env.setdefault("PLANC_PROJECT_ROOT", os.getcwd())
    env["PLANC_JOB_ID"] = f"local-{job.run}-{job.stage.replace('/', '-')}"
    env["CUDA_VISIBLE_DEVICES"] = job.gpu or ""
    if job.gpu:
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    job.log.parent.mkdir(parents=True, exist_ok=True)
    with open(job.log, "wb") as out:
        # own session: a terminal's Ctrl-C reaches only planc, which stops children itself
        job.proc = subprocess.Popen(job.argv, cwd=job.cwd, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
    job.started = time.monotonic()


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _install_sigterm() -> Any:
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread
        return None


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        try:
            signal.signal(signal.SIGTERM, previous)
        except ValueError:
            pass
