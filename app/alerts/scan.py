"""Computing warnings in SQL: open one for every row that meets a warning's condition and has none for the same
cause, resolve the open ones whose row no longer meets it, and tell the users of the new ones."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import String, and_, cast, exists, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.metadata.alerts import WarningSpec
from app.services import services
from app.workflow.conditions import conditions_sql
from app.workflow.freeze import not_frozen_sql

from .messages import message_texts, recipients_of


@dataclass
class ScanResult:
    opened: list[int] = field(default_factory=list)
    resolved: int = 0
    messages: int = 0
    #: (user id, warning id) of the messages written, for the e-mails sent after the commit
    told: list[tuple[int, int]] = field(default_factory=list)


def match_condition(svc: Any, rule: WarningSpec, model: type, today: date) -> ColumnElement:
    """The rows of ``model`` that meet the warning's condition today."""
    spec = svc.registry.register(rule.target)
    parts = [conditions_sql(svc, spec, model, rule.when, None)]
    if rule.date is not None:
        column = getattr(model, rule.date.field)
        if rule.date.passed:
            parts.append(column < today)
        else:
            parts.append(and_(column >= today, column <= today + timedelta(days=rule.date.within_days)))
    if spec.workflow is not None:
        # a row frozen by the row it refers to (frozen_while) waits for nobody
        parts.append(not_frozen_sql(svc, spec, model))
    return and_(*parts)


def cause_of(rule: WarningSpec, model: type) -> ColumnElement:
    """What one warning of a row is about: the date it was raised on, so a new date is a new warning."""
    if rule.date is None:
        return literal("")
    return cast(getattr(model, rule.date.field), String(40))


def refresh(rules: Iterable[WarningSpec], row_ids: Iterable[int] | None = None,
            today: date | None = None) -> ScanResult:
    """Open and resolve the warnings of ``rules`` (on the rows ``row_ids`` only, when given); the caller commits."""
    svc = services()
    Warning = svc.models.engine["Warning"]
    today = today or clock.today()
    now = datetime.now()
    ids = None if row_ids is None else sorted(set(row_ids))
    result = ScanResult()
    dialect = svc.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for rule in rules:
        model = svc.models[rule.target]
        condition = match_condition(svc, rule, model, today)
        cause = cause_of(rule, model)
        known = exists().where(Warning.rule == rule.name, Warning.row_id == model.id, Warning.cause == cause)
        rows = select(literal(rule.name), literal(rule.target), model.id, cause, literal(rule.level),
                      literal("open"), literal(now)).where(condition, ~known)
        if ids is not None:
            rows = rows.where(model.id.in_(ids))
        statement = insert(Warning).from_select(
            ["rule", "register", "row_id", "cause", "level", "state", "opened_at"], rows) \
            .on_conflict_do_nothing().returning(Warning.id) \
            .execution_options(unscoped_reason="warnings are computed over every row")
        result.opened += svc.session.execute(statement).scalars().all()
        still = exists().where(model.id == Warning.row_id, condition, cause == Warning.cause)
        gone = update(Warning).where(Warning.rule == rule.name, Warning.state == "open", ~still) \
            .values(state="resolved", ended_at=now) \
            .execution_options(unscoped_reason="warnings are computed over every row")
        if ids is not None:
            gone = gone.where(Warning.row_id.in_(ids))
        result.resolved += svc.session.execute(gone).rowcount or 0
    # the open warnings of a warning no longer declared (its file removed) have lost their cause
    if row_ids is None:
        declared = list(svc.registry.warnings)
        result.resolved += svc.session.execute(
            update(Warning).where(Warning.state == "open", Warning.rule.not_in(declared) if declared else true())
            .values(state="resolved", ended_at=now)
            .execution_options(unscoped_reason="warnings no longer declared")).rowcount or 0
    return result


def scan(today: date | None = None) -> ScanResult:
    """Every warning over every row, the new ones told (the periodic task, `flask warnings scan`)."""
    svc = services()
    result = refresh(svc.registry.warnings.values(), today=today)
    result.messages, result.told = tell(result.opened, today)
    svc.session.commit()
    return result


def recheck(register: str, row_ids: Iterable[int]) -> ScanResult:
    """The warnings of some rows of one register, after they changed (app.write_path queues it after a commit)."""
    svc = services()
    rules = svc.registry.warnings_of(register)
    if not rules:
        return ScanResult()
    result = refresh(rules, row_ids)
    result.messages, result.told = tell(result.opened)
    svc.session.commit()
    return result


def tell(opened: list[int], today: date | None = None) -> tuple[int, list[tuple[int, int]]]:
    """In-app messages of newly opened warnings, once per user and warning."""
    if not opened:
        return 0, []
    svc = services()
    Warning, Message = svc.models.engine["Warning"], svc.models.engine["Message"]
    today = today or clock.today()
    told = []
    for warning in svc.session.scalars(select(Warning).where(Warning.id.in_(opened)).order_by(Warning.id)):
        rule = svc.registry.warnings.get(warning.rule)
        if rule is None or not rule.notify:
            continue
        model = svc.models[rule.target]
        row = svc.session.execute(select(model).where(model.id == warning.row_id)
                                  .execution_options(unscoped_reason="the row a warning is about")).scalar_one()
        texts = message_texts(svc, rule, row, today)
        key = f"warning:{warning.id}"
        # the message opens the row's page; a child row (a certificate) has none: the row it belongs to
        register, shown = rule.target, row
        while svc.registry.register(register).parent:
            register, shown = svc.registry.register(register).parent, shown.parent
        row_id = shown.id
        for user_id in recipients_of(svc, rule, row):
            svc.session.add(Message(user_id=user_id, created_at=datetime.now(), register=register,
                                    row_id=row_id, kind="warning", dedup_key=key, sender=None, **texts))
            told.append((user_id, warning.id))
    return len(told), told


def mail_after_scan(result: ScanResult) -> int:
    """E-mail the messages of warnings whose rule asks for it (after the commit: a slow server holds nothing)."""
    if not result.told or not current_app.config.get("MAIL_SERVER"):
        return 0
    from .mail import send_warning_mails  # smtplib, where a mail server is set: not at start-up
    return send_warning_mails(result.told)
