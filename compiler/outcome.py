"""A plan's outcome: its primary metric per run, aggregated over seeds, the best level (only
when it is separated from the rest), and its Success Criteria checked against results.

Pure functions over plain data, shared by the site (:mod:`compiler.site`) and ``planc
results`` (:mod:`compiler.summary`), so both say the same thing:

- :func:`run_metrics` flattens one run's ``results.json`` entry into ``{name: number}``:
  ``metrics.json`` values as written, inspect-ai scores as ``<eval key>/<metric>`` (and
  ``<eval key>/<scorer>/<metric>`` when a log has several scorers), torchtune's training
  summary as ``final_loss``, ``tokens_per_second``, ``peak_memory_gib``, ``train_seconds``.
- :func:`read_intent` reads what the plan wants: its **Primary** metric (Metrics section,
  or front-matter ``primary_metric``), the direction (front-matter ``direction``, else from
  the name: losses, errors, perplexity and times are minimised, everything else maximised)
  and its Success Criteria (front-matter ``criteria:`` entries, else the checklist's prose).
- :func:`analyse` aggregates the primary metric over the replicate factors (``seed``,
  ``repeat``, …): mean ± sample standard deviation per level of every other factor, and
  names the best level only when its lead over the runner-up exceeds the sum of their
  standard deviations (otherwise the levels are *not separated*).
- :func:`check_criteria` gives each criterion a verdict, ``pass``/``fail``/``pending``
  with its evidence, or ``unchecked`` ("not machine-checkable").
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["pass", "fail", "pending", "unchecked"]
REPLICATE = re.compile(r"^(seed|seeds|.*_seed|seed_.*|repeat|repeats|rep|replicate|trial)$",
                       re.IGNORECASE)
MINIMISE = re.compile(r"loss|error|perplexity|ppl|\bwer\b|\bcer\b|latency|seconds|time|mse|"
                      r"rmse|mae|regret|distance", re.IGNORECASE)
_OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        "<": lambda a, b: a < b, "==": lambda a, b: math.isclose(a, b)}
COMPARISON = re.compile(r"^\s*(>=|<=|>|<|==)\s*(-?[0-9.]+(?:e-?\d+)?)\s*$", re.IGNORECASE)
_NUM = r"(?P<num>-?\d+(?:\.\d+)?%?)"


def _number(text: str) -> float:
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def normalise(name: str) -> str:
    """``"Test accuracy"`` → ``"test_accuracy"`` (lower case, runs of non-word → ``_``)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# -- per run ----------------------------------------------------------------------------
def run_metrics(result: dict[str, Any] | None) -> dict[str, float]:
    """Every number one run recorded (see the module docstring for the names)."""
    out: dict[str, float] = {}
    if not isinstance(result, dict):
        return out
    metrics = result.get("metrics")
    if isinstance(metrics, dict):
        for k, v in metrics.items():
            if _is_num(v):
                out[str(k)] = v
    evals = result.get("evaluations")
    for key, ev in sorted(evals.items()) if isinstance(evals, dict) else []:
        scores = ev.get("scores") if isinstance(ev, dict) else None
        if not isinstance(scores, dict):
            continue
        for scorer, values in scores.items():
            for metric, v in (values.items() if isinstance(values, dict) else []):
                if _is_num(v):
                    name = f"{key}/{metric}" if len(scores) == 1 else f"{key}/{scorer}/{metric}"
                    out[name] = v
    tr = result.get("training")
    if isinstance(tr, dict):
        for src, dst in (("final_loss", "final_loss"), ("tokens_per_second", "tokens_per_second"),
                         ("peak_memory_gib", "peak_memory_gib"), ("duration_s", "train_seconds")):
            if _is_num(tr.get(src)):
                out[dst] = tr[src]
    return out


# -- what the plan wants ------------------------------------------------------------------
@dataclass(frozen=True)
class CriterionSpec:
    """One success criterion in checkable form. ``form``: ``every`` (each run's value
    ``op`` ``value``), ``mean``/``best`` (the mean of the best level, the best run),
    ``agree`` (replicates of each level within ``value``), ``complete`` (every run
    finished, and wrote ``metric`` when one is named), ``none`` (not machine-checkable)."""

    text: str
    form: Literal["every", "mean", "best", "agree", "complete", "none"] = "none"
    metric: str | None = None
    op: str = ">="
    value: float = 0.0
    line: int = 0


@dataclass(frozen=True)
class Intent:
    """What the plan states about its results: the primary metric as written, its
    direction (``max``/``min``) and the success criteria."""

    primary: str | None = None
    direction: Literal["max", "min"] = "max"
    direction_stated: bool = False
    criteria: tuple[CriterionSpec, ...] = ()


