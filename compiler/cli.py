"""``planc`` command line: ``main(argv) -> int``, one module per subcommand.

Each module in :mod:`compiler.commands` declares ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; the tuple below is the registry.
Modules are imported lazily so that ``planc lint`` never imports jinja2, mkdocs or NVML.
Exit codes: 0 success, 1 findings (or a failed operation), 2 usage/configuration/internal
error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__

# (name, module, help) — help is duplicated here so that building the parser imports nothing.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("lint", "lint", "check plan files and report diagnostics"),
    ("rules", "rules", "list every lint rule"),
    ("explain", "explain", "show a rule's documentation"),
    ("expand", "expand", "print the run table a plan expands to, writing nothing"),
    ("compile", "compile", "compile plans into launch artifacts (configs, SLURM scripts, …)"),
    ("submit", "submit", "submit a compiled group's pending runs to SLURM or a research-agent "
     "server"),
    ("status", "status", "show a group's stage counts (--sync: update them first)"),
    ("sync", "sync", "read job states from SLURM and research-agent servers into "
     "runs_status.yaml"),
    ("run", "run", "run a compiled group's pending runs on this machine"),
    ("cluster", "cluster", "describe this machine or cluster (cluster detect)"),
    ("results", "results", "harvest results from logs into the tracker and print summaries"),
    ("site", "site", "build or serve the MkDocs site of plans, runs and results"),
)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        prog="planc", description="Plan compiler and validator for ML research experiments."
    )
    parser.add_argument("--version", action="version", version=f"planc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers = {}
    for name, _module, help_text in COMMANDS:
        subparsers[name] = sub.add_parser(name, help=help_text, description=help_text)
    return parser, subparsers


def command_table() -> dict[str, dict[str, object]]:
    """Every ``planc`` command with its options, from the real parser (for rule CM008).

    Shape: ``{command: {"options": [option strings], "choices": [first positional's
    choices], "actions": {action: [option strings]}}}``; ``""`` holds the top-level options
    (``--version``, ``-h``). ``actions`` are nested subcommands (``planc cluster detect``).
    Every command module is imported and adds its arguments; the modules keep heavy imports
    inside ``run`` so that this stays cheap (lint calls it only for a document that writes a
    ``planc`` command, once per process).
    """
    parser, subparsers = build_parser()
    table: dict[str, dict[str, object]] = {"": {"options": _options(parser), "choices": [],
                                                "actions": {}}}
    for name, module, _help in COMMANDS:
        sub = subparsers[name]
        importlib.import_module(f".commands.{module}", __package__).add_arguments(sub)
        choices: list[str] = []
        actions: dict[str, list[str]] = {}
        for action in sub._actions:  # argparse has no public walk of its actions
            if isinstance(action, argparse._SubParsersAction):
                actions = {k: _options(v) for k, v in action.choices.items()}
            elif not action.option_strings and action.choices and not choices:
                choices = [str(c) for c in action.choices]
        table[name] = {"options": _options(sub), "choices": choices, "actions": actions}
    return table


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(s for a in parser._actions for s in a.option_strings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``planc`` console script. Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, subparsers = build_parser()
    # Only the chosen subcommand's module is imported (and adds its arguments).
    chosen = next((a for a in argv if not a.startswith("-")), None)
    modules = {name: module for name, module, _ in COMMANDS}
    try:
        if chosen in modules:
            mod = importlib.import_module(f".commands.{modules[chosen]}", __package__)
            mod.add_arguments(subparsers[chosen])
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
            return int(exc.code or 0)
        if not args.command:
            parser.print_help()
            return 2
        return int(mod.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # --out on a file, a read-only or root-owned folder, a full disk: the writers are
        # atomic (nothing half-written is left), so one line and exit 2 say it all.
        print(f"planc {chosen or ''}: {os_error_text(exc)}".replace("  ", " "),
              file=sys.stderr)
        return 2


def os_error_text(exc: OSError) -> str:
    """One line for an OS error: what failed, and on which path."""
    what = exc.strerror or str(exc) or type(exc).__name__
    paths = [p for p in (exc.filename, exc.filename2) if p is not None]
    return what + (f": {' -> '.join(str(p) for p in paths)}" if paths else "")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
