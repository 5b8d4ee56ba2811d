"""The layout's sidebar and breadcrumbs: FAB's permission-filtered menu as categories with their entries, the
entry of the current page marked, and the trail category › entry › page."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, g, redirect, request, url_for
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user

from app.security.actor import current_actor

# what the last crumb says on the shared screens (the register's own label is the crumb before it); endpoints
# without an entry in the menu name themselves here too
PAGE_CRUMBS = {
    "RegisterScreens.show": _l("Details"), "RegisterScreens.add": _l("Add"), "RegisterScreens.edit": _l("Edit"),
    "RegisterScreens.import_page": _l("Import"), "RegisterScreens.job": _l("Background job"),
    "AccountView.add": _l("New account"), "AccountView.edit": _l("Edit"),
    "PasswordView.info": _l("My account"), "PasswordView.password": _l("Change my password"),
    "WorkflowView.todo": _l("My to-do list"), "WorkflowView.inbox": _l("Messages"),
    "api.docs": _l("REST API"), "WarningView.index": _l("Warnings"), "AuditLogView.entry": _l("Details"),
    "AccountView.stats": _l("Account statistics"), "AccountView.import_page": _l("Import"),
    "SnapshotView.index": _l("My subscriptions"), "SubscriptionView.add": _l("Add"),
    "SubscriptionView.edit": _l("Edit"), "PublicDrawView.index": _l("Random inspections: published draws"),
    "PublicFormView.index": _l("Online applications"), "AuthDBView.login": _l("Sign In"),
}


@dataclass
class MenuEntry:
    name: str
    label: str
    icon: str
    url: str
    active: bool = False


@dataclass
class MenuCategory:
    name: str
    label: str
    icon: str
    entries: list[MenuEntry] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(entry.active for entry in self.entries)


@dataclass
class Layout:
    categories: list[MenuCategory]
    trail: list[tuple[str, str | None]]  # (label, url or None for the current page)
    title: list[str] = field(default_factory=list)  # the browser tab's: the page, then its menu entry


def _visible(sm: Any, name: str) -> bool:
    return bool(sm.has_access("menu_access", name))


def _entry(item: Any) -> MenuEntry:
    return MenuEntry(item.name, str(item.label), item.icon or "fa-circle-o", item.get_url())


def _score(entry: MenuEntry, path: str, register: str | None) -> int:
    """How well a menu entry names the current page: its register, its own URL, or a URL it is the folder of."""
    if register and entry.name == f"menu_{register}":
        return 3
    url = entry.url.split("?", 1)[0]
    if path == url:
        return 2
    folder = url[:-len("list/")] if url.endswith("/list/") else url
    return 1 if folder.endswith("/") and len(folder) > 1 and path.startswith(folder) else 0


def _offered(item: Any) -> bool:
    """An entry's own condition (FAB's ``cond`` of add_link/add_view), for entries that depend on the account
    beyond its permissions (上报位置: only an enterprise account has rows of its own to place)."""
    cond = getattr(item, "cond", None)
    return cond is None or bool(cond())


#: accounts whose visible menu an app keeps (app.extensions["menu_cache"], by what decides it: see _menu_key)
MENU_CACHE_SIZE = 2048


def _menu_rows(appbuilder: Any) -> tuple[tuple[str, str, str, tuple[tuple[str, str, str, str], ...]], ...]:
    """(name, label, icon, entries) of each category the account may open: FAB's permission checks and each
    entry's own condition decide (116 checks on a list page, ~14 ms)."""
    sm, rows = appbuilder.sm, []
    for item in appbuilder.menu.get_list():
        if not _visible(sm, item.name) or not _offered(item):
            continue
        children = item.childs or [item]
        entries = tuple(_entry(child) for child in children
                        if child and child.name != "-" and (child is item or (_visible(sm, child.name)
                                                                             and _offered(child))))
        if entries:
            rows.append((item.name, str(item.label), item.icon or "fa-folder",
                         tuple((e.name, e.label, e.icon, e.url) for e in entries)))
    return tuple(rows)


def _menu_key(appbuilder: Any) -> tuple | None:
    """What the menu of a signed-in account depends on: its permissions (fingerprint), the actor (roles,
    organisation, department and goods classes decide the entries' conditions), the language and the URL root.
    None (not cached) for anonymous pages and API-key requests."""
    user = g.get("user")
    if getattr(g, "_api_key_user", False) or not current_user.is_authenticated or user is None \
            or not getattr(user, "is_active", False):
        return None
    return (appbuilder.sm.request_permissions(user)[1], current_actor(), str(get_locale()), request.script_root)


def build_layout(with_menu: bool = True, page: str | None = None) -> Layout:
    """The visible menu (FAB's permission checks decide, as for its own navbar) and the breadcrumb trail, whose
    last crumb is `page` when given (an error page's title), else what PAGE_CRUMBS says of the endpoint."""
    appbuilder = current_app.appbuilder
    categories: list[MenuCategory] = []
    if with_menu:
        key = _menu_key(appbuilder)
        menus = current_app.extensions.setdefault("menu_cache", {})
        rows = menus.get(key) if key is not None else None
        if rows is None:
            rows = _menu_rows(appbuilder)
            if key is not None:
                if len(menus) >= MENU_CACHE_SIZE:
                    menus.clear()
                menus[key] = rows
        categories = [MenuCategory(name, label, icon, [MenuEntry(*entry) for entry in entries])
                      for name, label, icon, entries in rows]
    register = (request.view_args or {}).get("register") if request.view_args else None
    best, best_score = None, 0
    for category in categories:
        for entry in category.entries:
            score = _score(entry, request.path, register)
            if score > best_score:
                best, best_score = (category, entry), score
    trail: list[tuple[str, str | None]] = []
    title: list[str] = []
    if best:
        category, entry = best
        entry.active = True
        if len(category.entries) > 1 or category.name != entry.name:
            trail.append((category.label, None))
        trail.append((entry.label, entry.url))
        title.append(entry.label)
    page = page or PAGE_CRUMBS.get(request.endpoint or "")
    if page is not None:
        trail.append((str(page), None))
        title.insert(0, str(page))
    elif trail:
        trail[-1] = (trail[-1][0], None)  # the entry's own page: the last crumb is not a link
    return Layout(categories, trail, title)


def favicon() -> Any:
    """What a browser asks for where a page names no icon (a download, a bookmark): the one every page links."""
    return redirect(url_for("static", filename="img/favicon.svg"), 301)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["build_layout"] = build_layout
    app.add_url_rule("/favicon.ico", "favicon", favicon)
