"""The screens every register gets: list, show, add, edit, delete, reference lookup, attachment download.

One FAB view (RegisterScreens) serves every register under /r/<register>/ and hands each request to that
register's controller: start-up does not grow with routes per register. Each endpoint asks the access policy
whether the actor may take the action (403 if not); which rows exist for the actor is decided by the row scope
on every query, and every write is checked again when it is flushed.
"""
from __future__ import annotations

import functools
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Callable

from flask import abort, current_app, flash, get_template_attribute, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.widgets import FormWidget
from flask_babel import gettext as _, ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.security.view_as import may_view_as
from app.i18n import current_locale, label_text, lazy_label
from app.metadata.spec import RegisterSpec
from app.records import blocking_references, scoped_get
from app.security.actor import current_actor
from app.security.passwords import first_password_expiry, first_password_state
from app.security.policy import AccessDenied
from app.workflow.freeze import delete_refusal, deletable_sql, frozen_reason
from app.workflow.guard import WorkflowRefused
from app.services import Services
from app.query import listing
from app.query.formatting import html_value, plain_value
from app.query.listing import PAGE_SIZES, filter_label
from app.query.urls import register_url
from app.audit.history import row_history
from app.document_screens import (download, may_issue, may_upload_scan, records_of, send_scan, start_zip,
                                  upload_scan)
from app.excel import screens as excel_screens
from app.plugins import row_links
from app.workflow import screens as workflow_screens
from app.workflow.screens import progress_panels, row_panel

from . import list_columns
from .form_page import form_context
from .forms import build_form
from .pickers import asking_field, lookup, picker_root, starts_at_jurisdiction
from .related import preset_references, related_tabs
from .widgets import tree_picker




def changed_meanwhile(row: Any) -> str:
    """What the second of two editors is told: who saved the row last, and when."""
    user = current_app.appbuilder.sm.get_user_by_id(row.updated_by_id) if row.updated_by_id else None
    name = (" ".join(p for p in (user.first_name, user.last_name) if p) or user.username) if user else None
    when = row.updated_at.strftime("%Y-%m-%d %H:%M") if row.updated_at else ""
    if name:
        return _("This record was changed by %(user)s at %(time)s after you opened it. Your input is kept below: "
                 "open the record in another tab to see the other change, then save again to replace it.",
                 user=name, time=when)
    return _("This record was changed at %(time)s after you opened it. Your input is kept below: open the record "
             "in another tab to see the other change, then save again to replace it.", time=when)


class RegisterFormWidget(FormWidget):
    template = "register/form_widget.html"


