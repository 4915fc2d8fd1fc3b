"""Shared test helpers: the repository root and running ``planc`` through its real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def run_planc(*args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m compiler ARGS`` as a fresh process (the console script's code path)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def lint_json(path: Path | str, *extra: str, cwd: Path | str | None = None) -> list[dict]:
    """Lint ``path`` and return the JSON diagnostics (asserting exit code 0, 1 or 2)."""
    proc = run_planc("lint", "--format", "json", *extra, str(path), cwd=cwd)
    assert proc.returncode in (0, 1, 2), proc.stderr
    return json.loads(proc.stdout)


def need_or_skip(condition: bool, reason: str) -> None:
    """Skip with a visible reason when a system service is missing; in CI, fail instead,
    because CI installs everything it needs."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture
def planc():
    return run_planc
