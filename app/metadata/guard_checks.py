"""Checks of the workflow guards a register declares: frozen_while, deletable, a transition's todo flag and a
reference field's reveals (one check_<option> each, located like every other check)."""
from __future__ import annotations

from typing import Iterator

from .checks import Located, _check_conditions
from .issues import Issue, did_you_mean


def check_frozen_while(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E713: the reference exists, points to a register with a workflow, and names its states."""
    spec = reg.spec
    for i, rule in enumerate(spec.frozen_while):
        path = ("frozen_while", i)
        field = spec.field_map.get(rule.reference)
        if field is None or field.type != "reference":
            yield reg.issue(path + ("reference",), "E713", f"frozen_while: '{rule.reference}' is not a reference "
                            "field of this register",
                            did_you_mean(rule.reference, [f.name for f in spec.fields if f.type == "reference"])
                            or "name the reference field that points to the row whose state freezes this one")
            continue
        target = registers.get(field.target)
        if target is None:
            continue  # the unknown register is reported on the field (E201)
        wf = target.spec.workflow
        if wf is None:
            yield reg.issue(path + ("reference",), "E713", f"frozen_while: '{rule.reference}' points to "
                            f"'{field.target}', which has no workflow", "states name a workflow's states: "
                            "name a reference to a register with a workflow")
            continue
        known = [s.name for s in wf.states]
        for j, state in enumerate(rule.states):
            if state not in known:
                yield reg.issue(path + ("states", j), "E713", f"frozen_while: '{field.target}' has no state "
                                f"'{state}'", did_you_mean(state, known) or "declared: " + ", ".join(known))


def check_deletable(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E712: states exist and are not kept (a kept state is never deletable); conditions name fields."""
    spec, rule = reg.spec, reg.spec.deletable
    if rule is None:
        return
    wf = spec.workflow
    if rule.states and wf is None:
        yield reg.issue(("deletable", "states"), "E712", "deletable.states: the register has no workflow",
                        "remove 'states', or add a workflow")
    elif wf is not None:
        known = [s.name for s in wf.states]
        for j, name in enumerate(rule.states):
            state = wf.state(name)
            if state is None:
                yield reg.issue(("deletable", "states", j), "E712", f"deletable.states: unknown state '{name}'",
                                did_you_mean(name, known) or "declared: " + ", ".join(known))
            elif state.keep:
                yield reg.issue(("deletable", "states", j), "E712", f"deletable.states: state '{name}' is marked "
                                "keep (its rows are never deleted)", f"remove '{name}' here or 'keep' on the state")
    for j, condition in enumerate(rule.when):
        for key in ("equals", "in_", "not_in"):
            value = getattr(condition, key)
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, str) and v.startswith("$") for v in values):
                yield reg.issue(("deletable", "when", j, key.rstrip("_")), "E712", "deletable.when: a condition "
                                "compares with a '$' value", "compare with literal values (a delete has no other "
                                "row to take values from)")
    states = [s.name for s in wf.states] if wf else []
    yield from _check_conditions(reg, ("deletable", "when"), rule.when, spec, states, registers, "deletable")


def check_todo(reg: Located) -> Iterator[Issue]:
    """E714: a new row must be able to wait for someone; todo: false on every way out of the initial state
    would keep every new row out of every to-do list."""
    wf = reg.spec.workflow
    if wf is None:
        return
    leaving = [(i, t) for i, t in enumerate(wf.transitions) if wf.initial.name in t.from_]
    if leaving and all(not t.todo for _i, t in leaving):
        i = leaving[0][0]
        yield reg.issue(("workflow", "transitions", i, "todo"), "E714", f"workflow: every transition from the "
                        f"initial state '{wf.initial.name}' has todo: false, so new rows never appear in a to-do list",
                        "keep todo: false for corrective steps (重新核实) that stay possible on finished rows")


def check_reveals(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E715: a revealing reference is read-only (set by the engine): a field users could fill would let them
    open any row by pointing to it."""
    for i, field in enumerate(reg.spec.fields):
        if not getattr(field, "reveals", False):
            continue
        if not field.read_only:
            yield reg.issue(("fields", i, "reveals"), "E715", f"field '{field.name}': reveals needs a read-only "
                            "field", "add read_only: true (a workflow effect sets it), or remove reveals: a field "
                            "users fill would let them open any row by pointing to it")
        if reg.spec.parent:
            yield reg.issue(("fields", i, "reveals"), "E715", f"field '{field.name}': reveals is not available on a "
                            "child register", "declare it on the parent register")


def check_guards(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    yield from check_frozen_while(reg, registers)
    yield from check_deletable(reg, registers)
    yield from check_todo(reg)
    yield from check_reveals(reg, registers)