def permitted(action: str) -> Callable:
    """The actor may take ``action`` on this register (the YAML's access rules), else 403 (login if anonymous)."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self: "RegisterController", *args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None or actor.is_anonymous:
                return redirect(url_for("AuthDBView.login", next=request.full_path))
            if not self.policy.can(self.register, actor, action):
                abort(403)
            return method(self, *args, **kwargs)

        return wrapper

    return decorate


class _Links:
    """The templates' ``link(action, **values)``: a URL of this register's screens. A row's link (only ``pk``, an
    id) is the action's URL built once for the page with the id put in: a list builds three per row, and each
    build through the URL map costs ~40 µs."""

    MARK = 918273645546372819  # stands for the id in the URL built once

    def __init__(self, register: str):
        self.register = register
        self.rows: dict[str, list[str]] = {}

    def __call__(self, action: str, **values: Any) -> str:
        pk = values.get("pk")
        if type(pk) is not int or len(values) != 1:
            return register_url(self.register, action, **values)
        pattern = self.rows.get(action)
        if pattern is None:
            pattern = self.rows[action] = register_url(self.register, action, pk=self.MARK).split(str(self.MARK))
        return str(pk).join(pattern) if len(pattern) == 2 else register_url(self.register, action, pk=pk)


class RegisterController:
    """The screens of one register; behaviour comes from ``register`` (its descriptor)."""

    list_template = "register/list.html"
    show_template = "register/show.html"
    form_template = "register/form_page.html"

    def __init__(self, spec: RegisterSpec, services: Services, screens: "RegisterScreens"):
        self.register, self.services, self.screens = spec, services, screens
        self.model = services.models[spec.name]
        self._forms: dict[tuple[str, ...], type] = {}

    def render_template(self, template: str, **kwargs: Any) -> Any:
        return self.screens.render_template(template, link=_Links(self.register.name), **kwargs)

    def update_redirect(self) -> None:
        self.screens.update_redirect()

    @property
    def add_title(self) -> str:
        return _("Add to %(name)s", name=label_text(self.register.label))

    @property
    def edit_title(self) -> str:
        return _("Edit in %(name)s", name=label_text(self.register.label))

    @property
    def policy(self) -> Any:
        return current_app.extensions["safety_policy"]

    # ---------------------------------------------------------------- per-actor field sets
    def _hidden(self) -> frozenset[str]:
        return self.policy.hidden_fields(self.register, current_actor())

    def _form_class(self, action: str, row: Any = None) -> type:
        """The form for this actor: without the fields it may not set or see, nor those the row's workflow
        state has frozen (cached per field set)."""
        spec = self.register
        locked = self.policy.read_only_fields(spec, current_actor(), action) | self._frozen(row)
        names = tuple(n for n in spec.form_fields if not spec.field(n).read_only and n not in locked)
        if names not in self._forms:
            self._forms[names] = build_form(spec, self.services, names)
        return self._forms[names]

    def _permissions(self, row: Any = None) -> dict[str, bool]:
        """What the actor may do on this register, or on ``row``: its scope for writes (a row seen under
        "see all, edit own organisation" is not editable) and its workflow state included."""
        actor = current_actor()
        actions = self.policy.actions(self.register, actor)
        perms = {a: a in actions for a in ("add", "edit", "delete", "import", "export")} | {"show": "view" in actions}
        perms["issue"] = may_issue(actor)  # numbered documents: made (and numbered) by regulators, read by others
        if row is not None:
            for action in ("edit", "delete"):
                perms[action] = perms[action] and self.policy.row_in_scope(self.register, actor, row, action, old=True)
        perms = self._state_permissions(perms, row)
        if row is not None and (perms["edit"] or perms["delete"]):
            # a button is offered only where pressing it can succeed (the flush guard decides either way)
            svc = self.services
            perms["edit"] = perms["edit"] and frozen_reason(svc, self.register, row) is None
            perms["delete"] = perms["delete"] and delete_refusal(
                svc, current_app.extensions["safety_workflow"], self.register, row, actor) is None
        return perms

    def _state_permissions(self, perms: dict[str, bool], row: Any) -> dict[str, bool]:
        state = self._state(row)
        if state is not None:
            perms["edit"] = perms["edit"] and state.frozen != "all"
            perms["delete"] = perms["delete"] and not state.keep
        return perms

    def _undeletable(self, rows: list[Any]) -> set[int]:
        """Ids of the listed rows whose workflow guards refuse a delete (no delete button on their line)."""
        spec = self.register
        if not rows or not (spec.workflow or spec.frozen_while or spec.deletable):
            return set()
        ids = [row.id for row in rows]
        allowed = set(self.services.session.scalars(
            select(self.model.id).where(self.model.id.in_(ids),
                                        deletable_sql(self.services, spec, self.model, current_actor()))
            .execution_options(unscoped_reason="the listed rows' delete guards")))
        return set(ids) - allowed

    def _row_permissions(self, rows: list[Any]) -> dict[Any, dict[str, bool]]:
        """Per listed row, what ``_permissions(row)`` says, with one query per write action for the whole page:
        a list offers Edit and Delete only on the rows that would accept them."""
        base, actor = self._permissions(), current_actor()
        ids = [row.id for row in rows]
        writable: dict[str, set[Any]] = {}
        for action in ("edit", "delete"):
            condition = self.policy.write_condition(self.register, actor, action) if base[action] and ids else None
            if not base[action] or not ids:
                writable[action] = set()
            elif condition is None:
                writable[action] = set(ids)
            else:
                writable[action] = set(self.services.session.scalars(
                    select(self.model.id).where(self.model.id.in_(ids), condition)
                    .execution_options(unscoped_reason="the listed rows' write conditions")))
        undeletable = self._undeletable(rows) if writable["delete"] else set()
        return {row.id: self._state_permissions(
            dict(base, edit=row.id in writable["edit"],
                 delete=row.id in writable["delete"] and row.id not in undeletable), row) for row in rows}

    def _state(self, row: Any) -> Any:
        """The workflow state of ``row`` (None without a row or a workflow)."""
        wf = self.register.workflow
        return wf.state(getattr(row, wf.field)) if wf is not None and row is not None else None

    def _frozen(self, row: Any) -> frozenset[str]:
        state = self._state(row)
        if state is None:
            return frozenset()
        return frozenset(self.register.field_map) if state.frozen == "all" else frozenset(state.frozen)

    # ---------------------------------------------------------------- list
    @permitted("view")
    def list(self) -> Any:
        spec, svc = self.register, self.services
        hidden = self._hidden()
        req = listing.parse_list_args(spec, request.args, hidden=hidden)
        page = listing.load_page(svc.session, spec, self.model, req, svc.dictionaries,
                                 svc.dictionary_item, current_app.config["LIST_COUNT_CAP"],
                                 current_app.config["LIST_COUNT_BUDGET_MS"])
        self.update_redirect()  # the language switch comes back here
        # an enterprise's own name on every row of its own list tells it nothing: neither column nor filter
        unshown = hidden | self.policy.constant_fields(spec, current_actor())
        available = list_columns.available_columns(spec, unshown)
        choice = list_columns.stored_choice(svc, current_actor().user_id, spec.name)
        columns = [spec.field(c) if c in spec.field_map else c
                   for c in list_columns.chosen_columns(available, choice)]
        labels = list_columns.column_labels(spec, available, _system_labels(), label_text)
        perms = self._permissions()
        return self.render_template(
            self.list_template, title=label_text(spec.label), spec=spec, req=req, page=page, columns=columns,
            cells=lambda row, f: html_value(spec, f, row, svc.dictionaries, "list"),
            filter_widgets=self._filter_widgets(req, unshown), page_sizes=PAGE_SIZES, label=label_text,
            sortable=listing.sortable_columns(spec) - hidden, system_labels=_system_labels(),
            search_labels=[label_text(spec.field(n).label) for n in spec.search if n not in hidden]
            + ([_("Document number")] if spec.documents and spec.search else []),
            perms=perms, row_perms=self._row_permissions(page.rows), endpoint="RegisterScreens",
            description=label_text(spec.description),
            first_passwords=self._first_passwords_url(),
            column_menu=[(name, labels[name], shown) for name, shown in list_columns.column_settings(available, choice)],
            columns_customised=choice is not None)

    @permitted("view")
    def count(self) -> Any:
        """The count a list page came without (it took longer than the page waits): JSON for list.js."""
        spec, svc = self.register, self.services
        req = listing.parse_list_args(spec, request.args, hidden=self._hidden())
        page = listing.count_page(svc.session, spec, self.model, req, svc.dictionaries, svc.dictionary_item,
                                  current_app.config["LIST_COUNT_CAP"])
        # an exact count gives the pager its last page (capped or estimated, the pager drawn with the page stays)
        pager = None if page.capped or page.estimated else str(self.render_template(
            "register/pager.html", page=page, req=req, page_sizes=PAGE_SIZES))
        return jsonify(count=page.total, capped=page.capped, estimated=page.estimated,
                       text=str(get_template_attribute("register/macros.html", "count_text")(page)), pager=pager)

    @permitted("view")
    def columns(self) -> Any:
        """POST of 列设置: this user's columns of this list (order and hidden), or back to the YAML's (reset)."""
        list_columns.save_from_form(self.register, self.services, self._hidden(), current_actor().user_id,
                                    request.form)
        return redirect(register_url(self.register.name, "list"))

    def _first_passwords_url(self) -> str | None:
        """The enterprise register's list issues the first passwords of its new accounts to the regulators who may
        edit its rows, as a workbook (they hand them to the enterprises; only hashes are kept)."""
        accounts = self.services.registry.enterprise_accounts
        if accounts and accounts.target == self.register.name and self._permissions()["edit"] \
                and not current_actor().enterprise_key:
            return url_for("AccountView.enterprise_first_passwords")
        return None

    def _filter_widgets(self, req: listing.ListRequest, hidden: frozenset[str]) -> list[dict[str, Any]]:
        """What the filter panel shows: one control per YAML filter, with the current value."""
        svc, spec = self.services, self.register
        widgets = []
        for lf in listing.usable_filters(spec, hidden)[0]:
            f, op = lf.field, lf.op
            current = req.filters.get(lf.name)
            widget: dict[str, Any] = {"field": f, "name": lf.name, "op": op, "label": filter_label(lf),
                                      "current": current}
            if f.type == "enum":
                widget["choices"] = svc.dictionaries.choices(f.dictionary)
            elif f.type == "tree":
                # the forms' picker: opens at the actor's jurisdiction, searches by typing, shows the whole path
                value = current.value if current else None
                root = picker_root(svc, f.dictionary) if starts_at_jurisdiction(svc, f) else None
                widget["picker"] = tree_picker(
                    svc.dictionaries, f.dictionary, name=f"f.{lf.name}", field_id=f"filter-{lf.name.replace('.', '-')}",
                    value=value, root=root, leaf_only=False, locale=_locale(),
                    aria_label=widget["label"], placeholder=_("All"),
                    # a field with levels: a filter may take any level above too (a city), none below the deepest
                    levels=SimpleNamespace(dictionary=f.dictionary, levels=None, level_bounds=(1, f.level_bounds[1]))
                    if f.restricts_levels else None)
            elif f.type == "reference":
                value = current.value if current else None
                target = scoped_get(svc.session, svc.models[f.target], value) if value else None
                widget["selected"] = (target.id, str(target)) if target is not None else None
                widget["url"] = register_url(f.target, "lookup")
            widgets.append(widget)
        return widgets

    # ---------------------------------------------------------------- show
    @permitted("view")
    def show(self, pk: Any) -> Any:
        spec, svc = self.register, self.services
        row = self._row(pk)
        hidden = self._hidden()
        self.update_redirect()
        fieldsets = [(title, [f for f in fields if f.name not in hidden]) for title, fields in _layout(spec, "show")]
        children = {}
        for f in spec.fields:
            if f.type == "children" and f.name not in hidden:
                child_spec = svc.registry.register(f.target)
                children[f.name] = (child_spec, getattr(row, f.name))
        values = {f.name: html_value(spec, f, row, svc.dictionaries, "show")
                  for _, fields in fieldsets for f in fields if f.type != "children"}
        return self.render_template(
            self.show_template, title=label_text(spec.label), spec=spec, row=row, fieldsets=fieldsets,
            values=values, empty={name for name, value in values.items() if not value.strip()},
            child_cell=lambda cs, f, r: html_value(cs, f, r, svc.dictionaries, "list"),
            children=children, label=label_text, perms=self._permissions(row), endpoint="RegisterScreens",
            row_title=str(row), row_extras=self._row_extras(row), related=related_tabs(spec, svc, row))

    def _row_extras(self, row: Any) -> dict[str, Any]:
        """Tabs and buttons other parts of the engine add to a row's page (change history, account reset)."""
        extras: dict[str, Any] = {"history": row_history(self.register, row.id, hidden=self._hidden()),
                                  "workflow": row_panel(self, row), "progress": progress_panels(self, row),
                                  "links": row_links(self.register, row, current_actor())}
        if self.register.documents:
            extras["documents"] = records_of(self, row)
            extras["scan_upload"] = any(d.scan for d in self.register.documents) and may_upload_scan(self, row)
        accounts = self.services.registry.enterprise_accounts
        actor = current_actor()
        regulator = not actor.enterprise_key
        if accounts and accounts.target == self.register.name and may_view_as(actor):
            extras["view_as"] = url_for("ViewAsView.start", enterprise_id=row.id)
        if accounts and accounts.target == self.register.name and self._permissions(row)["edit"] and regulator:
            login = getattr(row, accounts.login)
            extras["account_reset"] = url_for("AccountView.enterprise_reset", row_id=row.id)
            extras["account_login"] = login
            # until the enterprise has chosen its own password: whether a first password was issued, and until when
            user = current_app.appbuilder.sm.find_user(username=login) if login else None
            if user is not None and (state := first_password_state(user.password)):
                extras["account_state"] = state
                expiry = first_password_expiry(user.password)
                extras["account_expires"] = expiry.strftime("%Y-%m-%d %H:%M") if expiry else None
        return extras

    def _row(self, pk: Any) -> Any:
        """The row if the actor may see it: 404 when it does not exist, 403 when it is outside the scope."""
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            abort(404)
        model = self.model
        row = scoped_get(self.services.session, model, pk)
        if row is None:
            exists = self.services.session.execute(
                select(model.id).where(model.id == pk).execution_options(unscoped_reason="403 or 404")).first()
            abort(403 if exists else 404)
        return row

    # ---------------------------------------------------------------- add / edit / delete
    @permitted("add")
    def add(self) -> Any:
        form_class = self._form_class("add")
        form = form_class()
        if request.method != "POST":
            preset_references(self.register, self.services, form, request.args)
        if request.method == "POST" and form.validate():
            row = self.model()
            form.populate_obj(row)
            self.services.session.add(row)
            if self._commit(_("Added Row")):
                return redirect(register_url(self.register.name, "list"))
        return self._render_form(form, self.add_title, register_url(self.register.name, "list"))

    @permitted("edit")
    def edit(self, pk: Any) -> Any:
        row = self._row(pk)
        self.policy.require(self.register, current_actor(), row, "edit")
        state = self._state(row)
        if state is not None and state.frozen == "all":
            flash(_("In the state “%(state)s” this record can no longer be changed.", state=label_text(state.label)),
                  "warning")
            return redirect(register_url(self.register.name, "show", pk=row.id))
        frozen = frozen_reason(self.services, self.register, row)
        if frozen is not None:
            flash(frozen, "warning")
            return redirect(register_url(self.register.name, "show", pk=row.id))
        form_class = self._form_class("edit", row)
        row_title = str(row)  # as stored: the heading names the record being edited, not the values typed
        seen = row.version  # the version the form carries: the one opened, or the one the user was told about
        conflict = None
        if request.method == "POST":
            form = form_class()
            form._id = row.id
            posted = request.form.get("_version", "")
            seen = int(posted) if posted.isdigit() else row.version
            if seen != row.version:
                conflict, seen = changed_meanwhile(row), row.version
            elif form.validate():
                form.populate_obj(row)
                row.updated_at = datetime.now()  # every save bumps the version, a change of child rows only too
                saved = self._commit(_("Changed Row"), stale_flash=False)
                if saved:
                    return redirect(register_url(self.register.name, "show", pk=row.id))
                if saved is None:  # another save came between this one's read and its write
                    row = self._row(pk)
                    conflict, seen = changed_meanwhile(row), row.version
        else:
            form = form_class(obj=row)
        return self._render_form(form, self.edit_title, register_url(self.register.name, "show", pk=row.id),
                                 version=seen, conflict=conflict, row_title=row_title)

    @permitted("delete")
    def delete(self, pk: Any) -> Any:
        row = self._row(pk)
        self.policy.require(self.register, current_actor(), row, "delete")
        try:
            self._refuse_if_kept(row)
            self._refuse_if_referred(row)
        except ValueError as exc:
            flash(str(exc), "danger")
            return redirect(register_url(self.register.name, "show", pk=row.id))
        self.services.session.delete(row)
        self._commit(_("Deleted Row"))
        return redirect(register_url(self.register.name, "list"))

    def _commit(self, message: str, stale_flash: bool = True) -> bool | None:
        """Commit, or roll back and say why: False when refused, None when another save of the row came first
        (its version moved on between this request's read and its write)."""
        session = self.services.session
        try:
            session.commit()
        except StaleDataError:
            session.rollback()
            if stale_flash:
                flash(_("This record was changed by someone else meanwhile; nothing was saved."), "danger")
            return None
        except WorkflowRefused as exc:
            session.rollback()
            flash(str(exc), "danger")
            return False
        except AccessDenied:
            session.rollback()
            abort(403)
        except IntegrityError as exc:
            session.rollback()
            flash(_("The database refused the change: %(reason)s", reason=str(exc.orig).splitlines()[0]), "danger")
            return False
        flash(message, "success")
        return True

    def _render_form(self, form: Any, title: str, cancel_url: str | None = None, version: int | None = None,
                     conflict: str | None = None, row_title: str | None = None) -> Any:
        fieldsets = form_fieldsets(self.register, tuple(form._fields))
        widget = RegisterFormWidget(form=form, fieldsets=fieldsets, exclude_cols=[], row_version=version,
                                    conflict=conflict, **form_context(form, fieldsets, cancel_url))
        return self.render_template(self.form_template, title=title, widget=widget, spec=self.register,
                                    endpoint="RegisterScreens", row_title=row_title)

    def _refuse_if_kept(self, row: Any) -> None:
        """The workflow's delete guards (kept states, `deletable`, `frozen_while`), said before trying."""
        reason = delete_refusal(self.services, current_app.extensions["safety_workflow"], self.register, row,
                                current_actor())
        if reason is not None:
            raise ValueError(reason)

    def _refuse_if_referred(self, item: Any) -> None:
        """Refuse to delete a row other registers still refer to, naming them (004 Q27)."""
        blockers = [ngettext("%(num)s record of %(register)s", "%(num)s records of %(register)s", count,
                             register=label_text(other.label))
                    for other, count in blocking_references(self.services, self.register, item.id)]
        if blockers:
            raise ValueError(_("This record cannot be deleted: it is still referred to by %(refs)s.",
                               refs=", ".join(blockers)))

    # ---------------------------------------------------------------- lookups and files
    @permitted("view")
    def lookup(self) -> Any:
        """Type-ahead search for reference pickers: {results: [{id, text, detail}]}, in the actor's scope."""
        spec = self.register
        display = request.args.get("display", "")
        display = display if display in spec.field_map and spec.field(display).type == "string" else None
        field = asking_field(self.services, spec, request.args.get("field", ""))
        matched = {k[2:]: v[:100] for k, v in request.args.items() if k.startswith("m.")}
        return jsonify(results=lookup(self.services, spec, self.model, request.args.get("q", "").strip()[:50],
                                      display, field, matched))

    @permitted("view")
    def copy_rows(self, field_name: str, source_id: int) -> Any:
        """copy_from on the form (§16.20): the child rows a children field would copy from the referenced row,
        in order, as {rows: [{field: text}]}, so the add form fills them as soon as the reference is chosen. The
        referenced row is read in the actor's scope (404 when it may not be seen)."""
        f = self.register.field_map.get(field_name)
        rule = getattr(f, "copy_from", None)
        if rule is None:
            abort(404)
        target = self.register.field(rule.reference).target
        source = scoped_get(self.services.session, self.services.models[target], source_id)
        if source is None:
            abort(404)
        rows = []
        for child in getattr(source, rule.children) or []:
            values = {}
            for mine, theirs in rule.fields.items():
                value = getattr(child, theirs)
                if value not in (None, ""):
                    values[mine] = value.isoformat() if hasattr(value, "isoformat") else str(value)
            rows.append(values)
        return jsonify(rows=rows)

    @permitted("view")
    def attachment(self, pk: int, field_name: str, index: int) -> Any:
        spec = self.register
        field = spec.field_map.get(field_name)
        if field is None or field.type not in ("attachment", "image") or field_name in self._hidden():
            abort(404)
        row = self._row(pk)
        files = getattr(row, field_name) or []
        if not 0 <= index < len(files):
            abort(404)
        return self.services.files.send(files[index], inline=field.type == "image")

    # ---------------------------------------------------------------- documents (文书)
    def _document(self, name: str) -> Any:
        found = next((d for d in self.register.documents if d.name == name), None)
        if found is None:
            abort(404)
        return found

    @permitted("view")
    def document(self, pk: Any, name: str) -> Any:
        return download(self, pk, name)

    @permitted("view")
    def documents(self, name: str) -> Any:
        """The document of every row the list shows with these filters (in the actor's scope): a background job."""
        return start_zip(self, name)

    @permitted("view")
    def document_scan(self, pk: Any, name: str) -> Any:
        return upload_scan(self, pk, name) if request.method == "POST" else send_scan(self, pk, name)

    # ---------------------------------------------------------------- workflow
    @permitted("view")
    def transition(self, pk: Any, name: str) -> Any:
        return workflow_screens.take(self, pk, name)

    @permitted("view")
    def history_file(self, pk: Any, hid: int, index: int) -> Any:
        return workflow_screens.history_file(self, pk, hid, index)

    @permitted("view")
    def diagram(self) -> Any:
        return workflow_screens.diagram(self)

    # ---------------------------------------------------------------- Excel
    @permitted("import")
    def template(self) -> Any:
        return excel_screens.download_template(self)

    @permitted("import")
    def import_page(self) -> Any:
        return excel_screens.import_page(self)

    @permitted("export")
    def export(self) -> Any:
        return excel_screens.export(self)

    @permitted("view")
    def job(self, job_id: int) -> Any:
        return excel_screens.job_page(self, job_id)

    @permitted("view")
    def job_status(self, job_id: int) -> Any:
        return excel_screens.job_json(self, job_id)

    @permitted("view")
    def job_file(self, job_id: int) -> Any:
        return excel_screens.job_download(self, job_id)


