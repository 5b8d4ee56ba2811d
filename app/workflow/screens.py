"""A register's workflow on its screens: the buttons and timeline of a row's page, the transition POST, the
files of the history, the state diagram. Run behind RegisterController (its checks have been made)."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, request
from flask_babel import gettext as _, ngettext
from markupsafe import Markup
from sqlalchemy import func, select

from app.i18n import current_locale, label_text, list_separator
from app.security.actor import current_actor
from app.query.formatting import html_value
from app.query.urls import register_url

from .diagram import render_svg
from .engine import TransitionRefused, Upload

PROGRESS_ROWS = 500  # rows listed per progress panel (the counts cover all)


def engine() -> Any:
    return current_app.extensions["safety_workflow"]


def row_panel(controller: Any, row: Any) -> dict[str, Any] | None:
    """What a row's page shows of its workflow: state, buttons, timeline, the diagram with the state lit."""
    spec = controller.register
    wf = spec.workflow
    if wf is None:
        return None
    state = wf.state(getattr(row, wf.field))
    wf_engine = engine()
    buttons = []
    for t in wf_engine.offered(spec, row, current_actor()):
        buttons.append({"name": t.name, "label": label_text(t.label), "style": t.style, "require": t.require,
                        "url": register_url(spec.name, "transition", pk=row.id, name=t.name),
                        "to": label_text(wf.state(t.to).label)})
    not_yet = wf_engine.blocked(spec, row, current_actor())
    # alternatives under one label (退回 for general or major hazards) show once: greyed only if none applies
    shown = {b["label"] for b in buttons}
    blocked = []
    for t, reason in not_yet:
        if label_text(t.label) not in shown:
            shown.add(label_text(t.label))
            blocked.append({"label": label_text(t.label), "reason": reason})
    offered = {b["name"] for b in buttons} | {t.name for t, _reason in not_yet}
    roles = controller.services.registry.roles
    waiting = [{"label": label_text(t.label),
                "roles": list_separator().join(label_text(roles[r].label) for r in t.roles if r in roles)}
               for t in wf.transitions if state is not None and state.name in t.from_ and t.name not in offered]
    timeline = []
    for entry in wf_engine.history(spec, row.id):
        files = [{"name": f.get("name"), "url": register_url(spec.name, "history_file", pk=row.id, hid=entry.id,
                                                               index=i)}
                 for i, f in enumerate(entry.attachments or [])]
        signature = register_url(spec.name, "history_file", pk=row.id, hid=entry.id, index=-1) \
            if entry.signature else None
        step = wf.transition(entry.transition)
        timeline.append({"at": entry.at, "who": entry.user_name or entry.username, "organisation":
                         entry.organisation_name, "step": label_text(step.label) if step else entry.transition,
                         "from": _state_label(wf, entry.from_state), "to": _state_label(wf, entry.to_state),
                         "to_color": getattr(wf.state(entry.to_state), "color", None), "comment": entry.comment,
                         "files": files, "signature": signature})
    return {"state": state, "state_label": label_text(state.label) if state else getattr(row, wf.field),
            "buttons": buttons, "blocked": blocked, "waiting": waiting, "timeline": timeline,
            "diagram": Markup(render_svg(wf, current_locale(), current=getattr(row, wf.field)))}


def progress_panels(controller: Any, row: Any) -> list[dict[str, Any]]:
    """The register's `progress`: rows pointing to this one, counted by state and listed (in the actor's
    scope, like every query): how far each level below and each enterprise has got."""
    svc = controller.services
    panels = []
    for progress in controller.register.progress:
        head, _, tail = progress.rows.partition(".")
        other = svc.registry.register(head)
        model = svc.models[head]
        wf = other.workflow
        state = getattr(model, wf.field)
        link = getattr(model, f"{tail}_id") == row.id
        if progress.below:  # this row and every row below it, at every level (a recursive walk down the tree)
            own = svc.models[controller.register.name]
            parent = getattr(own, f"{progress.below}_id")
            tree = select(own.id).where(own.id == row.id).cte("below", recursive=True)
            tree = tree.union_all(select(own.id).where(parent == tree.c.id))
            link = getattr(model, f"{tail}_id").in_(select(tree.c.id))
        counts = dict(svc.session.execute(select(state, func.count()).where(link).group_by(state)).all())
        rows = list(svc.session.scalars(select(model).where(link).order_by(model.id).limit(PROGRESS_ROWS)))
        hidden = controller.policy.hidden_fields(other, current_actor())
        names = progress.columns or (other.title_field,)
        columns = [other.field(n) for n in names if n in other.field_map and n not in hidden] + [
            other.field(wf.field)]
        panels.append({
            "label": label_text(progress.label), "register": head, "total": sum(counts.values()),
            "counts": [{"state": s.name, "label": label_text(s.label), "color": s.color, "count": counts.get(s.name, 0)}
                       for s in wf.states],
            "columns": [label_text(f.label) for f in columns],
            "rows": [{"url": register_url(head, "show", pk=r.id),
                      "cells": [html_value(other, f, r, svc.dictionaries, "list") for f in columns]} for r in rows]})
    return panels


def _state_label(wf: Any, name: str) -> str:
    state = wf.state(name)
    return label_text(state.label) if state else name


def uploads_from_request() -> tuple[list[Upload], Upload | None]:
    files = [Upload(f.filename, f.stream, _size(f)) for f in request.files.getlist("files") if f and f.filename]
    sig = request.files.get("signature")
    signature = Upload(sig.filename, sig.stream, _size(sig)) if sig and sig.filename else None
    return files, signature


def _size(upload: Any) -> int | None:
    stream = upload.stream
    try:
        position = stream.tell()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(position)
        return size
    except (AttributeError, OSError):
        return None


def take(controller: Any, pk: Any, name: str) -> Any:
    """POST of a transition button: taken or refused with the reason; back to the row's page either way."""
    spec = controller.register
    if spec.workflow is None:
        abort(404)
    row = controller._row(pk)
    files, signature = uploads_from_request()
    try:
        outcome = engine().take(spec, row, name, current_actor(), request.form.get("comment"), files, signature)
    except TransitionRefused as exc:
        flash(str(exc), "danger")
    else:
        t = spec.workflow.transition(name)
        message = _("“%(step)s” done: the record is now “%(state)s”.", step=label_text(t.label),
                    state=label_text(spec.workflow.state(t.to).label))
        if outcome.created:
            message += " " + ngettext("%(num)s new record created.", "%(num)s new records created.",
                                      len(outcome.created))
        flash(message, "success")
    return redirect(register_url(spec.name, "show", pk=row.id))


def history_file(controller: Any, pk: Any, hid: int, index: int) -> Any:
    """A file attached to a step of the row's timeline (index -1: the signature)."""
    spec = controller.register
    row = controller._row(pk)  # the row's visibility decides the file's
    H = engine().History
    entry = controller.services.session.get(H, hid)
    if entry is None or entry.register != spec.name or entry.row_id != row.id:
        abort(404)
    if index == -1:
        record = entry.signature
    else:
        files = entry.attachments or []
        record = files[index] if 0 <= index < len(files) else None
    return controller.services.files.send(record, inline=True)


def diagram(controller: Any) -> Any:
    """The register's state diagram as SVG (?state= lights a state)."""
    spec = controller.register
    if spec.workflow is None:
        abort(404)
    state = request.args.get("state")
    current = state if state and spec.workflow.state(state) else None
    svg = render_svg(spec.workflow, current_locale(), current=current, title=label_text(spec.label))
    return Response(svg, mimetype="image/svg+xml")
