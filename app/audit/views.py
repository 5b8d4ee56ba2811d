"""操作日志 and 登录日志: read-only, searchable lists of the audit trail (no add, edit or delete exists)."""
from __future__ import annotations

import json
from typing import Any

from flask import abort, current_app, request, url_for
from flask_babel import gettext
from flask_appbuilder import BaseView, expose
from markupsafe import Markup, escape
from sqlalchemy import select

from app.i18n import label_text
from app.metadata.spec import RegisterSpec
from app.security.actor import current_actor
from app.query import listing
from app.query.formatting import plain_value
from app.query.urls import register_url
from app.security.models import AppUser

from .account_events import ACCOUNT_LOG
from .account_log import account_field_label, account_snapshot, account_value
from .history import field_label, operation_label, readable, row_label, snapshot_readable, user_label


def _label(zh: str, en: str) -> dict:
    return {"zh": zh, "en": en}


AUDIT_SPEC = RegisterSpec.model_validate({
    "name": "sys_audit_log", "label": _label("操作日志", "Operation log"),
    "fields": [
        {"name": "at", "label": _label("时间", "Time"), "type": "datetime"},
        {"name": "username", "label": _label("用户", "User"), "type": "string"},
        {"name": "register", "label": _label("台账", "Register"), "type": "string"},
        {"name": "row_id", "label": _label("记录编号", "Record"), "type": "integer"},
        {"name": "action", "label": _label("操作", "Action"), "type": "string"},
        {"name": "field", "label": _label("字段", "Field"), "type": "string"},
        {"name": "old_value", "label": _label("修改前", "Before"), "type": "text"},
        {"name": "new_value", "label": _label("修改后", "After"), "type": "text"},
    ],
    "list": {"columns": ["at", "username", "register", "row_id", "action", "field", "old_value", "new_value"],
             "sort": ["-at"], "page_size": 50},
    "search": ["username", "old_value", "new_value"],
    "filters": [{"field": "at", "op": "range"}, {"field": "username", "op": "equal"},
                {"field": "register", "op": "equal"}, {"field": "row_id", "op": "equal"},
                {"field": "action", "op": "equal"}],
})

LOGIN_SPEC = RegisterSpec.model_validate({
    "name": "sys_login_log", "label": _label("登录日志", "Login log"),
    "fields": [
        {"name": "at", "label": _label("时间", "Time"), "type": "datetime"},
        {"name": "username", "label": _label("登录名", "Login name"), "type": "string"},
        {"name": "success", "label": _label("成功", "Succeeded"), "type": "boolean"},
        {"name": "reason", "label": _label("失败原因", "Reason"), "type": "string"},
        {"name": "ip", "label": _label("IP 地址", "IP address"), "type": "string"},
    ],
    "list": {"columns": ["at", "username", "success", "reason", "ip"], "sort": ["-at"], "page_size": 50},
    "search": ["username", "ip"],
    "filters": [{"field": "at", "op": "range"}, {"field": "username", "op": "contains"},
                {"field": "success", "op": "equal"}],
})


