"""我的待办 (rows waiting for an action by the current user) and the inbox (消息) of transition notices and
deadline warnings."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import abort, current_app, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from sqlalchemy import func, select, update

from app.i18n import current_locale, label_text
from app.plugins import message_url
from app.security.actor import current_actor, signed_in_actor
from app.services import services
from app.query.formatting import html_value
from app.query.urls import register_url

TODO_ROWS = 200  # per register: the oldest first; the list screen has the rest



class WorkflowView(BaseView):
    route_base = "/workflow"
    default_view = "todo"

    @expose("/todo")
    def todo(self) -> Any:
        actor = signed_in_actor()
        svc = services()
        engine = current_app.extensions["safety_workflow"]
        groups = []
        for spec in svc.registry.registers.values():
            condition = engine.todo_condition(spec, actor)
            if condition is None:
                continue
            model = svc.models[spec.name]
            total = svc.session.execute(select(func.count()).select_from(model).where(condition)
                                        .execution_options(unscoped_reason="scope in the condition")).scalar_one()
            if not total:
                continue
            rows = list(svc.session.scalars(select(model).where(condition).order_by(model.updated_at, model.id)
                                            .limit(TODO_ROWS).execution_options(unscoped_reason="scope in the condition")))
            # rows waiting to be filled in (a state's todo: 待填报) open on their form
            entry = engine.entry_condition(spec, actor)
            entering = set(svc.session.scalars(select(model.id).where(model.id.in_([r.id for r in rows]), entry)
                                               .execution_options(unscoped_reason="scope in the condition"))) \
                if entry is not None and rows else set()
            wf = spec.workflow
            hidden = current_app.extensions["safety_policy"].hidden_fields(spec, actor)
            columns = [spec.field(spec.workflow.field)] + [
                f for f in spec.fields if getattr(f, "deadline", None) and f.name not in hidden]
            groups.append({
                "spec": spec, "label": label_text(spec.label), "total": total, "columns": columns,
                "rows": [{"title": str(row),
                          "url": register_url(spec.name, "edit" if row.id in entering else "show", pk=row.id),
                          "entry": label_text(wf.state(getattr(row, wf.field)).todo.label)
                          if row.id in entering else None,
                          "cells": [html_value(spec, f, row, svc.dictionaries, "list") for f in columns],
                          "waiting": row.updated_at} for row in rows]})
        return self.render_template("workflow/todo.html", groups=groups, label=label_text)

    @expose("/inbox")
    def inbox(self) -> Any:
        actor = signed_in_actor()
        svc = services()
        Message = svc.models.engine["Message"]
        messages = list(svc.session.scalars(select(Message).where(Message.user_id == actor.user_id)
                                            .order_by(Message.id.desc()).limit(200)))
        locale = current_locale()
        shown = [{"id": m.id, "at": m.created_at, "read": m.read_at is not None, "kind": m.kind,
                  "sender": m.sender, "text": m.text_en if locale == "en" else
                  m.text_zh_hant if locale == "zh_Hant" else m.text_zh,
                  "url": register_url(m.register, "show", pk=m.row_id)
                  if m.register in svc.registry.registers and m.row_id else message_url(m)} for m in messages]
        return self.render_template("workflow/inbox.html", messages=shown)

    @expose("/inbox/<int:message_id>/open")
    def open_message(self, message_id: int) -> Any:
        """Mark one message read and go to the record it is about."""
        actor = signed_in_actor()
        svc = services()
        Message = svc.models.engine["Message"]
        message = svc.session.get(Message, message_id)
        if message is None or message.user_id != actor.user_id:
            abort(404)
        if message.read_at is None:
            message.read_at = datetime.now()
            svc.session.commit()
        if message.register in svc.registry.registers and message.row_id:
            return redirect(register_url(message.register, "show", pk=message.row_id))
        # a plugin's own message (a subscription's snapshot) leads to the plugin's page
        return redirect(message_url(message) or url_for("WorkflowView.inbox"))

    @expose("/inbox/read", methods=["POST"])
    def read_all(self) -> Any:
        actor = signed_in_actor()
        svc = services()
        Message = svc.models.engine["Message"]
        svc.session.execute(update(Message).where(Message.user_id == actor.user_id, Message.read_at.is_(None))
                            .values(read_at=datetime.now()))
        svc.session.commit()
        # back to the page the button was on, never to another host (an open redirect)
        back = urlsplit(request.referrer or "")
        if back.netloc == request.host and back.scheme in ("http", "https"):
            return redirect(urlunsplit(("", "", back.path, back.query, "")))
        return redirect(url_for("WorkflowView.inbox"))


def unread_count() -> int:
    """Unread messages of the signed-in user (the navbar's badge)."""
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        return 0
    svc = services()
    Message = svc.models.engine["Message"]
    return svc.session.execute(select(func.count()).where(Message.user_id == actor.user_id,
                                                          Message.read_at.is_(None))).scalar_one()
