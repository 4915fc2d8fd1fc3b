"""SLURM submission policy of ``planc submit``: what is due, in which order, with which dependency.

Submits a compiled group's pending stages with ``sbatch --parsable`` (via
:mod:`compiler.backends.slurm`), training before evaluation:

- **Per-run layout** (``<run>/finetune.slurm``, ``<run>/eval/<key>/eval.slurm``, sweeps'
  ``<run>/run.slurm``): one job per stage; an evaluation waits for its run's fine-tune with
  ``--dependency=afterok:<train id>``. A control run's fine-tune is ``skipped`` and its
  evaluations go without dependency; so do evaluations whose fine-tune already completed.
  Evaluations of a failed fine-tune are not submitted (``--retry-failed`` resubmits the
  fine-tune and then them).
- **Array layout** (``finetune_array.slurm`` + ``array_index.tsv``, compiled with
  ``layout: array`` by :mod:`compiler.scripts`): one ``--array=<i,j,…>`` job for the pending
  elements of ``finetune_array.slurm`` / ``run_array.slurm``, and one per
  ``eval_array_<task>_epoch_<N>.slurm`` chained with ``--dependency=aftercorr:<train array>``
  (``eval_array_<task>_base.slurm``, the control runs', without dependency). Element ids are
  recorded as ``<array id>_<index>``.

After **each** accepted sbatch the stage gets ``status: submitted``, ``job_id``,
``submitted`` (timestamp), ``output`` and ``last_updated`` through
:func:`compiler.tracker.update` (file lock, atomic write), so a crash part-way loses
nothing. ``output`` is the expanded ``slurm-<id>.out`` path; for the elements of compiled
array scripts, which redirect to ``<run>[/eval/<key>]/slurm-<array id>_<i>.out``, that file.
Only ``pending`` stages are submitted (never ``submitted``, ``running``, ``completed``);
``--retry-failed`` adds ``failed`` ones, keeping the old job id in ``previous_job_ids``. A
refused job stops the submission with sbatch's message; nothing is recorded for it. One
``planc submit`` per group at a time (``runs_status.yaml.submit.lock``).

**Drip-feeding** (``max_queued`` N, issue 14: a QoS ``MaxSubmitJobsPerUser`` cap): at most N of
the group's jobs are pending or running at once (counting the tracker's ``submitted`` and
``running`` stages). Due stages past the cap stay ``pending`` with ``queued: <timestamp>``,
and the tracker's top-level ``max_queued`` keeps the cap, so the next ``planc submit`` or
``planc status --sync`` submits more as jobs finish. An evaluation is held with its fine-tune
and never submitted before the fine-tune's job id is known (``afterok`` as above).
A refusal for the user's submit limit (``QOSMaxSubmitJobPerUserLimit``: jobs outside this
group count too) holds the rest instead of failing (``SubmitReport.limited``).
An array group is drip-fed by element: each ``--array=<indices>`` submits only the elements
that fit (SLURM counts every array task against ``MaxSubmitJobsPerUser``; the ``%N``
throttle limits running tasks, not submitted ones, so it does not help). Drip-fed, each
accepted job id is appended (fsync) to ``runs_status.yaml.submitted.jsonl`` at once and the
tracker is written once at the end (a 10,000-run tracker costs ~0.6 s a write); a journal
left by a crash is applied by the next submit or sync before anything is submitted, and the
journal is removed only after the tracker write that records it. ``planc status --sync``
hands its synced job states to the same write (``carried``), so a drip-fed sync writes the
tracker once; they are journaled (one line, before the first ``sbatch``) like the ids.

Jobs get ``PLANC_GROUP_DIR`` (the group folder) and ``PLANC_PROJECT_ROOT`` (the current
folder unless already set) in their environment, as ``submit_all.sh`` exports them.
File names and folders come from :mod:`compiler.layout`; the entry point is
:func:`submit_group`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import layout, tracker
from .backends import slurm
from .jobstates import HeldStates
from .models.status import iter_stages

STATUS_FILE = layout.STATUS_FILE
QUEUED = "queued"
"""Stage field: when ``--max-queued`` held the (still ``pending``) stage back."""
MAX_QUEUED = "max_queued"
"""Tracker top-level field: the cap a drip-fed group is submitted under."""
HELD = "held back by --max-queued"
JOURNAL_SUFFIX = layout.JOURNAL_SUFFIX
EVAL_DIRS = layout.EVAL_DIRS
PER_RUN_ARRAY_LOG = layout.PER_RUN_ARRAY_LOG


@dataclass
class Submitted:
    """One sbatch call: the stages it covers (``(run, stage key)``), the job id (``None`` in
    a dry run), the command line and the dependency."""

    stages: list[tuple[str, str]]
    job_id: str | None
    command: str
    dependency: str | None = None


@dataclass
class SubmitReport:
    """What :func:`submit_group` did: jobs submitted, stages skipped with why, errors, and
    every sbatch command line (``cd <folder> && sbatch …``; what a dry run prints)."""

    jobs: list[Submitted] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # jobs the scheduler accepted that could not be written to runs_status.yaml (disk
    # full, read-only): (run, stage key, job id, why). Never empty silently: printed.
    unrecorded: list[tuple[str, str, str, str]] = field(default_factory=list)
    # stages held back by max_queued: (run, stage key); still pending, marked queued
    queued: list[tuple[str, str]] = field(default_factory=list)
    limited: str | None = None
    """Drip-fed: the submit limit sbatch named (``QOSMaxSubmitJobPerUserLimit``; the user's
    jobs outside this group count too), after which the rest was held rather than failed."""
    tracker_written: bool = False
    """Whether this call rewrote ``runs_status.yaml`` with its submissions (and ``carried``)."""
    data: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    """The tracker mapping as this call left it (drip-fed: what it wrote)."""


class Carried(Protocol):
    """States a caller applied to the preloaded tracker mapping and has not written
    (:class:`compiler.jobstates.HeldStates`): calling it applies them to a mapping
    (idempotently); ``journal_entries()`` are the JSON objects the journal keeps for them."""

    def __call__(self, data: dict[str, Any]) -> Any: ...

    def journal_entries(self) -> list[dict[str, Any]]: ...


class _Chain:
    """Several :class:`Carried` applied in order, journaled as their entries."""

    def __init__(self, parts: list[Carried]) -> None:
        self.parts = parts

    def __call__(self, data: dict[str, Any]) -> None:
        for part in self.parts:
            part(data)

    def journal_entries(self) -> list[dict[str, Any]]:
        return [e for part in self.parts for e in part.journal_entries()]


class _Refused(Exception):
    pass


class _QueueFull(Exception):
    """Drip-fed, sbatch refused a job for the user's submit limit: the queue is full."""