def direction_of(name: str) -> Literal["max", "min"]:
    return "min" if MINIMISE.search(name.replace("_", " ")) else "max"


def read_intent(doc: Any) -> Intent:
    """The :class:`Intent` of a plan or run-group document (``doc``: a loaded Document)."""
    fm = doc.front_matter if isinstance(getattr(doc, "front_matter", None), dict) else {}
    primary: str | None = None
    criteria: list[CriterionSpec] = []
    prose: list[tuple[str, int]] = []
    if doc.kind == "plan":
        from .models.plan import parse_plan

        model = parse_plan(doc)
        primary = next((m.name for m in model.metrics if m.role == "primary" and m.name), None)
        prose = [(c.text, c.line) for c in model.criteria]
    if isinstance(fm.get("primary_metric"), str) and fm["primary_metric"].strip():
        primary = fm["primary_metric"].strip()
    stated = str(fm.get("direction", "")).lower()
    direction: Literal["max", "min"]
    if stated.startswith(("max", "high")):
        direction = "max"
    elif stated.startswith(("min", "low")):
        direction = "min"
    else:
        direction = direction_of(primary or "")
    fm_criteria = fm.get("criteria")
    if isinstance(fm_criteria, list) and fm_criteria:
        criteria = [c for c in (criterion_from_mapping(x, primary) for x in fm_criteria) if c]
    else:
        criteria = [parse_criterion(text, primary, line) for text, line in prose]
    return Intent(primary=primary, direction=direction,
                  direction_stated=direction != direction_of(primary or "") or bool(stated),
                  criteria=tuple(criteria))


def criterion_from_mapping(item: Any, primary: str | None) -> CriterionSpec | None:
    """A front-matter ``criteria:`` entry: ``{metric, every|mean|best: "<op> <number>"}``,
    ``{metric, agree_within: <number>}``, ``{complete: true}``; ``text`` optional."""
    if not isinstance(item, dict):
        return CriterionSpec(text=str(item)) if item is not None else None
    metric = str(item.get("metric") or primary or "") or None
    text = str(item.get("text") or "")
    for form in ("every", "mean", "best"):
        if form in item:
            m = COMPARISON.match(str(item[form]))
            if m and metric:
                return CriterionSpec(text=text or f"{form} {metric} {item[form]}", form=form,
                                     metric=metric, op=m.group(1), value=float(m.group(2)))
    if _is_num(item.get("agree_within")) and metric:
        return CriterionSpec(text=text or f"replicates agree within {item['agree_within']}",
                             form="agree", metric=metric, value=float(item["agree_within"]))
    if item.get("complete"):
        return CriterionSpec(text=text or "every run completes", form="complete",
                             metric=item.get("metric"))
    return CriterionSpec(text=text or str(item))


_EVERY = re.compile(
    r"\b(?:every|each|all)(?: of the)?(?: \d+)? (?:runs?|seeds?|levels?|configurations?)\b.*?"
    r"\b(?:reach(?:es)?|ha(?:s|ve)|achieves?|gets?|scores?|keeps?|stays?)\s+"
    r"(?:an? |the )?(?P<op>at least|at most|above|below|over|under|>=|<=|>|<)\s*" + _NUM +
    r"\s*(?:of |in )?(?P<metric>[A-Za-z][\w .-]*?)?\s*(?:[.;,(]|$)", re.IGNORECASE)
_METRIC_FIRST = re.compile(
    r"\b(?:every|each|all)(?: \d+)? (?:runs?)\b.*?\b(?:'s |s' )?(?P<metric>[A-Za-z][\w .-]*?)\s+"
    r"(?:is |of |stays |remains )?(?P<op>at least|at most|above|below|over|under|>=|<=|>|<)\s*"
    + _NUM, re.IGNORECASE)
_AGREE = re.compile(
    r"\b(?:seeds?|repeats?|replicates?|runs)\b.*?\b(?:agree|differ by no more than|"
    r"within)\b.*?(?:within\s+)?" + _NUM + r"\s*(?:of |in )?(?P<metric>[A-Za-z][\w .-]*?)?"
    r"\s*(?:[.;,(]|$)", re.IGNORECASE)
_COMPLETE = re.compile(r"\b(?:all|every)\b(?: \d+)? runs? (?:finish|complete|succeed|run)",
                       re.IGNORECASE)
_WORD_OPS = {"at least": ">=", "above": ">", "over": ">", "at most": "<=", "below": "<",
             "under": "<", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}


