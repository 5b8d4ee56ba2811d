"""Draws a workflow's state diagram as a standalone, offline SVG: layered left to right, deterministic."""
from __future__ import annotations

import hashlib
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from xml.sax.saxutils import escape, quoteattr

from app.metadata.spec import Transition, WorkflowSpec, WorkflowState

SVG_NS = "http://www.w3.org/2000/svg"
# fonts a Chinese desktop or server already has: nothing is fetched
FONT_FAMILY = ('"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", '
               '"WenQuanYi Zen Hei", sans-serif')
STATE_FONT, LABEL_FONT, TITLE_FONT = 13, 12, 15
NODE_H, NODE_PAD, NODE_MIN_W = 34, 16, 84
LABEL_H = 16
ROW_GAP, LOOP_ROOM = 52, 30  # between the states of a column; more above a state with self-loops
GAP_MIN, CHANNEL = 72, 10    # between columns; between the vertical channels of routed edges
LANE_START, LANE_GAP = 22, 24  # back edges run in lanes below (or above) the states
BOW = 30                     # parallel forward edges bulge apart by this much
MARGIN = 16
EDGE_COLOURS = {"danger": "#cf1322", "success": "#389e0d", "warning": "#d46b08", "default": "#595959"}
NEUTRAL = "#8c8c8c"
TEXT = "#262626"

Point = tuple[float, float]


def text_width(text: str, size: float) -> float:
    """Estimated advance of ``text``: wide (CJK) characters one em, the others 0.6 em."""
    return sum(size if unicodedata.east_asian_width(c) in ("W", "F") else 0.6 * size for c in text)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def grown(self, by: float) -> "Box":
        return Box(self.x - by, self.y - by, self.w + 2 * by, self.h + 2 * by)

    def overlap(self, other: "Box") -> float:
        dx = min(self.right, other.right) - max(self.x, other.x)
        dy = min(self.bottom, other.bottom) - max(self.y, other.y)
        return dx * dy if dx > 0 and dy > 0 else 0.0

    def holds(self, p: Point) -> bool:
        return self.x <= p[0] <= self.right and self.y <= p[1] <= self.bottom


@dataclass
class _Node:
    state: WorkflowState
    text: str
    w: float
    rank: int = 0
    row: int = 0
    loops: int = 0
    box: Box = Box(0, 0, 0, 0)


@dataclass
class _Edge:
    transition: Transition
    source: str
    target: str
    text: str
    kind: str  # forward (next column) | back (earlier column) | vertical (neighbour in the column) | bracket | loop
    order: int = 0      # among the edges sharing the same room (same pair, same kind)
    siblings: int = 1
    side: int = 1       # back edges: lane below (1) or above (-1) the states
    lane: float = 0.0
    channel: dict[str, float] = field(default_factory=dict)  # x of a vertical run in a gap between columns
    port: dict[str, float] = field(default_factory=dict)     # where the edge meets the source / target box
    d: str = ""
    points: list[Point] = field(default_factory=list)        # the drawn line, sampled, for label placement
    track: list[Point] = field(default_factory=list)         # where the label may sit
    label: Box | None = None

    @property
    def bow(self) -> float:
        return (self.order - (self.siblings - 1) / 2) * BOW if self.kind == "forward" else 0.0