# sbatch's refusal when the user's jobs (this group's and any other) reach a QoS or
# association submit limit (slurm/src/common/slurm_errno.c: "Job violates accounting/QOS
# policy"; squeue reason strings QOSMaxSubmitJobPerUserLimit, AssocMaxSubmitJobLimit)
_SUBMIT_LIMIT = ("QOSMaxSubmitJobPerUserLimit", "AssocMaxSubmitJobLimit",
                 "QOSMaxSubmitJobPerAccountLimit", "AssocGrpSubmitJobsLimit",
                 "QOSGrpSubmitJobsLimit")


class NotSlurmGroup(Exception):
    """The group folder holds no SLURM scripts (compiled for a local cluster, or not at all)."""


def _stage(data: dict[str, Any], run: str, key: str) -> dict[str, Any] | None:
    rec = data.get("runs", {}).get(run)
    if not isinstance(rec, dict):
        return None
    if layout.is_eval_stage(key):
        evals = rec.get("evaluations")
        st = evals.get(layout.eval_key(key)) if isinstance(evals, dict) else None
    else:
        st = rec.get(key)
    return st if isinstance(st, dict) else None


@contextlib.contextmanager
def _submit_lock(path: Path) -> Iterator[None]:
    try:
        with tracker.exclusive(path, "submit"):
            yield
    except tracker.Busy as exc:
        raise _Refused(str(exc)) from None


def read_array_index(path: Path) -> list[tuple[int, str, str]]:
    """Rows ``(index, run, kind)`` of the ``array_index.tsv`` at ``path``
    (:func:`compiler.layout.parse_array_index`); raises ``OSError`` when unreadable."""
    return layout.parse_array_index(path.read_text("utf-8"))