class _LogView(BaseView):
    spec: RegisterSpec
    model_name: str
    default_view = "list"

    def _visible(self, model: type) -> Any:
        """Administrators see every entry; an organisation's administrator those of its own accounts and below."""
        actor = current_actor()
        if actor is None or actor.is_anonymous:
            abort(401)
        if actor.is_admin:
            return None
        svc = current_app.extensions["safety"]
        managers = {name for name, role in svc.registry.roles.items() if role.accounts}
        if not (managers & actor.roles) or not actor.region_path:
            abort(403)
        org = svc.registry.organisations
        org_model = svc.models[org.target]
        org_spec = svc.registry.register(org.target)
        region_field = org_spec.field(org.region)
        org_ids = select(org_model.id).where(getattr(org_model, org.region).in_(
            listing.subtree_select(svc.dictionary_item, region_field.dictionary, actor.region_path)))
        if self.model_name == "AuditLog":
            return model.organisation_id.in_(org_ids)
        return model.user_id.in_(select(AppUser.id).where(AppUser.organisation_id.in_(org_ids)))

    @expose("/")
    def list(self) -> Any:
        svc = current_app.extensions["safety"]
        model = svc.models.engine[self.model_name]
        restriction = self._visible(model)
        req = listing.parse_list_args(self.spec, request.args)
        clauses = listing.where_clauses(self.spec, model, req, svc.dictionaries, svc.dictionary_item)
        if restriction is not None:
            clauses.append(restriction)
        stmt = listing.ordered(self.spec, model, select(model).where(*clauses), req.sort)
        rows = list(svc.session.scalars(stmt.offset((req.page - 1) * req.size).limit(req.size + 1)))
        has_next = len(rows) > req.size
        total, capped, estimated = listing.count_rows(svc.session, model, clauses,
                                                      current_app.config["LIST_COUNT_CAP"])
        page = listing.Page(rows[: req.size], total, capped, estimated, req.page, req.size, has_next)
        columns = [self.spec.field(c) for c in self.spec.list_columns]
        return self.render_template(
            "register/list.html", title=label_text(self.spec.label), spec=self.spec, req=req, page=page,
            columns=columns, cells=self._cell, filter_widgets=self._filters(req),
            page_sizes=listing.PAGE_SIZES, label=label_text, sortable={"at"}, system_labels={},
            search_labels=[label_text(self.spec.field(n).label) for n in self.spec.search],
            perms={"add": False, "edit": False, "delete": False, "show": False, "import": False, "export": False},
            endpoint=self.__class__.__name__, description="",
            link=lambda action, **values: url_for(f"{self.__class__.__name__}.{action}", **values))

    def _filters(self, req: Any) -> list[dict[str, Any]]:
        registry = current_app.extensions["safety"].registry
        choices = {
            "register": [(name, label_text(spec.label)) for name, spec in registry.registers.items()]
            + [(ACCOUNT_LOG, gettext("Accounts"))],
            "action": [(a, operation_label(a)) for a in ("insert", "update", "delete")],
        }
        widgets = []
        for ref in self.spec.filters:
            field = self.spec.field(ref.field)
            widget = {"field": field, "op": ref.op, "label": label_text(field.label), "current": req.filters.get(ref.field)}
            if ref.field in choices and self.model_name == "AuditLog":
                widget["choices"] = choices[ref.field]
            widgets.append(widget)
        return widgets

    def _cell(self, row: Any, field: Any) -> Any:
        registry = current_app.extensions["safety"].registry
        if self.model_name == "AuditLog":
            if row.register == ACCOUNT_LOG:
                return self._account_cell(row, field)
            spec = registry.registers.get(row.register)
            if field.name == "register":
                return escape(label_text(spec.label) if spec else row.register)
            if field.name == "row_id" and spec is not None:
                return escape(row_label(row.register, row.row_id))
            if field.name == "field":
                return escape(field_label(spec, row.field) if spec else row.field or "")
            if field.name in ("old_value", "new_value") and spec is not None:
                value = getattr(row, field.name)
                text = snapshot_readable(spec, value) if row.field is None and value else readable(spec, row.field, value)
                return escape(text if len(text) <= 80 else text[:78] + "…")
            if field.name == "action":
                return escape(operation_label(row.action))
        if field.name == "username":
            return escape(user_label(row.user_id, row.username))
        return escape(plain_value(field, row, current_app.extensions["safety"].dictionaries))


    def _account_cell(self, row: Any, field: Any) -> Any:
        """An account event: the account by its name and login, roles and organisations by their labels."""
        if field.name == "register":
            return escape(gettext("Accounts"))
        if field.name == "row_id":
            return escape(account_value("user_id", row.row_id))
        if field.name == "action":
            return escape(operation_label(row.action))
        if field.name == "field":
            return escape(account_field_label(row.field))
        if field.name in ("old_value", "new_value"):
            value = getattr(row, field.name)
            return escape(account_snapshot(value) if row.field is None else account_value(row.field, value))
        if field.name == "username":
            return escape(user_label(row.user_id, row.username))
        return escape(plain_value(field, row, current_app.extensions["safety"].dictionaries))


