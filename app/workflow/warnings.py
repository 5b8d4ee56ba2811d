"""Deadline warnings (预警): a row whose deadline has passed while its workflow still runs is announced once in
the inbox of the users who are to act on it next. The list colours the same rows red (formatting.deadline_status).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from app.services import services

from .freeze import not_frozen_sql


def deadline_fields(spec: Any) -> list[Any]:
    return [f for f in spec.fields if getattr(f, "deadline", None)]


def scan_deadlines(today: date | None = None) -> int:
    """Send the warnings not sent yet for overdue rows; returns how many messages were written."""
    svc = services()
    engine = current_app.extensions["safety_workflow"]
    Message = svc.models.engine["Message"]
    today = today or date.today()
    sent = 0
    for spec in svc.registry.registers.values():
        wf = spec.workflow
        if wf is None:
            continue
        model = svc.models[spec.name]
        for field in deadline_fields(spec):
            done = set(field.deadline.done_states) or {s.name for s in wf.states if s.terminal}
            column = getattr(model, field.name)
            # a row frozen by the row it refers to (frozen_while) waits for nobody: no warning
            rows = svc.session.scalars(select(model).where(column < today, getattr(model, wf.field).not_in(done),
                                                           not_frozen_sql(svc, spec, model))
                                       .execution_options(unscoped_reason="deadline scan of every row"))
            for row in rows:
                # the users the row waits for, as in 我的待办: corrective steps (todo: false) do not count
                roles = {r for t in wf.transitions if t.todo and getattr(row, wf.field) in t.from_ for r in t.roles}
                key = f"overdue:{spec.name}:{row.id}:{field.name}:{getattr(row, field.name).isoformat()}"
                already = set(svc.session.scalars(select(Message.user_id).where(Message.dedup_key == key)))
                label = field.label
                days = (today - getattr(row, field.name)).days
                for user_id in engine.recipients(spec, row, roles):
                    if user_id in already:
                        continue
                    svc.session.add(Message(
                        user_id=user_id, created_at=datetime.now(), register=spec.name, row_id=row.id,
                        kind="warning", dedup_key=key, sender=None,
                        text_zh=f"已逾期{days}天（{label.zh}）：{row}",
                        text_zh_hant=f"已逾期{days}天（{label.zh_Hant or label.zh}）：{row}",
                        text_en=f"Overdue by {days} day(s) ({label.en}): {row}"))
                    sent += 1
    svc.session.commit()
    return sent


@shared_task(name="workflow.deadline_warnings")
def deadline_warnings() -> int:
    return scan_deadlines()