class _Layout:
    """Positions of states, routes of transitions and places of labels, in diagram units (px)."""

    def __init__(self, workflow: WorkflowSpec, locale: str) -> None:
        self.nodes = {s.name: _Node(s, s.label.text(locale), max(
            NODE_MIN_W, text_width(s.label.text(locale), STATE_FONT) + 2 * NODE_PAD)) for s in workflow.states}
        self.initial = self.nodes[workflow.initial.name]
        self.columns = self._rank(workflow)
        self.edges = self._classify(workflow, locale)
        self._place_states()
        for side in (1, -1):
            self._route_lanes(side)
        self._assign_channels()
        self._assign_ports()
        for edge in self.edges:
            self._draw(edge)
        box = self.initial.box
        self.start = Box(box.x - 37, box.cy - 7, 37, 14)
        self._place_labels()

    # ------------------------------------------------------------ columns and rows
    def _rank(self, workflow: WorkflowSpec) -> list[list[str]]:
        """Column = distance from the initial state; states it never reaches share a last column."""
        following: dict[str, list[str]] = {name: [] for name in self.nodes}
        for t in workflow.transitions:
            for source in t.from_:
                if source in following and t.to in self.nodes:
                    following[source].append(t.to)
        ranks = {self.initial.state.name: 0}
        queue = deque(ranks)
        while queue:
            name = queue.popleft()
            for after in following[name]:
                if after not in ranks:
                    ranks[after] = ranks[name] + 1
                    queue.append(after)
        last = max(ranks.values()) + 1
        columns: list[list[str]] = [[] for _ in range(last + (len(ranks) < len(self.nodes)))]
        for name, node in self.nodes.items():
            node.rank = ranks.get(name, last)
            node.row = len(columns[node.rank])
            columns[node.rank].append(name)
        return columns

    def _classify(self, workflow: WorkflowSpec, locale: str) -> list[_Edge]:
        edges = []
        for t in workflow.transitions:
            for source in t.from_:
                if source not in self.nodes or t.to not in self.nodes:
                    continue  # a dangling reference is the metadata checks' to report
                a, b = self.nodes[source], self.nodes[t.to]
                kind = ("loop" if a is b else "forward" if b.rank == a.rank + 1 else "back" if b.rank < a.rank
                        else "vertical" if abs(a.row - b.row) == 1 else "bracket")
                edges.append(_Edge(t, source, t.to, t.label.text(locale), kind))
        rooms: dict[tuple[str, ...], list[_Edge]] = {}
        for e in edges:
            key = (e.kind, e.source, e.target) if e.kind == "forward" else (e.kind, *sorted((e.source, e.target)))
            rooms.setdefault(key, []).append(e)
        for room in rooms.values():
            for i, e in enumerate(room):
                e.order, e.siblings = i, len(room)
        for e in edges:
            if e.kind == "loop":
                self.nodes[e.source].loops = e.siblings
            if e.kind == "back":  # the side where fewer ends must detour around a neighbour
                cost = {s: (not self._outer(e.source, s)) + (not self._outer(e.target, s)) for s in (1, -1)}
                e.side = 1 if cost[1] <= cost[-1] else -1
        return edges

    def _outer(self, name: str, side: int) -> bool:
        """The state is the lowest (side 1) or highest (side -1) of its column: lanes reach it directly."""
        column = self.columns[self.nodes[name].rank]
        return column[-1 if side > 0 else 0] == name

    def _place_states(self) -> None:
        count = len(self.columns)
        self.col_w = [max(self.nodes[name].w for name in column) for column in self.columns]
        labels, lefts, rights = [0.0] * count, [0] * (count + 1), [0] * count
        for e in self.edges:
            a, b = self.nodes[e.source].rank, self.nodes[e.target].rank
            if e.kind == "forward":
                # parallel edges need length to part and meet again
                labels[a] = max(labels[a], text_width(e.text, LABEL_FONT) + 24 * (e.siblings - 1))
            elif e.kind == "bracket":
                rights[a] += 1
            elif e.kind == "back":
                lefts[a] += not self._outer(e.source, e.side)
                rights[b] += not self._outer(e.target, e.side)
        self.col_x, x = [], 0.0
        for c in range(count):
            self.col_x.append(x)
            x += self.col_w[c] + max(GAP_MIN, labels[c] + 48) + CHANNEL * (rights[c] + lefts[c + 1])
        for c, column in enumerate(self.columns):
            gaps = [ROW_GAP + LOOP_ROOM * self.nodes[name].loops for name in column[1:]]
            y = -(NODE_H * len(column) + sum(gaps)) / 2
            for i, name in enumerate(column):
                node = self.nodes[name]
                y += gaps[i - 1] if i else 0
                node.box = Box(self.col_x[c] + (self.col_w[c] - node.w) / 2, y, node.w, NODE_H)
                y += NODE_H

    # ------------------------------------------------------------ routes
    def _extent(self, lo: int, hi: int, side: int) -> float:
        """How far below (above) the states and forward edges of columns lo..hi reach."""
        reach = []
        for c in range(lo, hi + 1):
            for name in self.columns[c]:
                node = self.nodes[name]
                loops = 0.75 * (24 + 12 * (node.loops - 1)) + LABEL_H + 4 if node.loops else 0
                reach.append(node.box.bottom if side > 0 else -(node.box.y - loops))
        for e in self.edges:
            a, b = self.nodes[e.source], self.nodes[e.target]
            if e.kind == "forward" and lo <= a.rank and b.rank <= hi:
                ys = (side * a.box.cy, side * b.box.cy)
                reach.append(max(ys) + 0.75 * max(side * e.bow, 0) + LABEL_H / 2 + 2)
        return side * max(reach)

    def _side_span(self, node: _Node, side: str) -> tuple[float, float]:
        box = node.box
        if side in ("left", "right"):
            return box.y + 6, box.bottom - 6
        return box.x + 10, box.right - (40 if node.loops and side == "top" else 10)  # loops keep the top right

    def _lane_end(self, e: _Edge, end: str) -> float:
        """x where the lane of a back edge stops at its source (right end) or target (left end)."""
        name = e.source if end == "source" else e.target
        node = self.nodes[name]
        if not self._outer(name, e.side):
            return self.col_x[node.rank] + (0 if end == "source" else self.col_w[node.rank])
        leaving = sum(o.kind == "back" and o.side == e.side and o.source == name for o in self.edges)
        arriving = sum(o.kind == "back" and o.side == e.side and o.target == name for o in self.edges)
        spots = _spread(*self._side_span(node, "bottom" if e.side > 0 else "top"), leaving + arriving, 18)
        return spots[leaving - 1] if end == "source" else spots[leaving]

    def _route_lanes(self, side: int) -> None:
        """Short back edges nearest the states; a lane moves out until it clears every lane it overlaps."""
        placed: list[tuple[_Edge, float, float]] = []
        lanes = [e for e in self.edges if e.kind == "back" and e.side == side]
        for e in sorted(lanes, key=lambda e: self.nodes[e.source].rank - self.nodes[e.target].rank):
            start, end = self._lane_end(e, "target"), self._lane_end(e, "source")
            y = self._extent(self.nodes[e.target].rank, self.nodes[e.source].rank, side) + side * LANE_START
            moved = True
            while moved:
                moved = False
                for other, lo, hi in placed:
                    if start < hi and lo < end and abs(other.lane - y) < LANE_GAP:
                        y, moved = other.lane + side * LANE_GAP, True
            e.lane = y
            placed.append((e, start, end))

    def _assign_channels(self) -> None:
        """Vertical runs beside a column: brackets nearest, then lanes' detours, deeper lanes nearer."""
        users: dict[tuple[int, str], list[tuple[tuple[float, ...], _Edge, str]]] = {}
        for i, e in enumerate(self.edges):
            a, b = self.nodes[e.source], self.nodes[e.target]
            if e.kind == "bracket":
                users.setdefault((a.rank, "right"), []).append(((0, abs(a.row - b.row), i), e, "both"))
            elif e.kind == "back":
                for end, node, where in (("source", a, "left"), ("target", b, "right")):
                    if not self._outer(node.state.name, e.side):
                        users.setdefault((node.rank, where), []).append(((1, -e.side * e.lane, i), e, end))
        for (c, where), group in users.items():
            for k, (_, e, end) in enumerate(sorted(group, key=lambda u: u[0])):
                e.channel[end] = (self.col_x[c] + self.col_w[c] + 14 + CHANNEL * k if where == "right"
                                  else self.col_x[c] - 14 - CHANNEL * k)

    def _assign_ports(self) -> None:
        """Spread the ends meeting one side of a box, ordered so that neighbouring routes do not cross."""
        asks: dict[tuple[str, str], list[tuple[tuple[float, ...], _Edge, str]]] = {}
        for i, e in enumerate(self.edges):
            a, b = self.nodes[e.source], self.nodes[e.target]
            wanted = []
            if e.kind == "forward":
                wanted = [(e.source, "right", (b.box.cy, e.bow, i), "source"),
                          (e.target, "left", (a.box.cy, e.bow, i), "target")]
            elif e.kind == "bracket":
                wanted = [(e.source, "right", (b.box.cy, 0, i), "source"),
                          (e.target, "right", (a.box.cy, 0, i), "target")]
            elif e.kind == "back":
                # on the top or bottom: ends whose lane runs left first, the deeper lane further out
                edge, depth = ("bottom" if e.side > 0 else "top"), e.side * e.lane
                wanted = [(e.source, edge, (-1, depth, i), "source") if self._outer(e.source, e.side)
                          else (e.source, "left", (e.lane, 0, i), "source"),
                          (e.target, edge, (1, -depth, i), "target") if self._outer(e.target, e.side)
                          else (e.target, "right", (e.lane, 0, i), "target")]
            for name, side, key, end in wanted:
                asks.setdefault((name, side), []).append((key, e, end))
        for (name, side), group in asks.items():
            step = 10 if side in ("left", "right") else 18
            spots = _spread(*self._side_span(self.nodes[name], side), len(group), step)
            for spot, (_, e, end) in zip(spots, sorted(group, key=lambda g: g[0])):
                e.port[end] = spot

    def _draw(self, e: _Edge) -> None:
        a, b = self.nodes[e.source], self.nodes[e.target]
        A, B = a.box, b.box
        if e.kind == "forward":
            right, left = self.col_x[a.rank] + self.col_w[a.rank], self.col_x[b.rank]
            # two halves meeting at the (bowed) middle, level at both ends: arrows enter the box straight
            y1, y2, k = e.port["source"], e.port["target"], (left - right) / 4
            mx, my = (right + left) / 2, (y1 + y2) / 2 + 0.75 * e.bow
            first = [(right, y1), (right + k, y1), (mx - k, my), (mx, my)]
            second = [(mx, my), (mx + k, my), (left - k, y2), (left, y2)]
            e.d = (f"M{_p((A.right, y1))} L{_p(first[0])} C{' '.join(map(_p, first[1:]))} "
                   f"C{' '.join(map(_p, second[1:]))} L{_p((B.x, y2))}")
            e.track = _bezier(first, 12) + _bezier(second, 12)[1:]
            e.points = _dense([(A.right, y1), *e.track, (B.x, y2)])
        elif e.kind == "loop":
            x1, x2, h, spread = A.right - 36, A.right - 14, 24 + 12 * e.order, 8 + 4 * e.order
            curve = [(x1, A.y), (x1 - spread, A.y - h), (x2 + spread, A.y - h), (x2, A.y)]
            e.d = f"M{_p(curve[0])} C{' '.join(map(_p, curve[1:]))}"
            e.points = _dense(_bezier(curve))
            e.track = [((x1 + x2) / 2, A.y - 0.75 * h)]
        elif e.kind == "vertical":
            down = a.row < b.row
            lower = b if down else a  # its self-loops hold the right of its top side
            x = A.cx + (e.order - (e.siblings - 1) / 2) * 14 - (12 if lower.loops else 0)
            e.track = [(x, A.bottom if down else A.y), (x, B.y if down else B.bottom)]
            e.d = f"M{_p(e.track[0])} L{_p(e.track[1])}"
            e.points = _dense(e.track)
        else:
            if e.kind == "bracket":
                x, y1, y2 = e.channel["both"], e.port["source"], e.port["target"]
                route = [(A.right, y1), (x, y1), (x, y2), (B.right, y2)]
                e.track = route[1:3]
            else:
                head = ([(e.port["source"], A.bottom if e.side > 0 else A.y), (e.port["source"], e.lane)]
                        if self._outer(e.source, e.side) else
                        [(A.x, e.port["source"]), (e.channel["source"], e.port["source"]),
                         (e.channel["source"], e.lane)])
                tail = ([(e.port["target"], e.lane), (e.port["target"], B.bottom if e.side > 0 else B.y)]
                        if self._outer(e.target, e.side) else
                        [(e.channel["target"], e.lane), (e.channel["target"], e.port["target"]),
                         (B.right, e.port["target"])])
                route, e.track = head + tail, [head[-1], tail[0]]
            e.d = _rounded(route)
            e.points = _dense(route)

    # ------------------------------------------------------------ labels
    def _place_labels(self) -> None:
        """Each label where it covers no state, no other label and as few other lines as possible."""
        blocked = [n.box.grown(3) for n in self.nodes.values()] + [self.start]
        cells: dict[tuple[int, int], list[tuple[int, Point]]] = {}  # the lines' points by 16 px square
        for j, o in enumerate(self.edges):
            for p in o.points:
                cells.setdefault((int(p[0] // 16), int(p[1] // 16)), []).append((j, p))
        rank = {"loop": 0, "forward": 1, "vertical": 2, "bracket": 3, "back": 4}
        for i in sorted(range(len(self.edges)), key=lambda i: (rank[self.edges[i].kind], i)):
            e = self.edges[i]
            w = text_width(e.text, LABEL_FONT) + 8

            def cost(candidate: tuple[Box, float]) -> float:
                box, penalty = candidate
                crossed = sum(j != i and box.holds(p)
                              for cx in range(int(box.x // 16), int(box.right // 16) + 1)
                              for cy in range(int(box.y // 16), int(box.bottom // 16) + 1)
                              for j, p in cells.get((cx, cy), ()))
                return penalty + 20 * sum(box.overlap(o) for o in blocked) + 3 * crossed

            e.label = min(_candidates(e.track, w, LABEL_H), key=cost)[0]
            blocked.append(e.label.grown(2))


def _candidates(track: list[Point], w: float, h: float) -> Iterator[tuple[Box, float]]:
    if len(track) == 1:  # the top of a self-loop
        (x, y), = track
        yield Box(x - w / 2, y - h - 1, w, h), 0
        yield Box(x + 16, y - h / 2, w, h), 2
        yield Box(x - w - 16, y - h / 2, w, h), 3
        return
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9):
        (x, y), (dx, dy) = _along(track, t)
        shifts = [(0, -(h / 2 + 3)), (0, h / 2 + 3)] if abs(dx) >= abs(dy) else [(-(w / 2 + 3), 0), (w / 2 + 3, 0)]
        yield Box(x - w / 2, y - h / 2, w, h), abs(t - 0.5) * 8
        for sx, sy in shifts:
            yield Box(x - w / 2 + sx, y - h / 2 + sy, w, h), 6 + abs(t - 0.5) * 8


# ------------------------------------------------------------ geometry helpers

def _spread(lo: float, hi: float, n: int, step: float) -> list[float]:
    if n <= 1:
        return [(lo + hi) / 2] * n
    step = min(step, (hi - lo) / (n - 1))
    return [(lo + hi) / 2 + (i - (n - 1) / 2) * step for i in range(n)]


def _bezier(c: list[Point], steps: int = 24) -> list[Point]:
    return [tuple((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t * t * p2 + t ** 3 * p3
                  for p0, p1, p2, p3 in zip(*c)) for t in (i / steps for i in range(steps + 1))]


def _distance(a: Point, b: Point) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


def _toward(a: Point, b: Point, r: float) -> Point:
    d = _distance(a, b)
    return a if d == 0 else (a[0] + (b[0] - a[0]) * r / d, a[1] + (b[1] - a[1]) * r / d)


def _dense(points: list[Point], step: float = 4) -> list[Point]:
    out = [points[0]]
    for a, b in zip(points, points[1:]):
        n = max(1, int(_distance(a, b) / step))
        out += [_toward(a, b, _distance(a, b) * i / n) for i in range(1, n + 1)]
    return out


def _along(track: list[Point], t: float) -> tuple[Point, Point]:
    """The point at fraction t of the track's length, and the direction there."""
    lengths = [_distance(a, b) for a, b in zip(track, track[1:])]
    left = t * sum(lengths)
    for i, ((a, b), length) in enumerate(zip(zip(track, track[1:]), lengths)):
        if left <= length or i == len(lengths) - 1:
            return _toward(a, b, min(left, length)), (b[0] - a[0], b[1] - a[1])
        left -= length
    return track[-1], (1.0, 0.0)


def _rounded(points: list[Point], radius: float = 8) -> str:
    parts = [f"M{_p(points[0])}"]
    for before, corner, after in zip(points, points[1:], points[2:]):
        r = min(radius, _distance(before, corner) / 2, _distance(corner, after) / 2)
        parts.append(f"L{_p(_toward(corner, before, r))} Q{_p(corner)} {_p(_toward(corner, after, r))}")
    parts.append(f"L{_p(points[-1])}")
    return " ".join(parts)


def _n(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _p(point: Point) -> str:
    return f"{_n(point[0])},{_n(point[1])}"


def _mix(colour: str, white: float) -> str:
    """``colour`` moved towards white (white > 0) or black (white < 0) by that fraction."""
    channels = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    goal = 255 if white > 0 else 0
    return "#" + "".join(f"{round(c + (goal - c) * abs(white)):02x}" for c in channels)


# ------------------------------------------------------------ SVG

def _state_svg(node: _Node, current: bool) -> str:
    state, box = node.state, node.box
    colour = state.color or NEUTRAL
    fill = _mix(colour, 0.86) if state.color else "#f5f5f5"
    classes = " ".join(["state", *(["current"] if current else []), *(["initial"] if state.initial else []),
                        *(["terminal"] if state.terminal else [])])
    rect = f'x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" rx="8"'
    parts = [f"<g class={quoteattr(classes)} data-state={quoteattr(state.name)}>"]
    if current:
        glow = box.grown(4)
        parts.append(f'<rect x="{_n(glow.x)}" y="{_n(glow.y)}" width="{_n(glow.w)}" height="{_n(glow.h)}" '
                     f'rx="11" fill="none" stroke="{colour}" stroke-opacity="0.3" stroke-width="6"/>')
    border, width = (_mix(colour, -0.45), 2.5) if current else (colour, 1.5)
    parts.append(f'<rect {rect} fill="{fill}" stroke="{border}" stroke-width="{width}"/>')
    if state.terminal:
        inner = box.grown(-3.5)
        parts.append(f'<rect x="{_n(inner.x)}" y="{_n(inner.y)}" width="{_n(inner.w)}" height="{_n(inner.h)}" '
                     f'rx="5" fill="none" stroke="{border}" stroke-width="1"/>')
    weight = ' font-weight="bold"' if current else ""
    parts.append(f'<text x="{_n(box.cx)}" y="{_n(box.cy + STATE_FONT * 0.35)}" text-anchor="middle" '
                 f'font-size="{STATE_FONT}" fill="{TEXT}"{weight}>{escape(node.text)}</text></g>')
    return "".join(parts)


def _edge_svg(e: _Edge, prefix: str) -> str:
    style = e.transition.style if e.transition.style in EDGE_COLOURS else "default"
    colour, box = EDGE_COLOURS[style], e.label
    classes = "transition" if e.kind == "forward" else "transition back"
    dash = "" if e.kind == "forward" else ' stroke-dasharray="5 4"'
    return (f"<g class={quoteattr(classes)} data-transition={quoteattr(e.transition.name)} "
            f"data-from={quoteattr(e.source)} data-to={quoteattr(e.target)}>"
            f'<path d="{e.d}" fill="none" stroke="{colour}" stroke-width="1.4"{dash} '
            f'marker-end="url(#{prefix}-{style})"/>'
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" rx="3" '
            f'fill="#ffffff" fill-opacity="0.92"/>'
            f'<text x="{_n(box.cx)}" y="{_n(box.cy + LABEL_FONT * 0.35)}" text-anchor="middle" '
            f'font-size="{LABEL_FONT}" fill="{colour}">{escape(e.text)}</text></g>')


def render_svg(workflow: WorkflowSpec, locale: str = "zh_Hans", current: str | None = None,
               title: str | None = None) -> str:
    """The state diagram of ``workflow`` as a standalone SVG document, labels in ``locale``, ``current``
    (a state name) highlighted. Same input, same bytes; nothing outside the document is referenced."""
    layout = _Layout(workflow, locale)
    # marker ids are unique per workflow so that several diagrams can sit inline in one page
    prefix = "wf" + hashlib.sha1(workflow.model_dump_json().encode()).hexdigest()[:8]
    boxes = [n.box.grown(7) for n in layout.nodes.values()] + [e.label for e in layout.edges] + [layout.start]
    xs = [b.x for b in boxes] + [b.right for b in boxes] + [p[0] for e in layout.edges for p in e.points]
    ys = [b.y for b in boxes] + [b.bottom for b in boxes] + [p[1] for e in layout.edges for p in e.points]
    left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
    heading = ""
    if title:
        top -= TITLE_FONT + 14
        right = max(right, left + text_width(title, TITLE_FONT))
        heading = (f'<text class="title" x="{_n(left)}" y="{_n(top + TITLE_FONT)}" font-size="{TITLE_FONT}" '
                   f'font-weight="bold" fill="{TEXT}">{escape(title)}</text>')
    width, height = right - left + 2 * MARGIN, bottom - top + 2 * MARGIN
    markers = "".join(
        f'<marker id="{prefix}-{style}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        f'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        for style, colour in EDGE_COLOURS.items())
    start = layout.start
    edges = sorted(layout.edges, key=lambda e: e.kind == "forward")  # solid lines over dashed ones
    return "".join([
        f'<svg xmlns="{SVG_NS}" width="{_n(width)}" height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'font-family={quoteattr(FONT_FAMILY)} role="img"'
        + (f" aria-label={quoteattr(title)}>" if title else ">"),
        f"<defs>{markers}</defs>",
        f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        f'<g transform="translate({_n(MARGIN - left)},{_n(MARGIN - top)})">',
        heading,
        *(_edge_svg(e, prefix) for e in edges),
        f'<g class="start"><circle cx="{_n(start.x + 7)}" cy="{_n(start.cy)}" r="6" fill="#434343"/>'
        f'<path d="M{_n(start.x + 13)},{_n(start.cy)} L{_n(start.right)},{_n(start.cy)}" stroke="#434343" '
        f'stroke-width="1.4" marker-end="url(#{prefix}-default)"/></g>',
        *(_state_svg(node, node.state.name == current) for node in layout.nodes.values()),
        "</g></svg>\n",
    ])


def write_diagrams(workflows: dict[str, WorkflowSpec], folder: Path, locale: str = "zh_Hans") -> list[Path]:
    """``<name>.svg`` in ``folder`` for every workflow; the paths written, in the order given."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, workflow in workflows.items():
        if not name or Path(name).name != name or name.startswith("."):
            raise ValueError(f"{name!r} is not a plain file name")
        path = folder / f"{name}.svg"
        path.write_text(render_svg(workflow, locale), encoding="utf-8")
        paths.append(path)
    return paths
