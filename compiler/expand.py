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
import functools
import itertools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Severity
from .layout import DEFAULT_OUTPUT_DIR, FINETUNE_CONFIG
from .matrix import (
    Evaluation,
    Exclusion,
    FineTune,
    GroupSettings,
    PlanInfo,
    Resources,
    Run,
    RunMatrix,
    Totals,
    check_name,
)
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
    "EX012": "compile-render",
    "EX013": "compile-target",
    "EX014": "compile-unused-setting",
    "EX015": "expand-too-many-runs",
    "EX016": "expand-placeholder-context",
}
DEFAULT_MAX_RUNS = 100_000  # [tool.planc] max_runs: runs (and evaluation jobs) per group


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


def count_combinations(factors: dict[str, Sequence[Any]], design: str = "grid") -> int:
    """How many combinations :func:`combine` would make, without making them (``zip`` with
    unequal lengths: the longest)."""
    lengths = [len(v) for v in factors.values()]
    if design == "zip":
        return max(lengths, default=1)
    return math.prod(lengths)


def max_runs(settings: Any) -> int:
    """The cap on runs (and on evaluation jobs) of one group: ``[tool.planc] max_runs``."""
    cap = getattr(settings, "max_runs", None)
    return cap if isinstance(cap, int) and cap > 0 else DEFAULT_MAX_RUNS


def _too_many(what: str, count: int, cap: int) -> str:
    return (f"expands to {count:,} {what}; planc builds at most {cap:,} per group "
            "([tool.planc] max_runs): split the plan, or raise the cap if this is meant")


def matches(levels: dict[str, Any], combo: dict[str, Any]) -> bool:
    """Whether an exclusion's ``levels`` all equal the combination's (compared as text)."""
    return all(k in combo and str(combo[k]) == str(v) for k, v in levels.items())


