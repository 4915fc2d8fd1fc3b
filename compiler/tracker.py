"""Read, merge and write ``runs_status.yaml`` safely: the user's lab notebook.

- Every write is atomic (temporary file in the same folder, ``fsync``, ``os.replace``) and
  happens under an exclusive ``fcntl.flock`` on ``runs_status.yaml.lock``, so concurrent
  syncs, a sync during a submit, or two compiles lose nothing.
- :func:`merge` keeps every record already present (statuses, job ids, results, notes),
  adds new runs and evaluations as ``pending`` and reports runs that the plan no longer
  has instead of deleting them.
- YAML is loaded with the safe (C) loader, bounded by :data:`compiler.document.MAX_BYTES`.
- Output keeps key order (``sort_keys=False``); PyYAML quotes ``job_id`` strings such as
  ``'4812345'`` and timestamps such as ``'2025-10-18 14:03:22'`` itself (formats.md §4).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import layout
from .document import MAX_BYTES, compose_yaml
from .models.status import SCHEMA_VERSION, TIMESTAMP_FORMAT, flat_prefixes, stage_of

HEADER = "# Run Status Tracker\n# Maintained by planc (compile, submit, status, run, results)\n"


class TrackerError(Exception):
    """``runs_status.yaml`` cannot be read or is not a tracker mapping (message says why)."""


@dataclass
class MergeReport:
    """What :func:`merge` did: runs/stages added, and runs kept although the plan dropped them."""

    added_runs: list[str] = field(default_factory=list)
    added_stages: list[str] = field(default_factory=list)
    removed_runs: list[str] = field(default_factory=list)
    removed_stages: list[str] = field(default_factory=list)
    flat_runs: list[str] = field(default_factory=list)
    """Runs kept in cruijff_kit's flat form: no nested stage was added to them."""


def now() -> str:
    """The local time as ``YYYY-MM-DD HH:MM:SS`` (for stage ``last_updated``)."""
    return dt.datetime.now().strftime(TIMESTAMP_FORMAT)


def _cache_path(path: Path) -> Path:
    return layout.tracker_cache(path)


def _load_cache(path: Path, digest: str) -> dict[str, Any] | None:
    try:
        cached = json.loads(_cache_path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(cached, dict) and cached.get("sha256") == digest and cached.get("v") == 1:
        data = cached.get("data")
        return data if isinstance(data, dict) else None
    return None


def _store_cache(path: Path, digest: str, data: dict[str, Any]) -> None:
    """Keep a JSON copy of the parsed tracker, valid only for YAML bytes with ``digest``.

    Parsing YAML costs ~0.9 s for a 10,000-run tracker; the copy loads in ~10 ms. It is
    written only when JSON represents the data exactly (no dates, non-string keys, …).
    """
    try:
        text = json.dumps({"v": 1, "sha256": digest, "data": data}, ensure_ascii=False)
        if json.loads(text)["data"] != data:
            return
        atomic_write(_cache_path(path), text.encode("utf-8"))
    except (TypeError, ValueError, OSError):
        return


def read(path: Path) -> dict[str, Any] | None:
    """The tracker mapping at ``path``, ``None`` when the file does not exist.

    The YAML file is the only source of truth: a JSON copy beside it
    (``.runs_status.yaml.cache.json``) is used only when its recorded sha256 equals the
    file's current bytes. Raises :class:`TrackerError` for an oversized file, invalid YAML
    or a non-mapping.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(raw) > MAX_BYTES * 16:
        raise TrackerError(f"{path}: {len(raw)} bytes is too large for a status file")
    digest = hashlib.sha256(raw).hexdigest()
    cached = _load_cache(path, digest)
    if cached is not None:
        return cached
    try:
        _node, data = compose_yaml(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        raise TrackerError(f"{path}: not valid YAML ({exc})") from exc
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TrackerError(f"{path}: expected a mapping with run_group and runs")
    if len(raw) > 64 * 1024:  # small files parse faster than a cache round trip
        _store_cache(path, digest, data)
    return data


def dump(data: dict[str, Any], last_updated: str | None = None) -> str:
    """YAML text of a tracker mapping with the seed's header comments."""
    head = HEADER + (f"# Last updated: {last_updated}\n" if last_updated else "")
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )
    return head + "\n" + body