class AuditLogView(_LogView):
    route_base = "/audit/changes"
    spec = AUDIT_SPEC
    model_name = "AuditLog"
    class_permission_name = "audit_log"

    def _cell(self, row: Any, field: Any) -> Any:
        """The time opens the entry's page, where its values are shown whole (the list cuts them short)."""
        if field.name == "at":
            return Markup('<a href="{}" class="audit-entry-link">{}</a>').format(
                url_for("AuditLogView.entry", entry_id=row.id), super()._cell(row, field))
        return super()._cell(row, field)

    @expose("/<int:entry_id>")
    def entry(self, entry_id: int) -> Any:
        """One save of the operation log: who, when, which record, and every field it wrote, before and after,
        in full (a created record's values one per line); other entries of the reader's scope only (404)."""
        svc = current_app.extensions["safety"]
        model = svc.models.engine[self.model_name]
        restriction = self._visible(model)
        scope = [restriction] if restriction is not None else []
        entry = svc.session.scalar(select(model).where(model.id == entry_id, *scope))
        if entry is None:
            abort(404)
        same_save = svc.session.scalars(select(model).where(
            model.register == entry.register, model.row_id == entry.row_id, model.at == entry.at,
            model.action == entry.action, model.username == entry.username, *scope).order_by(model.id)).all()
        account = entry.register == ACCOUNT_LOG
        spec = None if account else svc.registry.registers.get(entry.register)
        lines = [line for e in same_save for line in _entry_lines(e, spec, account)]
        actor = current_actor()
        record_url = None
        if spec is not None and current_app.extensions["safety_policy"].can(spec, actor, "view"):
            record_url = register_url(spec.name, "show", pk=entry.row_id)
        return self.render_template(
            "audit/entry.html", title=gettext("Operation log entry"), entry=entry, lines=lines,
            register=gettext("Accounts") if account else (label_text(spec.label) if spec else entry.register),
            record=account_value("user_id", entry.row_id) if account else row_label(entry.register, entry.row_id),
            record_url=record_url, who=user_label(entry.user_id, entry.username),
            operation=operation_label(entry.action), back=url_for("AuditLogView.list"))


def _entry_lines(entry: Any, spec: RegisterSpec | None, account: bool) -> list[tuple[str, str, str]]:
    """(field, before, after) of one audit row: the field it names, or each field of the record it snapshots
    (a created or deleted record, a created account)."""
    def label(column: str | None) -> str:
        if account:
            return account_field_label(column)
        return field_label(spec, column) if spec is not None else column or ""

    def value(column: str | None, text: str | None) -> str:
        if text is None:
            return ""
        if account:
            return account_value(column, text)
        return readable(spec, column, text) if spec is not None else text

    if entry.field is not None:
        return [(label(entry.field), value(entry.field, entry.old_value), value(entry.field, entry.new_value))]
    before, after = _snapshot(entry.old_value), _snapshot(entry.new_value)
    if before is None or after is None:   # not a snapshot: shown as written
        return [("", entry.old_value or "", entry.new_value or "")]
    if "_import" in after:
        return [("", "", gettext("Imported from %(source)s", source=after["_import"]))]
    return [(label(column), value(column, before.get(column)), value(column, after.get(column)))
            for column in dict.fromkeys([*before, *after])]


def _snapshot(text: str | None) -> dict | None:
    try:
        snapshot = json.loads(text) if text else {}
    except ValueError:
        return None
    return {k: None if v is None else str(v) for k, v in snapshot.items()} if isinstance(snapshot, dict) else None


class LoginLogView(_LogView):
    route_base = "/audit/logins"
    spec = LOGIN_SPEC
    model_name = "LoginLog"
    class_permission_name = "login_log"


__all__ = ["AuditLogView", "LoginLogView"]
