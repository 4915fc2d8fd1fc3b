"""Expand a run group or a sweep into a :class:`~compiler.matrix.RunMatrix`.

Factors become runs by **product** (``design: grid``, the default), **zip** (paired lists
of equal length; unequal lengths are a diagnostic), or an **explicit run list** (front-matter
``runs:``, or the seed document's "All Runs" table). **Exclusions** remove combinations and
must state a reason (one without is a diagnostic). **Repeats** add a ``seed`` factor.
Evaluations are task × epoch for fine-tuned runs and task alone for control runs, narrowed
by an evaluation matrix when the plan has one. Every run name goes through
:func:`compiler.matrix.check_name` (a name that could escape the output folder is a
diagnostic). Estimates (``compiler.estimate``) fill ``Run.estimate`` and ``RunMatrix.totals``.

Run names
    run groups (seed 004 "Naming Convention"): ``{model}_{factors}_rank{r}`` and
    ``{model}_base``; a factor level that is a string appears as is (``5L``), a number as
    ``<factor><value>`` (``lr0.0001``), a repeat as ``seed<N>``. Sweeps: ``<param><value>``
    joined by ``_`` in parameter order (``alpha0.001_seed1``); characters outside
    ``[A-Za-z0-9._+-]`` become ``-``.

Evaluation keys (``Evaluation.key``, the ``runs_status.yaml`` key and the folder
``<run>/eval/<key>/``)
    fine-tuned: ``<task>_epoch_<N>`` (N 0-based = torchtune ``epoch_N/``); control:
    ``<task>``; ``evaluation.epochs: best`` gives one job per task, key ``<task>_best``,
    ``epoch=None``: its script picks the epoch with the lowest validation loss at run time
    (``args["epoch_select"] == "best"``, ``args["model_path"]`` is the run's output folder).

Recipes (``training.recipe: auto``; seed 004 "Recipe Selection Logic", formats.md §8)
    ≤1 GPU → ``lora_finetune_single_device``; >1 → ``lora_finetune_distributed`` with
    ``--nproc_per_node N``; validation on 1 GPU → ``lora_finetune_single_device_val``, a
    **custom** recipe module the project must provide (torchtune 0.6.1 has no validation
    loop); validation on >1 GPU has no recipe (diagnostic). A named recipe is used as given.

``RunMatrix.settings`` keys (stable; ``compiler.scripts`` reads them)
    ``group`` (str) group folder name; ``outputs_root`` (str | None, absolute) root of
    checkpoints and logs when the plan (``compute.output_dir``), the cluster profile
    (``scratch_dir``/<group>) or ``--out-root`` gives one: a run then writes to
    ``{outputs_root}/{run}``; without it each run writes to ``output/`` inside its own run
    folder. ``out_root`` (the group folder's absolute location where jobs run) is **not**
    set: scripts find the group folder at run time (``PLANC_GROUP_DIR``), so compiled files
    do not depend on the machine that compiled them. ``project_root`` (str, absolute) only
    when the plan states ``workdir``. ``layout`` ``"per-run"`` | ``"array"``;
    ``array_throttle`` (int | None) ``%K`` of ``--array``; ``activate`` (str | None) shell
    line activating the environment; ``modules`` (list[str]) ``module load`` names; ``env``
    (dict[str, str]) exported variables (cluster env, plus ``HF_HUB_OFFLINE=1`` for run
    groups); ``tune_command`` (``"tune"``); ``inspect_command`` (``"inspect"``);
    ``eval_model_provider`` (``"hf"``); ``eval_model_args`` (dict, the plan's
    ``evaluation.model_args``, each passed as ``-M key=value``); ``plan`` (str) plan path
    relative to the project root; ``cluster_type`` ``"slurm"`` | ``"local_gpu"`` |
    ``"cpu_only"``; ``account``, ``qos``, ``constraint``, ``mail_user`` (str | None);
    sweeps also ``title``, ``goal``, ``raw_markdown`` (the plan payload of ``api/plan.json``).

``Run.params`` keys
    all runs: ``output_dir`` (``{outputs_root}/{run}``, else ``output``: relative to the run
    folder). Fine-tuned and control runs: ``model_path`` (absolute model folder),
    ``system_prompt``. Fine-tuned runs also: ``lora_rank``, ``lora_alpha`` (= 2 × rank),
    ``batch_size``, ``gradient_accumulation_steps``, ``epochs``, ``lr``, ``weight_decay``,
    ``seed``, ``packed``, ``validation``, ``run_val_every_n_steps``, ``max_seq_len``,
    ``data_path``, ``recipe`` (name or dotted module), ``recipe_builtin`` (bool),
    ``nproc_per_node`` (int | None), ``tune_args`` (list[str]: the words after ``tune``, e.g.
    ``["run", "lora_finetune_single_device", "--config", "finetune.yaml"]``; run from the run
    folder), ``device`` (``cuda``/``cpu``), ``eval_model`` (the plan's ``evaluation.model``,
    inspect ``--model`` for every evaluation, when given). Sweep runs: every parameter's value plus
    ``output_dir``; ``Run.command`` is the filled command (values shell-quoted; ``{out}`` is
    ``"$PLANC_RUN_DIR"/output`` without an outputs root).

``Evaluation``
    ``script`` (the task file), ``dataset`` (or None); ``args`` holds only inspect **task**
    arguments (``-T k=v``) and is empty unless the plan gives some; the model path, output
    folder and system prompt live in ``<run>/eval/<key>/eval.yaml``.

``Run.train``/``Run.eval`` are the fine-tune and evaluation job resources: the plan's
``compute`` (and ``compute.eval``) when stated, else the cluster defaults, with ``time``
from the estimate (× 1.5, at least 5 min) when the plan states none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Severity
from .layout import DEFAULT_OUTPUT_DIR, FINETUNE_CONFIG
from .matrix import Evaluation, Exclusion, Resources, Run, RunMatrix, check_name
from .models.cluster import CPU_ONLY, ClusterProfile, JobDefaults, format_slurm_time

BUILTIN_RECIPES = {"lora_finetune_single_device", "lora_finetune_distributed",
                   "full_finetune_single_device", "full_finetune_distributed"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# diagnostic codes of expansion (documented in ``planc explain`` via rules.BUILTIN_CODES)
CODES = {
    "EX001": "expand-zip-length",
    "EX002": "expand-exclusion-reason",
    "EX003": "expand-run-name",
    "EX004": "expand-duplicate-run",
    "EX005": "expand-placeholder",
    "EX006": "expand-model",
    "EX007": "expand-matrix",
    "EX008": "expand-recipe",
    "EX009": "expand-epoch",
    "EX010": "expand-cluster",
    "EX011": "expand-batch-size",
}


def _diag(path: str, pos: tuple[int, int], code: str, message: str) -> Diagnostic:
    return Diagnostic(path, pos[0], pos[1], code, Severity.ERROR, message, CODES[code])


# -- pure expansion ------------------------------------------------------------------------
def combine(factors: dict[str, Sequence[Any]], design: str = "grid"
            ) -> tuple[list[dict[str, Any]], str | None]:
    """All level combinations of ``factors`` (in factor order), and an error or ``None``.

    ``grid``: the Cartesian product (count = ∏ len(levels)); ``zip``: i-th levels together
    (all lists must have the same length, else the error names the lengths). No factors →
    one empty combination.
    """
    names = list(factors)
    if design == "zip":
        lengths = {n: len(factors[n]) for n in names}
        if len(set(lengths.values())) > 1:
            return [], "zip needs level lists of equal length, got " + ", ".join(
                f"{n}={k}" for n, k in lengths.items())
        count = next(iter(lengths.values()), 1)
        return [{n: factors[n][i] for n in names} for i in range(count)], None
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(factors[n] for n in names))], None


def matches(levels: dict[str, Any], combo: dict[str, Any]) -> bool:
    """Whether an exclusion's ``levels`` all equal the combination's (compared as text)."""
    return all(k in combo and str(combo[k]) == str(v) for k, v in levels.items())


def slug(value: Any) -> str:
    """A level as a name part: unsafe characters → ``-`` (``1e-4`` stays, ``a/b`` → ``a-b``)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = _UNSAFE.sub("-", str(value)).strip("-")
    return text or "x"


