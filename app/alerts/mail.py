"""E-mail of warnings through the configured SMTP server (MAIL_SERVER …), for the warnings declared with
``email: true``: one mail per told user that has an address, in Simplified Chinese with the English beneath."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Iterable

from flask import current_app
from sqlalchemy import select

from app.services import services

log = logging.getLogger(__name__)


def send_warning_mails(told: Iterable[tuple[int, int]]) -> int:
    """Send the mails of (user id, warning id) pairs whose warning asks for e-mail; returns how many were sent."""
    svc = services()
    Warning, Message = svc.models.engine["Warning"], svc.models.engine["Message"]
    User = current_app.appbuilder.sm.user_model
    mails = []
    for user_id, warning_id in told:
        warning = svc.session.get(Warning, warning_id)
        rule = svc.registry.warnings.get(warning.rule) if warning else None
        if rule is None or not rule.email:
            continue
        user = svc.session.get(User, user_id)
        message = svc.session.scalars(select(Message).where(Message.user_id == user_id,
                                                            Message.dedup_key == f"warning:{warning_id}")).first()
        if user is None or not user.email or message is None:
            continue
        mails.append(message_mail(user.email, message.text_zh, message.text_en))
    return deliver(mails)


def message_mail(to: str, text_zh: str, text_en: str) -> EmailMessage:
    """One mail of an inbox message: the Chinese text's head as the subject, Chinese then English."""
    config = current_app.config
    mail = EmailMessage()
    mail["From"] = config.get("MAIL_DEFAULT_SENDER") or f"noreply@{config['MAIL_SERVER']}"
    mail["To"] = to
    mail["Subject"] = text_zh.split("：", 1)[0]
    mail.set_content(f"{text_zh}\n\n{text_en}\n")
    return mail


def deliver(mails: list[EmailMessage]) -> int:
    """Send mails through the configured server in one connection; returns how many were sent (0 when it is down:
    the in-app messages are written already and stay)."""
    config = current_app.config
    if not mails:
        return 0
    smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    try:
        with smtp_class(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)), timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            for mail in mails:
                smtp.send_message(mail)
    except (OSError, smtplib.SMTPException):
        # the in-app messages are written already; a mail server that is down must not undo them
        log.exception("e-mails not sent: %s:%s", config["MAIL_SERVER"], config.get("MAIL_PORT", 25))
        return 0
    return len(mails)
