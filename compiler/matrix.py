"""The expanded run matrix: what ``expand`` produces and ``emit``/backends consume.

A :class:`RunMatrix` is plain frozen data: the runs of one group (fine-tuned runs and
base-model control runs of a run group, or the runs of a sweep), each with the evaluation
jobs it owns, plus the cluster profile and the source plan's identity. Nothing here reads
files or renders text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

from .layout import NAME as RUN_NAME  # one definition of a safe name

if TYPE_CHECKING:
    from .models.cluster import ClusterProfile



def check_name(name: str, what: str = "run name") -> str:
    """Return ``name`` when it is a safe single path component, else raise ``ValueError``.

    Safe: letters, digits, ``.``, ``_``, ``+``, ``-``; starts with a letter or digit; at most
    200 characters; never ``.``/``..``. This keeps every artifact inside the output folder
    and every SLURM ``--job-name`` free of shell and path metacharacters.
    """
    if not isinstance(name, str) or not RUN_NAME.match(name) or name in (".", ".."):
        raise ValueError(
            f"{what} {name!r} must match {RUN_NAME.pattern} (no '/', spaces or shell characters)"
        )
    return name


@dataclass(frozen=True)
class Evaluation:
    """One evaluation job of a run.

    ``key`` is the ``runs_status.yaml`` key: ``<task>_epoch_<N>`` for fine-tuned runs
    (N 0-based, torchtune's ``epoch_N/`` folder), ``<task>`` for control runs (seed 004).
    """

    key: str
    task: str
    epoch: int | None
    script: str
    dataset: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resources:
    """SLURM/local resources of one job: ``time`` as ``HH:MM:SS``, ``mem`` like ``32G``."""

    gpus: int = 1
    cpus_per_task: int = 1
    mem: str = "16G"
    time: str = "01:00:00"
    partition: str | None = None
    gpu_type: str | None = None  # GRES type: ``--gres=gpu:<gpu_type>:<gpus>``


@dataclass(frozen=True)
class FineTune:
    """The typed training settings of one fine-tuned run: every value its torchtune config
    (``finetune.yaml``) and cruijff_kit's ``setup_finetune.yaml`` are written from.

    Sources: the plan's ``training`` block (front-matter) or seed 004's Configuration
    bullets, the run's factor levels (which win), and recipe selection
    (:func:`compiler.expand.recipe_for`). ``lora_alpha`` = 2 × ``lora_rank`` (seed 004).
    ``lr`` and ``weight_decay`` are AdamW's; ``num_warmup_steps`` the cosine schedule's;
    ``max_seq_len`` in tokens; ``tune_args`` the words after ``tune`` (run from the run
    folder); ``device`` ``cuda`` or ``cpu``; ``wandb_project`` the W&B project (the group
    name unless the plan names one).
    """

    lora_rank: int
    lora_alpha: int
    batch_size: int
    epochs: int
    data_path: str
    recipe: str
    recipe_builtin: bool
    tune_args: tuple[str, ...]
    device: str
    wandb_project: str
    lora_dropout: float = 0.0
    gradient_accumulation_steps: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.01
    num_warmup_steps: int = 100
    seed: int = 1234
    packed: bool = False
    validation: bool = False
    run_val_every_n_steps: int = 50
    max_seq_len: int = 2048
    log_every_n_steps: int = 5
    nproc_per_node: int | None = None


@dataclass(frozen=True)
class Estimate:
    """One run's compute estimate (:func:`compiler.estimate.estimate_run`).

    Seconds of work (not wall clock with queueing): ``train_seconds`` (the fine-tune job),
    ``eval_job_seconds`` (one evaluation job), ``eval_seconds`` (all of the run's
    evaluation jobs), ``seconds`` (train + evaluations); ``gpu_hours`` (GPUs × hours of
    each job); ``disk_gib`` (checkpoints and logs with seed 004's 15 % margin);
    ``it_s`` the training speed used (iterations/s), ``steps_per_epoch`` (0 when the split
    size is unknown), ``ckpt_gib`` per saved epoch; ``basis`` where the speed came from:
    ``"history"`` (measured prior runs), ``"plan"`` (speeds the plan states) or ``"seed"``
    (seed 004's per-size guesses); ``tokens_per_epoch`` the tokens the training time is
    computed from (0 without a calibration); ``calibration`` which prior runs calibrated it
    (``"N prior run(s): <key>"``), or ``"no calibration"``; ``key`` the run's calibration
    key (:meth:`compiler.history.Key.label`; empty for controls); ``eval_key`` where
    ``eval_job_seconds`` came from (:func:`compiler.estimate.estimate_run`: prior
    inspect-ai evaluations ``evaluation · <model> · <hardware> · <task>``, else ``no
    calibration · …`` naming the formula's speed; empty without evaluations).
    """

    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    eval_job_seconds: float = 0.0
    seconds: float = 0.0
    gpu_hours: float = 0.0
    disk_gib: float = 0.0
    it_s: float = 0.0
    steps_per_epoch: int = 0
    ckpt_gib: float = 0.0
    basis: Literal["history", "plan", "seed", "none"] = "none"
    tokens_per_epoch: int = 0
    calibration: str = "no calibration"
    key: str = ""
    eval_key: str = ""

    @property
    def from_history(self) -> bool:
        return self.basis == "history"

    def as_dict(self) -> dict[str, Any]:
        """The estimate as a JSON-ready mapping (``planc expand --json``, the site)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Totals:
    """A group's totals over its runs (:func:`compiler.estimate.group_totals`): counts,
    seconds of work (``seconds`` = sequential wall clock; ``parallel_seconds`` = longest
    fine-tune + longest evaluation job), GPU hours and GiB."""

    runs: int = 0
    evaluations: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    seconds: float = 0.0
    parallel_seconds: float = 0.0
    gpu_hours: float = 0.0
    disk_gib: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Run:
    """One run of a group.

    ``kind``: ``fine-tuned`` (LoRA fine-tune then evaluations), ``control`` (base model,
    evaluations only, fine-tune ``skipped``), or ``sweep`` (one command from a plan's
    command template). ``factors`` maps each factor to this run's level (in factor order;
    for a sweep, every parameter's value). ``output_dir`` is where the run writes
    (``{outputs_root}/{run}``, else ``output`` relative to the run folder);
    ``model_path`` the base model folder (fine-tuned and control runs); ``checkpoint_path``
    (absolute folder) makes a ``control`` run an *eval-only* run: cruijff_kit's
    ``type: "eval-only"``, a pre-existing fine-tuned checkpoint evaluated without training
    (its evaluations load this folder, not ``model_path``; ``model`` names the base model it
    was fine-tuned from); ``system_prompt``
    the prompt used for training and evaluation; ``eval_model`` the inspect ``--model``
    of every evaluation when the plan names one; ``finetune`` the typed training settings
    (fine-tuned runs only); ``command`` the filled command of a sweep run.
    """

    name: str
    kind: Literal["fine-tuned", "control", "sweep"]
    model: str | None = None
    factors: dict[str, Any] = field(default_factory=dict)
    output_dir: str = "output"
    model_path: str | None = None
    checkpoint_path: str | None = None
    system_prompt: str = ""
    eval_model: str | None = None
    finetune: FineTune | None = None
    command: str | None = None
    evaluations: tuple[Evaluation, ...] = ()
    train: Resources = field(default_factory=Resources)
    eval: Resources = field(default_factory=Resources)
    estimate: Estimate = field(default_factory=Estimate)

    @property
    def eval_only(self) -> bool:
        """True for a run that evaluates a pre-existing checkpoint (``checkpoint_path``)
        without fine-tuning (cruijff_kit ``type: "eval-only"``)."""
        return self.kind == "control" and bool(self.checkpoint_path)


@dataclass(frozen=True)
class Exclusion:
    """A combination left out of the grid, with the plan's stated reason."""

    levels: dict[str, Any]
    reason: str


# cluster-profile fields a group inherits unless expand states them
_FROM_CLUSTER = ("activate", "modules", "env", "account", "qos", "constraint", "mail_user")


@dataclass(frozen=True)
class GroupSettings:
    """Group-wide settings every generated file reads (templates see them as
    ``settings.<name>``).

    ``group`` the group folder name; ``plan`` the plan's path relative to the project root;
    ``cluster_type`` ``slurm`` | ``local_gpu`` | ``cpu_only``; ``layout`` ``per-run`` |
    ``array`` and ``array_throttle`` (``%K`` of ``--array``); ``outputs_root`` (absolute)
    root of checkpoints and logs (a run writes to ``{outputs_root}/{run}``; ``None``: each
    run writes to ``output/`` in its run folder); ``out_root`` the group folder's absolute
    location where jobs run (normally unset: scripts find it at run time through
    ``PLANC_GROUP_DIR``); ``project_root`` (absolute) when the plan states ``workdir``;
    ``activate`` shell line activating the environment, ``modules`` (``module load``
    names), ``env`` exported variables, ``account``/``qos``/``constraint``/``mail_user``
    (SLURM, from the cluster profile); ``tune_command``/``inspect_command`` the tools run;
    ``eval_model_provider`` and ``eval_model_args`` (each ``-M key=value``) of inspect;
    sweeps: ``title``, ``goal``, ``raw_markdown`` (the tracker's plan payload); local
    launchers: ``cpu_slots`` (parallel CPU runs), ``min_free_gib`` (GPU memory a free GPU
    must have); tracker: ``api_auto_start``; ``submit_delay`` seconds between sbatch calls;
    ``recipe`` a default recipe for runs that name none; the training data's
    ``data_format`` (``json`` | ``records`` | ``parquet`` | ``chat``), torchtune
    ``dataset_type``, ``dataset_label`` (cruijff_kit's name for the data set; default the
    file's stem) and the JSON fields of the ``train``/``validation`` splits; inspect's
    ``--seed`` (``eval_seed``) and ``--max-connections`` (``eval_max_connections``) when
    the plan states them.
    """

    group: str = ""
    plan: str = ""
    cluster_type: str = "slurm"
    layout: str = "per-run"
    array_throttle: int | None = None
    outputs_root: str | None = None
    out_root: str | None = None
    project_root: str | None = None
    activate: str | None = None
    modules: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    mail_user: str | None = None
    tune_command: str = "tune"
    inspect_command: str = "inspect"
    eval_model_provider: str = "hf"
    eval_model_args: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    goal: str | None = None
    raw_markdown: str = ""
    # tracker payload facts (compiler.spec._plan_text): the plan's front-matter ``status``
    # and ``command`` template, its Compute Setup ``environment`` (venv | conda | system)
    plan_status: str = ""
    command_template: str = ""
    environment: str = ""
    cpu_slots: int | None = None
    min_free_gib: float | None = None
    api_auto_start: bool = False
    submit_delay: float = 0.0
    recipe: str | None = None
    data_format: str = "json"
    dataset_type: str = "instruct_dataset"
    dataset_label: str | None = None
    train_field: str = "train"
    validation_field: str = "validation"
    eval_seed: int | None = None
    eval_max_connections: int | None = None

    @classmethod
    def from_mapping(cls, values: dict[str, Any], cluster: Any = None) -> GroupSettings:
        """Settings from a mapping (unknown keys raise ``TypeError``); fields the mapping
        leaves out that a cluster profile has (activate, modules, env, account, qos,
        constraint, mail_user, its type) come from ``cluster``."""
        data = dict(values)
        if cluster is not None:
            for key in _FROM_CLUSTER:
                if key not in data:
                    data[key] = getattr(cluster, key, None)
            data.setdefault("cluster_type", getattr(cluster, "type", "slurm"))
        data = {k: v for k, v in data.items() if v is not None or k in _NULLABLE}
        if "modules" in data:
            data["modules"] = tuple(data["modules"] or ())
        if "env" in data:
            data["env"] = dict(data["env"] or {})
        return cls(**data)

    def get(self, key: str, default: Any = None) -> Any:
        """``getattr`` with a default for ``None`` (templates and scripts ask by name)."""
        value = getattr(self, key, None)
        return default if value is None else value

    def __contains__(self, key: str) -> bool:
        return getattr(self, key, None) is not None

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)


_NULLABLE = {k for k in ("array_throttle", "outputs_root", "out_root", "project_root",
                         "activate", "account", "qos", "constraint", "mail_user", "title",
                         "goal", "cpu_slots", "min_free_gib", "recipe", "dataset_label",
                         "eval_seed", "eval_max_connections")}


@dataclass(frozen=True)
class PlanInfo:
    """What the plan says about itself, for the group README and the tracker: front-matter
    ``title``, ``id``, ``description``, ``author``, ``created``, ``updated``, ``tags``,
    ``status``; a run group's ``question``, ``hypothesis``, ``project`` and ``purpose``;
    the evaluation tasks' descriptions (task → text) and the data split sizes (split →
    count or field name)."""

    title: str | None = None
    id: str | None = None
    description: str | None = None
    author: str | None = None
    created: str | None = None
    updated: str | None = None
    tags: tuple[str, ...] = ()
    status: str | None = None
    question: str | None = None
    hypothesis: str | None = None
    project: str | None = None
    purpose: str | None = None
    task_descriptions: dict[str, str] = field(default_factory=dict)
    splits: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunMatrix:
    """All runs of one group, in a stable order (fine-tuned in factor order, then controls).

    ``source`` is the plan's path relative to the project root, ``source_sha256`` its hash;
    ``created`` the timestamp used in generated files (from the plan or
    ``SOURCE_DATE_EPOCH``, never the clock).
    """

    group: str
    kind: Literal["run-group", "sweep"]
    runs: tuple[Run, ...]
    cluster: ClusterProfile
    source: str
    source_sha256: str
    created: str
    factors: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    excluded: tuple[Exclusion, ...] = ()
    settings: GroupSettings = field(default_factory=GroupSettings)
    totals: Totals = field(default_factory=Totals)
    info: PlanInfo = field(default_factory=PlanInfo)

    def __post_init__(self) -> None:
        if isinstance(self.settings, dict):  # a mapping (tests, old callers) → typed
            object.__setattr__(self, "settings",
                               GroupSettings.from_mapping(self.settings, self.cluster))

    @property
    def fine_tuned(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.kind == "fine-tuned")

    @property
    def controls(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.kind == "control")

    def evaluation_count(self) -> int:
        return sum(len(r.evaluations) for r in self.runs)
