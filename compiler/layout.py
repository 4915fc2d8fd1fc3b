"""The compiled group folder: every file name and relative path planc writes or reads there.

One module owns the layout (as pip's ``locations`` and cargo's ``layout.rs`` do), so that
the compile side (:mod:`compiler.emit`, :mod:`compiler.scripts`, :mod:`compiler.write`)
and the run side (:mod:`compiler.submit`, :mod:`compiler.local`, :mod:`compiler.results`,
:mod:`compiler.sync`, :mod:`compiler.site`) agree on it without importing each other.
Stdlib only; the functions are pure (no file-system access)::

    <out>/
      .planc-groups.json              GROUP_INDEX: inputs fingerprint → group (no-op compiles)
      <group>/
        README.md                     README
        runs_status.yaml              STATUS_FILE (also read as runs_status.yml: STATUS_NAMES)
        runs_status.yaml.lock         the tracker's file lock (+ .run.lock, .submit.lock)
        runs_status.yaml.submitted.jsonl  journal_path(): a drip-fed submit's ids not yet written
        runs_plan.md                  RUN_PLAN (seed 004 folders: the plan beside a tracker)
        manifest.json                 MANIFEST (written last)
        results.json                  RESULTS_FILE (planc results)
        submit_all.sh                 SUBMIT_ALL (SLURM clusters)
        launch_local.sh               LAUNCH_LOCAL (local clusters)
        submit_api.sh                 SUBMIT_API
        api/plan.json                 API_PLAN
        api/plan_update.json          API_PLAN_UPDATE (the plan's status, unless draft)
        api/sweep.json                API_SWEEP
        api/sweep_update.json         API_SWEEP_UPDATE (parameters, base command)
        research_agent.json           TRACKER_IDS (server URL → plan, sweep and run ids)
        api/runs/<run>.json           api_run_body(run)
        array_index.tsv               ARRAY_INDEX         ┐
        finetune_array.slurm          FINETUNE_ARRAY      │ array layout only
        run_array.slurm               RUN_ARRAY           │
        eval_array_<key>[_base].slurm eval_array_script() ┘
        <run>/                        run_dir(group, run)
          setup_finetune.yaml         SETUP_FINETUNE (fine-tuned runs)
          finetune.yaml               FINETUNE_CONFIG (fine-tuned runs)
          finetune.slurm              FINETUNE_SLURM (per-run layout)
          run.slurm                   RUN_SLURM (sweeps, per-run layout)
          run_local.sh                RUN_LOCAL (local clusters)
          metrics.json                METRICS_FILE (sweep runs write it; or one/two levels down)
          slurm-<job>.out             slurm_log(job); array elements: array_log(id, i)
          local-<stage>.out           local_log(stage)
          output/                     DEFAULT_OUTPUT_DIR (when the plan sets no output_dir)
          eval/<key>/                 eval_dir(run_dir, key) (EVAL_DIR)
            eval.yaml                 EVAL_CONFIG
            eval.slurm                EVAL_SLURM (per-run layout)
            logs/                     EVAL_LOGS (inspect-ai --log-dir)
            local.out                 local_log("evaluations/<key>")

Stage keys are the tracker's (``finetune``, ``run``, ``evaluations/<key>``); the folder of
an evaluation stage is ``eval/<key>`` (:func:`stage_dir`). Older groups may hold
``evaluations/<key>`` folders (``LEGACY_EVAL_DIR``); readers of scripts accept both.
"""

from __future__ import annotations

import re
from pathlib import Path

# A run name, evaluation key or task name as it becomes a folder, a SLURM job name and a
# tracker key: one safe path component (no '/', no '..', no shell characters).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")


class UnsafeName(ValueError):
    """A name read from a plan or a tracker that is not one safe path component."""


def safe_name(name: object, what: str = "run name") -> str:
    """``name`` when it is one safe path component (:data:`NAME`), else raise
    :class:`UnsafeName`: every path below is built from names checked here, so a tracker
    key such as ``/abs/dir`` or ``../x`` can never send a read, a write or a job outside
    the group folder."""
    if not isinstance(name, str) or not NAME.match(name) or name in (".", ".."):
        raise UnsafeName(f"{what} {name!r} must match {NAME.pattern} (no '/', spaces or "
                         "shell characters)")
    return name

