"""``planc explain CODE``: print a rule's documentation (its docstring) and options."""

from __future__ import annotations

import argparse
import sys
from textwrap import dedent


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", help="rule code, name or alias (e.g. PL003)")


def run(args: argparse.Namespace) -> int:
    from ..rules import BUILTIN_CODES, get

    rule = get(args.code)
    if rule is None:
        builtin = BUILTIN_CODES.get(args.code.upper())
        if builtin:
            name, severity, text = builtin
            print(f"{args.code.upper()} {name} ({severity})\n\n{text}")
            return 0
        print(f"planc: no rule {args.code!r}; see `planc rules`", file=sys.stderr)
        return 2
    doc = dedent((rule.__doc__ or "").strip("\n"))
    print(f"{rule.CODE} {rule.NAME} ({rule.SEVERITY}; kinds: {', '.join(rule.KINDS)})\n")
    print(doc.strip())
    if getattr(rule, "OPTIONS", None):
        print("\nOptions:")
        for k, v in rule.OPTIONS.items():
            print(f"  {k} = {v!r}")
    return 0
