"""Applying scheduler answers to a tracker mapping: the rules :mod:`compiler.sync` and the
drip-fed :mod:`compiler.submit` share (a leaf below both, so neither imports the other's
module to carry a sync's states).

- only stages that are ``submitted``/``running`` with a job id are changed, and only while
  their ``job_id`` is still the one that was queried (a resubmission in between wins);
- states only move forward (``submitted`` → ``running`` → ``completed``/``failed``): a stale
  answer never downgrades a stage;
- every other field is kept; ``reason`` and ``exit_code`` are set for failures,
  ``exit_code: 0`` for completions, ``output`` from scontrol's expanded ``StdOut`` when the
  stage has none; a completed or failed job that ran gets ``elapsed_s`` and
  ``elapsed_job_id`` (:func:`record_elapsed`).

SLURM → status mapping: :func:`compiler.backends.slurm.map_state` (formats.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .backends import slurm
from .models.status import StageChange, iter_stages

ACTIVE = ("submitted", "running")
_RANK = {"pending": 0, "submitted": 1, "running": 2, "completed": 3, "failed": 3, "skipped": 3}

Change = StageChange  # one stage whose state a sync changed


@dataclass
class HeldStates:
    """Job states a sync applied in memory and has not written yet (``hold_write``).

    Calling it applies them to a tracker mapping (:func:`apply_records`: forward-only and
    only to stages still holding the queried job id, so applying twice, or to a newer
    file, changes nothing it should not). :meth:`journal_entries` is the JSON object a
    drip-fed submit appends to its journal before its first ``sbatch``, so that a crash
    after it loses neither the job ids nor these states; :meth:`from_entry` reads it back.
    """

    records: dict[str, slurm.JobRecord]
    stamp: str

    def __call__(self, data: dict[str, Any]) -> list[Change]:
        return apply_records(data, self.records, self.stamp)

    def journal_entries(self) -> list[dict[str, Any]]:
        """``[{"sync": stamp, "records": [JobRecord fields that are set, …]}]`` (JSON-ready:
        the fields are strings and numbers)."""
        return [{"sync": self.stamp, "records": [
            {k: v for k, v in vars(r).items() if v is not None}
            for r in self.records.values()]}]

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> HeldStates:
        """The inverse of :meth:`journal_entries`' object; raises ``KeyError``/``TypeError`` for an
        entry of another shape."""
        names = {f.name for f in fields(slurm.JobRecord)}
        recs = [slurm.JobRecord(**{k: v for k, v in r.items() if k in names})
                for r in entry["records"]]
        return cls({r.job_id: r for r in recs}, str(entry["sync"]))


def apply_records(data: dict[str, Any], records: dict[str, slurm.JobRecord],
                  stamp: str, filled: list[str] | None = None,
                  filled_ids: list[str] | None = None) -> list[Change]:
    """Write job states into ``data`` in place (the rules in the module docstring).

    ``records`` maps tracker job ids to what the scheduler said; ``stamp`` is the
    ``last_updated`` value for changed stages. Returns the changes; stages that only gained
    an ``output`` path are appended to ``filled`` (``run/stage``) and their job ids to
    ``filled_ids`` when given.
    """
    changes: list[Change] = []
    for run, key, st in iter_stages(data):
        old = st.get("status")
        job_id = st.get("job_id")
        if old not in ACTIVE or not job_id:
            continue
        rec = records.get(str(job_id))
        if rec is None:
            continue
        new = slurm.map_state(rec)
        if rec.stdout and not st.get("output"):
            st["output"] = rec.stdout
            if filled is not None:
                filled.append(f"{run}/{key}")
            if filled_ids is not None:
                filled_ids.append(str(job_id))
        if _RANK[new.status] <= _RANK[old]:
            continue
        st["status"] = new.status
        st["last_updated"] = stamp
        if new.status == "failed":
            st["reason"] = new.reason
            st["exit_code"] = new.exit_code
        elif new.status == "completed":
            st.pop("reason", None)
            st["exit_code"] = new.exit_code if new.exit_code is not None else 0
        if new.status in ("completed", "failed") and rec.elapsed_s is not None:
            record_elapsed(st, str(job_id), rec.elapsed_s)
        changes.append(Change(run, key, str(job_id), str(old), new.status, new.reason,
                              new.exit_code))
    return changes


def record_elapsed(st: dict[str, Any], job_id: str, seconds: float) -> bool:
    """Store a finished job's measured run time on its stage: ``elapsed_s`` (seconds, an
    int when whole) and ``elapsed_job_id`` (the job it was measured on), the ledger's
    "measured" beside the compile's ``estimate_s`` (issue 14). A value already there is
    replaced only when it was measured on the same job id; one from another source (the
    local runner, a person, another job) is kept. Returns whether the stage changed."""
    if st.get("elapsed_s") is not None and st.get("elapsed_job_id") != job_id:
        return False
    value: float | int = int(seconds) if float(seconds).is_integer() else round(seconds, 3)
    if st.get("elapsed_s") == value and st.get("elapsed_job_id") == job_id:
        return False
    st["elapsed_s"] = value
    st["elapsed_job_id"] = job_id
    return True
