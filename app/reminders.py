"""Reminders (催报) from a frequency page: an inbox message to the enterprise accounts of each subject not visited
in time, at most one a day per subject and account, an e-mail when the rule set asks and a server is configured,
and one operation-log row per subject reminded."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import func, insert, select

from app.audit.recorder import who
from app.frequency import FrequencyReport

#: the action of a reminder's row in the operation log (sys_audit_log)
REMIND_ACTION = "remind"


@dataclass
class ReminderResult:
    subjects: int = 0
    messages: int = 0
    mails: int = 0


def send_reminders(svc: Any, actor: Any, spec: Any, report: FrequencyReport, group: Any,
                   ids: Iterable[int] | None) -> ReminderResult:
    """Remind the subjects of ``group`` not visited in time (those of ``ids`` only, when given): ids outside the
    user's scope, the group, or already visited are ignored. Commits."""
    accounts = svc.registry.enterprise_accounts
    remind = spec.remind
    late = report.late_ids(group, ids)
    result = ReminderResult()
    if not late or accounts is None or remind is None:
        return result
    model = svc.models[spec.subjects]
    Message, AuditLog = svc.models.engine["Message"], svc.models.engine["AuditLog"]
    User = current_app.appbuilder.sm.user_model
    now = datetime.now()
    sender = actor.username
    subjects = svc.session.execute(select(model).where(model.id.in_(late)).execution_options(
        unscoped_reason="ids taken from the scoped report")).scalars().all()
    mails: list[tuple[str, dict[str, str]]] = []
    audit_rows = []
    for subject in subjects:
        login = getattr(subject, accounts.login)
        users = list(svc.session.scalars(select(User).where(User.enterprise_key == login, User.active.is_(True))
                                         .order_by(User.id))) if login else []
        title = str(subject)
        texts = {"text_zh": f"{remind.message.zh}：{title}",
                 "text_zh_hant": f"{remind.message.zh_Hant or remind.message.zh}：{title}",
                 "text_en": f"{remind.message.en}: {title}"}
        key = f"remind:{spec.name}:{subject.id}:{now.date().isoformat()}"
        told = []
        for user in users:
            exists = svc.session.scalar(select(Message.id).where(Message.user_id == user.id, Message.dedup_key == key))
            if exists is not None:
                continue
            svc.session.add(Message(user_id=user.id, created_at=now, register=spec.subjects, row_id=subject.id,
                                    kind="reminder", sender=sender, dedup_key=key, **texts))
            told.append(user.username)
            if remind.email and user.email:
                mails.append((user.email, texts))
        result.subjects += 1
        result.messages += len(told)
        audit_rows.append({**who(actor, now), "register": spec.subjects, "row_id": subject.id,
                           "action": REMIND_ACTION, "field": spec.name, "old_value": None,
                           "new_value": json.dumps({"told": told}, ensure_ascii=False)})
    svc.session.flush()
    if audit_rows:
        svc.session.connection().execute(insert(AuditLog.__table__), audit_rows)
    svc.session.commit()
    if mails and current_app.config.get("MAIL_SERVER"):
        from app.alerts.mail import deliver, message_mail  # smtplib, where a mail server is set: not at start-up
        result.mails = deliver([message_mail(to, t["text_zh"], t["text_en"]) for to, t in mails])
    return result


def last_reminded(svc: Any, spec: Any, ids: Iterable[int]) -> dict[int, datetime]:
    """When each subject was last reminded from this rule set (from the operation log)."""
    ids = list(ids)
    if not ids:
        return {}
    AuditLog = svc.models.engine["AuditLog"]
    rows = svc.session.execute(select(AuditLog.row_id, func.max(AuditLog.at)).where(
        AuditLog.register == spec.subjects, AuditLog.action == REMIND_ACTION, AuditLog.field == spec.name,
        AuditLog.row_id.in_(ids)).group_by(AuditLog.row_id))
    return {row_id: at for row_id, at in rows}