_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: ~3x faster


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str_presenter)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (tmp file in the same folder + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (blocking) for a read-modify-write."""
    lock_path = layout.lock_file(path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class Busy(TrackerError):
    """Another planc process holds the group's non-blocking lock (see :func:`exclusive`)."""


@contextlib.contextmanager
def exclusive(path: Path, purpose: str) -> Iterator[None]:
    """Hold ``<path>.<purpose>.lock`` exclusively without waiting: one ``planc submit`` or
    one ``planc run`` per group. Raises :class:`Busy` when another process holds it."""
    lock_path = layout.lock_file(path, purpose)
    with open(lock_path, "a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another planc {purpose} is running for {path.parent}") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def update(
    path: Path,
    change: Callable[[dict[str, Any] | None], dict[str, Any]],
    last_updated: str | None = None,
) -> dict[str, Any]:
    """Read-modify-write ``path`` under the lock: ``change(current) -> new`` mapping.

    The file is rewritten only when the new YAML differs. Returns the new mapping. Raises
    :class:`TrackerError` when the current file is unreadable (it is then left untouched).
    """
    with locked(path):
        current = read(path)
        new = change(copy.deepcopy(current))
        text = dump(new, last_updated or now())
        old_text = path.read_text("utf-8") if path.exists() else None
        if old_text is None or _strip_header(old_text) != _strip_header(text):
            data = text.encode("utf-8")
            atomic_write(path, data)
            if len(data) > 64 * 1024:
                _store_cache(path, hashlib.sha256(data).hexdigest(), new)
        return new


def _strip_header(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("# Last updated:"))


def stage(status: str = "pending", note: str | None = None) -> dict[str, Any]:
    """A fresh stage record (seed 004 template order)."""
    rec: dict[str, Any] = {"status": status, "job_id": None, "output": None, "last_updated": None}
    if note:
        rec["note"] = note
    return rec


def merge(
    existing: dict[str, Any] | None, compiled: dict[str, Any]
) -> tuple[dict[str, Any], MergeReport]:
    """Merge a freshly compiled tracker into the one on disk, losing nothing.

    ``compiled`` has every run and stage the plan defines, all ``pending`` (base fine-tunes
    ``skipped``). Existing stage records win whole (status, job id, output, results and any
    extra keys), except that a stage never submitted takes the new ``estimate_s`` and
    ``estimate_key`` (the ledger's compile-owned fields); new runs and stages are added;
    runs or stages absent from ``compiled`` are kept and reported. A run in cruijff_kit's
    flat form is kept exactly as written (no nested stage is added beside its
    ``finetune_*``/``eval_*`` keys) and listed in ``report.flat_runs``. ``run_group`` and
    ``schema_version`` come from ``compiled``.
    """
    report = MergeReport()
    if not existing or not isinstance(existing.get("runs"), dict):
        report.added_runs = list(compiled.get("runs", {}))
        return copy.deepcopy(compiled), report
    out: dict[str, Any] = {k: v for k, v in existing.items() if k not in ("runs",)}
    out["schema_version"] = compiled.get("schema_version", SCHEMA_VERSION)
    out["run_group"] = compiled.get("run_group", existing.get("run_group"))
    old_runs: dict[str, Any] = existing["runs"]
    runs: dict[str, Any] = {}
    for name, new_rec in compiled.get("runs", {}).items():
        old_rec = old_runs.get(name)
        if not isinstance(old_rec, dict):
            runs[name] = copy.deepcopy(new_rec)
            report.added_runs.append(name)
            continue
        rec = copy.deepcopy(old_rec)
        if flat_prefixes(rec):
            # cruijff_kit's flat form (finetune_status, eval_status, …): kept as written.
            # Nested stages added beside it would write one run in two forms.
            runs[name] = rec
            report.flat_runs.append(name)
            continue
        for key, value in new_rec.items():
            if key == "evaluations":
                old_evals = (
                    rec.get("evaluations") if isinstance(rec.get("evaluations"), dict) else {}
                )
                evals = dict(old_evals)
                for ek, ev in value.items():
                    if ek not in evals:
                        evals[ek] = copy.deepcopy(ev)
                        report.added_stages.append(f"{name}/{ek}")
                    else:
                        _refresh_estimate(evals[ek], ev)
                for ek in old_evals:
                    if ek not in value:
                        report.removed_stages.append(f"{name}/{ek}")
                rec["evaluations"] = evals
            elif key not in rec:
                rec[key] = copy.deepcopy(value)
                if isinstance(value, dict) and "status" in value:
                    report.added_stages.append(f"{name}/{key}")
            else:
                _refresh_estimate(rec[key], value)
        runs[name] = rec
    for name, old_rec in old_runs.items():
        if name not in runs:
            runs[name] = old_rec
            report.removed_runs.append(name)
    out["runs"] = runs
    # keep the seed's key order: schema_version, run_group, …, runs
    ordered = {"schema_version": out.pop("schema_version"), "run_group": out.pop("run_group")}
    ordered.update({k: v for k, v in out.items() if k != "runs"})
    ordered["runs"] = out["runs"]
    return ordered, report


ESTIMATE_FIELDS = ("estimate_s", "estimate_key")
"""The ledger's compile-owned fields of a stage (issue 14)."""


def _refresh_estimate(old: Any, new: Any) -> None:
    """A stage never submitted (``pending``) takes this compile's estimate (a recompile with
    more history is a better prediction); once submitted, the estimate its job was sized by
    stays beside its measured ``elapsed_s``."""
    if not isinstance(old, dict) or not isinstance(new, dict) or \
            old.get("status", "pending") != "pending" or old.get("job_id"):
        return
    for f in ESTIMATE_FIELDS:
        if f in new:
            old[f] = copy.deepcopy(new[f])
        else:
            old.pop(f, None)


def set_stage(data: dict[str, Any], run: str, stage_key: str, **fields: Any) -> bool:
    """Update one stage (``finetune``, ``run`` or ``evaluations/<key>``) in place.

    Returns ``False`` when the run or stage does not exist (nothing is created).
    A run in cruijff_kit's flat form is updated through its prefixed keys
    (:func:`compiler.models.status.stage_of`): ``status`` of ``finetune`` is written to
    ``finetune_status``; the form is kept.
    """
    rec = data.get("runs", {}).get(run)
    if not isinstance(rec, dict):
        return False
    target = stage_of(rec, stage_key)
    if target is None:
        return False
    target.update(fields)
    return True
