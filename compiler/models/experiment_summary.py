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
