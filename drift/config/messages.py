"""Turn pydantic validation errors into ``file: key.path: what was expected`` lines."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from drift.sql.secrets import mask_text


def _key_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # A key that is empty or holds line breaks or other control characters is
            # quoted, so each problem stays on its own line and names its key.
            name = part if part and part.isprintable() else repr(part)
            out += f".{name}" if out else name
    return out


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (through Optional, tuple, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None:
        return None
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _model_in(args[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        for arg in args:
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in model.model_fields.items() if (f.alias or name) == part), None
        )
        if field is None:
            return None
        model = _model_in(field.annotation)
    return model


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _got(value: Any) -> str:
    text = mask_text(repr(value))  # a URL's password is never echoed
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: Any, root: type[BaseModel]) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    value = error.get("input")
    loc = tuple(error["loc"])
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        allowed = _keys(model) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = f" (known keys: {', '.join(allowed)})" if allowed and not close else ""
        return f"unknown key{hint}{listing}"
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        op, key = bounds[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {op} {bound} (got {_got(value)})"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')} (got {_got(value)})"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys (got {_got(value)})"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list (got {_got(value)})"
    if kind.startswith("string_too_short"):
        return "must not be empty"
    message = error["msg"]
    message = message[0].lower() + message[1:] if message else message
    return f"{message} (got {_got(value)})"


def format_validation_error(exc: ValidationError, root: type[BaseModel], source: str) -> str:
    """One line per error: ``<source>: <key path>: <what was expected>``."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        detail = _describe(error, root)
        # A model-level check names the key at fault ("url: ..."): move it into the path.
        key, sep, rest = detail.partition(": ")
        model = _model_at(root, loc)
        if sep and model is not None and key in _keys(model):
            loc, detail = (*loc, key), rest
        path = _key_path(loc)
        detail = " ".join(detail.splitlines())  # one problem, one line
        head = f"{source}: {path}: " if path else f"{source}: "
        lines.append(head + detail)
    return "\n".join(dict.fromkeys(lines))