# -- group folder -------------------------------------------------------------------------
README = "README.md"
STATUS_FILE = "runs_status.yaml"
STATUS_NAMES = (STATUS_FILE, "runs_status.yml")
RUN_PLAN = "runs_plan.md"  # seed 004: the plan a tracker sits beside (status rules read it)
MANIFEST = "manifest.json"
RESULTS_FILE = "results.json"
SUBMIT_ALL = "submit_all.sh"
LAUNCH_LOCAL = "launch_local.sh"
SUBMIT_API = "submit_api.sh"
API_DIR = "api"
API_PLAN = f"{API_DIR}/plan.json"
API_SWEEP = f"{API_DIR}/sweep.json"
API_PLAN_UPDATE = f"{API_DIR}/plan_update.json"
API_SWEEP_UPDATE = f"{API_DIR}/sweep_update.json"
TRACKER_IDS = "research_agent.json"  # ids the research-agent server gave (planc submit)
ARRAY_INDEX = "array_index.tsv"
FINETUNE_ARRAY = "finetune_array.slurm"
RUN_ARRAY = "run_array.slurm"
EVAL_ARRAY_PREFIX = "eval_array_"
EVAL_ARRAY_BASE_SUFFIX = "_base"
SLURM_SUFFIX = ".slurm"
GROUP_INDEX = ".planc-groups.json"  # in the output folder, beside the groups

# -- run folder ---------------------------------------------------------------------------
SETUP_FINETUNE = "setup_finetune.yaml"
FINETUNE_CONFIG = "finetune.yaml"
FINETUNE_SLURM = "finetune.slurm"
RUN_SLURM = "run.slurm"
RUN_LOCAL = "run_local.sh"
DEFAULT_OUTPUT_DIR = "output"
METRICS_FILE = "metrics.json"  # a sweep run's metrics ($PLANC_RUN_DIR/metrics.json)

# -- evaluation folder --------------------------------------------------------------------
# files ``inspect eval-set`` writes beside its logs in --log-dir (not eval logs)
EVAL_SET_FILES = frozenset({"eval-set.json", "logs.json"})
EVAL_DIR = "eval"
LEGACY_EVAL_DIR = "evaluations"
EVAL_DIRS = (EVAL_DIR, LEGACY_EVAL_DIR)
EVAL_CONFIG = "eval.yaml"
EVAL_SLURM = "eval.slurm"
EVAL_LOGS = "logs"
EVAL_LOCAL_LOG = "local.out"

# -- logs ---------------------------------------------------------------------------------
# compiler.scripts' array elements redirect their output next to the run (or evaluation):
# ``exec >>"$RUN_DIR/slurm-${SLURM_ARRAY_JOB_ID}_${IDX}.out"``; that file is the stage's log.
PER_RUN_ARRAY_LOG = "slurm-${SLURM_ARRAY_JOB_ID}_${IDX}.out"

EVAL_STAGE_PREFIX = "evaluations/"  # the tracker's stage key of an evaluation

# The names a test keeps out of every other module under compiler/ (tests/test_layout.py).
FILE_NAMES = frozenset({
    README, *STATUS_NAMES, RUN_PLAN, MANIFEST, RESULTS_FILE, SUBMIT_ALL, LAUNCH_LOCAL, SUBMIT_API,
    API_PLAN, API_SWEEP, API_PLAN_UPDATE, API_SWEEP_UPDATE, TRACKER_IDS, ARRAY_INDEX,
    FINETUNE_ARRAY, RUN_ARRAY, GROUP_INDEX,
    SETUP_FINETUNE, FINETUNE_CONFIG, FINETUNE_SLURM, RUN_SLURM, RUN_LOCAL, METRICS_FILE,
    EVAL_CONFIG, EVAL_SLURM, EVAL_LOCAL_LOG, PER_RUN_ARRAY_LOG,
})


def is_status_file(path: Path) -> bool:
    """Whether ``path`` is named like a tracker (``runs_status.yaml`` / ``.yml``)."""
    return path.name in STATUS_NAMES


def lock_file(path: Path, purpose: str | None = None) -> Path:
    """The lock beside ``path``: ``<name>.lock`` (read-modify-write, blocking) or
    ``<name>.<purpose>.lock`` (one ``planc submit``/``planc run`` per group)."""
    return path.with_name(f"{path.name}.{purpose}.lock" if purpose else f"{path.name}.lock")


def tracker_cache(path: Path) -> Path:
    """``.<name>.cache.json`` beside a tracker: its parsed form, keyed by its sha256."""
    return path.with_name(f".{path.name}.cache.json")


def status_path(group_dir: Path) -> Path:
    """``<group>/runs_status.yaml``."""
    return group_dir / STATUS_FILE


JOURNAL_SUFFIX = ".submitted.jsonl"


def journal_path(status: Path) -> Path:
    """``runs_status.yaml.submitted.jsonl`` beside a tracker: job ids (and a sync's held
    states) a drip-fed submit has not yet written to it, one JSON object a line."""
    return status.with_name(status.name + JOURNAL_SUFFIX)


