"""A command placeholder stands where no quoting can keep its value from running.

Sweep values are quoted for where each placeholder stands in ``command:``: a single-quoted
word outside quotes, escaped text inside ``"…"``, spliced text inside ``'…'``, so a value
such as ``$(rm -rf ~)`` is printed, never run. Inside backticks or a here-document the
shell parses the text again and no quoting is reliable, so such a placeholder is an error.

Severity: error — no quoting keeps such a value from running as code, so planc refuses to
write the script.

Failing::

    command: echo `cat {file}`

Passing::

    command: echo "$(cat {file})"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX016"
NAME = "expand-placeholder-context"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
