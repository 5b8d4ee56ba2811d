"""The CRUD screens every register gets: FAB's add/edit/delete with generated forms, our list and show pages."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, request, send_file, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.widgets import FormWidget
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.i18n import label_text, lazy_label
from app.metadata.spec import RegisterSpec
from app.services import Services

from . import listing
from .formatting import html_value, plain_value
from .listing import PAGE_SIZES


class RegisterFormWidget(FormWidget):
    template = "register/form_widget.html"


class RegisterView(ModelView):
    """Generated per register by app.views.builder; behaviour comes from ``register`` (its descriptor)."""

    register: RegisterSpec
    services: Services

    list_template = "register/list.html"
    show_template = "register/show.html"
    add_widget = RegisterFormWidget
    edit_widget = RegisterFormWidget
    method_permission_name = {"list": "list", "show": "show", "add": "add", "edit": "edit", "delete": "delete",
                              "lookup": "list", "attachment": "show"}

    # FAB endpoints that would bypass the engine (files by name, actions): not exposed
    def download(self, filename: str) -> Any:  # type: ignore[override]
        abort(404)

    def action(self, name: str, pk: Any) -> Any:  # type: ignore[override]
        abort(404)

    def action_post(self) -> Any:  # type: ignore[override]
        abort(404)

    # ---------------------------------------------------------------- list
    @expose("/list/")
    @has_access
    def list(self) -> Any:
        spec, svc = self.register, self.services
        req = listing.parse_list_args(spec, request.args)
        page = listing.load_page(svc.session, spec, self.datamodel.obj, req, svc.dictionaries,
                                 svc.dictionary_item, current_app.config["LIST_COUNT_CAP"])
        columns = [spec.field(c) if c in spec.field_map else c for c in spec.list_columns]
        self.update_redirect()
        return self.render_template(
            self.list_template, title=label_text(spec.label), spec=spec, req=req, page=page, columns=columns,
            cells=lambda row, f: html_value(spec, f, row, svc.dictionaries, "list"),
            filter_widgets=self._filter_widgets(req), page_sizes=PAGE_SIZES, label=label_text,
            sortable=listing.sortable_columns(spec), system_labels=_system_labels(),
            search_labels=[label_text(spec.field(n).label) for n in spec.search],
            perms=self._permissions(), endpoint=self.__class__.__name__, description=label_text(spec.description))

    def _filter_widgets(self, req: listing.ListRequest) -> list[dict[str, Any]]:
        """What the filter panel shows: one control per YAML filter, with the current value."""
        svc, spec = self.services, self.register
        widgets = []
        for ref in spec.filters:
            f = spec.field(ref.field)
            op = listing.filter_op(spec, f.name)
            current = req.filters.get(f.name)
            widget: dict[str, Any] = {"field": f, "op": op, "label": label_text(f.label), "current": current}
            if f.type == "enum":
                widget["choices"] = svc.dictionaries.choices(f.dictionary)
            elif f.type == "tree":
                value = current.value if current else None
                widget["path"] = [{"code": n.code, "label": n.label(_locale())}
                                  for n in svc.dictionaries.ancestors(f.dictionary, value)] if value else []
                widget["url"] = url_for("DictionaryApi.children", name=f.dictionary)
            elif f.type == "reference":
                value = current.value if current else None
                target = svc.session.get(svc.models[f.target], value) if value else None
                widget["selected"] = (target.id, str(target)) if target is not None else None
                widget["url"] = url_for(f"{f.target}View.lookup")
            widgets.append(widget)
        return widgets

    def _permissions(self) -> dict[str, bool]:
        sm = self.appbuilder.sm
        name = self.class_permission_name
        return {action: sm.has_access(f"can_{action}", name) for action in ("add", "edit", "delete", "show")}

    # ---------------------------------------------------------------- show
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Any:
        spec, svc = self.register, self.services
        row = self._row_or_404(pk)
        fieldsets = _layout(spec, "show")
        children = {}
        for f in spec.fields:
            if f.type == "children":
                child_spec = svc.registry.register(f.target)
                children[f.name] = (child_spec, getattr(row, f.name))
        return self.render_template(
            self.show_template, title=label_text(spec.label), spec=spec, row=row, fieldsets=fieldsets,
            cell=lambda r, f, s=spec: html_value(s, f, r, svc.dictionaries, "show"),
            child_cell=lambda cs, f, r: html_value(cs, f, r, svc.dictionaries, "list"),
            children=children, label=label_text, perms=self._permissions(), endpoint=self.__class__.__name__,
            row_title=str(row))

    def _row_or_404(self, pk: Any) -> Any:
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            abort(404)
        row = self.services.session.get(self.datamodel.obj, pk)
        if row is None:
            abort(404)
        return row

    # ---------------------------------------------------------------- lookups and files
    @expose("/lookup")
    @has_access
    def lookup(self) -> Any:
        """Type-ahead search for reference pickers: {results: [{id, text}]}, at most 20."""
        spec, model = self.register, self.datamodel.obj
        text = request.args.get("q", "").strip()[:50]
        display = request.args.get("display", "")
        display = display if display in spec.field_map and spec.field(display).type == "string" else None
        stmt = select(model)
        names = [display or spec.title_field] + [n for n in spec.search if n != spec.title_field]
        if text:
            pattern = f"%{listing._escape_like(text)}%"
            stmt = stmt.where(or_(*(getattr(model, n).ilike(pattern, escape="\\") for n in names
                                    if n in spec.field_map)))
        if request.args.get("id", "").isdigit():
            stmt = select(model).where(model.id == int(request.args["id"]))
        rows = self.services.session.scalars(stmt.order_by(model.id.desc()).limit(20))
        return jsonify(results=[{"id": row.id, "text": str(getattr(row, display)) if display else str(row)}
                                for row in rows])

    @expose("/attachment/<int:pk>/<field_name>/<int:index>")
    @has_access
    def attachment(self, pk: int, field_name: str, index: int) -> Any:
        spec = self.register
        field = spec.field_map.get(field_name)
        if field is None or field.type not in ("attachment", "image"):
            abort(404)
        row = self._row_or_404(pk)
        files = getattr(row, field_name) or []
        if not 0 <= index < len(files):
            abort(404)
        record = files[index]
        try:
            path = self.services.files.path_of(record)
        except FileNotFoundError:
            abort(404)
        if not path.exists():
            abort(404)
        inline = field.type == "image" and record.get("type", "").startswith("image/")
        return send_file(path, mimetype=record.get("type"), download_name=record.get("name", path.name),
                         as_attachment=not inline)

    # ---------------------------------------------------------------- writes
    def pre_add(self, item: Any) -> None:
        item.created_by_id = item.updated_by_id = _user_id()

    def pre_update(self, item: Any) -> None:
        item.updated_by_id = _user_id()

    def pre_delete(self, item: Any) -> None:
        """Refuse to delete a row other registers still refer to, naming them (004 Q27)."""
        svc = self.services
        blockers = []
        for other, f in svc.registry.referrers(self.register.name):
            model = svc.models[other.name]
            count = svc.session.execute(
                select(func.count()).select_from(model).where(getattr(model, f"{f.name}_id") == item.id)
                .execution_options(include_all_rows=True)).scalar_one()
            if count:
                blockers.append(_("%(count)s record(s) of %(register)s", count=count, register=label_text(other.label)))
        if blockers:
            raise ValueError(_("This record cannot be deleted: it is still referred to by %(refs)s.",
                               refs=", ".join(blockers)))


def _system_labels() -> dict[str, str]:
    return {"id": _("ID"), "created_at": _("Created"), "updated_at": _("Updated")}


def _locale() -> str:
    from app.i18n import current_locale
    return current_locale()


def _user_id() -> int | None:
    from flask import g
    user = getattr(g, "user", None)
    return getattr(user, "id", None) if user is not None and not getattr(user, "is_anonymous", True) else None


def _layout(spec: RegisterSpec, section: str) -> list[tuple[str, list]]:
    """[(fieldset title, [field specs])] for the show page or the forms."""
    layout = getattr(spec, section) or (spec.form if section == "show" else None)
    if layout:
        return [(label_text(fs.label), [spec.field(n) for n in fs.fields]) for fs in layout.fieldsets]
    return [("", [f for f in spec.fields])]


def form_fieldsets(spec: RegisterSpec, names: tuple[str, ...]) -> list[tuple[Any, dict]]:
    """FAB's fieldsets for the add and edit forms, restricted to the fields the form holds."""
    if spec.form:
        sets = [(lazy_label(fs.label), {"fields": [n for n in fs.fields if n in names]}) for fs in spec.form.fieldsets]
        return [s for s in sets if s[1]["fields"]]
    return [(lazy_label(spec.label), {"fields": list(names)})]


__all__ = ["RegisterView", "form_fieldsets", "plain_value"]
