"""Descriptors → one controller per register behind the shared register screens, and their menu entries in
the YAML's order."""
from __future__ import annotations

from typing import Any

from flask_appbuilder import AppBuilder

from app.i18n import lazy_label
from app.metadata.spec import RegisterSpec
from app.security.actor import current_actor
from app.security.roles import menu_name
from app.services import Services

from .register_view import RegisterController, RegisterScreens


def register_views(appbuilder: AppBuilder, svc: Services) -> RegisterScreens:
    """Add the register screens and a menu link per register with a menu place."""
    screens = RegisterScreens()
    for spec in svc.registry.registers.values():
        if not spec.parent:
            screens.controllers[spec.name] = RegisterController(spec, svc, screens)
    appbuilder.add_view_no_menu(screens)
    for category, specs in svc.registry.menu_tree():
        for spec in specs:
            appbuilder.add_link(menu_name(spec), href=f"/r/{spec.name}/list/",
                                label=lazy_label(spec.menu.label or spec.label),
                                icon=spec.menu.icon, category=category.name,
                                category_label=lazy_label(category.label), category_icon=category.icon,
                                cond=_oversees(spec) if spec.goods_class else None)
    return screens


def _oversees(spec: RegisterSpec) -> Any:
    """The menu entry of a register of one goods class shows only in the sub-platforms that oversee it."""
    def cond() -> bool:
        from flask import current_app

        actor = current_actor()
        return actor is None or current_app.extensions["safety_policy"].oversees(spec, actor)
    return cond
