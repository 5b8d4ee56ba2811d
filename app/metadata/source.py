"""Read one YAML file into plain Python values plus the line of every key and list item."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from .issues import Issue

# libyaml parses several times faster and keeps the same node marks
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_: TypeAlias = tuple[Any, ...]  # a path into the document: keys (any YAML scalar) and list indexes
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class SourceDocument:
    """A parsed YAML file: its data and where (1-based line) each path starts."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """Line of the longest prefix of ``path`` that exists in the document."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class _Reader:
    def __init__(self, file: str, text: str):
        self.file = file
        self.loader = _Loader(text)
        self.lines: dict[Path_, int] = {}
        self.issues: list[Issue] = []

    def read(self) -> Any:
        try:
            node = self.loader.get_single_node()
            if node is None:
                return None
            self.lines[()] = node.start_mark.line + 1
            return self._convert(node, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            problem = (exc.problem or "invalid YAML").strip()
            context = f" ({exc.context})" if exc.context else ""
            self.issues.append(Issue(
                self.file, line, "E001", f"YAML syntax error: {problem}{context}",
                "check the indentation (spaces only, two per level) and that every "
                "'key: value' and '- item' lines up with its siblings"))
            return None
        finally:
            self.loader.dispose()

    def _convert(self, node: yaml.Node, path: Path_) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:
                    self._merge(value_node, path, result)
                    continue
                key = self.loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.issues.append(Issue(
                        self.file, line, "E002", f"duplicate key '{key}' (first at line {seen[key]})",
                        "keep one of them (the first is the one read)"))
                    continue
                seen[key] = line
                self.lines[path + (key,)] = line
                result[key] = self._convert(value_node, path + (key,))
            for key, line in seen.items():  # a merge after a key does not move the key's line
                self.lines[path + (key,)] = line
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[path + (index,)] = item.start_mark.line + 1
                items.append(self._convert(item, path + (index,)))
            return items
        return self.loader.construct_object(node, deep=True)

    def _merge(self, value_node: yaml.Node, path: Path_, result: dict[Any, Any]) -> None:
        """``<<: *anchor`` (or a list of anchors): their keys, unless the mapping gives them itself."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise yaml.MarkedYAMLError(problem="'<<' merges mappings only: write <<: *anchor of a mapping",
                                           problem_mark=source.start_mark)
            for key, value in self._convert(source, path).items():
                result.setdefault(key, value)


def read_source(path: Path, root: Path | None = None) -> tuple[SourceDocument | None, list[Issue]]:
    """Parse ``path``; return the document (None when unreadable) and the problems met."""
    shown = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Issue(shown, 1, "E001", f"file is not UTF-8 ({exc.reason})", "save the file as UTF-8")]
    reader = _Reader(shown, text)
    data = reader.read()
    if reader.issues and data is None:
        return None, reader.issues
    if not isinstance(data, dict):
        return None, reader.issues + [Issue(
            shown, reader.lines.get((), 1), "E003", "the file must be a mapping of options",
            "start the file with 'name: <identifier>' followed by the other options")]
    return SourceDocument(shown, data, reader.lines), reader.issues
