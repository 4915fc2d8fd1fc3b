"""Sync a group's tracker from SLURM, and count its stages (the library of ``planc status``).

:func:`sync_group` asks the scheduler about every job of the group in **one** query
(:func:`compiler.backends.slurm.query`: ``scontrol show job -o``, ``sacct`` only for ids the
controller no longer holds) and writes the new states into ``runs_status.yaml`` under the
tracker's file lock (:func:`compiler.tracker.locked`, atomic replace), re-reading the file
there whenever it changed since the query began, so two concurrent syncs, or a sync during
``planc submit``, lose nothing:

- only stages that are ``submitted``/``running`` with a job id are asked about, and only those
  whose ``job_id`` is still the one that was queried are changed (a resubmission in between
  wins);
- states only move forward (``submitted`` → ``running`` → ``completed``/``failed``): a stale
  answer never downgrades a stage;
- every other field (notes, results, previous job ids) is kept; ``reason`` and ``exit_code``
  are set for failures, ``exit_code: 0`` for completions, ``output`` from scontrol's expanded
  ``StdOut`` when the stage has none;
- a completed or failed job that ran gets ``elapsed_s`` (scontrol ``RunTime`` / sacct
  ``Elapsed`` in seconds) and ``elapsed_job_id`` (:func:`record_elapsed`: a value from
  another source is never overwritten); squeue answers carry no run time and set none.

SLURM → status mapping: :func:`compiler.backends.slurm.map_state` (formats.md §4).

:func:`sync_all` (``planc status --sync``) adds the research-agent servers the group was
submitted to (``research_agent.json``): their run states are read back with the same lock
and atomic write (:func:`compiler.research_agent.pull_statuses`).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import layout, research_agent, tracker
from .backends import slurm
from .jobstates import ACTIVE, Change, HeldStates, apply_records, record_elapsed
from .models.status import STATUSES, iter_stages

__all__ = ["ACTIVE", "Change", "HeldStates", "apply_records", "record_elapsed"]

STATUS_FILE = layout.STATUS_FILE
ORDER = ("completed", "running", "submitted", "failed", "pending", "skipped")


@dataclass
class SyncReport:
    """A sync of one group: ids queried, stages changed, ids no source knew, commands run."""

    queried: int = 0
    changes: list[Change] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    """The tracker mapping as this sync left it (not part of the JSON output)."""
    identity: tuple[int, int, int] | None = field(default=None, repr=False, compare=False)
    """The tracker file's (inode, mtime, size) when ``data`` matched it (under the lock)."""
    unwritten: HeldStates | None = field(default=None, repr=False, compare=False)
    """Set by ``sync_group(hold_write=True)`` while ``data`` holds states not yet on disk:
    re-applies them to another mapping (the file's content when it changed meanwhile)."""
    stamp: str | None = field(default=None, repr=False, compare=False)
    """The ``last_updated`` value of the held states."""

    def to_json(self) -> dict[str, Any]:
        return {f.name: copy.deepcopy(getattr(self, f.name)) if f.name != "changes" else
                [asdict(c) for c in self.changes]
                for f in fields(self) if f.name not in ("data", "unwritten", "stamp")}


def status_path(group: Path) -> Path:
    """``runs_status.yaml`` of a group folder (or the file itself when given)."""
    return group if group.name == STATUS_FILE or group.is_file() else layout.status_path(group)


def active_job_ids(data: dict[str, Any]) -> list[str]:
    """SLURM job ids of the stages a sync asks about (``submitted``/``running`` with a job id
    of the form ``123`` or ``123_4``; ``planc run``'s ``local-<pid>`` ids are not SLURM's)."""
    ids = {str(st["job_id"]) for _r, _k, st in iter_stages(data)
           if st.get("status") in ACTIVE and st.get("job_id")}
    return sorted(i for i in ids if slurm.TRACKER_JOB_ID.match(i))