def parse_criterion(text: str, primary: str | None, line: int = 0) -> CriterionSpec:
    """The checkable form of a prose criterion (the common forms in the module docstring),
    or ``form="none"``."""
    plain = text.replace("`", "").replace("**", "")
    plain = plain.replace("≥", ">=").replace("≤", "<=")
    for pattern in (_EVERY, _METRIC_FIRST):
        m = pattern.search(plain)
        if m:
            metric = (m.group("metric") or "").strip() or primary
            if metric:
                return CriterionSpec(text=text, form="every", metric=metric,
                                     op=_WORD_OPS[m.group("op").lower()],
                                     value=_number(m.group("num")), line=line)
    m = _AGREE.search(plain)
    if m:
        metric = (m.group("metric") or "").strip() or primary
        if metric:
            return CriterionSpec(text=text, form="agree", metric=metric,
                                 value=_number(m.group("num")), line=line)
    if _COMPLETE.search(plain):
        writes = re.search(r"writes?\s+(\S+\.json)", plain)
        return CriterionSpec(text=text, form="complete",
                             metric="*" if writes else None, line=line)
    return CriterionSpec(text=text, line=line)


def resolve_metric(name: str | None, available: list[str]) -> str | None:
    """The recorded metric that ``name`` (as the plan writes it) means: an exact or
    normalised match, else the one whose normalised name contains every word of ``name``
    (shortest first), else one ending in the name's last word."""
    if not name or not available:
        return None
    if name in available:
        return name
    norm = normalise(name)
    by_norm = {normalise(a): a for a in available}
    if norm in by_norm:
        return by_norm[norm]
    words = [w for w in norm.split("_") if w]
    hits = sorted((a for a in available if all(w in normalise(a).split("_") for w in words)),
                  key=len)
    if hits:
        return hits[0]
    if words:
        tail = sorted((a for a in available if normalise(a).endswith(words[-1])), key=len)
        if tail:
            return tail[0]
    return None


# -- aggregation ----------------------------------------------------------------------------
@dataclass
class Level:
    """One cell of the non-replicate factors: its label, runs, values, mean and spread
    (sample standard deviation; ``None`` with fewer than two values)."""

    label: str
    levels: dict[str, Any]
    runs: list[str]
    values: list[float]
    mean: float | None = None
    spread: float | None = None
    range: float | None = None


@dataclass
class Outcome:
    """The analysed results of one group (see :func:`analyse`)."""

    primary: str | None = None  # the recorded metric name
    primary_stated: str | None = None  # as the plan writes it
    direction: Literal["max", "min"] = "max"
    factors: list[str] = field(default_factory=list)  # non-replicate factors
    replicates: list[str] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)  # ranked best first
    by_factor: dict[str, list[Level]] = field(default_factory=dict)
    best_run: tuple[str, float] | None = None
    best: Level | None = None
    runner_up: Level | None = None
    separated: bool | None = None  # None: no replicates to tell
    verdicts: list[tuple[CriterionSpec, Verdict, str]] = field(default_factory=list)

    @property
    def statement(self) -> str:
        """One sentence: which level won and by how much, or that none is separated."""
        if self.best is None or self.primary is None:
            return ""
        best = f"{self.best.label} ({_pm(self.best)})"
        if self.runner_up is None:
            return f"Best: {best}; the only level with results."
        lead = abs((self.best.mean or 0) - (self.runner_up.mean or 0))
        other = f"{self.runner_up.label} ({_pm(self.runner_up)})"
        if self.separated is None:
            return (f"Best: {best}, ahead of {other} by {lead:.3g}; one run per level, so "
                    "the seed spread is unknown.")
        if self.separated:
            return f"Best: {best}, ahead of {other} by {lead:.3g}, more than the seed spread."
        return (f"Levels not separated: the top level {best} leads {other} by only "
                f"{lead:.3g}, within the seed spread.")


def _pm(level: Level) -> str:
    if level.mean is None:
        return "—"
    if level.spread is None:
        return f"{level.mean:.4g}, n={len(level.values)}"
    return f"{level.mean:.4g} ± {level.spread:.2g}, n={len(level.values)}"


def _label(levels: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in levels.items()) or "all runs"


def _aggregate(groups: dict[tuple[Any, ...], Level], name: str, levels: dict[str, Any],
               run: str, value: float) -> None:
    key = tuple(str(v) for v in levels.values())
    cell = groups.setdefault(key, Level(label=name or _label(levels), levels=levels, runs=[],
                                        values=[]))
    cell.runs.append(run)
    cell.values.append(value)


