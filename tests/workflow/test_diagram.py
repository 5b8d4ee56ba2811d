"""The state diagram: every state and transition named in the user's language, back edges dashed, the current
state marked, nothing overlapping, nothing fetched from outside, the same bytes every time."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from app.metadata.spec import WorkflowSpec
from app.workflow.diagram import render_svg, write_diagrams

NS = {"svg": "http://www.w3.org/2000/svg"}


def _state(name, zh, en, color=None, **flags):
    return {"name": name, "label": {"zh": zh, "en": en}, **({"color": color} if color else {}), **flags}


def _transition(name, zh, en, source, target, style="primary"):
    return {"name": name, "label": {"zh": zh, "en": en}, "from": source, "to": target, "roles": ["regulator"],
            "style": style}


HAZARD = {
    "states": [_state("pending", "待整改", "To rectify", "#fa8c16", initial=True),
               _state("confirming", "待确认", "To confirm", "#1677ff"),
               _state("rectified", "已整改", "Rectified", "#52c41a", terminal=True)],
    "transitions": [_transition("submit", "提交整改", "Submit rectification", "pending", "confirming"),
                    _transition("confirm", "确认整改", "Confirm", "confirming", "rectified", "success"),
                    _transition("send_back", "退回", "Send back", "confirming", "pending", "danger")],
}

LICENCE = {
    "states": [_state("accepted", "受理", "Accepted", "#1677ff", initial=True),
               _state("checking", "核查", "Checking", "#13c2c2"),
               _state("approving", "审批", "Approving", "#722ed1"),
               _state("issued", "已发证", "Issued", "#52c41a", terminal=True),
               _state("returned", "已打回", "Returned", "#f5222d")],
    "transitions": [_transition("check", "核查", "Check", "accepted", "checking"),
                    _transition("approve", "提交审批", "Submit for approval", "checking", "approving"),
                    _transition("issue", "发证", "Issue", "approving", "issued", "success"),
                    _transition("return", "打回", "Return", ["accepted", "checking", "approving"], "returned",
                                "danger"),
                    _transition("resubmit", "重新提交", "Resubmit", "returned", "accepted", "warning")],
}

FLOWS = {"hazard": HAZARD, "licence": LICENCE}


def _spec(flow):
    return WorkflowSpec.model_validate(flow)


def _tree(svg):
    return ET.fromstring(svg)


def _groups(root, kind):
    return [g for g in root.iter(f"{{{NS['svg']}}}g") if kind in g.get("class", "").split()]


def _texts(element):
    return ["".join(t.itertext()) for t in element.iter(f"{{{NS['svg']}}}text")]


def _rect(group):
    """The box of a state (not the glow around a highlighted one, drawn without fill), or of a label."""
    rect = next(r for r in group.iter(f"{{{NS['svg']}}}rect") if r.get("fill") != "none")
    x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
    return x, y, x + w, y + h


def _label_position(group):
    text = group.find("svg:text", NS)
    return float(text.get("x")), float(text.get("y"))


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
@pytest.mark.parametrize("flow", FLOWS)
def test_every_state_and_transition_is_named_in_the_users_language(flow, locale):
    spec = _spec(FLOWS[flow])
    root = _tree(render_svg(spec, locale=locale))
    assert root.tag == f"{{{NS['svg']}}}svg"
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    states = {g.get("data-state"): _texts(g) for g in _groups(root, "state")}
    assert states == {s.name: [s.label.text(locale)] for s in spec.states}
    drawn = {}
    for g in _groups(root, "transition"):
        drawn.setdefault(g.get("data-transition"), []).append(_texts(g))
    # one edge per source state, each labelled
    assert drawn == {t.name: [[t.label.text(locale)]] * len(t.from_) for t in spec.transitions}
    assert {(g.get("data-from"), g.get("data-to")) for g in _groups(root, "transition")
            if g.get("data-transition") == "return"} == (
        {("accepted", "returned"), ("checking", "returned"), ("approving", "returned")} if flow == "licence"
        else set())


def test_the_current_state_is_highlighted_and_no_other():
    root = _tree(render_svg(_spec(HAZARD), current="confirming"))
    classes = {g.get("data-state"): g.get("class").split() for g in _groups(root, "state")}
    assert "current" in classes["confirming"]
    assert [name for name, c in classes.items() if "current" in c] == ["confirming"]
    confirming = next(g for g in _groups(root, "state") if g.get("data-state") == "confirming")
    assert confirming.find("svg:text", NS).get("font-weight") == "bold"
    assert not any("current" in g.get("class").split() for g in _groups(_tree(render_svg(_spec(HAZARD))), "state"))


@pytest.mark.parametrize("flow", FLOWS)
def test_back_edges_are_dashed_and_forward_edges_solid(flow):
    root = _tree(render_svg(_spec(FLOWS[flow])))
    dashed = {(g.get("data-transition"), g.get("data-from")): g.find("svg:path", NS).get("stroke-dasharray")
              is not None for g in _groups(root, "transition")}
    expected = {"hazard": {("submit", "pending"): False, ("confirm", "confirming"): False,
                           ("send_back", "confirming"): True},
                "licence": {("check", "accepted"): False, ("approve", "checking"): False,
                            ("issue", "approving"): False, ("return", "accepted"): False,
                            ("return", "checking"): True,  # 核查 and 已打回 are both one step from 受理
                            ("return", "approving"): True, ("resubmit", "returned"): True}}[flow]
    assert dashed == expected
    for g in _groups(root, "transition"):
        assert g.find("svg:path", NS).get("marker-end", "").startswith("url(#")


@pytest.mark.parametrize("flow", FLOWS)
def test_states_do_not_overlap_and_the_initial_state_has_its_start_dot(flow):
    spec = _spec(FLOWS[flow])
    root = _tree(render_svg(spec))
    boxes = {g.get("data-state"): _rect(g) for g in _groups(root, "state")}
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = boxes[a], boxes[b]
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)
    # no transition's label covers a state
    for g in _groups(root, "transition"):
        x0, y0, x1, y1 = _rect(g)
        for name, (bx0, by0, bx1, by1) in boxes.items():
            assert x1 <= bx0 or bx1 <= x0 or y1 <= by0 or by1 <= y0, (g.get("data-transition"), name)
    # left to right along the flow
    order = {"hazard": ["pending", "confirming", "rectified"],
             "licence": ["accepted", "checking", "approving", "issued"]}[flow]
    assert [boxes[n][0] for n in order] == sorted(boxes[n][0] for n in order)
    assert len(root.findall(".//svg:g[@class='start']/svg:circle", NS)) == 1
    terminal = next(g for g in _groups(root, "state") if "terminal" in g.get("class").split())
    assert len(terminal.findall("svg:rect", NS)) == 2  # the double border


def test_parallel_transitions_between_the_same_states_get_their_own_places():
    flow = {**HAZARD, "transitions": [
        *HAZARD["transitions"],
        _transition("extend", "申请延期", "Ask for more time", "pending", "confirming", "warning"),
        _transition("reject", "驳回", "Reject", "confirming", "pending", "danger"),
        _transition("note", "补充说明", "Add a note", "confirming", "confirming", "default")]}
    root = _tree(render_svg(_spec(flow)))
    groups = {g.get("data-transition"): g for g in _groups(root, "transition")}
    assert _label_position(groups["submit"]) != _label_position(groups["extend"])
    assert _label_position(groups["send_back"]) != _label_position(groups["reject"])
    assert groups["submit"].find("svg:path", NS).get("d") != groups["extend"].find("svg:path", NS).get("d")
    assert groups["send_back"].find("svg:path", NS).get("d") != groups["reject"].find("svg:path", NS).get("d")
    # labels of different transitions never cover one another
    boxes = []
    for g in groups.values():
        rect = g.find("svg:rect", NS)
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        for bx, by, bw, bh in boxes:
            assert x + w <= bx or bx + bw <= x or y + h <= by or by + bh <= y
        boxes.append((x, y, w, h))
    assert "back" in groups["note"].get("class").split()  # a self-loop stays in its state


def test_text_is_escaped_and_nothing_outside_the_document_is_referenced():
    flow = {**HAZARD, "states": [_state("pending", "待整改 & <复查>", "A & <b>", initial=True), *HAZARD["states"][1:]]}
    svg = render_svg(_spec(flow), current="pending", title="隐患 <整改> & 复查")
    root = _tree(svg)  # parses: & and < were escaped
    assert "待整改 & <复查>" in _texts(root)
    assert "隐患 <整改> & 复查" in _texts(root)
    assert re.findall(r"https?://[^\"' ]*", svg) == ["http://www.w3.org/2000/svg"]
    assert not re.search(r"<script|@import|@font-face|xlink:href|\bhref=", svg)
    assert "Microsoft YaHei" in root.get("font-family") and "sans-serif" in root.get("font-family")


def test_the_same_workflow_draws_the_same_bytes(tmp_path):
    for flow in FLOWS.values():
        assert render_svg(_spec(flow), current="pending") == render_svg(_spec(flow), current="pending")
    paths = write_diagrams({name: _spec(flow) for name, flow in FLOWS.items()}, tmp_path / "diagrams", locale="en")
    assert paths == [tmp_path / "diagrams" / "hazard.svg", tmp_path / "diagrams" / "licence.svg"]
    assert paths[1].read_text(encoding="utf-8") == render_svg(_spec(LICENCE), locale="en")
    with pytest.raises(ValueError):
        write_diagrams({"../escape": _spec(HAZARD)}, tmp_path)


def test_a_state_no_transition_reaches_still_gets_drawn():
    flow = {**HAZARD, "states": [*HAZARD["states"], _state("legacy", "历史数据", "Legacy")],
            "transitions": [*HAZARD["transitions"], _transition("revive", "恢复", "Revive", "legacy", "pending")]}
    root = _tree(render_svg(_spec(flow)))
    boxes = {g.get("data-state"): _rect(g) for g in _groups(root, "state")}
    assert boxes["legacy"][0] > max(box[0] for name, box in boxes.items() if name != "legacy")
    assert "恢复" in _texts(root)