def _other_active(data: dict[str, Any]) -> list[str]:
    return sorted({str(st["job_id"]) for _r, _k, st in iter_stages(data)
                   if st.get("status") in ACTIVE and st.get("job_id")
                   and not slurm.TRACKER_JOB_ID.match(str(st["job_id"]))})


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def sync_group(group: Path, runner: slurm.Runner = slurm.run_command, *,
               hold_write: bool = False) -> SyncReport:
    """Query SLURM once for ``group``'s active jobs and update its tracker.

    The tracker is read once before the query; under the lock (:func:`tracker.locked`) it is
    read again only if the file changed meanwhile (inode, mtime or size differ: every planc
    write replaces the file), then the states are applied and the file is rewritten
    atomically (:func:`tracker.atomic_write`) only when something changed.

    ``hold_write``: apply the states to ``report.data`` but do not write them; the report's
    ``unwritten`` then re-applies them to a mapping (idempotent, see :func:`apply_records`)
    and :func:`write_held` (or a drip-fed submit's one write) puts them on disk. This is how
    :func:`sync_all` writes the tracker once when the same command also submits.

    Raises :class:`compiler.tracker.TrackerError` for a missing/unreadable tracker and
    :class:`compiler.backends.slurm.SlurmError` when SLURM cannot be queried.
    """
    path = status_path(group)
    before = _identity(path)
    data = tracker.read(path)
    if data is None:
        raise tracker.TrackerError(f"{path} does not exist")
    report = SyncReport(data=data, identity=before)
    ids = active_job_ids(data)
    report.queried = len(ids)
    others = _other_active(data)
    if others:
        shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
        report.notes.append(f"{len(others)} stage(s) run outside SLURM ({shown}); "
                            "planc run tracks those")
    if not ids:
        return report
    result = slurm.query(ids, runner)
    report.missing = result.missing
    report.commands = result.commands
    report.notes += result.notes
    if not result.records:
        return report
    stamp = tracker.now()
    records = result.records
    with tracker.locked(path):
        current = data if _identity(path) == before else tracker.read(path)
        if current is None:
            raise tracker.TrackerError(f"{path} disappeared during the sync")
        filled: list[str] = []
        filled_ids: list[str] = []
        report.changes = apply_records(current, records, stamp, filled, filled_ids)
        report.data = current
        report.identity = _identity(path)
        if not (report.changes or filled):
            return report
        if hold_write:
            report.stamp = stamp
            changed = {c.job_id for c in report.changes} | set(filled_ids)
            report.unwritten = HeldStates({i: r for i, r in records.items() if i in changed},
                                          stamp)
            return report
        tracker.atomic_write(path, tracker.dump(current, stamp).encode("utf-8"))
        report.identity = _identity(path)
    return report


def write_held(path: Path, report: SyncReport) -> None:
    """Write the states a ``hold_write`` sync applied to ``report.data`` and nobody wrote
    yet (``report.unwritten`` set): one atomic write under the lock when the file is still
    the one the sync read, else a :func:`compiler.tracker.update` that re-applies them to
    the file's current content. Clears ``report.unwritten``; refreshes ``report.identity``
    (and ``report.data`` after a merge)."""
    reapply = report.unwritten
    if reapply is None or report.data is None:
        return
    stamp = report.stamp or tracker.now()
    with tracker.locked(path):
        if report.identity is not None and _identity(path) == report.identity:
            tracker.atomic_write(path, tracker.dump(report.data, stamp).encode("utf-8"))
            report.unwritten = None
            report.identity = _identity(path)
            return

    def change(cur: dict[str, Any] | None) -> dict[str, Any]:
        if cur is None:
            raise tracker.TrackerError(f"{path} disappeared during the sync")
        reapply(cur)
        return cur

    report.data = tracker.update(path, change, stamp)
    report.unwritten = None
    report.identity = _identity(path)


