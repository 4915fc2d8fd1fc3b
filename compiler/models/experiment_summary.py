"""cruijff_kit's ``experiment_summary.yaml`` (pydantic v2), the plan format that replaced
seed 004's ``runs_plan.md`` in November 2025.

Source of every field: niznik-dev/cruijff_kit at commit
72a4aceb1f8f54bd5bd8738ec895ea740ecf2e4a —
``.claude/skills/design-experiment/templates/experiment_summary.yaml`` (the design skill's
schema, with its REQUIRED/OPTIONAL marks), ``tests/unit/test_experiment_summary_schema.py``
(cruijff_kit's own structural checks) and ``tests/fixtures/design/experiment_summary.yaml``
(the reference document, copied to ``tests/fixtures/esum/``).

Unknown keys are ``extra_forbidden`` errors of the model; rule ES002 reports them as
warnings (a newer cruijff_kit may add keys), rule ES001 every other schema error. Open
mappings where the template says "additional parameters can be added" (``controls``,
``runs[].parameters``, ``data.data_generation``, scorer ``params``) accept any key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Closed(BaseModel):
    """Unknown keys are errors (reported as ES002 warnings)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class _Open(BaseModel):
    """Any further key is accepted (the template invites additions here)."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class Experiment(_Closed):
    """``experiment``: ``name``, ``project`` (blueprint folder), ``question``, ``date``
    (YYYY-MM-DD), ``dir`` required; ``hypothesis``, ``purpose`` optional."""

    name: str
    project: str = Field(min_length=1)
    question: str
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    dir: str = Field(min_length=1)
    hypothesis: str | None = None
    purpose: str | None = None


class Tools(_Closed):
    """``tools``: scaffold routing; the template names ``torchtune`` and ``inspect-ai``."""

    preparation: Literal["torchtune"]
    evaluation: Literal["inspect-ai"]


class Controls(_Open):
    """``controls``: fixed settings shared by every run. ``epochs`` (> 0) and
    ``batch_size`` (per GPU, > 0) are required by cruijff_kit's schema test;
    ``system_prompt``, ``dataset_type`` are REQUIRED in the template."""

    system_prompt: str | None = None
    prompt: str | None = None
    dataset_type: Literal["chat_completion", "text_completion"] | None = None
    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    gradient_accumulation_steps: int | None = Field(default=None, gt=0)
    validation_during_training: bool | None = None
    seed: int | None = None


class BaseModelEntry(_Closed):
    """``models.base[]``: ``name``, ``path``, ``size_gb`` (GB, for disk estimates)."""

    name: str
    path: str
    size_gb: float = Field(ge=0)


class Models(_Closed):
    base: list[BaseModelEntry] = Field(min_length=1)


class Splits(_Closed):
    """Sample counts per split."""

    train: int = Field(ge=0)
    validation: int = Field(ge=0)
    test: int = Field(ge=0)


class Training(_Closed):
    """``data.training``: ``path``, ``dataset_label`` (the file name without extension),
    ``format`` (``json``), ``size_kb`` (KB), ``splits``."""

    path: str
    dataset_label: str
    format: Literal["json"]
    size_kb: float = Field(ge=0)
    splits: Splits


class Data(_Closed):
    training: Training
    data_generation: dict[str, Any] | None = None


class Output(_Closed):
    wandb_project: str


class RunCompute(_Closed):
    """Per-run compute estimate (``time`` ``HH:MM:SS``, ``gpus``, ``mem`` such as ``80G``)."""

    time: str | None = Field(default=None, pattern=r"^(\d+-)?\d{1,3}:\d{2}:\d{2}$")
    gpus: int | None = Field(default=None, ge=0)
    mem: str | None = None


class Run(_Closed):
    """``runs[]``: ``name`` (its folder), ``type`` (``fine-tuned`` trained here,
    ``control`` the base model as-is, ``eval-only`` a pre-existing checkpoint), ``model``
    (a ``models.base[].name``), ``parameters`` (the varied values; ``{}`` for control)."""

    name: str = Field(min_length=1)
    type: Literal["fine-tuned", "control", "eval-only"]
    model: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    training_condition: str | None = None
    compute: RunCompute | None = None


class Scorer(_Closed):
    name: str
    params: dict[str, Any] | None = None


class Task(_Closed):
    """``evaluation.tasks[]``: ``name``, ``script``, ``description``; exactly one of
    ``dataset``/``eval_condition``; optional per-task prompt overrides."""

    name: str
    script: str
    description: str
    dataset: str | None = None
    eval_condition: str | None = None
    prompt: str | None = None
    system_prompt: str | None = None
    assistant_prefix: str | None = None


class MatrixEntry(_Closed):
    """``evaluation.matrix[]``: which ``run`` evaluates on which ``tasks`` at which
    ``epochs`` (0-indexed; ``null`` for control and eval-only runs)."""

    run: str
    vis_label: str | None = None
    tasks: list[str] = Field(min_length=1)
    epochs: list[int] | None


class Evaluation(_Closed):
    system_prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0)
    do_sample: bool | None = None
    seed: int | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    max_connections: int | None = Field(default=None, gt=0)
    assistant_prefix: str | None = None
    scorers: list[Scorer] = Field(min_length=1)
    tasks: list[Task] = Field(min_length=1)
    compute: RunCompute | None = None
    matrix: list[MatrixEntry] = Field(min_length=1)


class ExperimentSummary(_Closed):
    """The whole file (top-level keys of the design template)."""

    experiment: Experiment
    tools: Tools
    variables: dict[str, list[Any]] | None = None
    controls: Controls
    models: Models
    data: Data
    output: Output
    runs: list[Run] = Field(min_length=1)
    evaluation: Evaluation


#: Top-level keys that make a YAML mapping an experiment summary (shape detection).
SHAPE_KEYS = frozenset({"experiment", "runs", "evaluation", "controls", "models"})


# -- adapter: experiment_summary.yaml → RunGroupSpec (compiler.spec.build) ---------------------
#: the training and evaluation seed when the document sets none (design template:
#: ``controls.seed`` and ``evaluation.seed`` "default 14")
CRUIJFF_SEED = 14
#: ``controls`` keys that are planc training settings (the rest are reported unused).
_TRAINING_KEYS = ("epochs", "batch_size", "gradient_accumulation_steps", "system_prompt",
                  "seed", "lora_rank", "lora_dropout", "lr", "weight_decay",
                  "num_warmup_steps", "max_seq_len", "log_every_n_steps", "packed", "recipe",
                  "run_val_every_n_steps")
#: cruijff_kit's ``dataset_type`` (controls) → planc's (torchtune builder); the inverse of
#: ``compiler.emit.CRUIJFF_DATASET_TYPES`` for the two values cruijff_kit writes.
_DATASET_TYPES = {"chat_completion": "chat_dataset",
                  "text_completion": "text_completion_dataset"}
#: keys planc's compile does not carry into its outputs (EX014 info where stated).
_UNUSED = {
    ("evaluation", "scorers"): "planc's evaluations pass no scorer (the task script's "
                                "own applies)",
    ("evaluation", "do_sample"): "planc's evaluations always decode greedily "
                                 "(-M do_sample=false)",
    ("evaluation", "max_tokens"): "the task's own default applies in planc's evaluations",
    ("evaluation", "assistant_prefix"): "planc's evaluations do not set an assistant prefix",
    ("data", "data_generation"): "planc does not run cruijff_kit's data generators; the "
                                 "training file must exist",
}


def checkpoint_problem(parameters: Any) -> str | None:
    """Why an ``eval-only`` run's ``parameters`` do not name a usable checkpoint, else
    ``None``. cruijff_kit's design skill (``param_selection.md``, ``validation.md``): an
    eval-only run has ``parameters.checkpoint_path``, the absolute path of the pre-existing
    checkpoint directory, used verbatim as the evaluated ``model_path``. Its epoch lives in
    that path (the matrix ``epochs`` is ``null``), so without it there is nothing to load."""
    value = parameters.get("checkpoint_path") if isinstance(parameters, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        return ("parameters.checkpoint_path is missing or empty: an eval-only run evaluates "
                "a pre-existing checkpoint, named by its absolute directory")
    if not isinstance(value, str):
        return f"parameters.checkpoint_path must be a directory path, not {value!r}"
    if not value.startswith("/"):
        return (f"parameters.checkpoint_path {value!r} is not absolute: jobs run in other "
                "folders, so the checkpoint directory must be an absolute path")
    return None


def spec_from_experiment_summary(doc: Any, settings: Any = None) -> tuple[Any, list[Any]]:
    """Normalise an ``experiment_summary.yaml`` document (kind ``experiment-summary``) into
    a :class:`compiler.models.rungroup.RunGroupSpec`, the spec a ``runs_plan.md`` becomes.

    Returns ``(spec, infos)`` or ``(None, errors)``. Errors are ``RG900`` diagnostics at the
    YAML key (schema errors, also reported by ES001, and facts planc cannot compile such as
    an ``eval-only`` run without a usable ``parameters.checkpoint_path``, also ES009);
    infos are ``EX014`` for stated settings planc's outputs do not use.
    The mapping (cruijff_kit design template → RunGroupSpec): ``experiment.name`` → group
    name; ``models.base[]`` → model paths; ``runs[]`` → explicit runs (``parameters`` that
    are ``variables`` become factor levels, ``lora_rank``/``batch_size`` the run's own);
    an ``eval-only`` run becomes a control run (no fine-tune) whose evaluations load its
    ``parameters.checkpoint_path`` (``Run.checkpoint_path``);
    ``controls`` → training settings (``validation_during_training`` → ``validation``);
    ``output.wandb_project``; ``data.training``; ``evaluation.tasks``, ``matrix`` (run →
    tasks) and the matrix ``epochs`` (0-indexed, as in planc) of the fine-tuned runs.
    """
    from pydantic import ValidationError

    from ..diagnostics import Diagnostic, Severity
    from ..document import data_path, node_position
    from .rungroup import EvalTask, RunGroupSpec, Training, created_stamp

    raw = doc.yaml_data

    def p(*loc: Any) -> tuple[int, int]:
        line0, col0, _ = node_position(doc.yaml_node, loc)
        return line0 + 1 + doc.yaml_line, col0 + 1

    def err(pos: tuple[int, int], msg: str) -> Any:
        return Diagnostic(doc.path, pos[0], pos[1], "RG900", Severity.ERROR, msg,
                          "missing-fact")

    if not isinstance(raw, dict):
        if any(d.code in ("CM000", "CM001") for d in doc.diagnostics):
            return None, []  # the load error is the finding; no cascade
        return None, [err((1, 1), "experiment_summary.yaml must be a mapping")]
    try:
        es = ExperimentSummary.model_validate(raw)
    except ValidationError as exc:
        out = []
        for e in exc.errors(include_url=False):
            if e["type"] == "extra_forbidden":
                continue  # ES002 (warning): an unknown key does not stop the compile
            loc = data_path(raw, tuple(e["loc"]))
            dotted = ".".join(str(s) for s in e["loc"])
            out.append(err(p(*loc), f"experiment_summary {dotted}: {e['msg']}"))
        if out:
            return None, out
        es = _validated_ignoring_extras(raw)  # only unknown keys: validate the rest
    diags: list[Any] = []
    pos: dict[str, tuple[int, int]] = {"": (doc.yaml_line + 1, 1)}
    for top in ("experiment", "variables", "models", "data", "controls", "runs",
                "evaluation", "output"):
        if top in raw:
            pos[top] = p(top)
    controls = es.controls.model_dump(exclude_none=True)
    training = Training().model_dump()
    for key in _TRAINING_KEYS:
        if key in controls:
            training[key] = controls[key]
            pos[f"training.{key}"] = p("controls", key)
    if es.controls.validation_during_training is not None:
        training["validation"] = es.controls.validation_during_training
        pos["training.validation"] = p("controls", "validation_during_training")
    if "seed" not in controls:
        training["seed"] = CRUIJFF_SEED
    training["wandb_project"] = es.output.wandb_project
    pos["training.wandb_project"] = p("output", "wandb_project")
    factors = {k: list(v) for k, v in (es.variables or {}).items()}
    for k in factors:
        pos[f"variables.{k}"] = p("variables", k)
    for i, m in enumerate(es.models.base):
        pos[f"models.{m.name}"] = p("models", "base", i, "name")
    explicit: list[dict[str, Any]] = []
    for i, run in enumerate(es.runs):
        pos[f"runs.{run.name}"] = p("runs", i, "name")
        pos.setdefault(f"models.{run.model}", p("runs", i, "model"))  # not in models.base
        params = dict(run.parameters)
        if run.type == "eval-only":
            # a pre-existing checkpoint evaluated as-is: a control run (no fine-tune) whose
            # evaluations load parameters.checkpoint_path (design template; validation.md:
            # "a parameters.checkpoint_path pointing at a pre-existing checkpoint directory")
            ckpt = checkpoint_problem(params)
            if ckpt is not None:
                where = (p("runs", i, "parameters", "checkpoint_path")
                         if "checkpoint_path" in params else p("runs", i, "type"))
                # the "experiment_summary " prefix: lint reports it as ES009, not twice
                diags.append(err(where, f"experiment_summary runs.{i}.parameters."
                                 f"checkpoint_path: eval-only run {run.name!r}: {ckpt}"))
                continue
            explicit.append({"name": run.name, "model": run.model, "type": "control",
                             "factors": {}, "lora_rank": None, "batch_size": None,
                             "checkpoint_path": str(params["checkpoint_path"])})
            for key in params:
                if key != "checkpoint_path":
                    line, col = p("runs", i, "parameters", key)
                    diags.append(Diagnostic(
                        doc.path, line, col, "EX014", Severity.INFO,
                        f"runs[{i}].parameters.{key} is not used: eval-only run "
                        f"{run.name!r} evaluates its checkpoint with the group's settings",
                        "compile-unused-setting"))
            continue
        own = {k: v for k, v in params.items()
               if k not in factors and k not in ("lora_rank", "batch_size")}
        settings = {k: v for k, v in own.items()
                    if k in _TRAINING_KEYS and run.type == "fine-tuned"}
        for key in (k for k in own if k not in settings):
            line, col = p("runs", i, "parameters", key)
            why = ("a control run is not trained" if run.type == "control" else
                   "planc's compiled configs have no such setting")
            diags.append(Diagnostic(doc.path, line, col, "EX014", Severity.INFO,
                                    f"runs[{i}].parameters.{key} is not used: {why}",
                                    "compile-unused-setting"))
        explicit.append({
            "name": run.name, "model": run.model, "type": run.type,
            "factors": {k: v for k, v in params.items() if k in factors},
            "lora_rank": params.get("lora_rank"), "batch_size": params.get("batch_size"),
            "settings": settings,
        })
    ft = {r.name for r in es.runs if r.type == "fine-tuned"}
    epoch_lists = [list(e.epochs) for e in es.evaluation.matrix
                   if e.run in ft and e.epochs is not None]
    eval_epochs: str | list[int] = "last"
    if epoch_lists:
        eval_epochs = sorted({n for lst in epoch_lists for n in lst})
        if any(sorted(set(lst)) != eval_epochs for lst in epoch_lists):
            line, col = p("evaluation", "matrix")
            diags.append(Diagnostic(doc.path, line, col, "EX014", Severity.INFO,
                                    f"evaluation.matrix epochs differ per run; planc evaluates "
                                    f"every fine-tuned run at epochs {eval_epochs}",
                                    "compile-unused-setting"))
    pos["evaluation.epochs"] = pos["evaluation.matrix"] = p("evaluation", "matrix")
    pos["evaluation.tasks"] = p("evaluation", "tasks")
    for i, entry in enumerate(es.evaluation.matrix):
        if entry.vis_label is not None:
            line, col = p("evaluation", "matrix", i, "vis_label")
            diags.append(Diagnostic(doc.path, line, col, "EX014", Severity.INFO,
                                    f"evaluation.matrix[{i}].vis_label is not used: planc "
                                    "labels an evaluation <task>_epoch_<N>",
                                    "compile-unused-setting"))
    for loc, why in _UNUSED.items():
        sect = raw.get(loc[0])
        if isinstance(sect, dict) and loc[1] in sect and not (
                loc[1] == "do_sample" and sect[loc[1]] is False):
            line, col = p(*loc)
            diags.append(Diagnostic(doc.path, line, col, "EX014", Severity.INFO,
                                    f"{'.'.join(loc)} is not used: {why}",
                                    "compile-unused-setting"))
    used = {*_TRAINING_KEYS, "validation_during_training", "dataset_type"}
    for key in raw.get("controls") or {}:
        if key not in used:
            line, col = p("controls", key)
            diags.append(Diagnostic(doc.path, line, col, "EX014", Severity.INFO,
                                    f"controls.{key} is not used: planc's compiled configs "
                                    "have no such setting", "compile-unused-setting"))
    if (es.evaluation.system_prompt is not None
            and es.evaluation.system_prompt != (es.controls.system_prompt or "")):
        line, col = p("evaluation", "system_prompt")
        diags.append(Diagnostic(doc.path, line, col, "EX014", Severity.INFO,
                                "evaluation.system_prompt is not used: planc evaluates with "
                                "controls.system_prompt, the one the runs trained with",
                                "compile-unused-setting"))
    if any(d.severity == Severity.ERROR for d in diags):
        return None, diags
    exp = es.experiment
    tr = es.data.training
    spec = RunGroupSpec(
        name=exp.name, source=doc.path, created=created_stamp(exp.date),
        question=exp.question, hypothesis=exp.hypothesis, project=exp.project,
        purpose=exp.purpose, meta={},
        factors=factors, design="grid", explicit_runs=explicit, controls=[],
        models={m.name: m.path for m in es.models.base},
        data_path=tr.path, data_format=tr.format, dataset_label=tr.dataset_label,
        dataset_type=_DATASET_TYPES.get(es.controls.dataset_type or "", "chat_dataset"),
        splits=tr.splits.model_dump(), training=training,
        # cruijff_kit's ``dataset: same`` is the training file
        eval_tasks=[EvalTask(t.name, t.script, tr.path if t.dataset == "same" else t.dataset,
                             t.description) for t in es.evaluation.tasks],
        eval_epochs=eval_epochs, eval_max_connections=es.evaluation.max_connections,
        eval_seed=es.evaluation.seed if es.evaluation.seed is not None else CRUIJFF_SEED,
        matrix={e.run: list(e.tasks) for e in es.evaluation.matrix},
        # runs live in {experiment.dir}/{run} (design template: experiment.dir)
        compute={"output_dir": exp.dir},
        positions=pos,
    )
    return spec, diags


def _validated_ignoring_extras(raw: dict[str, Any]) -> ExperimentSummary:
    """``raw`` validated with unknown keys dropped (they are ES002's, not the compile's)."""

    def strip(model: type[BaseModel], value: Any) -> Any:
        if not isinstance(value, dict) or model.model_config.get("extra") != "forbid":
            return value
        out = {}
        for k, v in value.items():
            field = model.model_fields.get(k)
            if field is None:
                continue
            sub = _inner_model(field.annotation)
            if sub is not None and isinstance(v, list):
                v = [strip(sub, x) for x in v]
            elif sub is not None:
                v = strip(sub, v)
            out[k] = v
        return out

    return ExperimentSummary.model_validate(strip(ExperimentSummary, raw))


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``list[X]`` or ``X | None``, else None."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
