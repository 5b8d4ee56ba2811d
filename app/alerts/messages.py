"""What a warning says in the inbox (in the three UI languages, as written when it opens) and to whom."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from app.metadata.alerts import WarningSpec

#: the levels as the inbox and e-mails write them, in the three languages
LEVEL_TEXT = {"notice": ("提示", "提示", "Notice"), "warning": ("预警", "預警", "Warning"),
              "alarm": ("告警", "告警", "Alarm")}


def row_title(svc: Any, register: str, row: Any) -> str:
    """A row as people name it; a child row (a certificate) with the row it belongs to (its enterprise)."""
    spec = svc.registry.register(register)
    if spec.parent and getattr(row, "parent", None) is not None:
        return f"{row.parent} · {row}"
    return str(row)


def message_texts(svc: Any, rule: WarningSpec, row: Any, today: date) -> dict[str, str]:
    """{text_zh, text_zh_hant, text_en}: '已逾期4天（整改期限）：消防通道堵塞' after the warning's level and label."""
    spec = svc.registry.register(rule.target)
    title = row_title(svc, rule.target, row)
    zh, hant, en = LEVEL_TEXT[rule.level]
    head = (f"【{zh}】{rule.label.zh}", f"【{hant}】{rule.label.zh_Hant or rule.label.zh}", f"[{en}] {rule.label.en}")
    if rule.date is None:
        return {"text_zh": f"{head[0]}：{title}", "text_zh_hant": f"{head[1]}：{title}",
                "text_en": f"{head[2]}: {title}"}
    field = spec.field(rule.date.field)
    value = getattr(row, field.name)
    value = value.date() if hasattr(value, "date") and callable(value.date) else value
    days = (today - value).days
    label = (field.label.zh, field.label.zh_Hant or field.label.zh, field.label.en)
    if days > 0:
        return {"text_zh": f"{head[0]}：已逾期{days}天（{label[0]}）：{title}",
                "text_zh_hant": f"{head[1]}：已逾期{days}天（{label[1]}）：{title}",
                "text_en": f"{head[2]}: overdue by {days} day{'' if days == 1 else 's'} ({label[2]}): {title}"}
    return {"text_zh": f"{head[0]}：还剩{-days}天（{label[0]}）：{title}",
            "text_zh_hant": f"{head[1]}：還剩{-days}天（{label[1]}）：{title}",
            "text_en": f"{head[2]}: {-days} day{'' if days == -1 else 's'} left ({label[2]}): {title}"}


def recipients_of(svc: Any, rule: WarningSpec, row: Any) -> list[int]:
    """The users told of a warning: those of its ``notify`` roles (or, for 'next', of the roles the row waits for)
    who see the row by their own scope. A child row is seen through the row it belongs to."""
    engine = current_app.extensions["safety_workflow"]
    spec = svc.registry.register(rule.target)
    if rule.notify == "next":
        wf = spec.workflow
        state = getattr(row, wf.field)
        roles = {r for t in wf.transitions if t.todo and state in t.from_ for r in t.roles}
    else:
        roles = set(rule.notify)
    if not roles:
        return []
    while spec.parent:
        spec, row = svc.registry.register(spec.parent), row.parent
    return engine.recipients(spec, row, roles)
