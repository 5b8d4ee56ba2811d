"""预警 (/warnings/): the warnings of the rows the user sees by the row scope, filtered by register, level and
state; closing one with a reason; the open counts of the navbar and the home page."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.i18n import label_text
from app.security.actor import Actor, current_actor, signed_in_actor
from app.services import services
from app.query.formatting import html_value
from app.query.urls import register_url

from .messages import row_title

PAGE_SIZE = 50
OPEN_COUNT_STATEMENTS = 1000  # actors whose navbar statement is kept (then all are dropped and built again)
LEVEL_LABELS = {"notice": lazy_gettext("Notice"), "warning": lazy_gettext("Warning"),
                "alarm": lazy_gettext("Alarm")}
LEVEL_STYLES = {"notice": "info", "warning": "warning", "alarm": "danger"}
STATE_LABELS = {"open": lazy_gettext("Open"), "resolved": lazy_gettext("Resolved"),
                "closed": lazy_gettext("Closed")}



def watched_registers(actor: Actor) -> list[Any]:
    """The registers watched by warnings that the actor may view (a child register through its owner)."""
    svc = services()
    policy = current_app.extensions["safety_policy"]
    names = sorted({w.target for w in svc.registry.warnings.values()})
    return [svc.registry.register(n) for n in names if policy.can(svc.registry.owner_of(svc.registry.register(n)),
                                                                     actor, "view")]


def visible(registers: list[Any]) -> ColumnElement:
    """Warnings whose row the actor sees: the row scope's query hook limits each register's sub-select."""
    svc = services()
    Warning = svc.models.engine["Warning"]
    if not registers:
        return Warning.id.is_(None)
    return or_(*(and_(Warning.register == spec.name, Warning.row_id.in_(select(svc.models[spec.name].id)))
                 for spec in registers))


def open_counts() -> dict[str, int]:
    """Open warnings by level in the signed-in user's scope (the navbar badge, the home page)."""
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        return {}
    svc = services()
    # the statement depends on the actor alone (the row scope is added when it runs): built once per actor, as
    # every page's navbar asks (~1.5 ms of building for the registers warnings watch)
    statements = current_app.extensions.setdefault("open_count_statements", {})
    key = (id(svc.models), actor)
    statement = statements.get(key)
    if statement is None:
        Warning = svc.models.engine["Warning"]
        statement = select(Warning.level, func.count()).where(
            Warning.state == "open", visible(watched_registers(actor))).group_by(Warning.level)
        if len(statements) >= OPEN_COUNT_STATEMENTS:
            statements.clear()
        statements[key] = statement
    return {level: count for level, count in svc.session.execute(statement).all()}


class WarningView(BaseView):
    route_base = "/warnings"
    default_view = "index"

    @expose("/")
    def index(self) -> Any:
        actor = signed_in_actor()
        svc = services()
        Warning = svc.models.engine["Warning"]
        registers = watched_registers(actor)
        chosen = request.args.get("register") or ""
        level = request.args.get("level") or ""
        state = request.args.get("state") or "open"
        shown = [s for s in registers if not chosen or s.name == chosen]
        where = [visible(shown)]
        if level in LEVEL_LABELS:
            where.append(Warning.level == level)
        if state in STATE_LABELS:
            where.append(Warning.state == state)
        total = svc.session.execute(select(func.count()).select_from(Warning).where(*where)).scalar_one()
        page = max(int(request.args.get("page", "1") or 1) if str(request.args.get("page", "1")).isdigit() else 1, 1)
        warnings = list(svc.session.scalars(select(Warning).where(*where).order_by(Warning.id.desc())
                                            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
        return self.render_template(
            "alerts/list.html", items=self._items(actor, warnings), total=total, page=page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), registers=[(s.name, label_text(s.label))
                                                                          for s in registers],
            chosen=chosen, level=level, state=state, levels=LEVEL_LABELS, states=STATE_LABELS,
            styles=LEVEL_STYLES)

    def _items(self, actor: Actor, warnings: list[Any]) -> list[dict]:
        svc = services()
        rows: dict[tuple[str, int], Any] = {}
        for register in {w.register for w in warnings}:
            model = svc.models[register]
            ids = [w.row_id for w in warnings if w.register == register]
            rows.update({(register, r.id): r for r in svc.session.scalars(select(model).where(model.id.in_(ids)))})
        today = clock.today()
        policy = current_app.extensions["safety_policy"]
        items = []
        for w in warnings:
            rule, row = svc.registry.warnings.get(w.rule), rows.get((w.register, w.row_id))
            if row is None:
                continue
            spec = svc.registry.register(w.register)
            owner, owner_id = (spec.parent, row.parent_id) if spec.parent else (spec.name, row.id)
            days = None
            if rule is not None and rule.date is not None and w.cause:
                days = (datetime.fromisoformat(w.cause[:10]).date() - today).days
            items.append({"id": w.id, "level": w.level, "rule": label_text(rule.label) if rule else w.rule,
                          "register": label_text(spec.label), "title": row_title(svc, w.register, row),
                          "details": _details(svc, policy, actor, rule, spec, row),
                          "url": register_url(owner, "show", pk=owner_id), "cause": w.cause, "days": days,
                          "state": w.state, "opened_at": w.opened_at, "ended_at": w.ended_at,
                          "closed_by": w.closed_by, "reason": w.reason,
                          "may_close": w.state == "open" and rule is not None and may_close(rule, actor)})
        return items

    @expose("/<int:warning_id>/close", methods=["POST"])
    def close(self, warning_id: int) -> Any:
        """Close an open warning with a reason (kept with it: who, when, why)."""
        actor = signed_in_actor()
        svc = services()
        Warning = svc.models.engine["Warning"]
        # the warning is found only among those the user sees (its row in the user's scope)
        warning = svc.session.execute(select(Warning).where(
            Warning.id == warning_id, visible(watched_registers(actor))).with_for_update(of=Warning)).scalar()
        if warning is None:
            abort(404)
        rule = svc.registry.warnings.get(warning.rule)
        if rule is None or not may_close(rule, actor):
            abort(403)
        reason = (request.form.get("reason") or "").strip()
        back = url_for("WarningView.index", **{k: v for k, v in request.args.items() if k in
                                                ("register", "level", "state", "page")})
        if warning.state != "open":
            flash(_("This warning is no longer open."), "warning")
            return redirect(back)
        if not reason:
            flash(_("Write the reason for closing the warning."), "danger")
            return redirect(back)
        user = current_app.appbuilder.sm.get_user_by_id(actor.user_id)
        name = " ".join(p for p in (getattr(user, "first_name", ""), getattr(user, "last_name", "")) if p)
        warning.state, warning.ended_at, warning.reason = "closed", datetime.now(), reason[:2000]
        warning.closed_by_id, warning.closed_by = actor.user_id, name or actor.username
        svc.session.commit()
        flash(_("The warning is closed."), "success")
        return redirect(back)


def _details(svc: Any, policy: Any, actor: Actor, rule: Any, spec: Any, row: Any) -> list[tuple[str, Any]]:
    """(label, value) of the rule's ``details`` fields the reader may see (§16.24)."""
    if rule is None or not rule.details:
        return []
    hidden = policy.hidden_fields(svc.registry.owner_of(spec), actor) if not spec.parent else frozenset()
    return [(label_text(spec.field(name).label), html_value(spec, spec.field(name), row, svc.dictionaries, "list"))
            for name in rule.details if name not in hidden]


def may_close(rule: Any, actor: Actor) -> bool:
    return actor.is_admin or bool(actor.roles & set(rule.close))
