"""Shared work of CM002/CM003: validate front-matter once per document, map errors to YAML."""

from __future__ import annotations

import difflib
import typing
from typing import TYPE_CHECKING, Any, NamedTuple

from ...document import Document, data_path, node_position

if TYPE_CHECKING:  # pydantic is imported only when a document has front-matter
    from pydantic import BaseModel


class FMError(NamedTuple):
    line: int
    column: int
    type: str
    message: str
    fix: str | None


def _fields_at(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    from pydantic import BaseModel

    """Field names of the nested model reached by ``path`` (best effort, for 'did you mean')."""
    current: Any = model
    for step in path:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(step))
        if field is None:
            return []
        current = _unwrap(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    from pydantic import BaseModel

    for _ in range(4):
        args = typing.get_args(annotation)
        if not args:
            return annotation
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if models:
            return models[0]
        inner = [a for a in args if typing.get_args(a)]
        if not inner:
            return annotation
        annotation = inner[0]
    return annotation


def _build(doc: Document) -> list[FMError]:
    fm = doc.front_matter
    if not fm:
        return []
    from pydantic import ValidationError

    from ...models.kinds import model_for

    model = model_for(doc.kind)
    if model is None:
        return []
    try:
        model.model_validate(fm)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            raw_loc = tuple(err["loc"])
            loc = data_path(fm, raw_loc)
            line0, col0, _exact = node_position(doc.fm_node, loc)
            line = doc.fm_line + line0 + 1
            shown = loc if err["type"] != "missing" else (*loc, raw_loc[-1])
            dotted = ".".join(str(s) for s in shown) or "(front-matter)"
            fix = None
            if err["type"] == "extra_forbidden":
                key = str(loc[-1]) if loc else ""
                near = difflib.get_close_matches(key, _fields_at(model, loc[:-1]), n=1)
                fix = f"did you mean {near[0]!r}?" if near else None
                msg = f"unknown front-matter key {dotted!r}"
            else:
                msg = f"front-matter {dotted}: {err['msg']}"
            out.append(FMError(line, col0 + 1, err["type"], msg, fix))
        return out
    return []


def errors(doc: Document) -> list[FMError]:
    return doc.cached("fm_errors", _build)
