"""compiler.outcome: metrics per run, the primary metric by level, separation, criteria."""

from __future__ import annotations

import pytest

from compiler.outcome import (
    Intent,
    analyse,
    criterion_from_mapping,
    direction_of,
    parse_criterion,
    resolve_metric,
    run_metrics,
)

FACTORS = {f"a{a}_s{s}": {"alpha": a, "seed": s} for a in (1, 2) for s in (0, 1)}


def _metrics(values: dict[str, float]) -> dict[str, dict[str, float]]:
    return {run: {"test_accuracy": v} for run, v in values.items()}


@pytest.mark.parametrize(("text", "form", "op", "value"), [
    ("Every run reaches at least 0.90 test accuracy", "every", ">=", 0.90),
    ("Each run has a test loss below 0.5", "every", "<", 0.5),
    ("All runs reach at least 90% accuracy", "every", ">=", 0.90),
    ("The two seeds of each `alpha` level agree within 0.03 test accuracy", "agree", ">=", 0.03),
    ("All 6 runs finish and each writes `metrics.json`", "complete", ">=", 0.0),
    ("The write-up explains the result to a newcomer", "none", ">=", 0.0),
])
def test_prose_criteria_forms(text: str, form: str, op: str, value: float) -> None:
    c = parse_criterion(text, "test accuracy")
    assert (c.form, c.op, c.value) == (form, op, pytest.approx(value))


def test_front_matter_criteria_and_direction() -> None:
    c = criterion_from_mapping({"metric": "val_loss", "every": "<= 1.5"}, None)
    assert c is not None and (c.form, c.metric, c.op, c.value) == ("every", "val_loss", "<=", 1.5)
    agree = criterion_from_mapping({"agree_within": 0.01}, "acc")
    assert agree is not None and agree.form == "agree" and agree.metric == "acc"
    assert direction_of("validation loss") == "min" and direction_of("macro F1") == "max"


def test_metric_names_resolve_from_the_plans_words() -> None:
    names = ["test_accuracy", "macro_f1", "test_log_loss", "n_iter"]
    assert resolve_metric("test accuracy", names) == "test_accuracy"
    assert resolve_metric("macro F1", names) == "macro_f1"
    assert resolve_metric("perplexity", names) is None


def test_run_metrics_flattens_every_source() -> None:
    m = run_metrics({
        "metrics": {"test_accuracy": 0.9, "converged": True, "name": "x"},
        "evaluations": {"qa_epoch_0": {"scores": {"match": {"accuracy": 0.7, "stderr": 0.1}}}},
        "training": {"final_loss": 1.2, "duration_s": 30.0},
    })
    assert m == {"test_accuracy": 0.9, "qa_epoch_0/accuracy": 0.7, "qa_epoch_0/stderr": 0.1,
                 "final_loss": 1.2, "train_seconds": 30.0}


def test_best_level_only_when_the_lead_exceeds_the_seed_spread() -> None:
    statuses = dict.fromkeys(FACTORS, "completed")
    intent = Intent(primary="test accuracy")
    close = analyse(_metrics({"a1_s0": 0.90, "a1_s1": 0.94, "a2_s0": 0.91, "a2_s1": 0.92}),
                    FACTORS, statuses, intent)
    assert close.factors == ["alpha"] and close.replicates == ["seed"]
    assert close.best is not None and close.best.label == "alpha=1"
    assert close.separated is False and "not separated" in close.statement
    clear = analyse(_metrics({"a1_s0": 0.80, "a1_s1": 0.81, "a2_s0": 0.95, "a2_s1": 0.96}),
                    FACTORS, statuses, intent)
    assert clear.separated is True and clear.best is not None and clear.best.label == "alpha=2"
    assert clear.best.mean == pytest.approx(0.955) and "Best: alpha=2 (0.955 ± 0.0071" in \
        clear.statement
    assert clear.best_run == ("a2_s1", 0.96)


def test_minimised_metric_ranks_lowest_first() -> None:
    metrics = {r: {"val_loss": v} for r, v in
               {"a1_s0": 0.5, "a1_s1": 0.52, "a2_s0": 0.9, "a2_s1": 0.91}.items()}
    o = analyse(metrics, FACTORS, dict.fromkeys(FACTORS, "completed"), Intent(primary="val loss",
                direction="min"))
    assert o.direction == "min" and o.best is not None and o.best.label == "alpha=1"


def test_criteria_verdicts_pass_fail_pending_with_evidence() -> None:
    crit = tuple(parse_criterion(t, "test accuracy") for t in (
        "Every run reaches at least 0.90 test accuracy",
        "The two seeds of each alpha level agree within 0.03 test accuracy",
        "All 4 runs finish",
        "Reviewers like it",
    ))
    intent = Intent(primary="test accuracy", criteria=crit)
    values = {"a1_s0": 0.91, "a1_s1": 0.95, "a2_s0": 0.93, "a2_s1": 0.94}
    done = analyse(_metrics(values), FACTORS, dict.fromkeys(FACTORS, "completed"), intent)
    assert [v for _c, v, _e in done.verdicts] == ["pass", "fail", "pass", "unchecked"]
    assert "0.04" in done.verdicts[1][2] and "alpha=1" in done.verdicts[1][2]
    partial = dict(values)
    del partial["a2_s1"]
    running = analyse(_metrics(partial), FACTORS,
                      {**dict.fromkeys(FACTORS, "completed"), "a2_s1": "running"}, intent)
    assert [v for _c, v, _e in running.verdicts][0::2] == ["pending", "pending"]
    low = analyse(_metrics({**values, "a1_s0": 0.5}), FACTORS,
                  dict.fromkeys(FACTORS, "completed"), intent)
    assert low.verdicts[0][1] == "fail" and "a1_s0 0.5" in low.verdicts[0][2]
