"""``planc rules``: a table of every rule (code, name, severity, kinds, summary) and, under
each, why it has its severity (README "Severity policy")."""

from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "json"), default="text")


def summary(rule: object) -> str:
    doc = (getattr(rule, "__doc__", None) or "").strip().splitlines()
    return doc[0] if doc else ""


def run(args: argparse.Namespace) -> int:
    from ..rules import BUILTIN_CODES, RULES, severity_reason

    rows = [
        {"code": r.CODE, "name": r.NAME, "severity": r.SEVERITY, "kinds": list(r.KINDS),
         "summary": summary(r), "why": severity_reason(r.CODE),
         "options": dict(getattr(r, "OPTIONS", {}))}
        for r in RULES
    ] + [  # codes from loading and configuration, not from a rule module
        {"code": code, "name": name, "severity": sev, "kinds": [], "summary": text,
         "why": severity_reason(code), "options": {}}
        for code, (name, sev, text) in BUILTIN_CODES.items()
    ]
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['code']}  {r['name']:<{width}}  {r['severity']:<7}  {r['summary']}")
        print(f"{'':7}{'':<{width}}  {'':<7}  why {r['severity']}: {r['why']}")
    return 0
