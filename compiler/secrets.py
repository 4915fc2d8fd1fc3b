"""Find and redact credentials in text: one pattern set for lint (``CM006``) and the site.

The patterns are data (``compiler/data/secret_patterns.json``): token formats named by the
rule ids of gitleaks' default configuration (Hugging Face ``hf_…``, OpenAI ``sk-…``, AWS
``AKIA…``, GitHub ``ghp_…``, Slack, Stripe, Google, JWTs, private keys …), plus generic
credentials after auth headers, ``token:``/``password=`` keys and ``*_TOKEN=…``
environment assignments. Each pattern has lowercase ``keywords``; it runs only when one of
them occurs in the text (gitleaks' prefilter), so clean plans cost one ``lower()``.

A value that is a variable or a placeholder (``$TOKEN``, ``${TOKEN}``, ``{{auth_token}}``,
``<token>``, ``%TOKEN%``, ``***``, ``xxxx``, ``your_token``, ``token_here``, ``changeme``)
is not a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

REDACTED = "[REDACTED]"
_KEY = re.compile(r"[\w.-]+")
# ``token_here``/``put-token-here``, ``changeme``, ``placeholder`` (cruijff_kit's torchtune
# template writes ``hf_token: "token_here"``) are placeholders too.
_VARIABLE = re.compile(r"^(\$|\{|<|%|\*{3}|…|\.\.\.|x{4,}$|redacted$|\[redacted\]$|your[_-]"
                       r"|[\w-]*[_-]here$|changeme$|placeholder$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Secret:
    """A credential in a text: ``start``/``end`` are character offsets of the value;
    ``label`` is the header or key name before it (generic patterns), else ``""``."""

    start: int
    end: int
    rule: str
    description: str
    value: str
    label: str = ""

    def what(self) -> str:
        """``token after X-Auth-Token`` or ``Hugging Face access token``."""
        return f"token after {self.label}" if self.label else self.description


@dataclass(frozen=True, slots=True)
class _Pattern:
    id: str
    description: str
    keywords: tuple[str, ...]
    source: str
    allow_source: str | None
    generic: bool  # the value's length is checked against ``min_length``

    @property
    def regex(self) -> re.Pattern[str]:
        # compiled on first use: most texts hold none of a pattern's keywords, and a fresh
        # `planc lint FILE` must not pay for compiling all of them (re caches compiles)
        return re.compile(self.source)

    @property
    def allow(self) -> re.Pattern[str] | None:
        return re.compile(self.allow_source) if self.allow_source else None


@lru_cache(maxsize=1)
def patterns() -> tuple[_Pattern, ...]:
    """The pattern set from ``compiler/data/secret_patterns.json``."""
    raw: dict[str, Any] = json.loads(
        resources.files("compiler").joinpath("data/secret_patterns.json").read_text("utf-8"))
    return tuple(
        _Pattern(p["id"], p["description"], tuple(p["keywords"]), p["regex"], p.get("allow"),
                 bool(p.get("min_length")))
        for p in raw["patterns"])


def is_variable(value: str) -> bool:
    """Whether ``value`` is a variable or placeholder rather than a literal credential."""
    return bool(_VARIABLE.match(value))


def iter_secrets(text: str, min_length: int = 8) -> Iterator[Secret]:
    """Credentials in ``text``, in order of position, never two over the same characters.

    Generic patterns (after a header or key name) report values of at least
    ``min_length`` characters; token formats report every match.
    """
    low = text.lower()
    found: list[Secret] = []
    for pat in patterns():
        if not any(k in low for k in pat.keywords):
            continue
        for m in pat.regex.finditer(text):
            value = m.group(1)
            if not value or is_variable(value):
                continue
            if pat.generic and len(value) < min_length:
                continue
            allow = pat.allow
            if allow is not None and allow.search(value):
                continue
            label = ""
            if pat.generic:
                key = _KEY.match(m.group(0))
                label = key.group(0) if key else ""
            found.append(Secret(m.start(1), m.end(1), pat.id, pat.description, value, label))
    # One finding per span: token formats come first in the data, so they name a value
    # that a generic pattern also matches.
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    end = -1
    for s in found:
        if s.start >= end:
            yield s
            end = s.end


def redact(text: str) -> str:
    """``text`` with every credential :func:`iter_secrets` finds (values of 6 characters
    or more after a key) replaced by ``[REDACTED]``; variables stay."""
    out: list[str] = []
    pos = 0
    for s in iter_secrets(text, min_length=6):
        out.append(text[pos : s.start])
        out.append(REDACTED)
        pos = s.end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)
