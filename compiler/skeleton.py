"""Render one jinja2 template for thousands of runs without running jinja2 per file.

A group of 10,000 runs writes 80,000 files from a handful of templates; a direct jinja2
render costs ~100 µs a file, most of it in jinja2's context and macro machinery, not in the
text. :class:`SkeletonRenderer` renders each template once per *shape* with every per-run
value replaced by a :class:`Hole` marker, splits the result into literal text and holes, and
then builds each file with one filter call per hole and a ``str.join`` (~10 µs).

The shape of a render is what steers the template's control flow:

- the caller's ``shape`` argument (shared values that differ between calls);
- the names of the per-run leaves (so a list's length and a mapping's keys are part of it);
- the truthiness of every per-run leaf (a :class:`Hole` is true or false like its value, so
  ``{% if %}`` takes the real branch);
- the values wrapped in :class:`Fixed` (left real in the template: numbers that are compared,
  a kind that selects a branch) and the ``absolute`` flag of each :class:`PathRef`.

Filters that understand holes (``sh`` in :mod:`compiler.render`; ``yq``, ``ybool`` and
``yflow`` in :mod:`compiler.emit`) return ``hole.marked(<filter name>)``; at fill time the
environment's filter of that name is applied to the real value. Anything else done to a hole
(comparison, ``len``, ``upper``, arithmetic) raises :class:`HoleUsed`, and concatenation
makes a marker that a later filter sees as text; both make the skeleton differ from a direct
render. The first run of every shape is rendered both ways and compared, then once more
with every text value made unsafe for the shell, YAML and JSON (so a value joined to other
text before a filter quoted it cannot pass by luck); on any difference or error the
renderer falls back to plain jinja2 for that template, so the output is always what a
direct render gives (a project's ``templates/`` override included).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


_MARK = re.compile("\x01(\\w+)\x03([^\x02]*)\x02")


class HoleUsed(TypeError):
    """A template did something to a per-run value that a skeleton cannot replay."""


def _refuse(self: Hole, *args: Any, **kwargs: Any) -> Any:
    raise HoleUsed(f"per-run value {self.key!r} used beyond printing or filtering")


class Hole(str):
    """A per-run value left open while a template is rendered once per shape: it prints as a
    marker naming its key (and the filter applied, through :meth:`marked`) and is true or
    false like the real value."""

    key: str
    truthy: bool

    def __new__(cls, key: str, truthy: bool) -> Hole:
        obj = super().__new__(cls, f"\x01raw\x03{key}\x02")
        obj.key = key
        obj.truthy = truthy
        return obj

    def __bool__(self) -> bool:
        return self.truthy

    def marked(self, filt: str) -> str:
        """The marker that the environment filter ``filt`` fills in with the real value."""
        return f"\x01{filt}\x03{self.key}\x02"

    __hash__ = str.__hash__
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __len__ = __iter__ = __getitem__ = __contains__ = __int__ = __float__ = _refuse
    __mul__ = __rmul__ = __mod__ = __rmod__ = _refuse
    upper = lower = title = capitalize = strip = lstrip = rstrip = replace = _refuse
    split = rsplit = startswith = endswith = format = _refuse


class Fixed:
    """A per-run value kept real in the skeleton (it steers the template: compared,
    tested, used in arithmetic) and therefore part of the shape. ``value`` must be made of
    dicts, lists and hashable scalars."""

    __slots__ = ("value", "key")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.key = _freeze(value)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class PathRef:
    """A path in a script: ``absolute`` ones are literal; others are relative to a folder
    the template puts in front (the run folder, the project root)."""

    path: str

    @property
    def absolute(self) -> bool:
        return self.path.startswith("/")

    def join(self, *parts: str) -> PathRef:
        return PathRef(posixpath.join(self.path, *parts))


class _HolePath:
    """A :class:`PathRef` inside a skeleton: ``path`` is a hole, ``absolute`` is real."""

    __slots__ = ("path", "absolute")

    def __init__(self, path: Hole, absolute: bool) -> None:
        self.path = path
        self.absolute = absolute


class Flat(dict):
    """``flatten``'s result: ``{dotted path: real value}`` for every hole, plus the
    ``fixed`` part of the shape."""

    __slots__ = ("fixed",)


def flatten(per_run: dict[str, Any]) -> Flat:
    """Every per-run leaf by its dotted path (``{"p.lr": 0.001, "run.name": …}``).

    Mappings and lists of ``(key, value)`` pairs are walked by key, other lists by index,
    a :class:`PathRef` gives ``<path>.path``; :class:`Fixed` values and the ``absolute`` flag
    of paths go to ``Flat.fixed`` instead. Empty lists and mappings are left as they are."""
    values = Flat()
    fixed: list[Any] = []
    _walk("", per_run.items(), values, fixed)
    values.fixed = tuple(fixed)
    return values


def _walk(prefix: str, items: Any, values: Flat, fixed: list[Any]) -> None:
    for key, value in items:
        path = prefix + key if type(key) is str else f"{prefix}{key}"
        kind = type(value)
        if kind is dict:
            _walk(path + ".", value.items(), values, fixed)
        elif kind is list:
            _walk(path + ".", value if value and type(value[0]) is tuple else
                  enumerate(value), values, fixed)
        elif kind is Fixed:
            fixed.append((path, value.key))
        elif kind is PathRef:
            values[path + ".path"] = value.path
            fixed.append((path, value.path.startswith("/")))
        else:
            values[path] = value


def _holify(value: Any, path: str) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: _holify(v, f"{path}.{k}") for k, v in value.items()}
    if kind is list:
        if value and type(value[0]) is tuple:
            return [(k, _holify(v, f"{path}.{k}")) for k, v in value]
        return [_holify(v, f"{path}.{i}") for i, v in enumerate(value)]
    if kind is Fixed:
        return value.value
    if kind is PathRef:
        return _HolePath(Hole(f"{path}.path", bool(value.path)), value.absolute)
    return Hole(path, bool(value))


_ODD = " '$`\"#"


def _perturb(value: Any) -> Any:
    """``value`` with ``_ODD`` appended to every non-empty text leaf (same shape, same
    truthiness)."""
    kind = type(value)
    if kind is dict:
        return {k: _perturb(v) for k, v in value.items()}
    if kind is list:
        if value and type(value[0]) is tuple:
            return [(k, _perturb(v)) for k, v in value]
        return [_perturb(v) for v in value]
    if kind is PathRef:
        return PathRef(value.path + _ODD) if value.path else value
    if kind is str and value:
        return value + _ODD
    return value


def unwrap(value: Any) -> Any:
    """``value`` with every :class:`Fixed` replaced by what it holds (for direct renders)."""
    kind = type(value)
    if kind is dict:
        return {k: unwrap(v) for k, v in value.items()}
    if kind is list:
        return [unwrap(v) for v in value]
    if kind is Fixed:
        return value.value
    return value


class SkeletonRenderer:
    """Render ``template`` per run through cached skeletons (see the module docstring)."""

    def __init__(self, template: jinja2.Template) -> None:
        self.template = template
        self.skeletons: dict[Any, list[str]] = {}
        self.direct = False
        self.fill: dict[str, Any] = {"raw": str, **template.environment.filters}

    def render(self, shared: dict[str, Any], per_run: dict[str, Any], shape: Any = None,
               values: Flat | None = None) -> str:
        """The template's text for one run. ``per_run`` holds the run's own values (dicts,
        lists, lists of ``(key, value)`` pairs, :class:`PathRef`, :class:`Fixed` and
        scalars); ``shape`` the shared values that steer the template; ``values`` is
        ``flatten(per_run)`` when the caller already has it."""
        if self.direct:
            return self.template.render({**shared, **unwrap(per_run)})
        if values is None:
            values = flatten(per_run)
        key = (shape, values.fixed, tuple(values), tuple(map(bool, values.values())))
        parts = self.skeletons.get(key)
        if parts is not None:
            return self._fill(parts, values)
        direct = self.template.render({**shared, **unwrap(per_run)})
        try:
            holed = {k: _holify(v, k) for k, v in per_run.items()}
            parts = _MARK.split(self.template.render({**shared, **holed}))
            same = self._fill(parts, values) == direct
            if same:
                # Once more with every text value made unsafe for the shell, YAML and JSON:
                # a value that was joined to other text before a filter quoted it would
                # now be quoted differently by the skeleton than by jinja2.
                odd = {k: _perturb(v) for k, v in per_run.items()}
                same = self._fill(parts, flatten(odd)) == self.template.render(
                    {**shared, **unwrap(odd)})
        except Exception:  # noqa: BLE001 - any failure: this template renders directly
            same = False
        if same:
            self.skeletons[key] = parts
        else:
            self.direct = True
        return direct

    def _fill(self, parts: list[str], values: dict[str, Any]) -> str:
        fill = self.fill
        out = [parts[0]]
        append = out.append
        for i in range(1, len(parts), 3):
            append(fill[parts[i]](values[parts[i + 1]]))
            append(parts[i + 2])
        return "".join(out)