def _apply_submitted(data: dict[str, Any], stages: list[tuple[str, str, tuple[str, str | None]]],
                     stamp: str) -> None:
    """Mark ``stages`` ``(run, key, (job id, output))`` submitted in the mapping ``data``
    (a failed stage's old id moves to ``previous_job_ids``, and the ``elapsed_s`` a sync
    measured on that old job goes with its ``reason`` and ``exit_code``)."""
    for run, key, (job_id, output) in stages:
        st = _stage(data, run, key)
        if st is None:
            continue
        old = st.get("job_id")
        if old and st.get("status") == "failed":
            prev = st.get("previous_job_ids")
            st["previous_job_ids"] = ([*prev] if isinstance(prev, list) else []) + [old]
            if old != job_id and st.get("elapsed_job_id") == old:
                # the run time planc's sync measured on the failed job: stale, like its
                # exit code (the job stays in previous_job_ids; sacct still has it)
                st.pop("elapsed_s", None)
                st.pop("elapsed_job_id", None)
        st.update(status="submitted", job_id=job_id, output=output,
                  last_updated=stamp, submitted=stamp)
        for stale in ("reason", "exit_code", QUEUED):
            st.pop(stale, None)


def _identity(path: Path) -> tuple[int, int, int] | None:
    """``(inode, mtime_ns, size)`` of ``path``; ``None`` when absent."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _in_flight(data: dict[str, Any]) -> int:
    """The group's jobs pending or running on the cluster (``submitted``/``running``)."""
    return sum(1 for _r, _k, st in iter_stages(data)
               if st.get("status") in ("submitted", "running"))


_journal_path = layout.journal_path


