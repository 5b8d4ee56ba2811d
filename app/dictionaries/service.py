"""Dictionary lookups for forms, lists and filters: labels per language, children, paths, subtrees."""
from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from sqlalchemy import select

from app.i18n import current_locale
from app.metadata import Registry
from app.metadata.spec import DictionaryItem as ItemSpec

from .pinyin import is_latin, matches_spelling, spellings

LOCALE_INDEX = {"zh_Hans": 0, "zh_Hant": 1, "en": 2}


@dataclass(slots=True)
class Node:
    code: str
    parent: str | None
    labels: tuple[str, str, str]  # zh_Hans, zh_Hant, en
    sort: int
    color: str | None = None
    depth: int = 1
    #: a tuple (most nodes are leaves: one shared empty tuple instead of 40,000 empty lists)
    children: tuple[str, ...] = ()

    def label(self, locale: str) -> str:
        return self.labels[LOCALE_INDEX.get(locale, 0)]


@dataclass
class Tree:
    name: str
    kind: str
    nodes: dict[str, Node]
    roots: list[str]
    _by_label: dict[str, list[str]] | None = None
    #: code → (full pinyin, initials) of its Chinese label, filled as pickers search (2.9 s for all 44,703
    #: regions: paid once per searched subtree, not at every start)
    spelled: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def by_label(self) -> dict[str, list[str]]:
        """Label (any language) → codes with that label; built on first use (imports), 15 MB for the regions."""
        if self._by_label is None:
            index: dict[str, list[str]] = {}
            for node in self.nodes.values():
                for text in set(node.labels):
                    index.setdefault(text.strip(), []).append(node.code)
            self._by_label = index
        return self._by_label


def _nodes_from_spec(items: Iterable[ItemSpec]) -> list[tuple[str, str | None, tuple[str, str, str], str | None]]:
    rows = []

    def walk(children: Iterable[ItemSpec], parent: str | None) -> None:
        for item in children:
            label = item.label
            rows.append((item.code, item.parent or parent, (label.zh, label.zh_Hant or label.zh, label.en),
                         item.color))
            walk(item.children, item.code)

    walk(items, None)
    return rows


def build_tree(name: str, kind: str,
               rows: Iterable[tuple[str, str | None, tuple[str, str, str], str | None]]) -> Tree:
    nodes: dict[str, Node] = {}
    for sort, (code, parent, labels, color) in enumerate(rows):
        zh, zh_hant, en = labels
        # one string object when the Traditional form is the same (many place names): 44,703 regions held once
        nodes[code] = Node(code, parent, (zh, zh if zh_hant == zh else zh_hant, en), sort, color)
    roots = []
    children: dict[str, list[str]] = {}
    for node in nodes.values():
        parent = nodes.get(node.parent) if node.parent else None
        if parent is not None:
            node.parent = parent.code  # one string object per code
            children.setdefault(parent.code, []).append(node.code)
        else:
            roots.append(node.code)
    for code, codes in children.items():
        nodes[code].children = tuple(codes)
    # depth from the roots down (items may be listed before their parents in flat trees)
    stack = [(code, 1) for code in roots]
    while stack:
        code, depth = stack.pop()
        nodes[code].depth = depth
        stack.extend((child, depth + 1) for child in nodes[code].children)
    return Tree(name, kind, nodes, roots)