def _finish(level: Level) -> Level:
    if level.values:
        level.mean = statistics.fmean(level.values)
        if len(level.values) > 1:
            level.spread = statistics.stdev(level.values)
            level.range = max(level.values) - min(level.values)
    return level


def analyse(metrics: dict[str, dict[str, float]], factors: dict[str, dict[str, Any]],
            statuses: dict[str, str], intent: Intent) -> Outcome:
    """The :class:`Outcome` of a group: ``metrics`` per run (:func:`run_metrics`),
    ``factors`` per run (factor → level), ``statuses`` per run (the tracker's main status)."""
    available: list[str] = []
    for values in metrics.values():
        available += [k for k in values if k not in available]
    stated = intent.primary
    primary = resolve_metric(stated, available)
    if primary is None and stated is None:
        primary = next((a for a in available if "accuracy" in a.lower()), None)
    direction = intent.direction if intent.direction_stated or stated else direction_of(
        primary or "")
    out = Outcome(primary=primary, primary_stated=stated, direction=direction)
    names: list[str] = []
    for f in factors.values():
        names += [k for k in f if k not in names]
    out.replicates = [n for n in names if REPLICATE.match(n)]
    out.factors = [n for n in names if n not in out.replicates]
    if primary is not None:
        cells: dict[tuple[Any, ...], Level] = {}
        marginal: dict[str, dict[tuple[Any, ...], Level]] = {f: {} for f in out.factors}
        scored = [(r, m[primary]) for r, m in metrics.items() if primary in m]
        for run, value in scored:
            levels = {f: factors.get(run, {}).get(f) for f in out.factors}
            _aggregate(cells, "", levels, run, value)
            for f in out.factors:
                _aggregate(marginal[f], f"{f}={levels[f]}", {f: levels[f]}, run, value)
        sign = 1 if direction == "max" else -1
        out.levels = sorted((_finish(c) for c in cells.values()),
                            key=lambda c: -sign * (c.mean or 0))
        out.by_factor = {f: [_finish(c) for c in marginal[f].values()] for f in out.factors}
        if scored:
            out.best_run = max(scored, key=lambda rv: sign * rv[1])
        if out.levels:
            out.best = out.levels[0]
            if len(out.levels) > 1:
                out.runner_up = out.levels[1]
                a, b = out.best, out.runner_up
                if a.spread is None or b.spread is None:
                    out.separated = None
                else:
                    out.separated = abs((a.mean or 0) - (b.mean or 0)) > a.spread + b.spread
    out.verdicts = check_criteria(intent.criteria, metrics, factors, statuses, out)
    return out


# -- criteria -----------------------------------------------------------------------------
_DONE = ("completed",)
_DEAD = ("failed", "skipped", "cancelled")


def check_criteria(criteria: tuple[CriterionSpec, ...], metrics: dict[str, dict[str, float]],
                   factors: dict[str, dict[str, Any]], statuses: dict[str, str],
                   outcome: Outcome) -> list[tuple[CriterionSpec, Verdict, str]]:
    """Each criterion with its verdict and evidence (a sentence with the numbers)."""
    available: list[str] = []
    for values in metrics.values():
        available += [k for k in values if k not in available]
    runs = list(statuses) or list(metrics)
    out: list[tuple[CriterionSpec, Verdict, str]] = []
    for c in criteria:
        if c.form == "none":
            out.append((c, "unchecked", "not machine-checkable"))
            continue
        if c.form == "complete":
            out.append((c, *_complete(c, runs, statuses, metrics)))
            continue
        metric = resolve_metric(c.metric, available)
        if metric is None:
            pending = any(statuses.get(r) not in _DONE + _DEAD for r in runs)
            out.append((c, "pending" if pending or not metrics else "fail",
                        f"no run has recorded {c.metric!s} yet"))
            continue
        if c.form == "every":
            out.append((c, *_every(c, metric, runs, statuses, metrics)))
        elif c.form == "agree":
            out.append((c, *_agree(c, metric, runs, statuses, metrics, factors, outcome)))
        else:  # mean / best
            value = None
            if c.form == "mean" and outcome.best is not None and outcome.primary == metric:
                value = outcome.best.mean
            vals = [m[metric] for m in metrics.values() if metric in m]
            if value is None and vals:
                value = (max if outcome.direction == "max" else min)(vals)
            if value is None:
                out.append((c, "pending", f"no {metric} yet"))
            else:
                ok = _OPS[c.op](value, c.value)
                out.append((c, "pass" if ok else "fail",
                            f"{c.form} {metric} = {value:.4g} ({c.op} {c.value:g} required)"))
    return out


