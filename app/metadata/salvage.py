"""Shape-check one file and, when it is broken, keep what is sound so the other checks still run around it."""
from __future__ import annotations

import copy
import re
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .issues import Issue
from .shape import _data_path, _describe, _models_at, issues_from_errors
from .source import Path_, SourceDocument
from .spec import Label

#: a file is pruned at most this many times (each round removes what the last validation refused)
MAX_ROUNDS = 8
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,39}")
_GONE = object()  # marks a list item removed in this round, before the list is compacted
#: what a removed list item of these lists is called in the note that says its checks are skipped
_ITEM_KIND = {"fields": "field", "states": "state", "transitions": "transition", "roles": "role",
              "categories": "menu category", "items": "item", "documents": "document"}


@dataclass
class Salvage:
    """The outcome of shape-checking one file.

    ``spec`` is the validated model: the whole file when it is sound, else the file without its broken parts
    (None when even that cannot be built, e.g. a broken ``name``). ``dropped`` holds the names declared in the
    parts left out: other checks do not report references to them a second time."""

    spec: BaseModel | None
    doc: SourceDocument
    issues: list[Issue]
    dropped: set[str] = field(default_factory=set)
    #: top-level options left out whole (a ``menu`` written as a text): the checks of their absence are moot
    left_out: set[str] = field(default_factory=set)


def validate_file(doc: SourceDocument, model: type[BaseModel]) -> Salvage:
    """Validate ``doc`` against ``model``; on shape errors, report them all and validate what is left."""
    try:
        return Salvage(model.model_validate(doc.data), doc, [])
    except ValidationError as exc:
        errors = exc.errors()
    issues = issues_from_errors(errors, doc, model)
    data, lines = copy.deepcopy(doc.data), dict(doc.lines)
    dropped: set[str] = set()
    notes: list[tuple[str, tuple[int, int]]] = []  # what was left out, and the lines it spans
    pruned: list[Path_] = []  # paths removed for a reason that may make a later error a consequence
    removed: list[Path_] = []  # every path removed (top-level ones keep their meaning across rounds)
    for round_ in range(MAX_ROUNDS):
        if round_:
            try:
                spec = model.model_validate(data)
            except ValidationError as exc:
                errors = exc.errors()
                current = SourceDocument(doc.file, data, lines)
                # pruning can reveal errors pydantic did not reach (an after-validator of a model whose option was
                # refused); errors that pruning itself caused (a required option removed) are not the user's
                fresh = [e for e in errors if not _caused_by_pruning(e, data, pruned)]
                issues += issues_from_errors(fresh, current, model)
            else:
                left_out = {p[0] for p in removed if len(p) == 1 and isinstance(p[0], str)}
                return Salvage(spec, SourceDocument(doc.file, data, lines), _with_notes(issues, notes), dropped,
                               left_out)
        progressed = False
        # every path is found before anything is removed: a removal must not shift another error's place
        located = [(err, _data_path(data, tuple(err["loc"]))) for err in errors]
        for err, path in located:
            if err["type"] == "missing" and _placeholder_label(model, err["loc"], data, path):
                progressed = True
                continue
            if tuple(err["loc"]) == ("name",) and err["type"] != "extra_forbidden" and _name_from_file(doc, data):
                progressed = True
                continue
            if err["type"] == "too_short" and any(len(p) > len(path) and p[:len(path)] == path
                                                  for _, p in located):
                continue  # pydantic counts only the items that validated: removing them is enough
            if not path or _node(data, path) is _GONE:
                continue
            _remember(data, path, lines, dropped, notes)
            removed.append(path)
            if err["type"] != "extra_forbidden":
                pruned.append(path)
            _remove(data, path)
            progressed = True
        if not progressed:
            break
        data, lines, moved = _compact(data, lines)
        pruned = [_moved(p, moved) for p in pruned]
    issues = _with_notes(issues, [], whole_file=True)
    return Salvage(None, doc, issues, dropped)


def _name_from_file(doc: SourceDocument, data: dict[Any, Any]) -> bool:
    """A refused ``name`` is replaced by the file's (a register is named like its file), so the rest of the
    file is checked and references to it resolve."""
    stem = doc.file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if data.get("name") == stem or not IDENTIFIER.fullmatch(stem):
        return False
    data["name"] = stem
    return True


def _caused_by_pruning(err: ErrorDetails, data: Any, pruned: list[Path_]) -> bool:
    path = _data_path(data, tuple(err["loc"]))
    if err["type"] == "missing":
        path = path + (err["loc"][-1],)
    # an error at a removed part, or above one (a list now too short, a condition without its comparison)
    return any(p[:len(path)] == path for p in pruned)


