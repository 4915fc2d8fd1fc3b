"""A plan must not contain a literal auth token.

Seeds 000–003 show ``curl`` calls with ``-H "X-Auth-Token: {{auth_token}}"``; an agent that
fills the template writes the real token into a committed file. Variables (``$TOKEN``,
``${TOKEN}``, ``{{auth_token}}``, ``<token>``) are fine. Code blocks are checked too.

Failing::

    curl -H "X-Auth-Token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0" http://localhost:10000/runs

Passing::

    curl -H "X-Auth-Token: $RESEARCH_AGENT_TOKEN" http://localhost:10000/runs
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding

CODE = "CM006"
NAME = "secret-in-plan"
SEVERITY = "error"
KINDS = ("plan", "tasks", "run-group", "status", "unknown")
OPTIONS: dict[str, object] = {"min_length": 8}

_HEADER = re.compile(
    r"(?i)(x-auth-token|authorization)\s*[:=]\s*[\"']?(?:(?:bearer|token|basic)\s+)?([^\s\"'`,;}]+)"
)
_VARIABLE = re.compile(r"^(\$|\{|<|%|\*{3}|…|\.\.\.|x{4,}$|redacted$|your[_-])", re.IGNORECASE)


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    if "uth" not in doc.text and "UTH" not in doc.text:
        return
    min_len = int(ctx.options.get("min_length", 8))
    for n, line in enumerate(doc.lines, 1):
        for m in _HEADER.finditer(line):
            value = m.group(2)
            if _VARIABLE.match(value) or len(value) < min_len:
                continue
            yield Finding(
                n,
                m.start(2) + 1,
                f"literal token after {m.group(1)}: secrets must not be written into plans",
                "use an environment variable such as $RESEARCH_AGENT_TOKEN and rotate the token",
            )