def sweep_run_name(combo: dict[str, Any]) -> str:
    """``alpha0.001_seed1``: ``<param><value>`` joined by ``_``; ``run`` when empty."""
    if not combo:
        return "run"
    return "_".join(f"{slug(k)}{slug(v)}" for k, v in combo.items())


def rungroup_run_name(model: str, combo: dict[str, Any], rank: int | None) -> str:
    """Seed 004: ``{model}_{factors}_rank{r}``; strings verbatim, numbers ``<factor><v>``."""
    parts = [model]
    for k, v in combo.items():
        if k in ("model", "lora_rank"):
            continue
        if isinstance(v, str) and not re.fullmatch(r"[-+]?[\d.eE+-]+", v):
            parts.append(slug(v))
        else:
            parts.append(f"{slug(k)}{slug(v)}")
    if rank is not None:
        parts.append(f"rank{rank}")
    return "_".join(parts)


def fill_command(template: str, values: dict[str, Any]) -> tuple[str, list[str]]:
    """Fill ``{name}`` placeholders with shell-quoted values; returns (command, unknown
    placeholder names). ``{{``/``}}`` stay literal braces."""
    from .render import sh

    unknown: list[str] = []
    protected = template.replace("{{", "\x00").replace("}}", "\x01")

    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            unknown.append(key)
            return m.group(0)
        value = values[key]
        return value.shell if isinstance(value, _RunDirOutput) else sh(value)

    out = _PLACEHOLDER.sub(repl, protected)
    return out.replace("\x00", "{").replace("\x01", "}"), unknown


