"""Turn pydantic validation errors into located issues with the option names a configurator wrote."""
from __future__ import annotations

import types
import typing
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .issues import Issue, did_you_mean
from .source import Path_, SourceDocument
from .spec import FIELD_TYPES


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, Union, tuple, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis:
                found.extend(_unwrap(arg))
        return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _option_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _models_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[type[BaseModel]]:
    """Which spec classes describe the mapping at ``loc`` (several when a union is not yet decided)."""
    current: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        following: list[type[BaseModel]] = []
        for model in current:
            for name, info in model.model_fields.items():
                if part in (name, info.alias):
                    following.extend(_unwrap(info.annotation))
        if following:
            current = following
            continue
        # a union tag in pydantic's loc ('string', 'reference'...) selects among the current models
        tagged = [m for m in current if _literal_type(m) == part]
        if tagged:
            current = tagged
    return current


def _literal_type(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("type")
    if info is None:
        return None
    args = typing.get_args(info.annotation)
    return args[0] if args else None


def _data_path(data: Any, loc: tuple[int | str, ...]) -> Path_:
    """The part of pydantic's loc that names real keys and indexes of the YAML data."""
    path: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and part == "list_" and "list" in node:
            path.append("list")
            node = node["list"]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
    return tuple(path)


def _describe(path: Path_) -> str:
    """'fields[3].type' style location inside the file, for the message."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def issues_from_validation(error: ValidationError, doc: SourceDocument,
                           root: type[BaseModel]) -> list[Issue]:
    return issues_from_errors(error.errors(), doc, root)


def issues_from_errors(errors: list[ErrorDetails], doc: SourceDocument, root: type[BaseModel]) -> list[Issue]:
    """Located issues for pydantic's error dicts (``ValidationError.errors()``)."""
    issues = list(_issues(errors, doc, root))
    # a misspelt option ('lable') also leaves the real one missing: report the spelling, once
    suggested = {(i.line, i.hint) for i in issues if i.id == "E010"}
    return [i for i in issues if not (i.id == "E011" and any(
        hint == f"did you mean '{_missing_name(i)}'?" for _, hint in suggested))]


def _missing_name(issue: Issue) -> str:
    return issue.message.split("'")[1] if "'" in issue.message else ""


def _issues(errors: list[ErrorDetails], doc: SourceDocument, root: type[BaseModel]) -> Iterable[Issue]:
    seen: set[tuple[Path_, str]] = set()
    item_error_paths = {tuple(e["loc"][:1]) for e in errors if len(e["loc"]) > 1}
    for err in errors:
        loc = tuple(err["loc"])
        path = _data_path(doc.data, loc)
        kind = err["type"]
        if kind == "too_short" and tuple(loc[:1]) in item_error_paths:
            continue  # pydantic counts only the items that validated: the item errors say it all
        key = (path, kind)
        if key in seen:
            continue
        seen.add(key)
        line = doc.line_of(path)
        where = _describe(path)
        value = err.get("input")
        if kind == "extra_forbidden":
            option = path[-1] if path else loc[-1]
            parent = _models_at(root, loc[:-1])
            names = sorted({n for m in parent for n in _option_names(m)})
            owner = _describe(path[:-1]) or "the file"
            yield Issue(doc.file, line, "E010", f"unknown option '{option}' in {owner}",
                        did_you_mean(str(option), names))
        elif kind == "missing":
            yield Issue(doc.file, line, "E011", f"missing required option '{loc[-1]}' in {_describe(path) or 'the file'}",
                        f"add '{loc[-1]}: …'")
        elif kind == "union_tag_invalid":
            tag = err.get("ctx", {}).get("tag", value)
            yield Issue(doc.file, doc.line_of(path + ("type",)), "E102",
                        f"{where}: unknown field type '{tag}'", did_you_mean(str(tag), FIELD_TYPES))
        elif kind == "union_tag_not_found":
            yield Issue(doc.file, line, "E011", f"{where}: missing required option 'type'",
                        "add 'type: …', one of " + ", ".join(FIELD_TYPES))
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
            yield Issue(doc.file, line, "E012", f"{where}: '{value}' is not allowed",
                        did_you_mean(str(value), choices))
        elif kind in ("model_type", "model_attributes_type", "dict_type") and path and path[-1] in (
                "label", "help", "description") or (kind == "model_type" and isinstance(value, str)
                                                     and _looks_like_label(loc)):
            yield Issue(doc.file, line, "E013", f"{where}: a label needs a text per language",
                        f"write {path[-1] if path else 'label'}: {{zh: {value}, en: <English>}}")
        else:
            yield Issue(doc.file, line, "E012", f"{where}: {err['msg'].lower()}" + (
                f" (got {value!r})" if not isinstance(value, (dict, list)) else ""),
                _hint_for(kind))


def _looks_like_label(loc: tuple[int | str, ...]) -> bool:
    return any(part in ("label", "help", "description", "message") for part in loc if isinstance(part, str))


def _hint_for(kind: str) -> str:
    return {
        "string_pattern_mismatch": "use lower-case letters, digits and '_' starting with a letter",
        "bool_parsing": "write true or false",
        "int_parsing": "write a whole number",
        "tuple_type": "write a list: [a, b] or one '- item' per line",
        "too_short": "the list needs more items",
        "value_error": "see docs/metadata.md for this option",
    }.get(kind, "")
