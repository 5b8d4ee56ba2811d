"""Descriptor + mapped class → a FAB view class per register, added to the menu in the YAML's order."""
from __future__ import annotations

from typing import Any

from flask_appbuilder import AppBuilder
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import LazyString, gettext

from app.i18n import label_text, lazy_label
from app.metadata.spec import RegisterSpec
from app.services import Services

from .forms import build_form
from .register_view import RegisterView, form_fieldsets


class _NoSearchForm(DynamicForm):
    """FAB's own search form is replaced by the descriptor's filter panel."""


def _titles(spec: RegisterSpec) -> dict[str, LazyString]:
    name = lambda: label_text(spec.label)  # noqa: E731 - evaluated per request, in its language
    return {
        "show_title": LazyString(lambda: gettext("%(name)s: details", name=name())),
        "add_title": LazyString(lambda: gettext("Add to %(name)s", name=name())),
        "edit_title": LazyString(lambda: gettext("Edit %(name)s", name=name())),
    }


def build_view(spec: RegisterSpec, svc: Services) -> type[RegisterView]:
    model = svc.models[spec.name]
    form = build_form(spec, svc)
    names = tuple(n for n in spec.form_fields if not spec.field(n).read_only)
    fieldsets = form_fieldsets(spec, names)
    attrs: dict[str, Any] = {
        "register": spec,
        "services": svc,
        "datamodel": SQLAInterface(model),
        "route_base": f"/r/{spec.name}",
        "class_permission_name": spec.name,
        "list_title": lazy_label(spec.label),
        **_titles(spec),
        "label_columns": {f.name: lazy_label(f.label) for f in spec.fields},
        "list_columns": [c for c in spec.list_columns],
        "show_columns": [f.name for f in spec.fields],
        # FAB builds search filters for every column when this is empty (0.3 s per 100 views); ours are the YAML's
        "search_columns": ["id"],
        "search_form": _NoSearchForm,
        "add_form": form,
        "edit_form": form,
        "add_fieldsets": fieldsets,
        "edit_fieldsets": fieldsets,
        "page_size": spec.list_.page_size,
        # FAB keeps exactly these permissions for the view (import/export are used by their own endpoints)
        "base_permissions": [f"can_{a}" for a in ("view", "add", "edit", "delete", "import", "export")],
    }
    return type(f"{spec.name}View", (RegisterView,), attrs)


def register_views(appbuilder: AppBuilder, svc: Services) -> dict[str, type[RegisterView]]:
    """Add every register with a menu place to FAB, categories and entries in the YAML's order."""
    views = {}
    for category, specs in svc.registry.menu_tree():
        for spec in specs:
            view = build_view(spec, svc)
            appbuilder.add_view(view, menu_name(spec), label=lazy_label(spec.label), icon=spec.menu.icon,
                                category=category.name, category_label=lazy_label(category.label),
                                category_icon=category.icon)
            views[spec.name] = view
    return views


def menu_name(spec: RegisterSpec) -> str:
    """The menu item's permission name; distinct from the view's, else FAB's permission sync fights itself."""
    return f"menu_{spec.name}"
