"""Train one SGD classifier on scikit-learn's bundled digits data and write its metrics.

The run behind ``plans/lr-sweep/plan.md``: planc fills the plan's ``command:`` template
(``--alpha {alpha} --seed {seed} --out {out}``) once per sweep point and launches it as a
tracked run. The digits set (1,797 8×8 images, 10 classes) ships inside scikit-learn, so
nothing is downloaded; a run takes a few seconds on one CPU core.

``alpha`` is ``SGDClassifier``'s L2 penalty and, with the ``"optimal"`` schedule, also sets
the step size (eta = 1 / (alpha · (t + t0))), so sweeping it sweeps the learning rate.

Writes ``<out>/metrics.json``, for example::

    {"test_accuracy": 0.95, "macro_f1": 0.95, "train_accuracy": 0.99, "test_log_loss": 0.2,
     "n_iter": 12, "converged": true, "fit_seconds": 0.05, "alpha": 0.001, "seed": 0,
     "n_train": 1347, "n_test": 450}

Exit status 0 on success, 2 on bad arguments (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

SPLIT_SEED = 0  # the test split is the same for every run; --seed varies only the model


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alpha", type=float, required=True, help="L2 penalty / step-size scale (> 0)")
    p.add_argument("--seed", type=int, required=True, help="model seed (shuffling, init)")
    p.add_argument("--out", type=Path, required=True, help="run output folder")
    p.add_argument("--max-iter", type=int, default=1000, help="epochs at most")
    args = p.parse_args(argv)
    if not args.alpha > 0:
        p.error("--alpha must be > 0")
    return args


def train(alpha: float, seed: int, max_iter: int = 1000) -> dict[str, object]:
    """Fit a scaled ``SGDClassifier(loss="log_loss")`` and return its metrics (see module doc)."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import accuracy_score, f1_score, log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, stratify=y, random_state=SPLIT_SEED)
    model = make_pipeline(
        StandardScaler(),
        SGDClassifier(loss="log_loss", alpha=alpha, max_iter=max_iter, tol=1e-4,
                      random_state=seed),
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    pred = model.predict(x_test)
    return {
        "test_accuracy": round(float(accuracy_score(y_test, pred)), 6),
        "macro_f1": round(float(f1_score(y_test, pred, average="macro")), 6),
        "train_accuracy": round(float(accuracy_score(y_train, model.predict(x_train))), 6),
        "test_log_loss": round(float(log_loss(y_test, model.predict_proba(x_test))), 6),
        "n_iter": int(model[-1].n_iter_),
        "converged": converged,
        "fit_seconds": round(fit_seconds, 4),
        "alpha": alpha,
        "seed": seed,
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
    }


def write_metrics(out: Path, metrics: dict[str, object]) -> Path:
    """Write ``out/metrics.json`` atomically (temporary file, then rename)."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "metrics.json"
    tmp = out / f".metrics.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    metrics = train(args.alpha, args.seed, args.max_iter)
    path = write_metrics(args.out, metrics)
    print(f"alpha={args.alpha:g} seed={args.seed} test_accuracy={metrics['test_accuracy']:.4f} "
          f"-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
