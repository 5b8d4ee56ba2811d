"""Transitions are the only way a row's state changes: every flush of a register with a workflow is checked,
whatever path wrote it (form, API, import, bulk edit, a script in the app).

The engine marks the rows a transition writes (and the rows its effects create or update) as authorised for
the fields it sets; anything else that changes a state, a frozen field or deletes a kept row is refused.
"""
from __future__ import annotations

from typing import Any, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.i18n import label_text, list_separator
from app.models import column_names
from app.security.actor import current_actor, in_app
from app.security.policy import AccessDenied
from app.services import services

from .freeze import delete_refusal, frozen_reason, stored_value

_KEY = "workflow_authorised"
_INSTALLED = False


class WorkflowRefused(AccessDenied):
    """A write that would go around the workflow; the message says why, in the user's language."""


def install() -> None:
    """Forget the engine's marks with the transaction; the check itself runs in the one write path."""
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_rollback", _forget)
    _INSTALLED = True


def authorise(session: Session, obj: Any, fields: Iterable[str] | None) -> None:
    """Let the next flush write ``fields`` of ``obj`` (None: a new row created by the engine, every field)."""
    marks = session.info.setdefault(_KEY, {})
    marks[id(obj)] = (obj, None if fields is None else frozenset(fields))


def extend(session: Session, obj: Any, fields: Iterable[str]) -> None:
    """Let the next flush write ``fields`` of ``obj`` as well as those already authorised (a step that also
    remembers the row its effect made)."""
    found = session.info.setdefault(_KEY, {}).get(id(obj))
    before = found[1] if found is not None and found[0] is obj else frozenset()
    if before is not None:
        authorise(session, obj, before | frozenset(fields))


def authorised(session: Session, obj: Any) -> bool:
    """Whether the engine took responsibility for this write (the access checks were made by the engine)."""
    found = session.info.get(_KEY, {}).get(id(obj))
    return found is not None and found[0] is obj


def _allowed(session: Session, obj: Any) -> frozenset[str] | None | bool:
    found = session.info.get(_KEY, {}).get(id(obj))
    if found is None or found[0] is not obj:
        return False
    return found[1]


def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)


def check_flush(session: Session) -> None:
    """Step 3 of the write path (app/write_path.py): states, frozen fields, kept rows."""
    if not in_app() or current_actor() is None:
        return  # the system itself (command line, demo data) is not a user going around the workflow
    for obj in session.new:
        spec = getattr(type(obj), "__register__", None)
        if spec is not None and spec.workflow is not None:
            _check_new(session, spec, obj)
    modified = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    for obj in (*session.new, *modified, *session.deleted):
        spec = getattr(type(obj), "__register__", None)
        if spec is not None and spec.parent is not None:
            _check_child(session, spec, obj)
    for obj in session.dirty:
        spec = getattr(type(obj), "__register__", None)
        if spec is not None and spec.workflow is not None and session.is_modified(obj, include_collections=False):
            _check_changed(session, spec, obj)
    for obj in (*session.new, *modified):
        spec = getattr(type(obj), "__register__", None)
        if spec is not None and spec.frozen_while and _allowed(session, obj) is False:
            _check_frozen_while(spec, obj, old=obj not in session.new)
    for obj in session.deleted:
        spec = getattr(type(obj), "__register__", None)
        if spec is not None and (spec.workflow is not None or spec.frozen_while or spec.deletable is not None):
            reason = delete_refusal(services(), current_app.extensions["safety_workflow"], spec, obj,
                                    current_actor())
            if reason is not None:
                raise WorkflowRefused(reason)


def _check_frozen_while(spec: Any, obj: Any, old: bool) -> None:
    """A row frozen by the row it refers to: neither its stored reference nor the one written may be frozen
    (moving a row out of an approved task, or into one, are both changes of that task's list)."""
    svc = services()
    reason = frozen_reason(svc, spec, obj, old=True) if old else None
    reason = reason or frozen_reason(svc, spec, obj)
    if reason is not None:
        raise WorkflowRefused(reason)


def _check_new(session: Session, spec: Any, obj: Any) -> None:
    wf = spec.workflow
    value = getattr(obj, wf.field)
    if value is None:
        setattr(obj, wf.field, wf.initial.name)
    elif value != wf.initial.name and _allowed(session, obj) is False:
        raise WorkflowRefused(_("A new record starts in the state “%(state)s”; its state changes only through "
                                "the workflow's buttons.", state=label_text(wf.initial.label)))


def _check_changed(session: Session, spec: Any, obj: Any) -> None:
    wf = spec.workflow
    allowed = _allowed(session, obj)
    if allowed is None:
        return
    allowed = allowed or frozenset()
    state_attr = sa_inspect(obj).attrs[wf.field]
    if state_attr.history.has_changes() and wf.field not in allowed:
        raise WorkflowRefused(_("The state changes only through the workflow's buttons on the record's page."))
    state = wf.state(stored_value(obj, wf.field))
    if state is None or not state.frozen:
        return
    frozen = spec.field_map if state.frozen == "all" else state.frozen
    changed = [name for name in frozen if name not in allowed and name != wf.field and spec.field(name).stores_value
               and any(_changed(obj, column) for column in column_names(spec.field(name)))]
    if changed:
        raise WorkflowRefused(_("In the state “%(state)s” these fields can no longer be changed: %(fields)s.",
                                state=label_text(state.label),
                                fields=list_separator().join(label_text(spec.field(n).label) for n in changed)))


def _check_child(session: Session, spec: Any, obj: Any) -> None:
    """Rows of a children field are part of the parent: frozen with it (a submitted inspection's items)."""
    registry = services().registry
    parent_spec = registry.register(spec.parent)
    wf = parent_spec.workflow
    if wf is None and not parent_spec.frozen_while:
        return
    parent = getattr(obj, "parent", None) if hasattr(type(obj), "parent") else None
    if parent is None:
        parent_id = getattr(obj, "parent_id", None) if obj not in session.deleted else stored_value(obj, "parent_id")
        parent = session.get(services().models[parent_spec.name], parent_id) if parent_id else None
    if parent is None or _allowed(session, parent) is None or authorised(session, obj):
        return  # a row the engine wrote itself (an effect remembering what it made on each child row)
    if parent_spec.frozen_while and _allowed(session, parent) is False:
        reason = frozen_reason(services(), parent_spec, parent, old=True)
        if reason is not None:
            raise WorkflowRefused(reason)
    if wf is None:
        return
    state = wf.state(stored_value(parent, wf.field))
    field = next((f for f in parent_spec.fields if f.type == "children" and f.target == spec.name), None)
    if state is not None and field is not None and (state.frozen == "all" or field.name in state.frozen):
        raise WorkflowRefused(_("In the state “%(state)s” these fields can no longer be changed: %(fields)s.",
                                state=label_text(state.label), fields=label_text(field.label)))


def _changed(obj: Any, column: str) -> bool:
    attrs = sa_inspect(obj).attrs
    return column in attrs and attrs[column].history.has_changes()