def sync_all(group: Path, runner: slurm.Runner = slurm.run_command, *,
             url: str | None = None, token: str | None = None,
             env: dict[str, str] | None = None) -> SyncReport:
    """:func:`sync_group`, then a pull from every research-agent server the group was
    submitted to (only ``url`` when given; the token from ``token`` or
    ``$RESEARCH_AGENT_TOKEN``). Changes of both land in one report (research-agent stages
    have job ids ``research-agent:<run id>``). Raises what :func:`sync_group` raises,
    :class:`compiler.research_agent.ServerError`, and :class:`compiler.tracker.TrackerError`
    when the tracker cannot be written (naming the journal that keeps submitted job ids).

    A drip-fed group (:func:`continue_queued`) is synced and submitted with **one** tracker
    write: the synced states are held in memory (:class:`HeldStates`) and written with the
    submissions. Before its first ``sbatch`` the submitter appends the held states to its
    journal (``runs_status.yaml.submitted.jsonl``, fsync), and every accepted job id right
    after its ``sbatch``, so a crash at any point loses neither; the next ``planc submit`` or
    sync applies the journal first. When nothing is submitted the states are written here,
    as a plain sync writes them."""
    path = status_path(group)
    report = sync_group(path, runner, hold_write=True)
    try:
        continue_queued(path.parent, report, runner)
    finally:
        try:
            write_held(path, report)
        except OSError as exc:
            journal = layout.journal_path(path)
            kept = (f"; the job ids this sync submitted are kept in {journal} and recorded "
                    "by the next planc submit or sync") if journal.exists() else ""
            raise tracker.TrackerError(f"cannot write {path}: {exc}{kept}") from exc
    urls = research_agent.tracked_urls(path.parent)
    if url:
        urls = [u for u in urls if u == url.rstrip("/")]
    for server in urls:
        client = research_agent.client_from(server, token, env)
        pulled = research_agent.pull_statuses(path.parent, client)
        report.changes += [Change(**asdict(p)) for p in pulled.pulled]
        report.commands.append(f"GET {server}/runs/<id> ({len(pulled.pulled)} stage(s) "
                               f"changed, {len(pulled.pushed)} state(s) pushed)")
        report.notes += pulled.notes
    if urls:
        report.data = tracker.read(path)
    return report


def summarize(data: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Counts per stage family (``finetune``, ``evaluations``, ``run``) and status."""
    counts: dict[str, Counter[str]] = {}
    for _run, key, st in iter_stages(data):
        family = "evaluations" if layout.is_eval_stage(key) else key
        counts.setdefault(family, Counter())[str(st.get("status", "pending"))] += 1
    return {fam: {s: c.get(s, 0) for s in ORDER} | {s: n for s, n in c.items()
                                                     if s not in STATUSES}
            for fam, c in counts.items()}


def stage_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per stage: run, stage key, status, job id, reason, exit code, output,
    last update."""
    return [{"run": run, "stage": key, "status": st.get("status"), "job_id": st.get("job_id"),
             "reason": st.get("reason"), "exit_code": st.get("exit_code"),
             "output": st.get("output"), "last_updated": st.get("last_updated")}
            for run, key, st in iter_stages(data)]


def continue_queued(group: Path, report: SyncReport,
                    runner: slurm.Runner = slurm.run_command) -> None:
    """After a sync, submit more of a drip-fed group (tracker ``max_queued``, stages held
    ``queued`` by ``planc submit --max-queued``) as slots freed; notes and sbatch commands
    join ``report``. Cheap when nothing is queued: one pass over the stages already read.

    States a ``hold_write`` sync left in ``report.unwritten`` go to disk with the
    submitter's one write (``carried``); when the submitter writes nothing, they stay
    there for :func:`write_held`."""
    data = report.data
    if not isinstance(data, dict) or not data.get("max_queued"):
        return
    if not any(st.get("queued") and st.get("status", "pending") == "pending"
               for _r, _k, st in iter_stages(data)):
        return
    from .submit import NotSlurmGroup, submit_group

    cap = data["max_queued"]
    try:
        sub = submit_group(group, runner=runner, preloaded=(data, report.identity),
                           carried=report.unwritten)
    except (tracker.TrackerError, NotSlurmGroup) as exc:
        report.notes.append(f"queued stages not submitted: {exc}")
        return
    if sub.tracker_written:
        report.unwritten = None  # the submitter's one write carried the synced states
        report.identity = None
        data = sub.data if sub.data is not None else data
    report.commands += sub.commands
    n = sum(len(j.stages) for j in sub.jobs)
    report.notes.append(f"submitted {n} queued stage(s); {len(sub.queued)} still queued "
                        f"(max_queued {cap})")
    report.notes += [f"queued stages: {e}" for e in sub.errors]
    if sub.limited:
        report.notes.append(f"the cluster's submit limit was reached ({sub.limited}); the "
                            "rest stays queued")
    report.notes += [f"job {job} ({run}/{key}) was submitted but not written to the tracker "
                     f"({why}); its id is kept in the submit journal"
                     for run, key, job, why in sub.unrecorded]
    report.data = data  # the submitter applied its submissions to this same mapping