class DictionaryService:
    """In-memory dictionaries: YAML ones at once, packaged ones (regions) from the database on first use."""

    def __init__(self, registry: Registry, load_rows: Callable[[str], Iterable[tuple]]):
        self.registry = registry
        self._load_rows = load_rows
        self._trees: dict[str, Tree] = {}
        self._lock = threading.Lock()
        for spec in registry.dictionaries.values():
            if spec.source is None:
                self._trees[spec.name] = build_tree(spec.name, spec.kind, _nodes_from_spec(spec.items))

    def tree(self, name: str) -> Tree:
        tree = self._trees.get(name)
        if tree is None:
            with self._lock:
                tree = self._trees.get(name)
                if tree is None:
                    spec = self.registry.dictionary(name)
                    tree = build_tree(name, spec.kind, self._load_rows(name))
                    self._trees[name] = tree
                    if gc.get_freeze_count():
                        # a server process froze what its start built (app.freeze_start_up); this tree lives as
                        # long and is frozen too, or every full collection walks its nodes while a request waits
                        # (the 44,703 regions: 20 ms, the slowest county search of bench/scale.py 102 → 80 ms)
                        gc.freeze()
        return tree

    def forget(self, name: str | None = None) -> None:
        """Drop cached packaged dictionaries (after a sync)."""
        for key in [name] if name else [n for n, s in self.registry.dictionaries.items() if s.source]:
            self._trees.pop(key, None)

    # -- single values
    def node(self, dictionary: str, code: Any) -> Node | None:
        if code is None:
            return None
        return self.tree(dictionary).nodes.get(str(code))

    def exists(self, dictionary: str, code: Any) -> bool:
        return self.node(dictionary, code) is not None

    def is_leaf(self, dictionary: str, code: Any) -> bool:
        node = self.node(dictionary, code)
        return node is not None and not node.children

    def label(self, dictionary: str, code: Any, locale: str | None = None) -> str:
        node = self.node(dictionary, code)
        if node is None:
            return "" if code in (None, "") else str(code)
        return node.label(locale or current_locale())

    def ancestors(self, dictionary: str, code: Any) -> list[Node]:
        """The nodes from the root down to ``code`` (empty when unknown)."""
        tree = self.tree(dictionary)
        chain: list[Node] = []
        node = tree.nodes.get(str(code)) if code is not None else None
        while node is not None and len(chain) < 16:
            chain.append(node)
            node = tree.nodes.get(node.parent) if node.parent else None
        return list(reversed(chain))

    def path_of(self, dictionary: str, code: Any) -> str | None:
        """The materialised path '/32/3204/' of an item (as stored in sys_dictionary_item), None if unknown."""
        chain = self.ancestors(dictionary, code)
        return "/" + "/".join(n.code for n in chain) + "/" if chain else None

    def path_label(self, dictionary: str, code: Any, depth: int | None = None, locale: str | None = None,
                   sep: str = " / ") -> str:
        """'江苏省 / 常州市 / 钟楼区'; with ``depth`` only the last levels."""
        chain = self.ancestors(dictionary, code)
        if not chain:
            return "" if code in (None, "") else str(code)
        if depth:
            chain = chain[-depth:]
        locale = locale or current_locale()
        return sep.join(node.label(locale) for node in chain)

    def code_for_label(self, dictionary: str, text: str) -> str | None:
        """The code whose label (in any language) or code is ``text``; a path 'a / b' matches its last part."""
        tree = self.tree(dictionary)
        text = str(text).strip()
        if text in tree.nodes:
            return text
        if len(tree.by_label.get(text, ())) == 1:
            return tree.by_label[text][0]
        for sep in ("/", "-", ">"):
            if sep in text:
                return self.code_for_path(dictionary, [part.strip() for part in text.split(sep)])
        return None

    def code_for_path(self, dictionary: str, parts: list[str]) -> str | None:
        """The item whose path ends with ``parts`` ('常州市/新北区/春江街道' without the province works too)."""
        tree = self.tree(dictionary)
        parts = [p for p in parts if p]
        if not parts:
            return None
        found = []
        candidates = tree.by_label.get(parts[-1], []) + ([parts[-1]] if parts[-1] in tree.nodes else [])
        for code in candidates:
            chain = self.ancestors(dictionary, code)
            if len(chain) < len(parts):
                continue
            tail = chain[-len(parts):]
            if all(part in n.labels or part == n.code for part, n in zip(parts, tail)):
                found.append(code)
        return found[0] if len(found) == 1 else None

    # -- lists
    def choices(self, dictionary: str, locale: str | None = None) -> list[tuple[str, str]]:
        locale = locale or current_locale()
        tree = self.tree(dictionary)
        return [(node.code, node.label(locale)) for node in sorted(tree.nodes.values(), key=lambda n: n.sort)]

    def children(self, dictionary: str, parent: str | None, locale: str | None = None) -> list[dict]:
        locale = locale or current_locale()
        tree = self.tree(dictionary)
        codes = tree.roots if not parent else (tree.nodes[parent].children if parent in tree.nodes else [])
        return [{"code": c, "label": tree.nodes[c].label(locale), "leaf": not tree.nodes[c].children,
                 "depth": tree.nodes[c].depth} for c in sorted(codes, key=lambda c: tree.nodes[c].sort)]

    def subtree_codes(self, dictionary: str, code: str) -> list[str]:
        tree = self.tree(dictionary)
        if code not in tree.nodes:
            return []
        result, stack = [], [code]
        while stack:
            current = stack.pop()
            result.append(current)
            stack.extend(tree.nodes[current].children)
        return result

    def search(self, dictionary: str, text: str, locale: str | None = None, limit: int = 20,
               within: str | None = None) -> list[dict]:
        """Items whose label contains ``text`` (in any language, or as pinyin or its initials), with their whole
        path, for type-ahead pickers; with ``within``, only that item and the items below it."""
        locale = locale or current_locale()
        text = text.strip().lower()
        tree = self.tree(dictionary)
        latin = is_latin(text)
        codes = self.subtree_codes(dictionary, within) if within else None
        nodes = (tree.nodes[c] for c in codes) if codes is not None else tree.nodes.values()
        found = []
        for node in sorted(nodes, key=lambda n: n.sort) if codes is not None else nodes:
            hit = any(text in label.lower() for label in node.labels)
            if not hit and latin:
                spelled = tree.spelled.get(node.code)
                if spelled is None:
                    spelled = tree.spelled[node.code] = spellings(node.labels[0])
                hit = matches_spelling(text, spelled)
            if hit:
                found.append({"code": node.code, "label": self.path_label(dictionary, node.code, locale=locale),
                              "leaf": not node.children, "depth": node.depth})
                if len(found) >= limit:
                    break
        return found


def load_rows_from_db(session_factory: Callable[[], Any], item_class: type) -> Callable[[str], Iterable[tuple]]:
    def load(dictionary: str) -> Iterable[tuple]:
        session = session_factory()
        # streamed: the 44,703 regions never sit in memory twice (as result rows and as nodes)
        rows = session.execute(
            select(item_class.code, item_class.parent_code, item_class.label_zh, item_class.label_zh_hant,
                   item_class.label_en, item_class.color)
            .where(item_class.dictionary == dictionary).order_by(item_class.sort)
            .execution_options(yield_per=2000))
        for code, parent, zh, zh_hant, en, color in rows:
            yield code, parent, (zh, zh_hant, en), color

    return load
