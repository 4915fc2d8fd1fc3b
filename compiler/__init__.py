"""planc: a plan compiler and validator for ML research experiments."""

from __future__ import annotations

__version__ = "0.1.0"