def _journal_append(status: Path, stages: list[tuple[str, str, tuple[str, str | None]]],
                    stamp: str) -> None:
    """Append ``stages`` to the journal and fsync, before anything else happens."""
    import json

    with open(_journal_path(status), "a", encoding="utf-8") as fh:
        for run, key, (job_id, output) in stages:
            fh.write(json.dumps({"run": run, "stage": key, "job_id": job_id,
                                 "output": output, "submitted": stamp}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _journal_append_entries(status: Path, entries: list[dict[str, Any]]) -> None:
    """Append JSON objects (a sync's held states), one a line, to the journal and fsync."""
    import json

    with open(_journal_path(status), "a", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _journal_read(status: Path) -> tuple[list[tuple[str, str, str, str | None, str]],
                                         list[dict[str, Any]]]:
    """Entries of the journal: submissions ``(run, stage, job id, output, submitted)`` and
    the held states of syncs (``{"sync": stamp, "records": […]}``), each in file order; a
    torn last line (a crash mid-write) is skipped."""
    import json

    out: list[tuple[str, str, str, str | None, str]] = []
    synced: list[dict[str, Any]] = []
    try:
        lines = _journal_path(status).read_text("utf-8").splitlines()
    except OSError:
        return out, synced
    for line in lines:
        try:
            e = json.loads(line)
            if isinstance(e, dict) and "sync" in e and isinstance(e.get("records"), list):
                synced.append(e)
                continue
            out.append((str(e["run"]), str(e["stage"]), str(e["job_id"]), e.get("output"),
                        str(e.get("submitted") or tracker.now())))
        except (ValueError, KeyError, TypeError):
            continue
    return out, synced


class _Submitter:
    """Walks a group's tracker and submits what is due (see the module docstring)."""

    def __init__(self, group: Path, *, dry_run: bool, retry: bool, only: set[str],
                 runner: slurm.Runner, env: dict[str, str],
                 max_queued: int | None = None) -> None:
        self.group = group
        self.max_queued = max_queued
        self.in_flight = 0
        self.held: list[tuple[str, str]] = []
        self.unflushed: list[tuple[str, str, str, str | None, str]] = []
        self.preloaded: tuple[dict[str, Any], Any] | None = None
        self.carried: Carried | None = None
        self.carried_journaled = False
        self.identity: Any = None
        self.path = group / STATUS_FILE
        self.dry_run = dry_run
        self.retry = retry
        self.only = only
        self.runner = runner
        self.env = env
        self.report = SubmitReport()
        self.data: dict[str, Any] = {}

    # -- helpers -------------------------------------------------------------------------
    def due(self, st: dict[str, Any] | None) -> bool:
        if st is None:
            return False
        status = st.get("status", "pending")
        return status == "pending" or (self.retry and status == "failed")

    def record(self, stages: list[tuple[str, str, tuple[str, str | None]]]) -> None:
        """Mark stages ``(run, stage key, (job id, output))`` submitted, in memory and on
        disk (one :func:`compiler.tracker.update`, under the tracker lock). Drip-fed
        (``max_queued``), each id goes to the journal at once and the tracker is written
        once by :meth:`flush`: a 10,000-run tracker costs ~0.6 s a write."""
        stamp = tracker.now()
        if self.max_queued is not None and not self.dry_run:
            _apply_submitted(self.data, stages, stamp)
            self.unflushed += [(r, k, j, o, stamp) for r, k, (j, o) in stages]
            _journal_append(self.path, stages, stamp)
            return

        def apply(cur: dict[str, Any]) -> None:
            _apply_submitted(cur, stages, stamp)

        apply(self.data)
        if self.dry_run:
            return
        self._write(apply, stages, stamp)

    def _write(self, apply: Any, stages: list[tuple[str, str, tuple[str, str | None]]],
               stamp: str) -> dict[str, Any]:
        def change(cur: dict[str, Any] | None) -> dict[str, Any]:
            if cur is None:
                raise tracker.TrackerError(f"{self.path} disappeared during submit")
            apply(cur)
            return cur

        try:
            return tracker.update(self.path, change, stamp)
        except (OSError, tracker.TrackerError) as exc:
            # The jobs exist on the cluster: never lose their ids. Report every one and
            # stop submitting (a rerun would submit them again).
            why = f"{type(exc).__name__}: {exc}" if isinstance(exc, OSError) else str(exc)
            for run, key, (job_id, _output) in stages:
                self.report.unrecorded.append((run, key, str(job_id), why))
            raise _Refused(f"submitted job(s) could not be recorded in {self.path} ({why}); "
                           "their ids are printed above: record them (or cancel them with "
                           "scancel) before submitting again") from exc

    def full(self, jobs: int = 1) -> bool:
        """True when ``jobs`` more would put more than ``max_queued`` of this group's jobs in
        the queue (pending or running on the cluster)."""
        return self.max_queued is not None and self.in_flight + jobs > self.max_queued

    def hold(self, run: str, key: str) -> None:
        """Keep a due stage for a later ``planc submit``/``planc status --sync``: it stays
        ``pending`` (not submitted) and gets ``queued: <timestamp>`` (written once, at the
        end, by :meth:`flush`)."""
        self.held.append((run, key))
        self.report.queued.append((run, key))

    def flush(self) -> None:
        """Drip-fed: write the journaled submissions, the held stages' ``queued`` marks and
        the cap (top-level ``max_queued``; dropped when nothing is held) in one
        :func:`compiler.tracker.update`, then remove the journal. Skipped when it would
        change nothing (a sync with no free slot costs no write)."""
        if self.max_queued is None or self.dry_run:
            return
        held = set(self.held)
        cap = self.max_queued if held else None
        marks_missing = any(not (_stage(self.data, r, k) or {}).get(QUEUED) for r, k in held)
        if not self.unflushed and not marks_missing and self.data.get(MAX_QUEUED) == cap \
                and self.carried is None:
            return
        stamp = tracker.now()
        done = [(r, k, (j, o)) for r, k, j, o, _t in self.unflushed]
        carried = self.carried

        def apply(cur: dict[str, Any]) -> None:
            if carried is not None and cur is not self.data:
                carried(cur)  # a sync's states, already in self.data
            for r, k, j, o, t in self.unflushed:
                _apply_submitted(cur, [(r, k, (j, o))], t)
            for run, key, st in iter_stages(cur):
                if (run, key) in held and st.get("status", "pending") in ("pending", "failed"):
                    st.setdefault(QUEUED, stamp)
            if cap is None:
                cur.pop(MAX_QUEUED, None)
            else:
                cur[MAX_QUEUED] = cap

        if not self._write_unchanged(apply, stamp):
            self.data = self._write(apply, done, stamp)
        self.report.tracker_written = True
        self.carried = None
        self.unflushed = []
        _journal_path(self.path).unlink(missing_ok=True)

    def _write_unchanged(self, apply: Any, stamp: str) -> bool:
        """Under the tracker lock, when the file is still the one read at the start (same
        inode, mtime and size: every planc write replaces it), apply to the mapping in
        memory and write it (one YAML dump, no re-read). ``False``: the file changed, so the
        caller merges with :func:`compiler.tracker.update` instead. Errors propagate as
        :meth:`_write`'s do."""
        try:
            with tracker.locked(self.path):
                if self.identity is None or _identity(self.path) != self.identity:
                    return False
                apply(self.data)
                tracker.atomic_write(self.path, tracker.dump(self.data, stamp).encode("utf-8"))
                return True
        except OSError:
            return False

    def replay_journal(self) -> None:
        """Record submissions a crashed drip-fed ``planc submit`` journaled but never wrote
        to the tracker, before anything is submitted. Drip-fed, they are applied to the
        mapping and written by :meth:`flush` with this call's own submissions (one write;
        the journal, to which new ids are appended, is removed only after it). Otherwise one
        update (with ``carried`` states, if any) writes them and the journal is removed."""
        entries, synced = _journal_read(self.path)
        if synced:
            self._carry_journaled_states(synced)
        if not entries and not synced:
            _journal_path(self.path).unlink(missing_ok=True)
            return
        if self.max_queued is not None:
            # drip-fed: recorded with this call's one write (flush); the journal stays
            # until then and new ids are appended to it
            for r, k, j, o, t in entries:
                _apply_submitted(self.data, [(r, k, (j, o))], t)
            self.unflushed += entries
            self.in_flight = _in_flight(self.data)
            return

        def apply(cur: dict[str, Any]) -> None:
            for r, k, j, o, t in entries:
                _apply_submitted(cur, [(r, k, (j, o))], t)

        if self.carried is not None:
            carried = self.carried

            def apply_all(cur: dict[str, Any]) -> None:
                carried(cur)
                apply(cur)

            self.data = self._write(apply_all, [(r, k, (j, o)) for r, k, j, o, _t in entries],
                                    tracker.now())
            self.carried = None
            self.report.tracker_written = True
        else:
            self._write(apply, [(r, k, (j, o)) for r, k, j, o, _t in entries], tracker.now())
            self.data = tracker.read(self.path) or self.data
        _journal_path(self.path).unlink(missing_ok=True)
        self.in_flight = _in_flight(self.data)

    def _carry_journaled_states(self, synced: list[dict[str, Any]]) -> None:
        """Apply the states a crashed sync had journaled (older than anything this call
        read: :func:`compiler.jobstates.apply_records` never moves a stage back) and carry them
        into this call's write, after the states a sync of this call may carry."""
        held = []
        for entry in synced:
            try:
                held.append(HeldStates.from_entry(entry))
            except (KeyError, TypeError, ValueError):
                continue
        if not held:
            return
        for h in held:
            h(self.data)
        self.carried = _Chain([*([self.carried] if self.carried else []), *held])
        self.carried_journaled = False  # journaled again with this call's states
        self.in_flight = _in_flight(self.data)

    def sbatch(self, script: Path, *, dependency: str | None = None,
               array: str | None = None) -> str | None:
        argv = slurm.sbatch_argv(script.name, dependency=dependency, array=array)
        self.report.commands.append(f"cd {shlex.quote(str(script.parent))} && "
                                    f"{shlex.join(argv)}")
        if self.dry_run:
            return None
        if self.carried is not None and not self.carried_journaled and \
                self.max_queued is not None:
            # the synced states this call writes with its submissions: journaled first, so
            # that a crash from here on loses none of them (replayed by the next call)
            _journal_append_entries(self.path, self.carried.journal_entries())
            self.carried_journaled = True
        try:
            return slurm.submit(script, dependency=dependency, array=array, env=self.env,
                                runner=self.runner)
        except slurm.SlurmError as exc:
            limit = next((w for w in _SUBMIT_LIMIT if w in str(exc)), None)
            if self.max_queued is not None and limit is not None:
                # the user's other jobs count against the same limit: hold the rest for a
                # later submit or sync instead of failing
                self.in_flight = max(self.in_flight, self.max_queued)
                self.report.limited = limit
                raise _QueueFull(str(exc)) from exc
            self.report.errors.append(str(exc))
            raise _Refused(str(exc)) from exc

    def note_job(self, stages: list[tuple[str, str]], job_id: str | None, script: Path,
                 dependency: str | None, array: str | None = None) -> None:
        argv = slurm.sbatch_argv(script.name, dependency=dependency, array=array)
        self.report.jobs.append(Submitted(stages, job_id, shlex.join(argv), dependency))

    def skip(self, run: str, key: str, why: str) -> None:
        self.report.skipped.append((run, key, why))

    def runs(self) -> list[tuple[str, dict[str, Any]]]:
        runs = self.data.get("runs")
        if not isinstance(runs, dict):
            return []
        out = []
        for n, r in runs.items():
            if not isinstance(r, dict) or (self.only and n not in self.only):
                continue
            try:
                layout.safe_name(n)
            except layout.UnsafeName as exc:  # a tracker key such as "/abs/dir": no job
                self.report.errors.append(f"{self.path}: {exc}; run skipped")
                continue
            out.append((str(n), r))
        return out

    # -- per-run layout -------------------------------------------------------------------
    def submit_one(self, run: str, key: str, script: Path, dependency: str | None) -> str | None:
        if not script.is_file():
            self.report.errors.append(f"{run}: {key} is {self.data_status(run, key)} but "
                                      f"{script} does not exist (compile the group again)")
            return None
        try:
            job_id = self.sbatch(script, dependency=dependency)
        except _QueueFull:
            self.hold(run, key)
            return None
        self.in_flight += 1
        output = None
        if job_id is not None:
            output = slurm.output_path(script, script.read_text("utf-8", "replace"), job_id)
        self.record([(run, key, (job_id or f"<job id of {run}/{key}>", output))])
        self.note_job([(run, key)], job_id, script, dependency)
        return job_id or f"<job id of {run}/{key}>"

    def data_status(self, run: str, key: str) -> str:
        st = _stage(self.data, run, key)
        return str(st.get("status")) if st else "missing"

    def eval_script(self, run: str, ek: str) -> Path:
        for d in EVAL_DIRS:
            p = layout.run_dir(self.group, run) / d / ek / layout.EVAL_SLURM
            if p.is_file():
                return p
        return layout.stage_script(self.group, run, layout.eval_stage(ek))

    def per_run(self) -> None:
        for run, rec in self.runs():
            if isinstance(rec.get("run"), dict):
                if self.due(rec["run"]) and self.full():
                    self.hold(run, "run")
                elif self.due(rec["run"]):
                    self.submit_one(run, "run", layout.stage_script(self.group, run, "run"),
                                    None)
                continue
            dependency, evals_ok, why = self.train_first(run, rec)
            evals = rec.get("evaluations") if isinstance(rec.get("evaluations"), dict) else {}
            for ek, ev in evals.items():
                if not isinstance(ev, dict) or not self.due(ev):
                    continue
                key = layout.eval_stage(str(ek))
                if why == HELD or (evals_ok and self.full()):
                    self.hold(run, key)  # never before its fine-tune's job id is known
                    continue
                if not evals_ok:
                    self.skip(run, key, why)
                    continue
                try:
                    script = self.eval_script(run, str(ek))
                except layout.UnsafeName as exc:
                    self.report.errors.append(f"{self.path}: run {run}: {exc}; skipped")
                    continue
                self.submit_one(run, key, script, dependency)

    def train_first(self, run: str, rec: dict[str, Any]) -> tuple[str | None, bool, str]:
        """Submit the fine-tune if due; (dependency for evaluations, may they go, why not)."""
        ft = rec.get("finetune")
        if not isinstance(ft, dict):
            return None, True, ""
        if self.due(ft) and self.full():
            self.hold(run, "finetune")
            return None, False, HELD
        if self.due(ft):
            job = self.submit_one(run, "finetune",
                                  layout.stage_script(self.group, run, "finetune"), None)
            if job is None and (run, "finetune") in self.held[-1:]:
                return None, False, HELD
            if job is None:
                return None, False, "its fine-tune script is missing"
            return f"afterok:{job}", True, ""
        status = ft.get("status", "pending")
        if status in ("submitted", "running"):
            job = str(ft.get("job_id") or "")
            if job and not slurm.TRACKER_JOB_ID.match(job) and not job.startswith("<"):
                return None, False, f"its fine-tune runs outside SLURM (job {job})"
            return (f"afterok:{job}" if job else None), True, ""
        if status in ("completed", "skipped"):
            return None, True, ""
        if status == "failed":
            return None, False, "its fine-tune failed (use --retry-failed)"
        return None, False, f"its fine-tune is {status}"

    # -- array layout ---------------------------------------------------------------------
    def array_job(self, script: Path, elements: list[tuple[int, str, str]],
                  dependency: str | None) -> str | None:
        """Submit ``script`` for ``elements`` ``(index, run, stage key)``; record each."""
        if not elements:
            return None
        text = script.read_text("utf-8", "replace")
        spec = ",".join(str(i) for i, _r, _k in sorted(elements))
        throttle = slurm.read_directives(text).get("array", "")
        if "%" in throttle:
            spec += "%" + throttle.split("%", 1)[1]
        try:
            array_id = self.sbatch(script, dependency=dependency, array=spec)
        except _QueueFull:
            for _i, run, key in elements:
                self.hold(run, key)
            return None
        self.in_flight += len(elements)  # SLURM counts every array task as a job
        label = array_id or f"<array id of {script.name}>"
        per_run_log = PER_RUN_ARRAY_LOG in text
        stages = []
        for i, run, key in elements:
            output = None
            if array_id is not None and per_run_log:
                folder = layout.stage_dir(self.group, run, key)
                output = str(folder / layout.array_log(array_id, i))
            elif array_id is not None:
                output = slurm.output_path(script, text, f"{array_id}_{i}", array_id=array_id,
                                           task=i)
            stages.append((run, key, (f"{label}_{i}", output)))
        self.record(stages)
        self.note_job([(r, k) for _i, r, k in elements], array_id, script, dependency, spec)
        return label

    def arrays(self) -> None:
        rows = read_array_index(self.group / layout.ARRAY_INDEX)
        index_of = {run: i for i, run, _kind in rows}
        selected = dict(self.runs())
        # training (fine-tune array) and sweeps (run array)
        for script_name, key in ((layout.FINETUNE_ARRAY, "finetune"), (layout.RUN_ARRAY, "run")):
            script = self.group / script_name
            elements = [(i, run, key) for i, run, _k in rows
                        if run in selected and self.due(_stage(self.data, run, key))]
            if not elements:
                continue
            if not script.is_file():
                self.report.errors.append(f"{script} does not exist (compile the group again)")
                continue
            self.array_job(script, self.fitting(elements), None)
        held_training = {run for run, key in self.held if key == "finetune"}
        # (evaluation dependencies are read back from the job ids recorded just now)
        # evaluations, grouped by the dependency each element needs
        for script in sorted(self.group.glob(layout.EVAL_ARRAY_GLOB)):
            ek, base = layout.parse_eval_array_script(script.name)
            groups: dict[str | None, list[tuple[int, str, str]]] = {}
            for run, rec in selected.items():
                if run not in index_of:
                    continue
                is_control = isinstance(rec.get("finetune"), dict) and \
                    rec["finetune"].get("status") == "skipped"
                if base != is_control:
                    continue
                key = layout.eval_stage(ek)
                if not self.due(_stage(self.data, run, key)):
                    continue
                dep, ok, why = self.array_dependency(run, rec, index_of[run])
                if not ok and run in held_training:
                    self.hold(run, key)  # never before its fine-tune's job id is known
                    continue
                if not ok:
                    self.skip(run, key, why)
                    continue
                groups.setdefault(dep, []).append((index_of[run], run, key))
            for dep, elements in groups.items():
                self.array_job(script, self.fitting(elements), dep)

    def fitting(self, elements: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
        """Drip-fed (``max_queued``): the array elements that fit under the cap, in index
        order; the rest are held (``queued``) for a later submit or sync. SLURM counts
        each array task against ``MaxSubmitJobsPerUser`` (an 88-task array is 88 jobs; the
        ``%N`` throttle limits running tasks, not submitted ones)."""
        if self.max_queued is None:
            return elements
        ordered = sorted(elements)
        room = max(0, self.max_queued - self.in_flight)
        for _i, run, key in ordered[room:]:
            self.hold(run, key)
        return ordered[:room]

    def array_dependency(self, run: str, rec: dict[str, Any],
                         index: int) -> tuple[str | None, bool, str]:
        ft = rec.get("finetune")
        if not isinstance(ft, dict):
            return None, True, ""
        status = ft.get("status", "pending")
        if status in ("completed", "skipped"):
            return None, True, ""
        if status in ("submitted", "running") and ft.get("job_id"):
            job = str(ft["job_id"])
            if not slurm.TRACKER_JOB_ID.match(job) and not job.startswith("<"):
                return None, False, f"its fine-tune runs outside SLURM (job {job})"
            base, _, task = job.rpartition("_")
            if task == str(index):
                return f"aftercorr:{base}", True, ""
            return f"afterok:{job}", True, ""
        if status == "failed":
            return None, False, "its fine-tune failed (use --retry-failed)"
        return None, False, f"its fine-tune is {status}"

    # -- entry --------------------------------------------------------------------------
    def run(self) -> SubmitReport:
        self.identity = _identity(self.path)
        if self.preloaded is not None and self.identity is not None and \
                self.preloaded[1] == self.identity:
            data: dict[str, Any] | None = self.preloaded[0]
        else:
            data = tracker.read(self.path)
            if data is not None and self.carried is not None:
                self.carried(data)  # the file changed since the sync read it
        if data is None:
            raise tracker.TrackerError(f"{self.path} does not exist: compile the group first")
        self.data = data
        if self.max_queued is None and isinstance(data.get(MAX_QUEUED), int) and \
                data[MAX_QUEUED] > 0:
            self.max_queued = data[MAX_QUEUED]  # a drip-fed group keeps its cap
        self.in_flight = _in_flight(data)
        runs = data.get("runs")
        known = set(runs) if isinstance(runs, dict) else set()
        unknown = sorted(self.only - known)
        if unknown:
            self.report.errors.append(f"no such run(s) in {self.path}: {', '.join(unknown)}")
            return self.report
        slurm_glob = f"*{layout.SLURM_SUFFIX}"
        if not any(self.group.glob(slurm_glob)) and not any(self.group.glob(f"*/{slurm_glob}")):
            local = f" (it has {layout.LAUNCH_LOCAL}: use planc run)" if (
                self.group / layout.LAUNCH_LOCAL).is_file() else ""
            raise NotSlurmGroup(f"{self.group} has no SLURM scripts{local}; compile it for a "
                                "SLURM cluster profile (planc compile PLAN --cluster NAME)")
        array_layout = (self.group / layout.ARRAY_INDEX).is_file() and any(
            (self.group / n).is_file() for n in (layout.FINETUNE_ARRAY, layout.RUN_ARRAY))
        try:
            ctx = contextlib.nullcontext() if self.dry_run else _submit_lock(self.path)
            with ctx:
                if not self.dry_run and _journal_path(self.path).exists():
                    self.replay_journal()
                try:
                    self.arrays() if array_layout else self.per_run()
                finally:
                    self.flush()
        except _Refused as exc:
            if str(exc) not in self.report.errors:
                self.report.errors.append(str(exc))
        self.report.data = self.data
        return self.report


def submit_group(group: Path, *, dry_run: bool = False, retry_failed: bool = False,
                 only: list[str] | None = None, runner: slurm.Runner = slurm.run_command,
                 env: dict[str, str] | None = None,
                 max_queued: int | None = None,
                 preloaded: tuple[dict[str, Any], Any] | None = None,
                 carried: Carried | None = None) -> SubmitReport:
    """Submit the due stages of the group folder ``group`` (module docstring has the rules).

    ``max_queued`` (``--max-queued N``, e.g. a QoS ``MaxSubmitJobsPerUser``): at most N of
    the group's jobs pending or running at once; the rest are held (``queued``) and
    submitted by the next call, which reuses the cap stored in the tracker.
    ``preloaded`` ``(mapping, identity)``: the tracker as a caller (``planc status --sync``)
    just left it, with the file's ``(inode, mtime_ns, size)`` then; used only while the file
    is unchanged, so a 10,000-run tracker is not parsed twice.
    ``carried``: changes the caller made to the preloaded mapping that are not on disk yet
    (a ``planc status --sync``'s job states, :func:`compiler.sync.sync_group` with
    ``hold_write``); a drip-fed call writes them with its one tracker write, re-applying
    them (idempotently) to the file's content if it changed meanwhile, and then sets
    ``SubmitReport.tracker_written``. Without a write they stay the caller's to write.

    Raises :class:`compiler.tracker.TrackerError` when ``runs_status.yaml`` is missing or
    unreadable, :class:`NotSlurmGroup` when the folder has no ``.slurm`` script at all. sbatch
    refusals and missing scripts are reported in ``SubmitReport.errors``.
    """
    group = group.resolve()
    job_env = dict(os.environ if env is None else env)
    job_env["PLANC_GROUP_DIR"] = str(group)
    job_env.setdefault("PLANC_PROJECT_ROOT", os.getcwd())
    sub = _Submitter(group, dry_run=dry_run, retry=retry_failed, only=set(only or ()),
                     runner=runner, env=job_env, max_queued=max_queued)
    sub.preloaded = preloaded
    sub.carried = carried
    return sub.run()