def _missing(runs: list[str], statuses: dict[str, str], metrics: dict[str, dict[str, float]],
             metric: str) -> tuple[list[str], list[str]]:
    """Runs without ``metric``: (those that never will — failed/skipped, those still going)."""
    dead = [r for r in runs if metric not in metrics.get(r, {}) and statuses.get(r) in _DEAD]
    waiting = [r for r in runs if metric not in metrics.get(r, {}) and r not in dead
               and statuses.get(r) not in _DONE]
    return dead, waiting


def _names(runs: list[str], limit: int = 4) -> str:
    head = ", ".join(runs[:limit])
    return head + (f" and {len(runs) - limit} more" if len(runs) > limit else "")


def _complete(c: CriterionSpec, runs: list[str], statuses: dict[str, str],
              metrics: dict[str, dict[str, float]]) -> tuple[Verdict, str]:
    failed = [r for r in runs if statuses.get(r) in _DEAD]
    waiting = [r for r in runs if statuses.get(r) not in _DONE + _DEAD]
    done = [r for r in runs if statuses.get(r) in _DONE]
    if c.metric:
        silent = [r for r in done if not metrics.get(r)]
        if silent:
            return "fail", f"{len(silent)} completed run(s) recorded no metrics: {_names(silent)}"
    if failed:
        return "fail", f"{len(failed)} of {len(runs)} run(s) did not finish: {_names(failed)}"
    if waiting:
        return "pending", (f"{len(done)} of {len(runs)} run(s) finished; waiting for "
                           f"{_names(waiting)}")
    return "pass", f"all {len(runs)} run(s) finished"


def _every(c: CriterionSpec, metric: str, runs: list[str], statuses: dict[str, str],
           metrics: dict[str, dict[str, float]]) -> tuple[Verdict, str]:
    have = [(r, metrics[r][metric]) for r in runs if metric in metrics.get(r, {})]
    bad = [(r, v) for r, v in have if not _OPS[c.op](v, c.value)]
    dead, waiting = _missing(runs, statuses, metrics, metric)
    need = f"{c.op} {c.value:g}"
    if bad:
        worst = ", ".join(f"{r} {v:.4g}" for r, v in bad[:4])
        return "fail", f"{len(bad)} of {len(runs)} run(s) miss {metric} {need}: {worst}"
    if dead:
        return "fail", f"{len(dead)} run(s) failed without {metric}: {_names(dead)}"
    if waiting:
        return "pending", f"{len(have)} of {len(runs)} run(s) have {metric}; waiting for " \
                          f"{_names(waiting)}"
    if not have:
        return "pending", f"no {metric} yet"
    lo = min(v for _r, v in have) if c.op.startswith(">") else max(v for _r, v in have)
    word = "lowest" if c.op.startswith(">") else "highest"
    return "pass", f"all {len(have)} run(s) {metric} {need} ({word} {lo:.4g})"


def _agree(c: CriterionSpec, metric: str, runs: list[str], statuses: dict[str, str],
           metrics: dict[str, dict[str, float]], factors: dict[str, dict[str, Any]],
           outcome: Outcome) -> tuple[Verdict, str]:
    cells: dict[tuple[Any, ...], list[tuple[str, float]]] = {}
    for r in runs:
        key = tuple(str(factors.get(r, {}).get(f)) for f in outcome.factors)
        if metric in metrics.get(r, {}):
            cells.setdefault(key, []).append((r, metrics[r][metric]))
        else:
            cells.setdefault(key, [])
    if not outcome.replicates:
        return "unchecked", "the plan has no seed or repeat factor to compare"
    worst = None
    for key, vals in cells.items():
        if len(vals) > 1:
            spread = max(v for _r, v in vals) - min(v for _r, v in vals)
            if worst is None or spread > worst[1]:
                worst = (key, spread)
    dead, waiting = _missing(runs, statuses, metrics, metric)
    pairs = zip(outcome.factors, worst[0], strict=False) if worst else ()
    label = ", ".join(f"{f}={v}" for f, v in pairs)
    if worst is not None and worst[1] > c.value + 1e-12:
        return "fail", f"{metric} differs by {worst[1]:.4g} between replicates of {label} " \
                       f"(within {c.value:g} required)"
    if dead:
        return "fail", f"{len(dead)} replicate(s) failed without {metric}: {_names(dead)}"
    if waiting:
        return "pending", f"waiting for {_names(waiting)}"
    if worst is None:
        return "pending", f"no level has two replicates with {metric} yet"
    return "pass", f"largest difference between replicates is {worst[1]:.4g} ({label}), " \
                   f"within {c.value:g}"