class _RunDirOutput:
    """``{out}`` without an outputs root: the run folder's ``output/``, expanded by the shell
    that runs the command (the scripts export ``PLANC_RUN_DIR``)."""

    shell = '"$PLANC_RUN_DIR"/output'


def recipe_for(recipe: str, gpus: int, validation: bool) -> tuple[str, int | None, str | None]:
    """(recipe, nproc_per_node or None, error or None) — seed 004 recipe selection."""
    if recipe and recipe != "auto":
        name = recipe[:-3] if recipe.endswith(".py") else recipe
        if name == "lora_finetune_distributed_v1":
            name = "lora_finetune_distributed"
        return name, (gpus if gpus > 1 and "distributed" in name else None), None
    if gpus > 1:
        if validation:
            return "lora_finetune_distributed", gpus, (
                "validation during training on more than one GPU needs a distributed "
                "validation recipe, which torchtune 0.6.1 does not have; name a custom "
                "recipe in training.recipe or use 1 GPU")
        return "lora_finetune_distributed", gpus, None
    if validation:
        return "lora_finetune_single_device_val", None, None
    return "lora_finetune_single_device", None, None


# -- context: cluster, output root ---------------------------------------------------------
@dataclasses.dataclass
class Options:
    """Compile options: ``cluster`` name override, ``layout`` override, ``out_dir`` (the
    compile output folder; the group folder is ``out_dir/<group>``), ``out_root`` override
    for checkpoints, ``history`` (an :class:`compiler.estimate.History`)."""

    cluster: str | None = None
    layout: str | None = None
    out_dir: Path | None = None
    out_root: str | None = None
    history: Any = None


