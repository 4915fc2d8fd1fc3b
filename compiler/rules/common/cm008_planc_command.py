"""A ``planc`` command written in the document must exist, with flags planc has.

Plans tell their readers (and the agents that execute them) which commands to type:
``planc submit plans/lr-sweep/plan.md --only alpha=1e-4``. A command or flag planc does not
have fails when it is run, so the plan says something false about how to run it.

Checked: inline code spans that start with ``planc``, and the ``planc`` commands of shell
code blocks (fences with no info string or ``bash``/``sh``/``shell``/``zsh``, indented
code; in ``console`` sessions only the lines after a ``$`` or ``%`` prompt, the rest being
output). A command starts a line or follows a prompt, ``&&``, ``||``, ``;``, ``|`` or
``VAR=value``. The subcommand, a nested action (``planc cluster detect``), the first
argument when it has fixed choices (``planc site build|serve``) and every option (``--x``,
``--x=value``, ``-x``; unique prefixes of long options, as argparse accepts them) are
compared with planc's own argument parser (:func:`compiler.cli.command_table`), so the
rule follows planc as it changes. Arguments are not checked (a plan may name files it
creates later), and neither are placeholders (``PLAN``, ``<group>``, ``…``).

Severity: error — a command or flag planc does not have cannot be run as written (README
severity policy: "cannot be compiled or run as written").

Failing::

    5. **Collect results** — `planc collect` gathers the metrics.

    ```bash
    planc submit plans/lr-sweep/plan.md --only-runs alpha=1e-4
    ```

Passing::

    5. **Collect results** — `planc sync` updates run states.

    ```bash
    planc submit plans/lr-sweep/plan.md --only alpha=1e-4
    ```
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterator

from ..base import Context, Finding

CODE = "CM008"
NAME = "unknown-planc-command"
SEVERITY = "error"
KINDS = ("plan", "tasks", "run-group")
OPTIONS: dict[str, object] = {}

SHELL_INFOS = ("", "bash", "sh", "shell", "console", "zsh", "shell-session", "shellsession")
SESSION_INFOS = ("console", "shell-session", "shellsession")
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", "$", "%", ">"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PLACEHOLDER = re.compile(r"[A-Z<>{}…]|\.\.\.")


@functools.cache
def _table() -> dict[str, dict[str, object]]:
    from ...cli import command_table  # built once per process, only when a plan needs it

    return command_table()


def check(ctx: Context) -> Iterator[Finding]:
    for line, base, words in iter_planc_commands(ctx.doc):
        for offset, message, fix in _check_command(words):
            yield Finding(line, base + offset, message, fix)


def iter_planc_commands(doc) -> Iterator[tuple[int, int, list[tuple[str, int]]]]:  # type: ignore[no-untyped-def]
    """Every ``planc`` command the document writes (module docstring says where), as
    ``(1-based line, 1-based column of the text the offsets count from, [(word, 0-based
    offset)] of the words after "planc")``, in document order."""
    for tok in doc.tokens:
        if tok.type in ("fence", "code_block"):
            info = (tok.info or "").strip().split(" ", 1)[0].lower()
            if (tok.type == "fence" and info not in SHELL_INFOS) or "planc" not in tok.content:
                continue
            first = doc.line_of(tok) + (1 if tok.type == "fence" else 0)
            session = info in SESSION_INFOS  # commands after a prompt; other lines are output
            for i, text in enumerate(tok.content.splitlines()):
                if "planc" in text and (not session or text.lstrip()[:2] in ("$ ", "% ")):
                    # fence lines are the file's lines, less a list item's indentation
                    base = doc.col_of(first + i, text.strip()) - (len(text) - len(text.lstrip()))
                    for words in _commands(text):
                        yield first + i, base, words
        elif tok.type == "inline" and tok.children and "planc" in tok.content:
            line = doc.line_of(tok)
            for child in tok.children:
                if child.type == "code_inline":
                    words = child.content.lstrip().removeprefix("$ ").lstrip()
                    if words.startswith("planc "):
                        found = doc.line_text(line).find(child.content) >= 0
                        base = doc.col_of(line, child.content) if found else doc.col_of(line)
                        for cmd in _commands(child.content):
                            yield line, base, (cmd if found else [(w, 0) for w, _ in cmd])
                elif child.type in ("softbreak", "hardbreak"):
                    line += 1


def _tokens(text: str) -> list[tuple[str, int]]:
    """Shell words of ``text`` with their 0-based offsets (shlex with punctuation, so that
    ``&&``, ``;`` and ``|`` are words of their own; ``#`` starts a comment)."""
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    lex.commenters = "#"
    out: list[tuple[str, int]] = []
    pos = 0
    try:
        for word in lex:
            at = text.find(word, pos)
            at = pos if at < 0 else at
            out.append((word, at))
            pos = at + len(word) if at >= pos else pos
    except ValueError:  # an unclosed quote: check the words before it
        pass
    return out


def _is_operator(word: str) -> bool:
    return word in _OPERATORS or set(word) <= set("&|;()<>")


def _commands(text: str) -> Iterator[list[tuple[str, int]]]:
    """The words after ``planc`` of each ``planc`` command that starts a shell command in
    ``text`` (a line start, after an operator or prompt, after ``VAR=value`` words)."""
    words = _tokens(text)
    start = True
    i = 0
    while i < len(words):
        word = words[i][0]
        if _is_operator(word):
            start, i = True, i + 1
            continue
        if start and _ASSIGNMENT.match(word):
            i += 1
            continue
        if start and (word == "planc" or word.endswith("/planc")):
            end = i + 1
            while end < len(words) and not _is_operator(words[end][0]):
                end += 1
            yield words[i + 1:end]
            i = end
        else:
            i += 1
        start = False


def _check_command(words: list[tuple[str, int]]) -> Iterator[tuple[int, str, str | None]]:
    table = _table()
    known = [c for c in table if c]
    options = list(table[""]["options"])  # type: ignore[arg-type]
    positional = 0
    cmd: str | None = None
    for word, at in words:
        if word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            flag = word.strip("[]").split("=", 1)[0]
            if flag and not _known_flag(flag, options):
                flag = flag if flag.startswith("--") else flag[:2]
                where = f"planc {cmd}" if cmd else "planc"
                close = _closest(flag, options)
                yield at, (f"{where} has no option {flag}"
                           + (f" (did you mean {close}?)" if close else "")
                           + f"; see `{where} --help`"), close
            continue
        bare = word.strip("[]")
        if not bare or bare in ("|", "…", "...") or _PLACEHOLDER.search(bare):
            if cmd is None:  # planc COMMAND …: nothing to compare
                return
            positional += 1
            continue
        if cmd is None:
            if bare not in table:
                close = _closest(bare, known)
                yield at, (f"planc has no command {bare!r}"
                           + (f" (did you mean {close!r}?)" if close else "")
                           + f"; commands: {', '.join(known)}"), (
                    f"planc {close}" if close else None)
                return
            cmd = bare
            options = list(table[cmd]["options"])  # type: ignore[arg-type]
            continue
        actions = table[cmd]["actions"]
        choices = table[cmd]["choices"]
        if positional == 0 and isinstance(actions, dict) and actions:
            if bare not in actions:
                yield at, (f"planc {cmd} has no action {bare!r}; actions: "
                           + ", ".join(actions)), None
                return
            options = list(actions[bare]) + options
            cmd = f"{cmd} {bare}"
        elif positional == 0 and isinstance(choices, list) and choices and bare not in choices:
            yield at, f"planc {cmd} takes {' or '.join(choices)}, not {bare!r}", None
        positional += 1


def _known_flag(flag: str, options: list[str]) -> bool:
    if flag in options:
        return True
    if flag.startswith("--"):  # argparse accepts a unique prefix of a long option
        return len([o for o in options if o.startswith(flag)]) == 1
    # -j4, -qn: a known short option followed by its value or more short options
    return len(flag) > 2 and flag[:2] in options


def _closest(word: str, known: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return match[0] if match else None
