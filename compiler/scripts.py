"""Launch scripts of a group: SLURM job scripts and arrays, the local launcher, tracker payloads.

:func:`render_scripts` turns a :class:`~compiler.matrix.RunMatrix` into ``{relpath: bytes}``,
paths relative to the group folder. Every file comes from a jinja2 template
(``compiler/templates/{slurm,local,api}/``); every plan value that reaches a shell line goes
through the ``sh`` filter (``shlex.quote``); values that land in ``#SBATCH`` lines (which sbatch
reads without a shell) are validated against a strict character set instead, and a value that
does not fit raises ``ValueError``.

Artifacts
=========

SLURM cluster (``cluster.type == "slurm"``), ``settings["layout"] == "per-run"`` (default):

- ``<run>/finetune.slurm`` (fine-tuned runs): formats.md §8 with planc's fixes —
  ``--job-name=<run>``, ``--output`` (see *Paths*), ``--time/--mem/--cpus-per-task`` from
  ``Run.train``, ``--gres=gpu:N`` only when N > 0, ``--account/--partition/--constraint/--qos``
  and ``--mail-user`` only when set; ``module purge`` + ``module load``, the ``activate``
  line, ``export`` of ``env`` (run groups always get ``HF_HUB_OFFLINE=1``, formats.md §8);
  ``mkdir -p <output_dir>/logs/wandb``; ``tune <tune_args>`` (``run [--nproc_per_node N]
  <recipe> --config finetune.yaml``) from the run folder; its exit code is captured and is
  the job's exit code (no ``mv`` of the ``.out`` file).
- ``<run>/eval/<key>/eval.slurm`` (one per :class:`~compiler.matrix.Evaluation`): job name
  ``eval-<task>-ep<N>`` (``eval-<task>`` for control runs, formats.md §8; ``eval-<task>-best``
  for a ``<task>_best`` evaluation), running ``inspect eval <script> --model <provider/name>
  -M model_path=<path> [-M k=v] [-T k=v] --log-dir <eval dir>/logs`` from the evaluation
  folder; ``<path>`` is ``<output_dir>/epoch_<N>`` for fine-tuned runs (``<output_dir>`` for
  ``best``, whose task script picks the epoch), the base model path for control runs; a
  relative ``script`` is joined to the project root.
- ``<run>/run.slurm`` (sweep runs): ``cd`` to the project root, ``export PLANC_RUN_DIR``,
  then ``bash -c <Run.command>`` (the whole command is one quoted word).
- ``submit_all.sh``: submits with ``sbatch --parsable`` from each job's own folder, chains each
  evaluation to its run's fine-tune with ``--dependency=afterok:<id>``, and prints one
  ``SUBMITTED <run> <stage> <jobid>`` line per job (``SKIPPED <run> <stage> <why>``
  otherwise). Stage statuses come from ``runs_status.yaml`` through a small embedded
  ``python3`` + PyYAML snippet (PyYAML ships with torchtune and inspect-ai, so the activated
  environment has it; ``planc`` itself is not needed on the cluster). Only ``pending``
  stages are submitted; a pending evaluation whose fine-tune is ``submitted``/``running``
  chains to that job id, one whose fine-tune ``completed`` runs without dependency, other
  cases are skipped. No status file: every stage is pending. Unreadable status file: exit 2.
  ``PLANC_SUBMIT_DELAY`` (seconds, default ``settings["submit_delay"]``) staggers
  submissions (formats.md §8: HF cache collisions).

SLURM cluster, ``settings["layout"] == "array"`` (formats.md §13):

- ``array_index.tsv``: ``index<TAB>run<TAB>kind<TAB>config`` (``#`` lines are comments);
  fine-tuned runs first (indices ``0..F-1``), then control runs. Fields never contain a tab or
  a newline, and they are read with ``IFS=$'\\t' read -r``, never evaluated.
- ``finetune_array.slurm``: ``#SBATCH --array=0-<F-1>[%<throttle>]``; element *i* reads row
  *i* of ``array_index.tsv``, ``cd``s to its run folder, and logs to
  ``<run>/slurm-<array id>_<i>.out``.
- ``eval_array_<key>.slurm`` (``eval_array_<task>_epoch_<N>.slurm``): one per evaluation key
  of fine-tuned runs; element *i* evaluates run *i* (same index as in the training array) and
  is submitted with ``--dependency=aftercorr:<train array id>`` (``afterok:<id>`` for an
  element whose fine-tune was submitted earlier, none when it completed).
  ``eval_array_<task>_base.slurm``: the control runs' evaluations of a task, no dependency.
  Arrays share one ``#SBATCH`` header: the largest time, memory, CPUs and GPUs of their
  elements. SLURM's own output goes to ``logs/%x_%A_%a.out``.
- ``run_array.slurm`` (sweeps): element *i* runs sweep run *i*'s command.
- ``submit_all.sh``: submits only the pending elements (``--array=<i,j,…>[%K]`` on the
  command line overrides the script's range) and prints ``SUBMITTED <run> <stage>
  <array id>_<i>`` lines.

Local clusters (``local_gpu`` and ``cpu_only``):

- ``<run>/run_local.sh [STAGE…]``: runs the run's stages in order on this machine (fine-tune,
  then its evaluations; a sweep run's ``run``), with whatever ``CUDA_VISIBLE_DEVICES`` it was
  given; writes ``<run>/exit_code`` (first failing stage's code, else 0) and
  ``<run>/eval/<key>/exit_code``.
- ``launch_local.sh``: runs the group's pending runs, each as ``run_local.sh`` with its
  pending stages, output to ``<run>/local.log``; a fine-tuned run whose fine-tune is neither
  ``pending`` nor ``completed`` (running elsewhere, failed) is skipped. ``local_gpu``: free
  GPUs come from ``python3 -m compiler.gpus_free --min-free-gib X`` at launch
  (``PLANC_GPUS`` overrides, a comma list); each run gets ``Run.train.gpus`` (at least 1) of
  them, never all, through ``CUDA_VISIBLE_DEVICES``; ``cpu_only``: ``settings["cpu_slots"]``
  or ``nproc`` slots (``PLANC_CPU_SLOTS`` overrides) and an empty ``CUDA_VISIBLE_DEVICES``.
  Capacity is ``max(0, min(queued, slots - running))`` (seed 003), recomputed as runs finish;
  it prints ``CAPACITY``, ``STARTED <run> <devices>`` and ``FINISHED <run> <rc>`` lines.

Tracker payloads (every cluster type), research-agent-api.md §2–§5:

- ``api/plan.json`` (``POST /plans``: title, ``goal`` = the plan's Objective or the run
  group's question, ``raw_markdown`` from the ``## 📋 Plan:`` heading without front-matter),
  ``api/plan_update.json`` (the plan's status, applied after create; absent for a draft),
  ``api/sweep.json`` (``POST /sweeps/wild``), ``api/sweep_update.json`` (``PUT
  /sweeps/{id}``: ``parameters`` and the ``command`` template as ``base_command``, sent
  before any run joins), ``api/runs/<run>.json`` (``POST /runs``; ``sweep_id`` null until
  submission; ``auto_start`` from ``settings["api_auto_start"]``, default false;
  ``gpuwrap_config`` ``{"enabled": false}`` on slurm, ``{"enabled": true}`` on local_gpu,
  absent on cpu_only). Commands do their own ``cd`` and environment activation (the
  server runs them in a fresh shell): a local sweep run's command is its expanded command
  (what ``planc expand`` prints) after ``cd`` to the project root, the activation (the
  cluster's ``activate``, else ``source .venv/bin/activate`` for a Compute Setup
  ``Environment: venv``), ``export PLANC_RUN_DIR`` and, on local_gpu, an explicit
  ``CUDA_VISIBLE_DEVICES``; other local runs run their ``run_local.sh`` (GPUs pinned
  round-robin); SLURM commands use ``sbatch --wait`` so the run's status follows the job,
  per-run scripts or, with the array layout, ``--array=<index>`` of each array.
- ``submit_api.sh``: runs ``planc submit <group> --tracker research-agent``
  (:mod:`compiler.research_agent`: created once, ids in ``research_agent.json``, token from
  ``RESEARCH_AGENT_TOKEN`` only), with ``$PLANC_PYTHON -m compiler`` when that is set.

Paths
=====

``settings["out_root"]`` (absolute group folder on the machine that runs the jobs): when set,
``#SBATCH --output`` and every ``cd`` use it. When absent, SLURM scripts write
``--output=slurm-%j.out`` relative to the submit directory (``submit_all.sh`` ``cd``s to each
job's folder before ``sbatch``, as upstream did) and find the group folder through
``PLANC_GROUP_DIR``, which ``submit_all.sh`` exports (sbatch passes the environment on);
the tracker client prefixes commands with ``export PLANC_GROUP_DIR=<abs>``.
``settings["project_root"]`` (absolute) is where sweep commands run and what relative
evaluation script paths are joined to; absent, ``PLANC_PROJECT_ROOT`` is used, which the
group scripts export as the directory they were started from.

Keys read
=========

``RunMatrix.settings`` (as documented by ``compiler.expand``): ``layout`` ("per-run" |
"array"), ``array_throttle`` (int, the ``%K`` of ``--array``; absent or None: no throttle),
``out_root`` (expand leaves it unset), ``project_root``, ``activate``, ``modules``, ``env``,
``account``, ``qos``, ``constraint``, ``mail_user`` (each falls back to the cluster profile's
field when absent), ``tune_command`` (default ``tune``), ``inspect_command`` (default
``inspect``), ``eval_model_provider`` (default ``hf``), ``title``, ``goal``,
``raw_markdown`` (plan payload). Read with a default, not set by expand: ``submit_delay``
(seconds, default 0), ``recipe`` (group default recipe), ``eval_model_args`` (dict →
``-M k=v``), ``min_free_gib`` (GiB, default 0), ``cpu_slots`` (int, default ``nproc``),
``api_auto_start`` (bool, default false), ``sections`` (default: planc's summary of the
group).

``Run.params``: ``output_dir`` (torchtune ``output_dir``; absolute, or relative to the run
folder; default ``output``), ``tune_args`` (the words after ``tune``; without it:
``nproc_per_node`` or ``Run.train.gpus`` > 1, and ``recipe``, default
``lora_finetune_single_device`` for one GPU, ``lora_finetune_distributed`` for more,
formats.md §8), ``model_path`` (control runs' base model; else
``<cluster.models_dir>/<Run.model>``), ``Run.checkpoint_path`` (eval-only runs: the
pre-existing checkpoint every evaluation loads, ``is_finetuned`` true), ``eval_model``
(``provider/name`` override).
``Run.train``/``Run.eval`` give resources, ``Run.command`` a sweep run's command (values
already shell-quoted by expand; the whole line is passed as one word to ``bash -c``).

Rendering
=========

Per-run files (``finetune.slurm``, ``eval.slurm``, ``run.slurm``, ``run_local.sh``, run
bodies) go through :class:`compiler.skeleton.SkeletonRenderer`: one jinja2 render per
shape, then the run's values filled in; the values templates branch on (kind, resources,
GPU count, epoch) are :class:`~compiler.skeleton.Fixed`. Output is byte-identical to a
direct render (a template the skeleton cannot replay renders directly).

Quoting
=======

Plan values are single-quoted by ``shlex.quote``; when a value holds ``$`` or a backtick, the
scripts carry one ``# shellcheck disable=SC2016`` line under the banner, because that
single-quoting is the point. The ``activate`` line of a cluster profile is a shell command
by design and is written as is (it must be one line).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


from . import layout as paths
from .layout import DEFAULT_OUTPUT_DIR, EVAL_DIR
from .matrix import Evaluation, Run, RunMatrix, check_name
from .models.cluster import parse_slurm_time
from .skeleton import Fixed, Flat, PathRef, SkeletonRenderer, flatten

SINGLE_RECIPE = "lora_finetune_single_device"
DISTRIBUTED_RECIPE = "lora_finetune_distributed"

# File names the templates write into scripts (the layout's, never spelled in templates).
_FILES = {
    "status": paths.STATUS_FILE, "array_index": paths.ARRAY_INDEX,
    "finetune_config": paths.FINETUNE_CONFIG, "finetune_slurm": paths.FINETUNE_SLURM,
    "run_slurm": paths.RUN_SLURM, "eval_slurm": paths.EVAL_SLURM,
    "submit_all": paths.SUBMIT_ALL, "array_log": paths.PER_RUN_ARRAY_LOG,
    "eval_config": paths.EVAL_CONFIG, "setup_finetune": paths.SETUP_FINETUNE,
}
# cruijff_kit's setup_inspect.py (niznik-dev/cruijff_kit@72a4ace,
# src/tools/inspect/setup_inspect.py: render_template, DEFAULT_SEED from
# src/tools/experiment/propagate.py) runs every evaluation with --seed (default 14) and
# greedy decoding `-M do_sample=false`; the providers that take do_sample as a model
# argument are inspect-ai's hf/ and planc's offline planc/ (others reject unknown args).
CRUIJFF_EVAL_SEED = 14
DO_SAMPLE_PROVIDERS = ("hf", "planc")

# sbatch reads #SBATCH lines itself, without a shell: values there must be plain tokens.
_SBATCH_VALUE = re.compile(r"^[A-Za-z0-9_./%:@+,=|&*-]+$")
_MEM = re.compile(r"^\d+(?:\.\d+)?[KMGT]?B?$", re.IGNORECASE)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD_BREAKERS = ("\t", "\n", "\r")


def sbatch_value(value: Any, what: str) -> str:
    """Return ``str(value)`` when it is safe in an ``#SBATCH`` line, else raise ``ValueError``."""
    text = str(value)
    if not _SBATCH_VALUE.match(text):
        raise ValueError(f"{what} {text!r} cannot go into an #SBATCH line (allowed: letters, "
                         "digits and _ . / % : @ + , = | & * -; no spaces or quotes)")
    return text