def _sha256(doc: Any) -> str:
    try:
        raw = Path(doc.path).read_bytes()
    except OSError:
        raw = doc.text.encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def _rel(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def resolve_cluster(name: str | None, settings: Any, default: ClusterProfile,
                    path: str, pos: tuple[int, int]) -> tuple[ClusterProfile, list[Diagnostic]]:
    """The named profile (``compiler.clusters``), else ``default``."""
    if not name:
        return default, []
    from .clusters import load_profile

    prof, diags = load_profile(name, settings)
    if prof is None:
        return default, [_diag(path, pos, "EX010", d.message + (f" ({d.path}:{d.line})"
                                                                 if d.path else ""))
                         for d in diags]
    return prof, []


def _resources(base: JobDefaults, plan: dict[str, Any], part: str | None, gpus: int
               ) -> Resources:
    return Resources(gpus=gpus,
                     cpus_per_task=int(plan.get("cpus") or base.cpus_per_task),
                     mem=str(plan.get("mem") or base.mem),
                     time=str(plan.get("time") or base.time),
                     partition=part)


# -- run groups ---------------------------------------------------------------------------
def expand_rungroup(spec: Any, settings: Any, options: Options | None = None,
                    sha256: str = "") -> tuple[RunMatrix | None, list[Diagnostic]]:
    """A :class:`~compiler.models.rungroup.RunGroupSpec` → RunMatrix (or diagnostics)."""
    from . import estimate as est
    from .registry import load_registry, size_class

    options = options or Options()
    path = spec.source
    diags: list[Diagnostic] = []
    root = Path(getattr(settings, "root", None) or Path.cwd())
    generic = ClusterProfile(name="generic-slurm", type="slurm")
    cluster_name = options.cluster or spec.compute.get("cluster") or getattr(settings, "cluster",
                                                                            None)
    cluster, cd = resolve_cluster(cluster_name, settings, generic, path,
                                  spec.pos("compute.cluster"))
    diags += cd
    registry, rdiags = load_registry(settings)
    diags += rdiags
    t = spec.training
    gpus_plan = spec.compute.get("gpus")
    gpus = int(gpus_plan if gpus_plan is not None else cluster.defaults.gpus)
    if cluster.type == "cpu_only":
        gpus = 0
    eval_gpus_plan = spec.eval_compute.get("gpus")
    eval_gpus = int(eval_gpus_plan if eval_gpus_plan is not None else min(gpus, 1))
    part = spec.compute.get("partition")
    if part is None and cluster.type == "slurm":
        p = cluster.partition()
        part = p.name if p else None
    eval_part = spec.eval_compute.get("partition") or part
    out_root = _out_root(options, spec.compute.get("output_dir"), cluster, spec.name)
    layout = options.layout or spec.layout

    # factors and combinations
    factors = {_norm_factor(k): list(v) for k, v in spec.factors.items()}
    models_order = list(spec.models)
    combos: list[dict[str, Any]] = []
    excluded: list[Exclusion] = []
    rows: list[dict[str, Any]] = []
    if spec.explicit_runs:
        rows = [dict(r) for r in spec.explicit_runs]
    else:
        grid = dict(factors)
        if "model" not in grid:
            grid = {"model": models_order, **grid}
        if spec.repeats:
            base_seed = int(t.get("seed") or 0)
            grid["seed"] = [base_seed + i for i in range(spec.repeats)]
        combos, err = combine(grid, spec.design)
        if err:
            diags.append(_diag(path, spec.pos("variables"), "EX001", err))
        for levels, reason, pos in spec.exclude:
            if not reason or not str(reason).strip():
                diags.append(_diag(path, pos, "EX002", "an exclusion must state its reason "
                                   f"(levels {levels})"))
                continue
            excluded.append(Exclusion(dict(levels), str(reason)))
        kept = [c for c in combos if not any(matches(e.levels, c) for e in excluded)]
        for c in kept:
            rows.append({"name": None, "model": str(c["model"]), "type": "fine-tuned",
                         "factors": c, "lora_rank": None, "batch_size": None})
        for m in spec.controls:
            rows.append({"name": None, "model": m, "type": "control", "factors": {},
                         "lora_rank": None, "batch_size": None})

    tasks = {tk.name: tk for tk in spec.eval_tasks}
    if spec.matrix is not None:
        for rname, tnames in spec.matrix.items():
            for tn in tnames:
                if tn not in tasks:
                    diags.append(_diag(path, spec.pos("evaluation.matrix"), "EX007",
                                       f"evaluation matrix names unknown task {tn!r} for "
                                       f"run {rname}"))
    runs: list[Run] = []
    seen: dict[str, int] = {}
    base_train = _resources(cluster.defaults, spec.compute, part, gpus)
    base_eval = _resources(cluster.defaults, {**spec.compute, **{
        k: v for k, v in spec.eval_compute.items() if v is not None}}, eval_part, eval_gpus)
    timed_cache: dict[tuple[Resources, float], Resources] = {}

    def timed(base: Resources, seconds: float) -> Resources:
        """``base`` with the job time limit for ``seconds`` of work (runs share a few)."""
        res = timed_cache.get((base, seconds))
        if res is None:
            res = timed_cache[(base, seconds)] = dataclasses.replace(
                base, time=format_slurm_time(est.job_time_limit(seconds)))
        return res

    ckpt_cache: dict[str, float] = {}
    sizes = {n: e.size for n, e in registry.models.items()}
    for row in rows:
        model = row["model"]
        combo = dict(row.get("factors") or {})
        pos = spec.pos(f"runs.{row['name']}") if row.get("name") else spec.pos("variables")
        entry = registry.get(model)
        if entry is None:
            diags.append(_diag(path, spec.pos(f"models.{model}"), "EX006",
                               f"model {model!r} is not in the model registry (built-in: "
                               f"{', '.join(sorted(registry.models))}); add it to the "
                               "project's models.yaml"))
            continue
        model_path = spec.models.get(model)
        if not model_path and cluster.models_dir:
            model_path = f"{cluster.models_dir.rstrip('/')}/{model}"
        if not model_path:
            diags.append(_diag(path, spec.pos(f"models.{model}"), "EX006",
                               f"no path for model {model!r}: give models[].path or the "
                               "cluster profile's models_dir"))
            continue
        control = row["type"] == "control"
        params_t = {k: v for k, v in t.items()}
        for k, v in combo.items():
            if k in params_t and k not in ("batch_size",):
                params_t[k] = v
        rank = row.get("lora_rank") or combo.get("lora_rank") or t.get("lora_rank")
        rank = int(rank) if rank is not None and not control else None
        if control:
            name = row.get("name") or f"{model}_base"
        else:
            name = row.get("name") or rungroup_run_name(model, combo, rank)
        try:
            check_name(name)
        except ValueError as exc:
            diags.append(_diag(path, pos, "EX003", str(exc)))
            continue
        if name in seen:
            diags.append(_diag(path, pos, "EX004", f"two runs are named {name!r}"))
            continue
        seen[name] = 1
        out_dir = f"{out_root}/{name}" if out_root else DEFAULT_OUTPUT_DIR
        size = size_class(model, registry)
        defaults = est.SIZE_DEFAULTS.get(size, est.SIZE_DEFAULTS["1B"])
        hist = options.history
        hist_it_s = ((hist.mean("it_s", model, size, sizes)
                      or est.scaled_speed(hist, size, sizes)) if hist else None)
        it_s = hist_it_s or defaults["it_s"]
        if model not in ckpt_cache:
            ckpt_cache[model] = ((hist.mean("ckpt_gib", model, size, sizes) if hist else None)
                                 or defaults["ckpt_gib"])
        ckpt = ckpt_cache[model]
        system_prompt = str(params_t.get("system_prompt") or "")
        if control:
            batch = _batch_for(t.get("batch_size"), model, None)
        else:
            batch = row.get("batch_size") or combo.get("batch_size") or _batch_for(
                t.get("batch_size"), model, size)
            if batch is None:
                diags.append(_diag(path, spec.pos("training.batch_size"), "EX011",
                                   f"no batch size for model {model!r} in training.batch_size"))
                continue
        epochs = int(params_t.get("epochs") or 1)
        # evaluations
        if spec.matrix is not None and name in spec.matrix:
            tnames = [tn for tn in spec.matrix[name] if tn in tasks]
        else:
            tnames = list(tasks)
        evals: list[Evaluation] = []
        for tn in tnames:
            task = tasks[tn]
            if control:
                evals.append(_evaluation(task, tn, None, combo))
                continue
            sel = spec.eval_epochs
            if sel == "best":
                evals.append(_evaluation(task, f"{tn}_best", None, combo))
                continue
            eps = (list(range(epochs)) if sel == "all" else [epochs - 1] if sel == "last"
                   else list(sel))
            for e in eps:
                if not 0 <= e < epochs:
                    diags.append(_diag(path, spec.pos("evaluation.epochs"), "EX009",
                                       f"run {name}: epoch {e} is not one of the {epochs} "
                                       f"epochs (0-based: 0..{epochs - 1})"))
                    continue
                evals.append(_evaluation(task, f"{tn}_epoch_{e}", e, combo))
        # params
        params: dict[str, Any] = {"output_dir": out_dir, "model_path": model_path,
                                  "system_prompt": system_prompt}
        if spec.eval_model:
            params["eval_model"] = spec.eval_model
        train_res = base_train
        estimate: dict[str, float] = {}
        test_n = _count(spec.splits.get("test"))
        # Seed 004: formulas need a measured speed; without prior runs, use the seed's
        # conservative per-epoch and per-evaluation guesses for the model size.
        eval_job_s = est.eval_job_seconds(test_n if hist_it_s else None, batch or 1, it_s,
                                          defaults["eval_job_s"])
        eval_s = eval_job_s * len(evals)
        if control:
            train_s = 0.0
            steps = None
        else:
            recipe, nproc, rerr = recipe_for(str(params_t.get("recipe") or "auto"), gpus,
                                             bool(params_t.get("validation")))
            if rerr:
                diags.append(_diag(path, spec.pos("training.recipe"), "EX008", rerr))
            tune_args = ["run"]
            if nproc:
                tune_args += ["--nproc_per_node", str(nproc)]
            tune_args += [recipe, "--config", FINETUNE_CONFIG]
            data_path = _fill_factors(spec.data_path, combo)
            params.update({
                "lora_rank": rank, "lora_alpha": 2 * rank if rank else None,
                "batch_size": int(batch),
                "gradient_accumulation_steps": int(params_t.get("gradient_accumulation_steps")
                                                   or 1),
                "epochs": epochs, "lr": params_t.get("lr"),
                "weight_decay": params_t.get("weight_decay"), "seed": params_t.get("seed"),
                "packed": bool(params_t.get("packed")),
                "validation": bool(params_t.get("validation")),
                "run_val_every_n_steps": int(params_t.get("run_val_every_n_steps") or 0),
                "max_seq_len": int(params_t.get("max_seq_len") or 2048),
                "data_path": data_path, "recipe": recipe,
                "recipe_builtin": recipe in BUILTIN_RECIPES, "nproc_per_node": nproc,
                "tune_args": tune_args,
                "device": "cpu" if gpus == 0 else entry.device,
            })
            train_n = _count(spec.splits.get("train"))
            train_s, _ = est.train_seconds(train_n if hist_it_s else None, int(batch),
                                           params["gradient_accumulation_steps"], epochs,
                                           it_s, defaults["epoch_guess_s"])
            steps = (est.steps_per_epoch(train_n, int(batch),
                                         params["gradient_accumulation_steps"])
                     if train_n else None)
            if not spec.compute.get("time"):
                train_res = timed(base_train, train_s)
        eval_res = base_eval
        if not spec.eval_compute.get("time"):
            eval_res = timed(base_eval, eval_job_s)
        gpu_h = (train_s * max(gpus, 0) + eval_s * max(eval_gpus, 0)) / 3600
        estimate = {
            "train_seconds": round(train_s, 1), "eval_seconds": round(eval_s, 1),
            "eval_job_seconds": round(eval_job_s, 1), "seconds": round(train_s + eval_s, 1),
            "gpu_hours": round(gpu_h, 3),
            "disk_gib": round(est.disk_gib(0 if control else epochs, ckpt, len(evals)), 3),
            "it_s": round(it_s, 4), "steps_per_epoch": float(steps or 0),
            "ckpt_gib": round(ckpt, 3), "from_history": 1.0 if hist_it_s else 0.0,
        }
        runs.append(Run(name=name, kind="control" if control else "fine-tuned", model=model,
                        factors=combo, params=params, evaluations=tuple(evals),
                        train=train_res, eval=eval_res, estimate=estimate))
    if not runs and not diags:
        diags.append(_diag(path, spec.pos("variables"), "EX003",
                           "the run group expands to no runs"))
    if any(d.severity == Severity.ERROR for d in diags):
        return None, diags
    runs.sort(key=lambda r: 0 if r.kind == "fine-tuned" else 1)  # stable: plan order inside
    settings_out = _matrix_settings(cluster, spec.name, out_root, layout, spec.array_throttle,
                                    _rel(spec.source, root), group_env=True)
    if spec.eval_model_args:
        settings_out["eval_model_args"] = dict(spec.eval_model_args)
    matrix = RunMatrix(group=spec.name, kind="run-group", runs=tuple(runs), cluster=cluster,
                       source=_rel(spec.source, root), source_sha256=sha256,
                       created=spec.created,
                       factors={k: tuple(v) for k, v in factors.items()},
                       excluded=tuple(excluded), settings=settings_out,
                       totals=totals(runs))
    return matrix, diags


def _norm_factor(name: str) -> str:
    low = re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")
    return {"model_size": "model", "models": "model", "lora_ranks": "lora_rank",
            "rank": "lora_rank"}.get(low, low)


def _count(v: Any) -> int | None:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def _batch_for(batch: Any, model: str, size: str | None) -> int | None:
    if isinstance(batch, int):
        return batch
    if isinstance(batch, dict):
        if model in batch:
            return int(batch[model])
        if size is not None and size in batch:
            return int(batch[size])
        if "" in batch:
            return int(batch[""])
        return None if size is not None else next(iter(batch.values()), None)
    return None


def _fill_factors(text: str | None, combo: dict[str, Any]) -> str:
    if not text:
        return ""
    return _PLACEHOLDER.sub(lambda m: str(combo[m.group(1)]) if m.group(1) in combo
                            else m.group(0), text)


def _evaluation(task: Any, key: str, epoch: int | None, combo: dict[str, Any]) -> Evaluation:
    script = _fill_factors(task.script, combo)
    dataset = _fill_factors(task.dataset, combo) if task.dataset else None
    return Evaluation(key=key, task=task.name, epoch=epoch, script=script, dataset=dataset)


def eval_model_path(run: Run, ev: Evaluation) -> str:
    """The model an evaluation loads: ``<output_dir>/epoch_<N>`` for fine-tuned runs (the
    run's output folder for ``best``), the base model for control runs."""
    if run.kind == "control":
        return str(run.params.get("model_path"))
    out = str(run.params.get("output_dir"))
    return out if ev.epoch is None else f"{out}/epoch_{ev.epoch}"


def _out_root(options: Options, plan_out: str | None, cluster: ClusterProfile, group: str
              ) -> str | None:
    if options.out_root:
        return str(options.out_root).rstrip("/")
    if plan_out:
        return str(plan_out).rstrip("/")
    if cluster.scratch_dir:
        return f"{cluster.scratch_dir.rstrip('/')}/{group}"
    return None


def _matrix_settings(cluster: ClusterProfile, group: str, out_root: str | None, layout: str,
                     throttle: int | None, plan: str, group_env: bool,
                     project_root: str | None = None) -> dict[str, Any]:
    env = dict(cluster.env)
    if group_env:
        env.setdefault("HF_HUB_OFFLINE", "1")
    return {
        "group": group, "outputs_root": out_root, "layout": layout, "array_throttle": throttle,
        "activate": cluster.activate, "modules": list(cluster.modules), "env": env,
        "tune_command": "tune", "inspect_command": "inspect", "eval_model_provider": "hf",
        **({"project_root": project_root} if project_root else {}),
        "plan": plan, "cluster_type": cluster.type,
        "account": cluster.account, "qos": cluster.qos, "constraint": cluster.constraint,
        "mail_user": cluster.mail_user,
    }


def totals(runs: Sequence[Run]) -> dict[str, float]:
    """Group totals (see the estimate module docstring for the keys)."""
    def s(key: str) -> float:
        return sum(r.estimate.get(key, 0.0) for r in runs)

    longest_train = max((r.estimate.get("train_seconds", 0.0) for r in runs), default=0.0)
    longest_eval = max((r.estimate.get("eval_job_seconds", 0.0) for r in runs
                        if r.evaluations), default=0.0)
    return {"runs": float(len(runs)), "evaluations": float(sum(len(r.evaluations)
                                                                 for r in runs)),
            "train_seconds": round(s("train_seconds"), 1),
            "eval_seconds": round(s("eval_seconds"), 1), "seconds": round(s("seconds"), 1),
            "parallel_seconds": round(longest_train + longest_eval, 1),
            "gpu_hours": round(s("gpu_hours"), 3), "disk_gib": round(s("disk_gib"), 3)}


# -- sweeps ---------------------------------------------------------------------------------
@dataclasses.dataclass
class SweepSpec:
    """A plan with a command template: the sweep's facts and their positions."""

    name: str
    source: str
    created: str
    command: str
    factors: dict[str, list[Any]]
    design: str = "grid"
    explicit: list[dict[str, Any]] | None = None
    exclude: list[tuple[dict[str, Any], str | None, tuple[int, int]]] = dataclasses.field(
        default_factory=list)
    compute: dict[str, Any] = dataclasses.field(default_factory=dict)
    cluster: str | None = None
    layout: str = "per-run"
    array_throttle: int | None = None
    positions: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    zipped: list[str] = dataclasses.field(default_factory=list)
    workdir: str | None = None
    title: str | None = None
    goal: str | None = None
    raw_markdown: str = ""

    def pos(self, key: str) -> tuple[int, int]:
        return self.positions.get(key, self.positions.get("", (1, 1)))


def sweep_spec_from_document(doc: Any) -> tuple[SweepSpec | None, list[Diagnostic]]:
    """A plan document with front-matter ``command:`` → :class:`SweepSpec`.

    Parameters come from the front-matter ``sweep:`` block (grid/zip/runs/exclude/seeds/
    repeats) or, without it, from the plan's Parameters to Sweep table (a grid).
    ``(None, [])`` when the plan has no command (nothing to compile).
    """
    from .models.frontmatter import PlanFrontMatter
    from .models.rungroup import _fm_pos, created_stamp

    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    if not fm.get("command"):
        return None, []
    try:
        model = PlanFrontMatter.model_validate(fm)
    except Exception as exc:  # schema errors are CM002/CM003's business; summarise
        return None, [_diag(doc.path, (max(1, doc.fm_line), 1), "EX005",
                            f"front-matter does not validate: {exc}".splitlines()[0])]
    pos = {"": (max(1, doc.fm_line), 1), "command": _fm_pos(doc, ("command",))}
    for key in ("time", "gpus", "cpus", "mem", "cluster"):
        if key in fm:
            pos[f"compute.{key}"] = _fm_pos(doc, (key,))
    factors: dict[str, list[Any]] = {}
    design = "grid"
    explicit = None
    zipped: list[str] = []
    exclude: list[tuple[dict[str, Any], str | None, tuple[int, int]]] = []
    sw = model.sweep
    if sw is not None:
        pos["sweep"] = _fm_pos(doc, ("sweep",))
        if sw.zip:
            factors = {k: list(v) for k, v in sw.zip.items()}
            zipped = list(factors)
            design = "zip"
            if sw.grid:
                factors.update({k: list(v) for k, v in sw.grid.items()})
                design = "zip+grid"
        else:
            factors = {k: list(v) for k, v in sw.grid.items()}
        explicit = [dict(r) for r in sw.runs] or None
        for i, ex in enumerate(sw.exclude):
            levels = {k: v for k, v in ex.items() if k != "reason"}
            if isinstance(ex.get("levels"), dict):
                levels = dict(ex["levels"])
            exclude.append((levels, ex.get("reason"), _fm_pos(doc, ("sweep", "exclude", i))))
        seeds = list(sw.seeds) or (list(range(1, sw.repeats + 1)) if sw.repeats else [])
        if seeds and "seed" not in factors:
            factors["seed"] = seeds
        if zipped and set(factors) - set(zipped):
            design = "zip+grid"  # repeats (and grid factors) multiply the zipped rows
    else:
        from .models.plan import sweep_parameters

        factors = {name: list(values) for name, values in sweep_parameters(doc)}
        for name, values in factors.items():
            if not values:
                return None, [_diag(doc.path, pos[""], "EX005", f"sweep parameter {name!r} "
                                    "has no concrete values")]
    name = model.name or model.id or Path(doc.path).parent.name or Path(doc.path).stem
    compute = {"time": model.time, "gpus": model.gpus, "cpus": model.cpus, "mem": model.mem}
    return SweepSpec(name=str(name), source=doc.path,
                     created=created_stamp(model.created), command=model.command or "",
                     factors=factors, design=design, explicit=explicit, exclude=exclude,
                     compute=compute, cluster=model.cluster,
                     layout=getattr(model, "layout", None) or "per-run",
                     array_throttle=getattr(model, "array_throttle", None),
                     positions=pos, zipped=zipped,
                     workdir=model.workdir if model.workdir and model.workdir.startswith("/")
                     else None,
                     title=model.title, goal=model.description, raw_markdown=doc.text), []


def expand_sweep(spec: SweepSpec, settings: Any, options: Options | None = None,
                 sha256: str = "") -> tuple[RunMatrix | None, list[Diagnostic]]:
    """A :class:`SweepSpec` → RunMatrix of ``sweep`` runs (or diagnostics)."""
    options = options or Options()
    path = spec.source
    root = Path(getattr(settings, "root", None) or Path.cwd())
    diags: list[Diagnostic] = []
    cluster_name = options.cluster or spec.cluster or getattr(settings, "cluster", None)
    cluster, cd = resolve_cluster(cluster_name, settings, CPU_ONLY, path, spec.pos("command"))
    diags += cd
    excluded: list[Exclusion] = []
    if spec.explicit:
        combos = [dict(r) for r in spec.explicit]
    else:
        if spec.design == "zip+grid":
            combos, err = _zip_grid(spec)
        else:
            combos, err = combine(spec.factors, spec.design)
        if err:
            diags.append(_diag(path, spec.pos("sweep"), "EX001", err))
    for levels, reason, pos in spec.exclude:
        if not reason or not str(reason).strip():
            diags.append(_diag(path, pos, "EX002", f"an exclusion must state its reason "
                               f"(levels {levels})"))
            continue
        excluded.append(Exclusion(dict(levels), str(reason)))
    combos = [c for c in combos if not any(matches(e.levels, c) for e in excluded)]
    out_root = _out_root(options, None, cluster, spec.name)
    gpus = int(spec.compute.get("gpus") if spec.compute.get("gpus") is not None
               else (0 if cluster.type == "cpu_only" else cluster.defaults.gpus))
    part = None
    if cluster.type == "slurm":
        p = cluster.partition()
        part = p.name if p else None
    res = _resources(cluster.defaults, spec.compute, part, gpus)
    runs: list[Run] = []
    seen: set[str] = set()
    for combo in combos:
        name = str(combo.pop("name")) if "name" in combo else sweep_run_name(combo)
        try:
            check_name(name)
        except ValueError as exc:
            diags.append(_diag(path, spec.pos("command"), "EX003", str(exc)))
            continue
        if name in seen:
            diags.append(_diag(path, spec.pos("command"), "EX004", f"two runs are named "
                               f"{name!r}"))
            continue
        seen.add(name)
        out_dir = f"{out_root}/{name}" if out_root else DEFAULT_OUTPUT_DIR
        values = {**combo, "out": out_dir if out_root else _RunDirOutput(), "run": name}
        command, unknown = fill_command(spec.command, values)
        if unknown:
            diags.append(_diag(path, spec.pos("command"), "EX005",
                               "unknown placeholder(s) in command: "
                               + ", ".join("{" + u + "}" for u in sorted(set(unknown)))
                               + f"; known: {', '.join('{' + k + '}' for k in values)}"))
            break
        runs.append(Run(name=name, kind="sweep", model=None, factors=dict(combo),
                        params={**combo, "output_dir": out_dir}, command=command,
                        train=res, eval=res))
    if not runs and not diags:
        diags.append(_diag(path, spec.pos("command"), "EX003", "the sweep expands to no runs"))
    if any(d.severity == Severity.ERROR for d in diags):
        return None, diags
    st = _matrix_settings(cluster, spec.name, out_root, options.layout or spec.layout,
                          spec.array_throttle, _rel(spec.source, root), group_env=False,
                          project_root=spec.workdir)
    st.update({"title": spec.title or spec.name, "goal": spec.goal or "",
               "raw_markdown": spec.raw_markdown})
    return RunMatrix(group=spec.name, kind="sweep", runs=tuple(runs), cluster=cluster,
                     source=_rel(spec.source, root), source_sha256=sha256,
                     created=spec.created,
                     factors={k: tuple(v) for k, v in spec.factors.items()},
                     excluded=tuple(excluded), settings=st,
                     totals={"runs": float(len(runs)), "evaluations": 0.0}), diags


def _zip_grid(spec: SweepSpec) -> tuple[list[dict[str, Any]], str | None]:
    """A front-matter sweep with both ``zip`` and ``grid``: zipped rows × grid product."""
    zipped, err = combine({k: spec.factors[k] for k in spec.zipped}, "zip")
    if err:
        return [], err
    grid, _ = combine({k: v for k, v in spec.factors.items() if k not in spec.zipped}, "grid")
    return [{**z, **g} for z in zipped for g in grid], None


# -- documents -----------------------------------------------------------------------------
def expand_document(doc: Any, settings: Any, options: Options | None = None
                    ) -> tuple[RunMatrix | None, list[Diagnostic]]:
    """Expand a loaded plan document (run group, or plan with a command).

    Returns ``(matrix, [])`` or ``(None, diagnostics)``; a plan without a command gives
    ``(None, [diagnostic])`` saying there is nothing to compile.
    """
    sha = _sha256(doc)
    if doc.kind == "run-group":
        from .models.rungroup import spec_from_document

        spec, diags = spec_from_document(doc, settings)
        if spec is None:
            return None, diags
        return expand_rungroup(spec, settings, options, sha)
    if doc.kind == "plan":
        spec_s, diags = sweep_spec_from_document(doc)
        if spec_s is None:
            return None, diags or [_diag(doc.path, (1, 1), "EX005",
                                         "this plan has no command template (front-matter "
                                         "'command:'), so there is nothing to compile")]
        return expand_sweep(spec_s, settings, options, sha)
    return None, [_diag(doc.path, (1, 1), "EX005", f"cannot compile a document of kind "
                        f"{doc.kind or 'unknown'!r}; compile takes a run group or a plan "
                        "with a command")]
