"""``planc lint [PATH ...]``: check plans and print diagnostics (exit 0 / 1 / 2)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..diagnostics import FORMATS, render


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", help="files or folders (default: [tool.planc] paths, "
                   "else plans/)")
    p.add_argument("--format", "-f", choices=FORMATS, default="text")
    p.add_argument("--strict", action="store_true", help="warnings fail the run too")
    p.add_argument("--select", default="", help="comma-separated codes or prefixes to run")
    p.add_argument("--ignore", default="", help="comma-separated codes or prefixes to skip")
    p.add_argument("--jobs", "-j", type=int, default=0, help="processes (default: all cores)")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--cache", action="store_true",
                       help="use the content-hash cache (.planc_cache/) even if "
                       "[tool.planc] cache is off")
    cache.add_argument("--no-cache", action="store_true", help="ignore the content-hash cache")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary line")
    p.add_argument("--fix", action="store_true",
                   help="apply safe fixes in place, then report what remains")
    p.add_argument("--unsafe-fixes", action="store_true",
                   help="with --fix or --diff, also apply fixes marked unsafe")
    p.add_argument("--diff", action="store_true",
                   help="print a unified diff of what --fix would change; write nothing "
                   "(exit 1 when there is a change)")


def _unknown_codes(patterns: tuple[str, ...]) -> list[str]:
    """The select/ignore entries that are no code, prefix of a code, or ``all``: an unknown
    ``--select`` would select nothing and pass everything."""
    if not patterns:
        return []
    from .. import rules

    codes = [*rules.BY_CODE, *rules.BUILTIN_CODES, "PC999"]
    return [p for p in dict.fromkeys(patterns)
            if p != "all" and not any(c.startswith(p) for c in codes)]


def run(args: argparse.Namespace) -> int:
    from .. import rules
    from ..config import load_settings
    from ..lint import discover, exit_code, lint_paths

    start = Path(args.paths[0]) if args.paths else Path.cwd()
    settings, config_diags = load_settings(start)
    if settings.severity or settings.rules:
        # Naming rules in the configuration: check the names and options against all rules.
        by_code = rules.BY_CODE
        known = set(by_code) | set(rules.BUILTIN_CODES)
        options = {code: getattr(rule, "OPTIONS", {}) for code, rule in by_code.items()}
        settings, config_diags = load_settings(start, known, options)
    if args.select:
        settings.select = tuple(s.strip() for s in args.select.split(",") if s.strip())
    if args.ignore:
        extra = tuple(s.strip() for s in args.ignore.split(",") if s.strip())
        settings.ignore = settings.ignore + extra
    unknown = _unknown_codes(settings.select + settings.ignore)
    if unknown:
        print(f"planc lint: --select/--ignore (or [tool.planc] select/ignore) names no rule: "
              f"{', '.join(unknown)}; `planc rules` lists the codes", file=sys.stderr)
        return 2
    strict = args.strict or settings.strict
    paths = args.paths or [str(settings.root / p) for p in settings.paths]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"planc: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    files = discover(paths, settings)
    if args.diff or args.fix:
        fixed = _fix(files, settings, args)
        if args.diff:
            return 1 if fixed else 0
    if (settings.cache or args.cache) and not args.no_cache:
        from ..cache import lint_cached

        diags = lint_cached(files, settings, args.jobs or None)
    else:
        diags = lint_paths(files, settings, args.jobs or None)
    diags = config_diags + diags
    sys.stdout.write(render(diags, args.format, rules.RULES if args.format == "sarif" else ()))
    if args.format == "text" and not args.quiet:
        errors = sum(d.severity.value == "error" for d in diags)
        warnings = sum(d.severity.value == "warning" for d in diags)
        print(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)",
              file=sys.stderr)
        if not (args.fix or args.diff):
            hint = fixable_hint(diags)
            if hint:
                print(hint, file=sys.stderr)
    return exit_code(diags, strict)


def fixable_hint(diags: list) -> str:
    """ruff's closing line: ``[*] 3 fixable with `planc lint --fix` (1 more with
    --unsafe-fixes)``, or ``""`` when no finding carries a fix."""
    safe = sum(d.autofix is not None and d.autofix.applicability == "safe" for d in diags)
    unsafe = sum(d.autofix is not None and d.autofix.applicability == "unsafe" for d in diags)
    if not safe and not unsafe:
        return ""
    more = f" ({unsafe} more with `planc lint --fix --unsafe-fixes`)" if unsafe else ""
    if not safe:
        return f"[*] {unsafe} fixable with `planc lint --fix --unsafe-fixes`"
    return f"[*] {safe} fixable with `planc lint --fix`{more}"


def _fix(files: list[Path], settings: object, args: argparse.Namespace) -> int:
    """``--fix``: write the fixes and say how many; ``--diff``: print them as a unified diff.
    Returns the number of fixes applied (or that would be)."""
    from ..fixer import fix_files, write

    results = fix_files(files, settings, unsafe=args.unsafe_fixes)
    total = sum(sum(r.fixed.values()) for r in results)
    if args.diff:
        sys.stdout.write("".join(r.diff() for r in results))
        if not args.quiet:
            print(f"would fix {total} finding(s) in {sum(r.changed for r in results)} file(s)",
                  file=sys.stderr)
        return total
    for r in results:
        write(r)
    if not args.quiet and args.format == "text":
        print(f"fixed {total} finding(s) in {sum(r.changed for r in results)} file(s)",
              file=sys.stderr)
    return total