def _one_line(value: str, what: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"{what} must be a single line: {value!r}")
    return value


def _ident(name: str, what: str) -> str:
    if not _IDENT.match(str(name)):
        raise ValueError(f"{what} {name!r} must be an identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return str(name)


def _resources(res: Any, cluster_type: str, what: str,
               seen: dict[Any, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The checked ``#SBATCH`` resource values of ``res`` (a
    :class:`~compiler.matrix.Resources`); ``seen`` memoises them (runs share a handful)."""
    if seen is not None:
        done = seen.get((res, cluster_type))
        if done is None:
            done = seen[(res, cluster_type)] = _resources(res, cluster_type, what)
        return done
    parse_slurm_time(res.time)  # raises ValueError for a malformed time
    if not _MEM.match(str(res.mem)):
        raise ValueError(f"{what}: memory {res.mem!r} is not like 16G or 16000M")
    if int(res.cpus_per_task) < 1 or int(res.gpus) < 0:
        raise ValueError(f"{what}: cpus_per_task must be >= 1 and gpus >= 0")
    return {
        "time": sbatch_value(res.time, "time"),
        "mem": sbatch_value(res.mem, "mem"),
        "cpus_per_task": int(res.cpus_per_task),
        "gpus": int(res.gpus) if cluster_type == "slurm" else 0,
        "partition": sbatch_value(res.partition, "partition") if res.partition else None,
        "gpu_type": (sbatch_value(res.gpu_type, "gpu_type")
                     if res.gpu_type and cluster_type == "slurm" else None),
    }


def _directives(matrix: RunMatrix) -> list[str]:
    """``#SBATCH`` option lines common to every job (only the ones the profile sets)."""
    out: list[str] = []
    for key in ("account", "constraint", "qos"):
        value = _setting(matrix, key)
        if value:
            out.append(f"--{key}={sbatch_value(value, key)}")
    mail = _setting(matrix, "mail_user")
    if mail:
        out.append("--mail-type=END,FAIL")
        out.append(f"--mail-user={sbatch_value(mail, 'mail_user')}")
    return out


def _setting(matrix: RunMatrix, key: str) -> Any:
    """``matrix.settings[key]`` when expand.py set it, else the cluster profile's field."""
    settings = matrix.settings or {}
    return settings[key] if key in settings else getattr(matrix.cluster, key)


def _recipe(run: Run, settings: Mapping[str, Any]) -> str:
    recipe = (run.finetune.recipe if run.finetune else None) or settings.get("recipe")
    if not recipe:
        recipe = DISTRIBUTED_RECIPE if run.train.gpus > 1 else SINGLE_RECIPE
    return _one_line(str(recipe), "recipe")


def _tune_args(run: Run, settings: Mapping[str, Any]) -> list[str]:
    """The words after ``tune``: ``FineTune.tune_args`` (expand.py) when set, else
    ``run [--nproc_per_node N] <recipe> --config finetune.yaml`` (formats.md §8)."""
    given = run.finetune.tune_args if run.finetune else None
    if given:
        return [_one_line(str(w), "tune argument") for w in given]
    nproc = run.finetune.nproc_per_node if run.finetune else None
    if nproc is None and run.train.gpus > 1:
        nproc = run.train.gpus
    words = ["run"]
    if nproc:
        words += ["--nproc_per_node", str(int(nproc))]
    return words + [_recipe(run, settings), "--config", paths.FINETUNE_CONFIG]


def _check_fields(*values: str) -> None:
    for v in values:
        if any(b in v for b in _FIELD_BREAKERS):
            raise ValueError(f"{v!r} contains a tab or newline")


def _eval_context(run: Run, ev: Evaluation, matrix: RunMatrix, settings: Mapping[str, Any],
                  output_dir: PathRef) -> dict[str, Any]:
    check_name(ev.key, "evaluation key")
    task = check_name(ev.task, "evaluation task")
    provider = settings.get("eval_model_provider") or "hf"
    if run.kind == "fine-tuned" and ev.epoch is None:
        # ``best``: the task script picks the epoch under the run's output folder
        model_path = output_dir
        job_name = f"eval-{task}-best"
        default_model = f"{provider}/{run.name}_best"
    elif run.kind == "fine-tuned":
        model_path = output_dir.join(f"epoch_{int(ev.epoch)}")
        job_name = f"eval-{task}-ep{int(ev.epoch)}"
        default_model = f"{provider}/{run.name}_epoch_{ev.epoch}"
    elif run.eval_only:
        # cruijff_kit ``type: "eval-only"``: the pre-existing checkpoint folder, verbatim
        # (design template: checkpoint_path "Used verbatim as model_path"); its eval.yaml
        # names the model ``hf/<run>`` (tests/fixtures/eval_only/eval.golden.yaml)
        model_path = PathRef(_one_line(str(run.checkpoint_path), "checkpoint_path"))
        job_name = f"eval-{task}"
        default_model = f"{provider}/{run.name}"
    else:
        base = run.model_path
        if not base and matrix.cluster.models_dir and run.model:
            base = posixpath.join(matrix.cluster.models_dir, run.model)
        if not base:
            raise ValueError(f"control run {run.name}: no base model path (set params.model_path "
                             "or the cluster's models_dir)")
        model_path = PathRef(str(base))
        job_name = f"eval-{task}"
        default_model = f"{provider}/{run.model or run.name}"
    model = _one_line(str(run.eval_model or default_model), "eval model")
    model_args: dict[str, Any] = {}
    if model.split("/", 1)[0] in DO_SAMPLE_PROVIDERS:
        model_args["do_sample"] = "false"  # deterministic decoding, as cruijff_kit runs it
    model_args.update({_ident(k, "model argument"): v
                       for k, v in (settings.get("eval_model_args") or {}).items()})
    # the plan's evaluation data reaches the task as cruijff_kit passes it (-T data_path;
    # -T config_path is added by the templates: the eval.yaml beside the job); the plan's
    # own task arguments win
    task_args: dict[str, Any] = {"data_path": ev.dataset} if ev.dataset else {}
    task_args.update({_ident(k, "task argument"): v for k, v in (ev.args or {}).items()})
    metadata = [("epoch", "" if ev.epoch is None else str(int(ev.epoch))),
                ("is_finetuned", "true" if run.kind == "fine-tuned" or run.eval_only
                 else "false"),
                ("source_model", _one_line(str(run.model or ""), "model"))]
    script = str(ev.script)
    if "@" not in posixpath.basename(script):
        # inspect-ai (0.3.285, Python 3.11) refuses an absolute task file without
        # ``@task`` ("Non-relative patterns are unsupported"); the plan's task name is the
        # @task function unless the plan writes ``path@function`` itself.
        script = f"{script}@{task}"
    return {
        "key": ev.key,
        "task": task,
        "epoch": ev.epoch,
        "script": PathRef(_one_line(script, "evaluation script")),
        "job_name": job_name,
        "model": model,
        "model_path": model_path,
        "model_args": model_args,
        "task_args": task_args,
        "metadata": [(k, v) for k, v in metadata if v],
        "options": _inspect_options(settings),
        "dir": paths.eval_relpath(run.name, ev.key),
    }


def _inspect_options(settings: Mapping[str, Any]) -> list[str]:
    """inspect ``eval-set`` flags: ``--seed`` (the plan's, else cruijff_kit's 14),
    ``--max-connections`` when the plan states it, and ``--retry-attempts 0`` (a job that
    fails ends; ``planc submit --retry-failed`` runs it again on the same log dir, where
    eval-set reuses the samples already completed)."""
    seed = settings.get("eval_seed")
    words: list[str] = ["--seed", str(int(CRUIJFF_EVAL_SEED if seed is None else seed)),
                        "--retry-attempts", "0"]
    if settings.get("eval_max_connections") is not None:
        words += ["--max-connections", str(int(settings.get("eval_max_connections")))]
    return words


def _run_context(run: Run, index: int, matrix: RunMatrix, settings: Mapping[str, Any],
                 seen: dict[Any, dict[str, Any]] | None = None) -> dict[str, Any]:
    check_name(run.name)
    output_dir = PathRef(_one_line(str(run.output_dir or DEFAULT_OUTPUT_DIR),
                                   "output_dir"))
    _check_fields(output_dir.path)
    ctype = matrix.cluster.type
    ctx: dict[str, Any] = {
        "name": run.name,
        "index": index,
        "kind": run.kind,
        "eval_only": run.eval_only,
        "train": _resources(run.train, ctype, f"run {run.name} (train)", seen),
        "eval_res": _resources(run.eval, ctype, f"run {run.name} (eval)", seen),
        "output_dir": output_dir,
        "evaluations": [_eval_context(run, ev, matrix, settings, output_dir)
                        for ev in run.evaluations],
        "local_gpus": max(1, int(run.train.gpus)),
    }
    if run.kind == "fine-tuned":
        ctx["tune_args"] = _tune_args(run, settings)
    if run.kind == "sweep":
        if not run.command:
            raise ValueError(f"sweep run {run.name} has no command")
        ctx["command"] = run.command
    return ctx


def _eval_arrays(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group evaluations by status key (``<task>_epoch_<N>`` for fine-tuned runs, ``<task>``
    for controls) and run kind: one array per group, element index = the run's index."""
    arrays: dict[tuple[str, bool], dict[str, Any]] = {}
    for run in runs:
        for ev in run["evaluations"]:
            base = run["kind"] == "control"
            key = (ev["key"], base)
            if key not in arrays:
                file = paths.eval_array_script(ev["key"], base)
                arrays[key] = {"file": file, "task": ev["task"], "epoch": ev["epoch"],
                               "base": base, "key": ev["key"], "elements": [],
                               "job_name": ev["job_name"]}
            arrays[key]["elements"].append({"run": run, "ev": ev})
    return list(arrays.values())


def _max_res(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Array jobs share one header: take the largest request of their elements."""
    def mem_mib(m: str) -> float:
        m = m.upper().rstrip("B")
        scale = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
        if m[-1] in scale:
            return float(m[:-1]) * scale[m[-1]]
        return float(m)
    best = dict(items[0])
    for r in items[1:]:
        if parse_slurm_time(r["time"]) > parse_slurm_time(best["time"]):
            best["time"] = r["time"]
        if mem_mib(r["mem"]) > mem_mib(best["mem"]):
            best["mem"] = r["mem"]
        best["cpus_per_task"] = max(best["cpus_per_task"], r["cpus_per_task"])
        best["gpus"] = max(best["gpus"], r["gpus"])
        best["partition"] = best["partition"] or r["partition"]
        best["gpu_type"] = best["gpu_type"] or r["gpu_type"]
    return best


# a plan's front-matter ``status`` → the research-agent plan status (PLAN_STATUSES, §2)
PLAN_STATUS_TO_SERVER = {"draft": "draft", "proposed": "draft", "approved": "approved",
                         "running": "executing", "done": "completed", "abandoned": "archived"}
# the Compute Setup's environment → the line that activates it, run from the project root
# (seed 000: "Environment: venv" is the project's ``.venv``; conda and system name nothing
# planc could activate, so a cluster profile's ``activate`` is needed for them)
ENV_ACTIVATION = {"venv": "source .venv/bin/activate"}


def _api_activation(matrix: RunMatrix) -> str | None:
    """The environment activation of a tracker command: the cluster profile's (or
    settings') ``activate`` line, else the one the plan's Compute Setup implies."""
    activate = _setting(matrix, "activate")
    if activate:
        return _one_line(str(activate), "activate")
    return ENV_ACTIVATION.get(str(matrix.settings.get("environment") or ""))


def _commands_for_api(runs: list[dict[str, Any]], matrix: RunMatrix,
                      settings: Mapping[str, Any]) -> dict[str, str]:
    """The ``command`` of each ``POST /runs`` body (research-agent-api.md §4, §5, §7).

    The server runs it in a fresh shell, so it changes folder and activates the environment
    itself. A local sweep run's command is the run's expanded command (the one ``planc
    expand`` prints), after ``cd`` to the project root, the activation and ``export
    PLANC_RUN_DIR``; other local runs call their ``run_local.sh``; SLURM runs wait for
    their jobs (``sbatch --wait``): per-run scripts, or with ``layout: array`` their
    element of each array (``--array=<index>``, from the group folder).
    """
    from .render import sh

    out_root = settings.get("out_root")
    group = sh(out_root) if out_root else '"$PLANC_GROUP_DIR"'
    project_root = settings.get("project_root")
    project = sh(project_root) if project_root else '"$PLANC_PROJECT_ROOT"'
    ctype = matrix.cluster.type
    activate = _api_activation(matrix)
    gpu_total = max(1, int(matrix.cluster.gpu_count or 1))
    arrays = (_eval_arrays(runs) if ctype == "slurm" and settings.get("layout") == "array"
              else None)
    cursor = 0
    commands: dict[str, str] = {}
    for run in runs:
        run_dir = f"{group}/{sh(run['name'])}"
        if ctype == "slurm" and arrays is not None:
            parts = [f"cd {group}"]
            i = run["index"]
            if run["kind"] == "fine-tuned":
                parts.append(f"sbatch --wait --array={i} {paths.FINETUNE_ARRAY}")
            elif run["kind"] == "sweep":
                parts.append(f"sbatch --wait --array={i} {paths.RUN_ARRAY}")
            parts += [f"sbatch --wait --array={i} {sh(arr['file'])}" for arr in arrays
                      if any(el["run"] is run for el in arr["elements"])]
        elif ctype == "slurm":
            parts = [f"cd {run_dir}"]
            if run["kind"] == "fine-tuned":
                parts.append(f"sbatch --wait {paths.FINETUNE_SLURM}")
            elif run["kind"] == "sweep":
                parts.append(f"sbatch --wait {paths.RUN_SLURM}")
            for ev in run["evaluations"]:
                parts.append(f"(cd {sh(EVAL_DIR + '/' + ev['key'])} && "
                             f"sbatch --wait {paths.EVAL_SLURM})")
        else:
            devices = None
            if ctype == "local_gpu":
                n = min(run["local_gpus"], gpu_total)
                devices = ",".join(str((cursor + i) % gpu_total) for i in range(n))
                cursor = (cursor + n) % gpu_total
            if run["kind"] == "sweep":
                parts = [f"cd {project}"] + ([activate] if activate else [])
                parts += [f"export PLANC_RUN_DIR={run_dir}", 'mkdir -p "$PLANC_RUN_DIR"']
                if devices is not None:
                    parts.append(f"export CUDA_VISIBLE_DEVICES={devices}")
                parts.append(str(run["command"]))
            else:
                parts = [f"cd {run_dir}"] + ([activate] if activate else [])
                prefix = f"CUDA_VISIBLE_DEVICES={devices} " if devices is not None else ""
                parts.append(f"{prefix}bash {paths.RUN_LOCAL}")
        commands[run["name"]] = " && ".join(parts)
    return commands


def _parameters(matrix: RunMatrix) -> dict[str, list[Any]]:
    """The sweep's ``parameters``: each factor's levels as its runs hold them (typed, in
    first-seen order; a run group's Variables table gives them as text), else as the plan
    lists them."""
    keys = list(matrix.factors)
    keys += [k for run in matrix.runs for k in run.factors if k not in keys]
    out: dict[str, list[Any]] = {}
    for key in dict.fromkeys(keys):
        seen: list[Any] = []
        for run in matrix.runs:
            if key in run.factors and run.factors[key] not in seen:
                seen.append(run.factors[key])
        out[key] = seen or list(matrix.factors.get(key, ()))
    return out


def _api_bodies(runs: list[dict[str, Any]], matrix: RunMatrix,
                settings: Mapping[str, Any]) -> dict[str, Any]:
    """The tracker payloads: ``POST /plans``, ``PATCH /plans/{id}`` (the plan's status,
    ``None`` for a draft), ``POST /sweeps/wild``, ``PUT /sweeps/{id}`` (parameters and
    base command, set before any run joins) and ``POST /runs`` bodies."""
    title = str(settings.get("title") or matrix.group)
    goal = str(settings.get("goal") or "")
    sections = settings.get("sections")
    if sections is None:
        sections = {
            "group": matrix.group,
            "kind": matrix.kind,
            "source": matrix.source,
            "cluster": {"name": matrix.cluster.name, "type": matrix.cluster.type},
            "factors": {k: list(v) for k, v in matrix.factors.items()},
            # an eval-only run (a control run loading a pre-existing checkpoint) names it
            "runs": [{"name": r.name, "kind": r.kind, "factors": dict(r.factors),
                      **({"checkpoint_path": r.checkpoint_path} if r.eval_only else {})}
                     for r in matrix.runs],
            "excluded": [{"levels": dict(e.levels), "reason": e.reason} for e in matrix.excluded],
        }
    plan = {"title": title, "goal": goal, "session_id": None, "sections": sections,
            "raw_markdown": str(settings.get("raw_markdown") or "")}
    status = PLAN_STATUS_TO_SERVER.get(str(settings.get("plan_status") or "draft"), "draft")
    plan_update = {"status": status} if status != "draft" else None
    sweep = {"name": matrix.group, "goal": goal, "chat_session_id": None}
    sweep_update: dict[str, Any] = {"parameters": _parameters(matrix)}
    template = str(settings.get("command_template") or "").strip()
    if template:
        sweep_update["base_command"] = _one_line(template, "command template")
    commands = _commands_for_api(runs, matrix, settings)
    out_root = settings.get("out_root")
    ctype = matrix.cluster.type
    run_bodies: dict[str, dict[str, Any]] = {}
    for run in runs:
        body: dict[str, Any] = {
            "name": run["name"],
            "command": commands[run["name"]],
            "workdir": posixpath.join(out_root, run["name"]) if out_root else None,
            "sweep_id": None,
            "parent_run_id": None,
            "origin_alert_id": None,
            "chat_session_id": None,
            "auto_start": bool(settings.get("api_auto_start", False)),
        }
        if ctype == "slurm":
            body["gpuwrap_config"] = {"enabled": False}
        elif ctype == "local_gpu":
            body["gpuwrap_config"] = {"enabled": True}
        run_bodies[run["name"]] = body
    return {"plan": plan, "plan_update": plan_update, "sweep": sweep,
            "sweep_update": sweep_update, "runs": run_bodies}


def _has_literal_expansion(value: Any) -> bool:
    """Whether a plan value holds ``$`` or a backtick (single-quoted on purpose, which
    shellcheck reports as SC2016 "expressions don't expand in single quotes")."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or isinstance(item, str):
            if "$" in item or "`" in item:
                return True
        elif kind is dict or isinstance(item, Mapping):
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is PathRef:
            stack.append(item.path)
    return False


def _skeleton_view(run: dict[str, Any]) -> tuple[dict[str, Any], Flat, list[Flat]]:
    """A run context for :class:`~compiler.skeleton.SkeletonRenderer`: the values templates
    branch on or compare (kind, resources, GPU count, epochs) are :class:`Fixed`. Returns the
    view, its flattening as ``run`` and, per evaluation, the flattening of ``run`` + ``ev``."""
    evs = [{**ev, "epoch": Fixed(ev["epoch"])} for ev in run["evaluations"]]
    view = {**run, "kind": Fixed(run["kind"]), "train": Fixed(run["train"]),
            "eval_res": Fixed(run["eval_res"]), "local_gpus": Fixed(run["local_gpus"]),
            "evaluations": evs}
    flat = flatten({"run": view})
    ev_flats = []
    for ev in evs:
        one = flatten({"ev": ev})
        both = Flat(flat)
        both.update(one)
        both.fixed = flat.fixed + one.fixed
        ev_flats.append(both)
    return view, flat, ev_flats


# The context of the last matrix :func:`check_matrix` validated: a compile checks (in
# compiler.spec.build) and then renders the same matrix object, so the per-run contexts of a
# 10,000-run group are built once, not twice.
_LAST_CONTEXT: list[Any] = []


def check_matrix(matrix: RunMatrix) -> str | None:
    """Every value check :func:`render_scripts` makes, without rendering: ``None`` when the
    matrix can be written safely, else the reason (lint reports it as ``EX012``, so a plan
    that lints clean always compiles)."""
    try:
        ctx = script_context(matrix)
        _LAST_CONTEXT[:] = [matrix, ctx]  # render_scripts reuses it (also in a forked child)
        if ctx["layout"] == "array" and matrix.cluster.type == "slurm":
            for run in ctx["runs"]:
                _check_fields(run["name"], run["kind"])
            files: set[str] = set()
            for arr in _eval_arrays(ctx["runs"]):
                if arr["file"] in files:
                    raise ValueError(f"two evaluation keys map to {arr['file']}")
                files.add(arr["file"])
    except ValueError as exc:
        return str(exc)
    return None


def script_context(matrix: RunMatrix) -> dict[str, Any]:
    """The render context of every script, validated (raises ``ValueError`` like
    :func:`render_scripts`)."""
    settings: Mapping[str, Any] = matrix.settings or {}
    layout = settings.get("layout", "per-run")
    if layout not in ("per-run", "array"):
        raise ValueError(f"settings.layout {layout!r} must be 'per-run' or 'array'")
    throttle = settings.get("array_throttle")
    if throttle is not None and (not isinstance(throttle, int) or throttle < 1):
        raise ValueError(f"settings.array_throttle {throttle!r} must be a positive integer")
    out_root = settings.get("out_root")
    project_root = settings.get("project_root")
    for what, value in (("out_root", out_root), ("project_root", project_root)):
        if value is not None and not str(value).startswith("/"):
            raise ValueError(f"settings.{what} {value!r} must be an absolute path")
        if value is not None:
            _one_line(str(value), what)
    if out_root and matrix.cluster.type == "slurm":
        sbatch_value(out_root, "out_root")  # it lands in #SBATCH --output
    check_name(matrix.group, "group name")
    cluster = matrix.cluster
    activate = _setting(matrix, "activate")
    if activate:
        _one_line(str(activate), "cluster activate line")
    modules = [str(m) for m in (_setting(matrix, "modules") or [])]
    env_vars = {_ident(k, "environment variable"): str(v)
                for k, v in (_setting(matrix, "env") or {}).items()}
    if matrix.kind == "run-group":
        env_vars.setdefault("HF_HUB_OFFLINE", "1")  # compute nodes: formats.md §8

    seen: dict[Any, dict[str, Any]] = {}
    runs = [_run_context(r, i, matrix, settings, seen) for i, r in enumerate(
        [r for r in matrix.runs if r.kind != "control"] + list(matrix.controls))]
    fine_tuned = [r for r in runs if r["kind"] == "fine-tuned"]
    sweeps = [r for r in runs if r["kind"] == "sweep"]
    needs_project_root = bool(sweeps) or any(
        not ev["script"].absolute for r in runs for ev in r["evaluations"])
    literal = _has_literal_expansion([runs, env_vars, modules, out_root or "",
                                      project_root or "", str(settings.get("tune_command", ""))])
    ctx: dict[str, Any] = {
        "literal_expansion": literal,
        "matrix": matrix,
        "cluster": cluster,
        "source": matrix.source,
        "sha256": matrix.source_sha256,
        "out_root": out_root,
        "project_root": project_root,
        "needs_project_root": needs_project_root,
        "directives": _directives(matrix),
        "runs": runs,
        "fine_tuned": fine_tuned,
        "controls": [r for r in runs if r["kind"] == "control"],
        "sweeps": sweeps,
        "throttle": throttle,
        "submit_delay": f"{float(settings.get('submit_delay', 0) or 0):g}",
        "tune": _one_line(str(settings.get("tune_command") or "tune"), "tune_command"),
        "inspect": _one_line(str(settings.get("inspect_command") or "inspect"),
                             "inspect_command"),
        "activate": activate,
        "modules": modules,
        "env_vars": env_vars,
        "eval_dir": EVAL_DIR,
        "files": _FILES,
        "min_free_gib": float(settings.get("min_free_gib", 0) or 0),
        "cpu_slots": int(settings["cpu_slots"]) if settings.get("cpu_slots") else None,
        "layout": layout,
    }
    return ctx


def render_scripts(matrix: RunMatrix, env: jinja2.Environment) -> dict[str, bytes]:
    """Render every launch script and tracker payload of ``matrix``.

    Returns ``{path relative to the group folder: UTF-8 bytes}`` (artifacts in the module
    docstring). Raises ``ValueError`` for values that cannot be written safely (a run name
    or evaluation key that is not a safe path component, an ``#SBATCH`` value with spaces or
    quotes, a multi-line activation line, a control run without a base model path) and
    ``jinja2.UndefinedError`` for a template that uses a value it was not given.
    """
    cached = _LAST_CONTEXT
    ctx = cached[1] if cached and cached[0] is matrix else script_context(matrix)
    settings: Mapping[str, Any] = matrix.settings
    cluster = matrix.cluster
    layout = ctx["layout"]
    runs, fine_tuned, sweeps = ctx["runs"], ctx["fine_tuned"], ctx["sweeps"]
    files: dict[str, str] = {}

    def render(template: str, **extra: Any) -> str:
        return env.get_template(template).render(**ctx, **extra)

    def renderer(template: str) -> SkeletonRenderer:
        return SkeletonRenderer(env.get_template(template))

    if cluster.type == "slurm":
        if layout == "per-run":
            r_ft, r_run, r_ev = (renderer("slurm/finetune.slurm.j2"),
                                 renderer("slurm/run.slurm.j2"), renderer("slurm/eval.slurm.j2"))
            for run in runs:
                view, flat, ev_flats = _skeleton_view(run)
                if run["kind"] == "fine-tuned":
                    files[paths.run_file(run["name"], paths.FINETUNE_SLURM)] = r_ft.render(
                        ctx, {"run": view}, values=flat)
                if run["kind"] == "sweep":
                    files[paths.run_file(run["name"], paths.RUN_SLURM)] = r_run.render(
                        ctx, {"run": view}, values=flat)
                for ev, ev_view, ev_flat in zip(run["evaluations"], view["evaluations"],
                                                ev_flats, strict=True):
                    files[f"{ev['dir']}/{paths.EVAL_SLURM}"] = r_ev.render(
                        ctx, {"run": view, "ev": ev_view}, values=ev_flat)
            files[paths.SUBMIT_ALL] = render("slurm/submit_all.sh.j2")
        else:
            for run in runs:
                _check_fields(run["name"], run["kind"])
            files[paths.ARRAY_INDEX] = render("slurm/array_index.tsv.j2")
            arrays = _eval_arrays(runs)
            if fine_tuned:
                files[paths.FINETUNE_ARRAY] = render(
                    "slurm/finetune_array.slurm.j2",
                    res=_max_res([r["train"] for r in fine_tuned]))
            if sweeps:
                files[paths.RUN_ARRAY] = render(
                    "slurm/run_array.slurm.j2", res=_max_res([r["train"] for r in sweeps]))
            for arr in arrays:
                if arr["file"] in files:
                    raise ValueError(f"two evaluation keys map to {arr['file']}")
                files[arr["file"]] = render(
                    "slurm/eval_array.slurm.j2", arr=arr,
                    res=_max_res([e["run"]["eval_res"] for e in arr["elements"]]))
            files[paths.SUBMIT_ALL] = render("slurm/submit_all_array.sh.j2", arrays=arrays)
    else:
        r_local = renderer("local/run_local.sh.j2")
        for run in runs:
            view, flat, _ = _skeleton_view(run)
            files[paths.run_file(run["name"], paths.RUN_LOCAL)] = r_local.render(
                ctx, {"run": view}, values=flat)
        files[paths.LAUNCH_LOCAL] = render("local/launch_local.sh.j2")

    bodies = _api_bodies(runs, matrix, settings)
    files[paths.API_PLAN] = render("api/body.json.j2", body=bodies["plan"])
    if bodies["plan_update"] is not None:
        files[paths.API_PLAN_UPDATE] = render("api/body.json.j2", body=bodies["plan_update"])
    files[paths.API_SWEEP] = render("api/body.json.j2", body=bodies["sweep"])
    files[paths.API_SWEEP_UPDATE] = render("api/body.json.j2", body=bodies["sweep_update"])
    r_body = renderer("api/run.json.j2")
    for name, body in bodies["runs"].items():
        if "gpuwrap_config" in body:  # the same for every run: part of the shape
            body = {**body, "gpuwrap_config": Fixed(body["gpuwrap_config"])}
        files[paths.api_run_body(name)] = r_body.render(ctx, {"body": body})
    files[paths.SUBMIT_API] = render("api/submit_api.sh.j2")
    return {path: text.encode("utf-8") for path, text in files.items()}