def run_dir(group_dir: Path, run: str) -> Path:
    """``<group>/<run>``: a run's folder (raises :class:`UnsafeName` for a run key that is
    not a name)."""
    return group_dir / safe_name(run)


def eval_dir(run_dir: Path, key: str) -> Path:
    """``<run>/eval/<key>``: an evaluation's folder (raises :class:`UnsafeName`)."""
    return run_dir / EVAL_DIR / safe_name(key, "evaluation key")


def is_eval_stage(stage: str) -> bool:
    """Whether the tracker stage key ``stage`` is an evaluation (``evaluations/<key>``)."""
    return stage.startswith(EVAL_STAGE_PREFIX)


def eval_stage(key: str) -> str:
    """The tracker stage key of evaluation ``key``: ``evaluations/<key>``."""
    return EVAL_STAGE_PREFIX + key


def eval_key(stage: str) -> str:
    """The evaluation key of the stage key ``evaluations/<key>``."""
    return stage.split("/", 1)[1]


def stage_dir(group_dir: Path, run: str, stage: str) -> Path:
    """The folder a stage works in: ``<run>/eval/<key>`` for ``evaluations/<key>`` (its logs
    go to ``logs/`` there), else ``<run>``."""
    if is_eval_stage(stage):
        return eval_dir(run_dir(group_dir, run), eval_key(stage))
    return run_dir(group_dir, run)


def stage_script(group_dir: Path, run: str, stage: str) -> Path:
    """The per-run layout's SLURM script of a stage: ``<run>/finetune.slurm``,
    ``<run>/run.slurm``, or ``<run>/eval/<key>/eval.slurm`` (whether or not it exists)."""
    if stage in ("finetune", "run"):
        return run_dir(group_dir, run) / f"{stage}{SLURM_SUFFIX}"
    return stage_dir(group_dir, run, stage) / EVAL_SLURM


def run_file(run: str, name: str) -> str:
    """``<run>/<name>``, relative to the group folder (posix)."""
    return f"{run}/{name}"


def eval_relpath(run: str, key: str) -> str:
    """``<run>/eval/<key>``, relative to the group folder (posix)."""
    return f"{run}/{EVAL_DIR}/{key}"


def api_run_body(run: str) -> str:
    """``api/runs/<run>.json``, relative to the group folder."""
    return f"{API_DIR}/runs/{run}.json"


def eval_array_script(key: str, base: bool) -> str:
    """``eval_array_<key>.slurm`` (fine-tuned runs) or ``eval_array_<key>_base.slurm``
    (control runs) of the array layout."""
    return f"{EVAL_ARRAY_PREFIX}{key}{EVAL_ARRAY_BASE_SUFFIX if base else ''}{SLURM_SUFFIX}"


EVAL_ARRAY_GLOB = f"{EVAL_ARRAY_PREFIX}*{SLURM_SUFFIX}"


def parse_eval_array_script(name: str) -> tuple[str, bool]:
    """``(key, base)`` of an ``eval_array_*.slurm`` file name (inverse of
    :func:`eval_array_script`)."""
    stem = name[len(EVAL_ARRAY_PREFIX):-len(SLURM_SUFFIX)]
    base = stem.endswith(EVAL_ARRAY_BASE_SUFFIX)
    return (stem[:-len(EVAL_ARRAY_BASE_SUFFIX)] if base else stem), base


def slurm_log(job_id: str) -> str:
    """``slurm-<job>.out``: sbatch's default output file name (``--output=slurm-%j.out``)."""
    return f"slurm-{job_id}.out"


def array_log(array_id: str, index: int) -> str:
    """``slurm-<array id>_<index>.out``: an array element's log (:data:`PER_RUN_ARRAY_LOG`)."""
    return f"slurm-{array_id}_{index}.out"


def parse_array_index(text: str) -> list[tuple[int, str, str]]:
    """Rows ``(index, run, kind)`` of ``array_index.tsv``'s text (:data:`ARRAY_INDEX`, written
    by ``templates/slurm/array_index.tsv.j2``: ``index<TAB>run<TAB>kind<TAB>config``): the
    array index → run mapping of a compiled array group, read by ``planc submit`` and by the
    estimates' history. ``#`` lines and rows whose first field is not a number are skipped;
    names are returned as written (callers check them with :func:`safe_name`)."""
    rows: list[tuple[int, str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip().isdigit():
            continue
        rows.append((int(parts[0]), parts[1].strip(), parts[2].strip() if len(parts) > 2 else ""))
    return rows


def local_log(stage: str) -> str:
    """The log file name ``planc run`` writes for a stage, in :func:`stage_dir`:
    ``local.out`` for an evaluation, else ``local-<stage>.out``."""
    return EVAL_LOCAL_LOG if is_eval_stage(stage) else f"local-{stage}.out"