def slug(value: Any) -> str:
    """A level as a name part: unsafe characters → ``-`` (``1e-4`` stays, ``a/b`` → ``a-b``)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, int | float) and value < 0:  # seeds 1 and -1 stay two names
        return "-" + slug(-value)
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
    """Fill ``{name}`` placeholders with values quoted for where they stand; returns
    (command, unknown placeholder names). ``{{``/``}}`` stay literal braces.

    A placeholder outside quotes becomes one single-quoted word (``shlex.quote``); inside
    ``"…"`` it is escaped for double quotes (``\\ $ ` "``), so ``echo "{x}"`` with
    ``$(rm -rf ~)`` prints the text; inside ``'…'`` a ``'`` in the value is closed and
    reopened (``'\\''``). Placeholders where no quoting is reliable (inside backticks or a
    here-document) are listed by :func:`placeholder_context_problems` and stop expansion.
    """
    from .render import sh

    unknown: list[str] = []
    protected = template.replace("{{", "\x00").replace("}}", "\x01")
    contexts = _contexts(protected)

    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            unknown.append(key)
            return m.group(0)
        value = values[key]
        where = contexts.get(m.start(), "plain")
        if isinstance(value, _RunDirOutput):
            return {"dq": _RunDirOutput.inside_dq, "sq": "'" + value.shell + "'"}.get(
                where, value.shell)
        if where == "dq":
            return _DQ_SPECIAL.sub(r"\\\g<0>", _text(value))
        if where == "sq":
            return _text(value).replace("'", "'\\''")
        return sh(value)

    out = _PLACEHOLDER.sub(repl, protected)
    return out.replace("\x00", "{").replace("\x01", "}"), unknown


_DQ_SPECIAL = re.compile(r'[\\$`"]')
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def _text(value: Any) -> str:
    if value is None:
        raise ValueError("refusing to quote None into a shell command")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _contexts(template: str) -> dict[int, str]:
    """The shell quoting context at each ``{`` of ``template``: ``plain``, ``dq`` (inside
    double quotes), ``sq`` (single quotes), ``backtick`` or ``heredoc``. A small scanner
    of POSIX quoting: backslash escapes, quotes, ``$(…)`` (a new plain context, also inside
    double quotes), backticks and here-documents (the rest of the template)."""
    out: dict[int, str] = {}
    stack = ["plain"]  # "plain" | "dq" | "sub" (inside $( ), plain quoting) | "backtick"
    depth: list[int] = []  # open "(" counts of each $( )
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        top = stack[-1]
        if top == "sq":
            if c == "'":
                stack.pop()
            elif c == "{":
                out[i] = "sq"
            i += 1
            continue
        if c == "\\" and top != "sq":
            i += 2
            continue
        if c == "{":
            out[i] = {"dq": "dq", "backtick": "backtick"}.get(top, "plain")
        elif c == "`":
            if top == "backtick":
                stack.pop()
            else:
                stack.append("backtick")
        elif c == '"':
            if top == "dq":
                stack.pop()
            else:
                stack.append("dq")
        elif c == "'" and top != "dq":
            stack.append("sq")
        elif c == "$" and template.startswith("$(", i):
            stack.append("sub")
            depth.append(0)
            i += 2
            continue
        elif c == "(" and top == "sub":
            depth[-1] += 1
        elif c == ")" and top == "sub":
            if depth[-1] == 0:
                stack.pop()
                depth.pop()
            else:
                depth[-1] -= 1
        elif c == "<" and top != "dq" and (m := _HEREDOC.match(template, i)) \
                and not template.startswith("<<<", i):
            for j in range(m.end(), n):
                if template[j] == "{":
                    out[j] = "heredoc"
            break
        i += 1
    return out


def placeholder_context_problems(template: str) -> list[str]:
    """Placeholders of ``template`` in a context :func:`fill_command` cannot quote for
    (inside backticks or a here-document), as messages."""
    protected = template.replace("{{", "\x00").replace("}}", "\x01")
    contexts = _contexts(protected)
    out = []
    for m in _PLACEHOLDER.finditer(protected):
        where = contexts.get(m.start(), "plain")
        if where in ("backtick", "heredoc"):
            what = "backticks" if where == "backtick" else "a here-document"
            out.append(f"placeholder {{{m.group(1)}}} stands inside {what}, where no quoting "
                       "keeps a value from running as shell code: use $(…) or pass it as "
                       "an argument")
    return out


class _RunDirOutput:
    """``{out}`` without an outputs root: the run folder's ``output/``, expanded by the shell
    that runs the command (the scripts export ``PLANC_RUN_DIR``)."""

    shell = '"$PLANC_RUN_DIR"/output'
    inside_dq = "$PLANC_RUN_DIR/output"  # already inside "…"


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


def _rel(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


# Built-in profiles for a plan that states its target but names no profile (documented in
# the README, "Compile"): SLURM with seed 004's one-GPU jobs, this machine's GPUs, or CPU.
GENERIC_SLURM = ClusterProfile(name="generic-slurm", type="slurm")
LOCAL_GPU = ClusterProfile(name="local_gpu", type="local_gpu")
DEFAULT_PROFILES = {"slurm": GENERIC_SLURM, "local_gpu": LOCAL_GPU, "cpu_only": CPU_ONLY}


def plan_cluster(override: str | None, name: str | None, cluster_type: str | None,
                 settings: Any, path: str, pos: tuple[int, int], default_type: str
                 ) -> tuple[ClusterProfile, list[Diagnostic]]:
    """The cluster profile a plan compiles for, and how it was chosen.

    Order: a profile name (``--cluster``, the plan's ``cluster``/``compute.cluster``, then
    ``[tool.planc] cluster``; loaded by :mod:`compiler.clusters`, an unloadable one is
    ``EX010``); else the target type the plan states (Compute Setup ``Cluster type``,
    front-matter ``compute.cluster_type``) with its built-in profile
    (:data:`DEFAULT_PROFILES`), reported as info ``EX013`` so the author knows which;
    else ``default_type``'s built-in profile (run groups: SLURM, seed 004; sweeps: CPU).
    A profile the plan names whose type differs from the type it states is ``EX010`` (the
    plan contradicts itself); ``override`` (``--cluster``) retargets the plan on purpose.
    """
    from_plan = bool(name) and not override
    name = override or name or getattr(settings, "cluster", None)
    diags: list[Diagnostic] = []
    if name:
        from .clusters import load_profile

        prof, pdiags = load_profile(name, settings)
        if prof is None:
            return DEFAULT_PROFILES[default_type], [
                _diag(path, pos, "EX010", d.message + (f" ({d.path}:{d.line})" if d.path
                                                       else "")) for d in pdiags]
        if from_plan and cluster_type and cluster_type != prof.type:
            diags.append(_diag(path, pos, "EX010", f"the plan states cluster type "
                               f"{cluster_type!r} but profile {name!r} is {prof.type!r}"))
        return prof, diags
    if cluster_type in DEFAULT_PROFILES or default_type == "slurm":
        prof = DEFAULT_PROFILES[cluster_type or default_type]
        if prof.type != "slurm":  # this machine: the built-in local profile is the target
            return prof, diags
        return prof, [Diagnostic(path, pos[0], pos[1], "EX013", Severity.INFO,
                                 f"compiling for {prof.type} with the built-in "
                                 f"{prof.name!r} profile (no cluster profile named; give "
                                 "one with --cluster or the plan's cluster, or write one "
                                 "with `planc cluster detect`)", CODES["EX013"])]
    return DEFAULT_PROFILES[default_type], diags


def _resources(base: JobDefaults, plan: dict[str, Any], part: str | None, gpus: int
               ) -> Resources:
    return Resources(gpus=gpus,
                     cpus_per_task=int(plan.get("cpus") or base.cpus_per_task),
                     mem=str(plan.get("mem") or base.mem),
                     time=str(plan.get("time") or base.time),
                     partition=part, gpu_type=plan.get("gpu_type") if gpus > 0 else None)


@functools.lru_cache(maxsize=16)
def _source_root(source: str) -> Path:
    """The folder of the plan (relative data paths resolve from it), resolved once per
    source, not once per run (10,000 ``realpath`` calls were 0.4 s of a large compile)."""
    return Path(source).resolve().parent


# -- run groups ---------------------------------------------------------------------------
@dataclasses.dataclass
class _GroupContext:
    """What every run of a group shares: the cluster, registry, GPUs, job resources."""

    path: str
    cluster: ClusterProfile
    registry: Any
    gpus: int
    eval_gpus: int
    out_root: str | None
    base_train: Resources
    base_eval: Resources
    sizes: dict[str, str]
    history: Any
    stated_it_s: dict[str, float]
    timed_cache: dict[tuple[Resources, float], Resources] = dataclasses.field(
        default_factory=dict)
    speeds: dict[Any, Any] = dataclasses.field(default_factory=dict)

    def timed(self, base: Resources, seconds: float) -> Resources:
        """``base`` with the job time limit for ``seconds`` of work (runs share a few)."""
        from .estimate import job_time_limit

        res = self.timed_cache.get((base, seconds))
        if res is None:
            res = self.timed_cache[(base, seconds)] = dataclasses.replace(
                base, time=format_slurm_time(job_time_limit(seconds)))
        return res

    def hardware(self) -> str:
        """The hardware part of a run's calibration key: ``cpu`` without GPUs, else the
        cluster profile's GPU type, else the partition (issue 14: never another's)."""
        if self.gpus == 0:
            return "cpu"
        return self.cluster.gpu_type or self.base_train.partition or "unknown"

    def speeds_for(self, model: str, size: str, finetune: FineTune | None = None,
                   root: Path | None = None) -> Any:
        """The speeds of a run of ``model`` (:func:`compiler.estimate.speeds_for`), keyed
        by its :class:`compiler.history.Key` when it fine-tunes."""
        from . import history as hist
        from .estimate import speeds_for

        key = tokens = None
        if finetune is not None:
            entry = self.registry.get(model)
            dtype = entry.dtype if finetune.device != "cpu" or entry.dtype != "bf16" \
                else "fp32"
            key = hist.Key(model=hist.model_id(entry.component, entry.model_kwargs),
                           hardware=self.hardware(), recipe=finetune.recipe,
                           world_size=max(1, self.gpus), dtype=dtype,
                           activation_checkpointing=entry.activation_checkpointing,
                           max_seq_len=finetune.max_seq_len)
            if self.history is not None and finetune.data_path:
                p = Path(finetune.data_path)
                counted = hist.count_tokens(p if p.is_absolute() else (root or Path.cwd()) / p,
                                            finetune.max_seq_len, finetune.packed)
                tokens = counted[0] if counted else None
        ck = (model, key, tokens)
        if ck not in self.speeds:
            self.speeds[ck] = speeds_for(size, self.history, self.stated_it_s.get(model),
                                         key, tokens)
        return self.speeds[ck]

    def eval_calibration(self, evals: Sequence[Any], model: str
                         ) -> tuple[float | None, str | None]:
        """(seconds, key): the median prior duration of these evaluations' tasks of
        ``model`` on this hardware — the longest task's, so one limit fits every job — and
        its :func:`compiler.history.eval_label`; ``(None, None)`` without history for
        every task."""
        from . import history as hist

        if self.history is None or not evals:
            return None, None
        entry = self.registry.get(model)
        if entry is None:
            return None, None
        mid = hist.model_id(entry.component, entry.model_kwargs)
        hw = self.hardware()
        found = [(self.history.eval_seconds(e.task, hw, mid), e.task) for e in evals]
        if any(s is None for s, _t in found):
            return None, None
        secs, task = max(found, key=lambda x: (x[0], x[1]))  # type: ignore[arg-type,return-value]
        return secs, hist.eval_label(mid, hw, task)


def _group_context(spec: Any, settings: Any, options: Options,
                   diags: list[Diagnostic]) -> _GroupContext:
    """Step 1: the cluster profile (``--cluster``, the plan's, the project's, else the
    target the plan states or generic SLURM), the registry and the shared job resources."""
    from .registry import load_registry

    path = spec.source
    cluster, cd = plan_cluster(options.cluster, spec.compute.get("cluster"),
                               spec.compute.get("cluster_type"), settings, path,
                               spec.pos("compute.cluster"), default_type="slurm")
    diags += cd
    registry, rdiags = load_registry(settings)
    diags += rdiags
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
    base_train = _resources(cluster.defaults, spec.compute, part, gpus)
    base_eval = _resources(cluster.defaults, {**spec.compute, **{
        k: v for k, v in spec.eval_compute.items() if v is not None}}, eval_part, eval_gpus)
    return _GroupContext(
        path=path, cluster=cluster, registry=registry, gpus=gpus, eval_gpus=eval_gpus,
        out_root=_out_root(options, spec.compute.get("output_dir"), cluster, spec.name),
        base_train=base_train, base_eval=base_eval,
        sizes={n: e.size for n, e in registry.models.items()}, history=options.history,
        stated_it_s=dict(spec.stated.get("it_s") or {}))


def _rungroup_rows(spec: Any, factors: dict[str, list[Any]], diags: list[Diagnostic],
                   cap: int = DEFAULT_MAX_RUNS
                   ) -> tuple[list[dict[str, Any]], list[Exclusion]]:
    """Step 2: the rows to build runs from: the explicit run list, else the factor grid
    (or zip) less exclusions, then one control row per control model. More than ``cap``
    rows is an ``EX015`` error, counted before any row is made."""
    path = spec.source
    if spec.explicit_runs:
        if len(spec.explicit_runs) > cap:
            diags.append(_diag(path, spec.pos("runs"), "EX015",
                               _too_many("runs", len(spec.explicit_runs), cap)))
            return [], []
        return [dict(r) for r in spec.explicit_runs], []
    grid = dict(factors)
    if "model" not in grid:
        grid = {"model": list(spec.models), **grid}
    if spec.repeats:
        base_seed = int(spec.training.get("seed") or 0)
        grid["seed"] = range(base_seed, base_seed + spec.repeats)  # lazy: counted first
    count = count_combinations(grid, spec.design) + len(spec.controls)
    if count > cap:
        where = "repeats" if spec.repeats and spec.repeats > cap else "variables"
        diags.append(_diag(path, spec.pos(where), "EX015", _too_many("runs", count, cap)))
        return [], []
    combos, err = combine(grid, spec.design)
    if err:
        diags.append(_diag(path, spec.pos("variables"), "EX001", err))
    excluded: list[Exclusion] = []
    for levels, reason, pos in spec.exclude:
        if not reason or not str(reason).strip():
            diags.append(_diag(path, pos, "EX002", "an exclusion must state its reason "
                               f"(levels {levels})"))
            continue
        excluded.append(Exclusion(dict(levels), str(reason)))
    rows = [{"name": None, "model": str(c["model"]), "type": "fine-tuned", "factors": c,
             "lora_rank": None, "batch_size": None}
            for c in combos if not any(matches(e.levels, c) for e in excluded)]
    rows += [{"name": None, "model": m, "type": "control", "factors": {}, "lora_rank": None,
              "batch_size": None} for m in spec.controls]
    return rows, excluded


def _case_clash(name: str, seen: set[str]) -> str | None:
    """The earlier name in ``seen`` equal to ``name`` but for case (``seen`` also holds
    ``"\\0" + casefold`` entries to find it fast), else None."""
    if "\x00" + name.casefold() not in seen:
        return None
    return next((s for s in seen if not s.startswith("\x00")
                 and s.casefold() == name.casefold()), "?")


def _check_task_names(spec: Any, diags: list[Diagnostic]) -> None:
    """Two evaluation tasks whose names differ only by case share an evaluation folder on a
    case-insensitive file system (and a key in ``runs_status.yaml`` on some tools)."""
    first: dict[str, str] = {}
    for tk in spec.eval_tasks:
        low = str(tk.name).casefold()
        if low in first and first[low] != tk.name:
            diags.append(_diag(spec.source, spec.pos("evaluation.tasks"), "EX004",
                               f"evaluation tasks {first[low]!r} and {tk.name!r} differ only "
                               "by case"))
        first.setdefault(low, tk.name)


def _check_eval_matrix(spec: Any, tasks: dict[str, Any], diags: list[Diagnostic]) -> None:
    if spec.matrix is None:
        return
    for rname, tnames in spec.matrix.items():
        for tn in tnames:
            if tn not in tasks:
                diags.append(_diag(spec.source, spec.pos("evaluation.matrix"), "EX007",
                                   f"evaluation matrix names unknown task {tn!r} for run "
                                   f"{rname}"))


@dataclasses.dataclass
class _EvalBudget:
    """Evaluation jobs left to a group (``max_runs``); one ``EX015`` when it runs out."""

    cap: int
    left: int
    reported: bool = False


def _run_evaluations(spec: Any, name: str, control: bool, epochs: int, combo: dict[str, Any],
                     tasks: dict[str, Any], diags: list[Diagnostic],
                     budget: _EvalBudget | None = None) -> list[Evaluation]:
    """Step 4: task × epoch for fine-tuned runs, task alone for controls (matrix-narrowed).
    Counted against ``budget`` before any is made (``epochs: 100000000`` with
    ``evaluation.epochs: all`` must not build a hundred million of them)."""
    if spec.matrix is not None and name in spec.matrix:
        tnames = [tn for tn in spec.matrix[name] if tn in tasks]
    else:
        tnames = list(tasks)
    if budget is not None:
        sel = spec.eval_epochs
        per_task = (1 if control or sel in ("best", "last") else epochs if sel == "all"
                    else len(sel))
        count = per_task * len(tnames)
        if count > budget.left:
            if not budget.reported:
                budget.reported = True
                where = "training.epochs" if sel == "all" else "evaluation"
                diags.append(_diag(spec.source, spec.pos(where), "EX015",
                                   f"run {name}: " + _too_many(
                                       "evaluation jobs (with the runs before it)",
                                       count + (budget.cap - budget.left), budget.cap)))
            return []
        budget.left -= count
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
                diags.append(_diag(spec.source, spec.pos("evaluation.epochs"), "EX009",
                                   f"run {name}: epoch {e} is not one of the {epochs} epochs "
                                   f"(0-based: 0..{epochs - 1})"))
                continue
            evals.append(_evaluation(task, f"{tn}_epoch_{e}", e, combo))
    return evals


def _finetune(spec: Any, gc: _GroupContext, t: dict[str, Any], rank: int, batch: int,
              combo: dict[str, Any], device: str, diags: list[Diagnostic]) -> FineTune:
    """Step 5: the typed training settings of a fine-tuned run (factor levels win over the
    plan's ``training`` values; the recipe follows seed 004's selection)."""
    recipe, nproc, rerr = recipe_for(str(t.get("recipe") or "auto"), gc.gpus,
                                     bool(t.get("validation")))
    if rerr:
        diags.append(_diag(spec.source, spec.pos("training.recipe"), "EX008", rerr))
    tune_args = ["run"]
    if nproc:
        tune_args += ["--nproc_per_node", str(nproc)]
    tune_args += [recipe, "--config", FINETUNE_CONFIG]
    return FineTune(
        lora_rank=rank, lora_alpha=2 * rank, batch_size=int(batch),
        epochs=int(t.get("epochs") or 1), data_path=_fill_factors(spec.data_path, combo),
        recipe=recipe, recipe_builtin=recipe in BUILTIN_RECIPES, tune_args=tuple(tune_args),
        device=device, wandb_project=str(t.get("wandb_project") or spec.name),
        lora_dropout=float(t.get("lora_dropout") or 0.0),
        gradient_accumulation_steps=int(t.get("gradient_accumulation_steps") or 1),
        lr=float(t["lr"]) if t.get("lr") is not None else 1e-4,
        weight_decay=float(t["weight_decay"]) if t.get("weight_decay") is not None else 0.01,
        num_warmup_steps=int(t["num_warmup_steps"]) if t.get("num_warmup_steps") is not None
        else 100,
        seed=int(t["seed"]) if t.get("seed") is not None else 1234,
        packed=bool(t.get("packed")), validation=bool(t.get("validation")),
        run_val_every_n_steps=int(t.get("run_val_every_n_steps") or 0),
        max_seq_len=int(t.get("max_seq_len") or 2048),
        log_every_n_steps=int(t["log_every_n_steps"]) if t.get("log_every_n_steps")
        is not None else 5,
        nproc_per_node=nproc)


def _build_run(spec: Any, gc: _GroupContext, row: dict[str, Any], tasks: dict[str, Any],
               seen: set[str], diags: list[Diagnostic], budget: _EvalBudget | None = None
               ) -> Run | None:
    """Step 3: one row → a :class:`Run` with its evaluations, settings and estimate
    (``None`` with a diagnostic when the row cannot become a run)."""
    from . import estimate as est
    from .registry import size_class

    path = spec.source
    model = row["model"]
    combo = dict(row.get("factors") or {})
    pos = spec.pos(f"runs.{row['name']}") if row.get("name") else spec.pos("variables")
    entry = gc.registry.get(model)
    if entry is None:
        near = gc.registry.suggest(model)
        hint = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
        diags.append(_diag(path, spec.pos(f"models.{model}"), "EX006",
                           f"model {model!r} is not in the model catalog ({hint}the "
                           f"{len(gc.registry.models)} known models are torchtune's LoRA "
                           "configs, by name or HuggingFace name, in compiler/data/"
                           "models.yaml); add it to the project's models.yaml"))
        return None
    model_path = spec.models.get(model)
    short = model.rsplit("/", 1)[-1]  # an `org/name` model: seed 004 names runs without org
    if not model_path and gc.cluster.models_dir:
        model_path = f"{gc.cluster.models_dir.rstrip('/')}/{short}"
    if not model_path:
        diags.append(_diag(path, spec.pos(f"models.{model}"), "EX006",
                           f"no path for model {model!r}: give models[].path or the cluster "
                           "profile's models_dir"))
        return None
    control = row["type"] == "control"
    t = dict(spec.training)
    for k, v in combo.items():
        if k in t and k != "batch_size":
            t[k] = v
    # a run's own fixed settings that are no factor (experiment_summary.yaml runs[].parameters
    # outside ``variables``): applied like a level, not shown as one
    for k, v in (row.get("settings") or {}).items():
        if k in t and k != "batch_size":
            t[k] = v
    rank = row.get("lora_rank") or combo.get("lora_rank") or t.get("lora_rank")
    rank = int(rank) if rank is not None and not control else None
    name = row.get("name") or (f"{short}_base" if control
                               else rungroup_run_name(short, combo, rank))
    try:
        check_name(name)
    except ValueError as exc:
        diags.append(_diag(path, pos, "EX003", str(exc)))
        return None
    if name in seen:
        diags.append(_diag(path, pos, "EX004", f"two runs are named {name!r}"))
        return None
    if (clash := _case_clash(name, seen)) is not None:
        diags.append(_diag(path, pos, "EX004", f"runs {clash!r} and {name!r} differ only by "
                           "case: one folder on a case-insensitive file system"))
        return None
    seen.add(name)
    seen.add("\x00" + name.casefold())
    size = size_class(model, gc.registry)
    if control:
        batch = _batch_for(t.get("batch_size"), model, None)
    else:
        batch = row.get("batch_size") or combo.get("batch_size") or _batch_for(
            t.get("batch_size"), model, size)
        if batch is None:
            diags.append(_diag(path, spec.pos("training.batch_size"), "EX011",
                               f"no batch size for model {model!r} in training.batch_size"))
            return None
    epochs = int(t.get("epochs") or 1)
    evals = _run_evaluations(spec, name, control, epochs, combo, tasks, diags, budget)
    finetune = None
    if not control:
        finetune = _finetune(spec, gc, t, int(rank or 0), int(batch), combo,
                             "cpu" if gc.gpus == 0 else entry.device, diags)
    root = _source_root(spec.source)
    eval_s, eval_key = gc.eval_calibration(evals, model)
    estimate = est.estimate_run(
        gc.speeds_for(model, size, finetune, root), fine_tuned=not control,
        eval_job_s=eval_s, eval_key=eval_key,
        train_samples=_count(spec.splits.get("train")),
        test_samples=_count(spec.splits.get("test")), batch_size=int(batch or 1),
        grad_accum=finetune.gradient_accumulation_steps if finetune else 1, epochs=epochs,
        evaluations=len(evals), gpus=gc.gpus, eval_gpus=gc.eval_gpus)
    train_res = gc.base_train
    if not control and not spec.compute.get("time"):
        train_res = gc.timed(gc.base_train, estimate.train_seconds)
    eval_res = gc.base_eval
    if not spec.eval_compute.get("time"):
        eval_res = gc.timed(gc.base_eval, estimate.eval_job_seconds)
    return Run(name=name, kind="control" if control else "fine-tuned", model=model,
               factors=combo,
               output_dir=f"{gc.out_root}/{name}" if gc.out_root else DEFAULT_OUTPUT_DIR,
               model_path=model_path,
               checkpoint_path=(str(row["checkpoint_path"]) if control
                                and row.get("checkpoint_path") else None),
               system_prompt=str(t.get("system_prompt") or ""),
               eval_model=spec.eval_model or None, finetune=finetune,
               evaluations=tuple(evals), train=train_res, eval=eval_res, estimate=estimate)


def _unused(spec: Any, key: str, why: str) -> Diagnostic:
    line, col = spec.pos(key)
    return Diagnostic(spec.source, line, col, "EX014", Severity.INFO,
                      f"{key} is not used: {why}", CODES["EX014"])


def _report_unused(spec: Any, gc: _GroupContext, options: Options,
                   diags: list[Diagnostic]) -> None:
    """Settings the plan states that this compile target does not use (info ``EX014``):
    every stated field either reaches an output or is reported here."""
    stated = set(spec.positions)
    factors = {_norm_factor(k) for k in spec.factors}
    for key in sorted(k for k in stated if k.startswith("training.")):
        name = key.split(".", 1)[1]
        if name in factors and name != "batch_size":
            diags.append(_unused(spec, key, f"{name!r} is a factor, so each run uses its level"))
    if "training.run_val_every_n_steps" in stated and not spec.training.get("validation"):
        diags.append(_unused(spec, "training.run_val_every_n_steps",
                             "validation during training is off"))
    if "created" in stated and "created" not in spec.meta:
        diags.append(_unused(spec, "created", "experiment.date gives the plan's date"))
    layout = options.layout or spec.layout
    if spec.array_throttle is not None and layout != "array":
        diags.append(_unused(spec, "array_throttle", "the layout is per-run, not array"))
    if gc.cluster.type != "slurm":
        for key in ("compute.partition", "compute.time", "compute.eval.partition",
                    "compute.eval.time", "compute.eval.mem", "compute.eval.cpus"):
            if key in stated:
                diags.append(_unused(spec, key, f"the {gc.cluster.type} target runs jobs on "
                                     "this machine without a scheduler"))
    if gc.cluster.type != "slurm" and "compute.gpu_type" in stated:
        diags.append(_unused(spec, "compute.gpu_type", "only SLURM requests GPUs by type "
                             "(--gres=gpu:<type>:<n>)"))
    if gc.cluster.type == "cpu_only":
        for key in ("compute.gpus", "compute.eval.gpus"):
            if key in stated:
                diags.append(_unused(spec, key, "the cpu_only target runs without GPUs"))


def expand_rungroup(spec: Any, settings: Any, options: Options | None = None,
                    sha256: str = "") -> tuple[RunMatrix | None, list[Diagnostic]]:
    """A :class:`~compiler.models.rungroup.RunGroupSpec` → RunMatrix (or diagnostics).

    Steps: the group context (:func:`_group_context`), the rows (:func:`_rungroup_rows`),
    the evaluation matrix check, one :func:`_build_run` per row; every problem is a located
    ``EX`` diagnostic (the same ones ``planc lint`` reports).
    """
    from .estimate import group_totals

    options = options or Options()
    diags: list[Diagnostic] = []
    root = Path(getattr(settings, "root", None) or Path.cwd())
    gc = _group_context(spec, settings, options, diags)
    factors = {_norm_factor(k): list(v) for k, v in spec.factors.items()}
    cap = max_runs(settings)
    rows, excluded = _rungroup_rows(spec, factors, diags, cap)
    tasks = {tk.name: tk for tk in spec.eval_tasks}
    _check_eval_matrix(spec, tasks, diags)
    _check_task_names(spec, diags)
    seen: set[str] = set()
    budget = _EvalBudget(cap, cap)
    runs = [r for r in (_build_run(spec, gc, row, tasks, seen, diags, budget) for row in rows)
            if r]
    if not runs and not any(d.severity == Severity.ERROR for d in diags):
        diags.append(_diag(spec.source, spec.pos("variables"), "EX003",
                           "the run group expands to no runs"))
    if any(d.severity == Severity.ERROR for d in diags):
        return None, diags
    runs.sort(key=lambda r: 0 if r.kind == "fine-tuned" else 1)  # stable: plan order inside
    _report_unused(spec, gc, options, diags)
    splits = spec.splits or {}
    group_settings = _matrix_settings(
        gc.cluster, spec.name, gc.out_root, options.layout or spec.layout,
        spec.array_throttle, _rel(spec.source, root), group_env=True,
        eval_model_args=dict(spec.eval_model_args or {}), data_format=spec.data_format,
        dataset_type=spec.dataset_type, dataset_label=spec.dataset_label,
        train_field=splits["train"] if isinstance(splits.get("train"), str) else "train",
        validation_field=(splits["validation"] if isinstance(splits.get("validation"), str)
                          else "validation"),
        eval_seed=spec.eval_seed, eval_max_connections=spec.eval_max_connections)
    info = PlanInfo(
        **{k: v for k, v in spec.meta.items() if k != "tags"},
        tags=tuple(spec.meta.get("tags", ())), question=spec.question,
        hypothesis=spec.hypothesis, project=spec.project, purpose=spec.purpose,
        task_descriptions={t.name: t.description for t in spec.eval_tasks if t.description},
        splits={k: v for k, v in splits.items() if v is not None})
    matrix = RunMatrix(group=spec.name, kind="run-group", runs=tuple(runs), cluster=gc.cluster,
                       source=_rel(spec.source, root), source_sha256=sha256,
                       created=spec.created,
                       factors={k: tuple(v) for k, v in factors.items()},
                       excluded=tuple(excluded), settings=group_settings,
                       totals=group_totals(runs), info=info)
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
    run's output folder for ``best``), the pre-existing checkpoint folder for eval-only runs
    (``Run.checkpoint_path``), the base model for control runs."""
    if run.kind == "control":
        return str(run.checkpoint_path or run.model_path)
    out = str(run.output_dir)
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
                     project_root: str | None = None, **extra: Any) -> GroupSettings:
    env = dict(cluster.env)
    if group_env:
        env.setdefault("HF_HUB_OFFLINE", "1")
    return GroupSettings(
        group=group, outputs_root=out_root, layout=layout, array_throttle=throttle,
        activate=cluster.activate, modules=tuple(cluster.modules), env=env,
        project_root=project_root or None, plan=plan, cluster_type=cluster.type,
        account=cluster.account, qos=cluster.qos, constraint=cluster.constraint,
        mail_user=cluster.mail_user, **extra)


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
    cluster_type: str | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    environment: str | None = None

    def pos(self, key: str) -> tuple[int, int]:
        return self.positions.get(key, self.positions.get("", (1, 1)))


def sweep_spec_from_document(doc: Any) -> tuple[SweepSpec | None, list[Diagnostic]]:
    """A plan document with front-matter ``command:`` → :class:`SweepSpec`.

    Parameters come from the front-matter ``sweep:`` block (grid/zip/runs/exclude/seeds/
    repeats) or, without it, from the plan's Parameters to Sweep table (a grid).
    ``(None, [])`` when the plan has no command (nothing to compile).
    """
    from .models.frontmatter import PlanFrontMatter
    from .models.rungroup import _fm_pos, _meta, created_stamp

    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    if not fm.get("command"):
        return None, []
    try:
        model = PlanFrontMatter.model_validate(fm)
    except Exception as exc:  # schema errors are CM002/CM003's business; summarise
        return None, [_diag(doc.path, (max(1, doc.fm_line), 1), "EX005",
                            f"front-matter does not validate: {exc}".splitlines()[0])]
    pos = {"": (max(1, doc.fm_line), 1), "command": _fm_pos(doc, ("command",))}
    for key in ("time", "gpus", "gpu_type", "cpus", "mem", "cluster", "cluster_type"):
        if key in fm:
            pos[f"compute.{key}"] = _fm_pos(doc, (key,))
    for key in ("array_throttle", "environment", "layout"):
        if key in fm:
            pos[key] = _fm_pos(doc, (key,))
    cluster_type = model.cluster_type
    if cluster_type is None:  # the plan's Compute Setup "Cluster type" (seed 000)
        from .models.plan import parse_plan

        item = next((it for it in parse_plan(doc).setup if it.field == "cluster_type"
                     and it.value), None)
        if item is not None:
            cluster_type = str(item.value)
            pos["compute.cluster_type"] = (item.line, item.value_column)
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
        # a range, not a list: repeats: 1000000000 is counted (EX015), never materialised
        seeds: Sequence[Any] = list(sw.seeds) or (range(1, sw.repeats + 1) if sw.repeats
                                                  else [])
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
    compute = {"time": model.time, "gpus": model.gpus, "cpus": model.cpus, "mem": model.mem,
               "gpu_type": model.gpu_type}
    return SweepSpec(name=str(name), source=doc.path,
                     created=created_stamp(model.created), command=model.command or "",
                     factors=factors, design=design, explicit=explicit, exclude=exclude,
                     compute=compute, cluster=model.cluster,
                     layout=getattr(model, "layout", None) or "per-run",
                     array_throttle=getattr(model, "array_throttle", None),
                     positions=pos, zipped=zipped,
                     workdir=model.workdir if model.workdir and model.workdir.startswith("/")
                     else None,
                     title=model.title, goal=model.description, raw_markdown=doc.text,
                     cluster_type=cluster_type, meta=_meta(model),
                     environment=model.environment), []


def expand_sweep(spec: SweepSpec, settings: Any, options: Options | None = None,
                 sha256: str = "") -> tuple[RunMatrix | None, list[Diagnostic]]:
    """A :class:`SweepSpec` → RunMatrix of ``sweep`` runs (or diagnostics)."""
    options = options or Options()
    path = spec.source
    root = Path(getattr(settings, "root", None) or Path.cwd())
    diags: list[Diagnostic] = []
    cluster, cd = plan_cluster(options.cluster, spec.cluster, spec.cluster_type, settings,
                               path, spec.pos("compute.cluster_type") if spec.cluster_type
                               else spec.pos("command"), default_type="cpu_only")
    diags += cd
    excluded: list[Exclusion] = []
    cap = max_runs(settings)
    count = len(spec.explicit) if spec.explicit else _sweep_count(spec)
    for problem in placeholder_context_problems(spec.command):
        diags.append(_diag(path, spec.pos("command"), "EX016", problem))
    if count > cap:
        diags.append(_diag(path, spec.pos("sweep"), "EX015", _too_many("runs", count, cap)))
        return None, diags
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
               else cluster.defaults.gpus)
    if cluster.type == "cpu_only":
        gpus = 0
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
        if (clash := _case_clash(name, seen)) is not None:
            diags.append(_diag(path, spec.pos("command"), "EX004", f"runs {clash!r} and "
                               f"{name!r} differ only by case: one folder on a "
                               "case-insensitive file system"))
            continue
        seen.add(name)
        seen.add("\x00" + name.casefold())
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
                        output_dir=out_dir, command=command, train=res, eval=res))
    if not runs and not any(d.severity == Severity.ERROR for d in diags):
        diags.append(_diag(path, spec.pos("command"), "EX003", "the sweep expands to no runs"))
    if any(d.severity == Severity.ERROR for d in diags):
        return None, diags
    _report_unused_sweep(spec, cluster, options, diags)
    st = _matrix_settings(cluster, spec.name, out_root, options.layout or spec.layout,
                          spec.array_throttle, _rel(spec.source, root), group_env=False,
                          project_root=spec.workdir, title=spec.title or spec.name,
                          goal=spec.goal or "", raw_markdown=spec.raw_markdown)
    return RunMatrix(group=spec.name, kind="sweep", runs=tuple(runs), cluster=cluster,
                     source=_rel(spec.source, root), source_sha256=sha256,
                     created=spec.created,
                     factors={k: tuple(v) for k, v in spec.factors.items()},
                     excluded=tuple(excluded), settings=st,
                     totals=Totals(runs=len(runs)),
                     info=PlanInfo(**{k: v for k, v in spec.meta.items() if k != "tags"},
                                   tags=tuple(spec.meta.get("tags", ())))), diags


def _report_unused_sweep(spec: SweepSpec, cluster: ClusterProfile, options: Options,
                         diags: list[Diagnostic]) -> None:
    """A sweep plan's settings this target does not use (info ``EX014``)."""
    stated = set(spec.positions)
    if spec.array_throttle is not None and (options.layout or spec.layout) != "array":
        diags.append(_unused(spec, "array_throttle", "the layout is per-run, not array"))
    env = str(spec.environment or "")
    if "environment" in stated and cluster.type == "slurm":
        diags.append(_unused(spec, "environment", "SLURM jobs activate the environment "
                             "through the cluster profile's `activate` line"))
    elif "environment" in stated and env != "venv" and not cluster.activate:
        diags.append(_unused(spec, "environment", f"planc knows no activation for {env!r} "
                             "(only venv: source .venv/bin/activate); set the cluster "
                             "profile's `activate` line"))
    if cluster.type == "cpu_only" and "compute.gpus" in stated:
        diags.append(_unused(spec, "compute.gpus", "the cpu_only target runs without GPUs"))
    if cluster.type != "slurm" and "compute.gpu_type" in stated:
        diags.append(_unused(spec, "compute.gpu_type", "only SLURM requests GPUs by type "
                             "(--gres=gpu:<type>:<n>)"))


def _sweep_count(spec: SweepSpec) -> int:
    """Runs a sweep's factors make (before exclusions), without making them."""
    if spec.design == "zip+grid":
        zipped = count_combinations({k: spec.factors[k] for k in spec.zipped}, "zip")
        return zipped * count_combinations(
            {k: v for k, v in spec.factors.items() if k not in spec.zipped})
    return count_combinations(spec.factors, spec.design)


def _zip_grid(spec: SweepSpec) -> tuple[list[dict[str, Any]], str | None]:
    """A front-matter sweep with both ``zip`` and ``grid``: zipped rows × grid product."""
    zipped, err = combine({k: spec.factors[k] for k in spec.zipped}, "zip")
    if err:
        return [], err
    grid, _ = combine({k: v for k, v in spec.factors.items() if k not in spec.zipped}, "grid")
    return [{**z, **g} for z in zipped for g in grid], None