def _system_labels() -> dict[str, str]:
    return {"id": _("ID"), "created_at": _("Created"), "updated_at": _("Updated")}


def _locale() -> str:
    return current_locale()


def _layout(spec: RegisterSpec, section: str) -> list[tuple[str, list]]:
    """[(fieldset title, [field specs])] for the show page or the forms."""
    layout = getattr(spec, section) or (spec.form if section == "show" else None)
    if layout:
        return [(label_text(fs.label), [spec.field(n) for n in fs.fields]) for fs in layout.fieldsets]
    return [("", [f for f in spec.fields])]


def form_fieldsets(spec: RegisterSpec, names: tuple[str, ...]) -> list[tuple[Any, dict]]:
    """Fieldsets for the add and edit forms, restricted to the register's fields the form holds (not its
    csrf_token, which the form's hidden tags carry)."""
    if spec.form:
        sets = [(lazy_label(fs.label), {"fields": [n for n in fs.fields if n in names]}) for fs in spec.form.fieldsets]
        return [s for s in sets if s[1]["fields"]]
    return [("", {"fields": [n for n in names if n in spec.field_map]})]


class RegisterScreens(BaseView):
    """The one FAB view of every register's screens: /r/<register>/list/, /show/<pk>, /add, /edit/<pk> …"""

    route_base = "/r"
    default_view = "list"

    def __init__(self) -> None:
        super().__init__()
        self.controllers: dict[str, RegisterController] = {}

    def controller(self, register: str) -> RegisterController:
        found = self.controllers.get(register)
        if found is None:
            abort(404)
        return found

    @expose("/<register>/list/")
    def list(self, register: str) -> Any:
        return self.controller(register).list()

    @expose("/<register>/show/<pk>")
    def show(self, register: str, pk: Any) -> Any:
        return self.controller(register).show(pk)

    @expose("/<register>/add", methods=["GET", "POST"])
    def add(self, register: str) -> Any:
        return self.controller(register).add()

    @expose("/<register>/edit/<pk>", methods=["GET", "POST"])
    def edit(self, register: str, pk: Any) -> Any:
        return self.controller(register).edit(pk)

    @expose("/<register>/delete/<pk>", methods=["POST"])
    def delete(self, register: str, pk: Any) -> Any:
        return self.controller(register).delete(pk)

    @expose("/<register>/count/")
    def count(self, register: str) -> Any:
        return self.controller(register).count()

    @expose("/<register>/columns", methods=["POST"])
    def columns(self, register: str) -> Any:
        return self.controller(register).columns()

    @expose("/<register>/lookup")
    def lookup(self, register: str) -> Any:
        return self.controller(register).lookup()

    @expose("/<register>/copy_rows/<field_name>/<int:source_id>")
    def copy_rows(self, register: str, field_name: str, source_id: int) -> Any:
        return self.controller(register).copy_rows(field_name, source_id)

    @expose("/<register>/attachment/<int:pk>/<field_name>/<int:index>")
    def attachment(self, register: str, pk: int, field_name: str, index: int) -> Any:
        return self.controller(register).attachment(pk, field_name, index)

    @expose("/<register>/transition/<pk>/<name>", methods=["POST"])
    def transition(self, register: str, pk: Any, name: str) -> Any:
        return self.controller(register).transition(pk, name)

    @expose("/<register>/history/<pk>/<int:hid>/<int(signed=True):index>")
    def history_file(self, register: str, pk: Any, hid: int, index: int) -> Any:
        return self.controller(register).history_file(pk, hid, index)

    @expose("/<register>/document/<pk>/<name>")
    def document(self, register: str, pk: Any, name: str) -> Any:
        return self.controller(register).document(pk, name)

    @expose("/<register>/document/<pk>/<name>/scan", methods=["GET", "POST"])
    def document_scan(self, register: str, pk: Any, name: str) -> Any:
        return self.controller(register).document_scan(pk, name)

    @expose("/<register>/documents/<name>.zip")
    def documents(self, register: str, name: str) -> Any:
        return self.controller(register).documents(name)

    @expose("/<register>/workflow.svg")
    def diagram(self, register: str) -> Any:
        return self.controller(register).diagram()

    @expose("/<register>/template")
    def template(self, register: str) -> Any:
        return self.controller(register).template()

    @expose("/<register>/import", methods=["GET", "POST"])
    def import_page(self, register: str) -> Any:
        return self.controller(register).import_page()

    @expose("/<register>/export")
    def export(self, register: str) -> Any:
        return self.controller(register).export()

    @expose("/<register>/jobs/<int:job_id>")
    def job(self, register: str, job_id: int) -> Any:
        return self.controller(register).job(job_id)

    @expose("/<register>/jobs/<int:job_id>.json")
    def job_status(self, register: str, job_id: int) -> Any:
        return self.controller(register).job_status(job_id)

    @expose("/<register>/jobs/<int:job_id>/file")
    def job_file(self, register: str, job_id: int) -> Any:
        return self.controller(register).job_file(job_id)


__all__ = ["RegisterController", "RegisterScreens", "form_fieldsets", "permitted", "plain_value"]