def _placeholder_label(model: type[BaseModel], loc: tuple[int | str, ...], data: Any, path: Path_) -> bool:
    """A missing label is put back as a placeholder: nothing else depends on a label's text."""
    option = loc[-1]
    if not isinstance(option, str):
        return False  # a missing option is named by its key, never by a list index
    owners = _models_at(model, tuple(loc[:-1]))
    wanted = [m.model_fields.get(option) for m in owners]
    if not wanted or not all(info is not None and Label in _classes(info.annotation) for info in wanted):
        return False
    container = _node(data, path)
    if not isinstance(container, dict) or option in container:
        return False
    container[option] = {"zh": "?", "en": "?"}
    return True


def _classes(annotation: Any) -> set[Any]:
    args = typing.get_args(annotation)
    return {annotation, *args}


def _node(data: Any, path: Path_) -> Any:
    """The value at ``path``, or _GONE when it (or a part above it) was removed in this round."""
    for part in path:
        if isinstance(data, dict) and part in data or isinstance(data, list) and isinstance(part, int) \
                and part < len(data):
            data = data[part]
        else:
            return _GONE
        if data is _GONE:
            return _GONE
    return data


def _remove(data: Any, path: Path_) -> None:
    parent = _node(data, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = _GONE  # compacted after the round, so the other errors' indexes stay right


def _remember(data: Any, path: Path_, lines: dict[Path_, int], dropped: set[str],
              notes: list[tuple[str, tuple[int, int]]]) -> None:
    """Names declared in the part removed, and a note for a removed list item (a field, a state…)."""
    removed = _node(data, path)
    dropped.update(_declared_names(removed))
    if path[-1] in ("name", "code") and isinstance(removed, str):
        dropped.add(removed)  # a name refused ('Remarks'): what names it elsewhere is not reported again
    if path[-1] == "workflow" and isinstance(removed, dict):
        dropped.add(str(removed.get("field", "state")))
    if isinstance(path[-1], int) and len(path) > 1:
        kind = _ITEM_KIND.get(path[-2]) if isinstance(path[-2], str) else None
        name = removed.get("name", removed.get("code")) if isinstance(removed, dict) else None
        spans = [line for p, line in lines.items() if p[:len(path)] == path]
        if spans and isinstance(name, str):
            what = f"{kind} '{name}'" if kind else f"{_describe(path)} '{name}'"
            notes.append((what, (min(spans), max(spans))))


def _declared_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        for key in ("name", "code", "field"):
            if isinstance(node.get(key), str):
                names.add(node[key])
        for value in node.values():
            names |= _declared_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _declared_names(value)
    return names


def _compact(data: Any, lines: dict[Path_, int]) -> tuple[Any, dict[Path_, int], dict[Path_, Path_]]:
    """Drop the removed list items; renumber the line index to match, and say where each kept path went."""
    new_lines: dict[Path_, int] = {}
    moved: dict[Path_, Path_] = {}

    def walk(node: Any, old: Path_, new: Path_) -> Any:
        moved[old] = new
        if old in lines:
            new_lines[new] = lines[old]
        if isinstance(node, dict):
            return {k: walk(v, old + (k,), new + (k,)) for k, v in node.items()}
        if isinstance(node, list):
            kept: list[Any] = []
            for i, value in enumerate(node):
                if value is not _GONE:
                    kept.append(walk(value, old + (i,), new + (len(kept),)))
            return kept
        return node

    return walk(data, (), ()), new_lines, moved


def _moved(path: Path_, moved: dict[Path_, Path_]) -> Path_:
    """Where a removed path's place is after compaction (a removed list item: index -1 of its list)."""
    if path in moved:
        return moved[path]
    if not path:
        return ()
    return _moved(path[:-1], moved) + (path[-1] if isinstance(path[-1], str) else -1,)


def _with_notes(issues: list[Issue], notes: list[tuple[str, tuple[int, int]]], whole_file: bool = False
                ) -> list[Issue]:
    """Say once, on the first problem inside each part left out, that the checks needing it are skipped."""
    result = list(issues)
    if whole_file and result:
        first = min(range(len(result)), key=lambda i: result[i].line)
        result[first] = _add_hint(result[first], "the file's other checks wait for this fix")
        return result
    for what, (start, end) in notes:
        inside = [i for i, issue in enumerate(result) if start <= issue.line <= end]
        if inside:
            index = min(inside, key=lambda i: result[i].line)
            result[index] = _add_hint(result[index], f"checks that need {what} wait for this fix")
    return result


def _add_hint(issue: Issue, note: str) -> Issue:
    hint = f"{issue.hint}; {note}" if issue.hint else f"fix this; {note}"
    return Issue(issue.file, issue.line, issue.id, issue.message, hint)
