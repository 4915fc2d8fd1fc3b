"""A plan must not contain a literal credential.

Seeds 000–003 show ``curl`` calls with ``-H "X-Auth-Token: {{auth_token}}"``; an agent that
fills the template writes the real token into a committed file, and the site would publish
it. Besides credentials after ``X-Auth-Token:``/``Authorization:``, ``token:``/
``password=`` keys and ``*_TOKEN=…`` assignments, bare tokens of known formats are found
anywhere (Hugging Face ``hf_…``, OpenAI ``sk-…``, AWS ``AKIA…``, GitHub ``ghp_…`` and the
rest of :mod:`compiler.secrets`' pattern set, the one the site redacts with). Variables
(``$TOKEN``, ``${TOKEN}``, ``{{auth_token}}``, ``<token>``) are fine. Code blocks are
checked too.

Severity: error — a committed credential is leaked as soon as the plan is pushed or
published; no author keeps one on purpose.

Failing::

    curl -H "X-Auth-Token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0" http://localhost:10000/runs
    HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh python train.py

Passing::

    curl -H "X-Auth-Token: $RESEARCH_AGENT_TOKEN" http://localhost:10000/runs

Options: ``min_length`` (8): the shortest value after a header or key name that counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from ...secrets import iter_secrets
from ..base import Context, Finding

CODE = "CM006"
NAME = "secret-in-plan"
SEVERITY = "error"
KINDS = ("plan", "tasks", "run-group", "status", "experiment-summary", "unknown")
OPTIONS: dict[str, object] = {"min_length": 8}


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    min_len = int(ctx.options.get("min_length", 8))
    starts: list[int] | None = None
    for s in iter_secrets(doc.text, min_len):
        if starts is None:  # line start offsets, built only for a document with a finding
            starts = [0]
            for line in doc.lines[:-1]:
                starts.append(starts[-1] + len(line) + 1)
        n = bisect.bisect_right(starts, s.start)
        yield Finding(
            n,
            s.start - starts[n - 1] + 1,
            f"literal {s.what()}: secrets must not be written into plans",
            "use an environment variable such as $HF_TOKEN and rotate the credential",
        )
