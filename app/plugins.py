"""The plugin contract: how a package under plugins/ joins the app, and the one place plugins are loaded.

A plugin is a package ``plugins/<name>/`` named in the config list ``PLUGINS``. It may have:

- ``metadata/`` — its own metadata root (``registers/``, ``dictionaries/``): read with the product's YAML in
  one load, so its descriptors are validated like every other, with file:line errors, and get tables, screens,
  row scope, audit, import and export from the engine;
- ``init_app(app, registry)`` — REQUIRED: called once, inside the app context, after the engine's screens are
  registered; it adds the plugin's views (``app.appbuilder``), CLI commands and tables (on
  ``app.extensions["safety"].models.metadata``, so ``flask metadata migrate`` creates them);
- ``after_migrate(app, echo)`` — optional: called by `flask metadata migrate` once the schema plan is applied (not
  on a dry run), for what the plan does not compare (the charts plugin's summary tables and their triggers);
- ``after_bulk_load(app, tables, echo)`` — optional: called after a bulk load wrote ``tables`` by COPY with their
  user triggers disabled (`flask demo load --scale`): the plugin refills what its triggers keep (the chart
  summaries);
- ``add_home_panel(app, render)`` — a panel of the home page (the charts plugin's dashboard per role);
- ``add_message_link(app, kind, url)`` — where an inbox message of the plugin's own ``kind`` leads (a message
  about a register row opens the row; the charts plugin's subscription snapshots are not rows);
- ``add_account_link(app, link)`` — an entry of the user menu's 个人中心 part (the charts plugin's 我的订阅);
- ``templates/`` — found by the plugin's own blueprint (``template_folder``); its UI strings go through
  flask-babel like the engine's (babel.cfg extracts ``plugins/**``);
- tests under ``tests/plugins/<name>/``.

A plugin uses the engine's services (row scope, the write path, audit, Excel, workflow) and never another
plugin's internals. A plugin that cannot be imported, has no ``init_app``, or fails in it STOPS the start with
a PluginError naming the plugin and the cause: nothing boots half-equipped (unlike FAB's ADDON_MANAGERS, which
log the failure and go on).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from flask import current_app

PACKAGE = "plugins"


class PluginError(Exception):
    """A plugin could not be loaded: the message names the plugin, what went wrong and the fix."""


@dataclass(frozen=True)
class Plugin:
    name: str
    module: ModuleType

    @property
    def root(self) -> Path:
        return Path(self.module.__file__).resolve().parent

    @property
    def metadata_root(self) -> Path | None:
        """The plugin's own metadata root, when it has one."""
        root = self.root / "metadata"
        return root if root.is_dir() else None


def load_plugins(names: Iterable[str]) -> list[Plugin]:
    """Import each plugin named in PLUGINS, in order; the first that fails stops the start."""
    plugins: list[Plugin] = []
    for name in names:
        name = str(name).strip()
        if not name:
            continue
        if not name.isidentifier():
            raise PluginError(f"plugin {name!r}: not a package name — list names like 'random_draw' in PLUGINS")
        try:
            module = importlib.import_module(f"{PACKAGE}.{name}")
        except ImportError as exc:
            raise PluginError(f"plugin {name!r} could not be imported ({exc}) — check that plugins/{name}/__init__.py "
                              f"exists, or remove {name!r} from PLUGINS") from exc
        except Exception as exc:  # noqa: BLE001 - any error while importing a plugin stops the start, with its name
            raise PluginError(f"plugin {name!r} failed while being imported: {type(exc).__name__}: {exc}") from exc
        if not callable(getattr(module, "init_app", None)):
            raise PluginError(f"plugin {name!r} has no init_app(app, registry) — define it in "
                              f"plugins/{name}/__init__.py (see docs/plugins.md)")
        plugins.append(Plugin(name, module))
    return plugins


def grant_permissions(app: Any, permissions: dict[str, set[tuple[str, str]]]) -> None:
    """A plugin's screens' FAB permissions per role (e.g. its menu entry), synced with the registers' by
    `flask metadata migrate` / sync (app/security/roles.py): a role.yaml name → {(permission, view or menu)}."""
    granted = app.extensions.setdefault("safety_plugin_permissions", {})
    for role, perms in permissions.items():
        granted.setdefault(role, set()).update(perms)


def add_home_panel(app: Any, render: Any) -> None:
    """A panel of the home page (e.g. a dashboard): ``render()`` is called on each visit, in the request, and
    returns HTML (Markup) for the signed-in user or None to show nothing. Panels appear after the to-do list."""
    app.extensions.setdefault("safety_home_panels", []).append(render)


def add_row_links(app: Any, links: Callable[[Any, Any, Any], list[dict]]) -> None:
    """Buttons a plugin adds to a row's page: ``links(spec, row, actor)`` returns ``[{label, url, icon, id}]``
    (empty for rows and actors it has nothing for). Shown beside the workflow's buttons."""
    app.extensions.setdefault("safety_row_links", []).append(links)


def add_todo_source(app: Any, source: Callable[[Any], list[dict]]) -> None:
    """Entries a plugin adds to the home page's 待办: ``source(actor)`` returns ``[{label, count, url, register}]``."""
    app.extensions.setdefault("safety_todo_sources", []).append(source)


def add_message_link(app: Any, kind: str, url: Callable[[Any], str | None]) -> None:
    """Where the inbox sends a message of ``kind`` (the plugin's own, not about a register row): ``url(message)``
    returns the page, or None to stay in the inbox. The page itself must check that the reader may open it."""
    app.extensions.setdefault("safety_message_links", {})[kind] = url


def add_account_link(app: Any, link: dict) -> None:
    """An entry of the user menu after 个人中心 and 修改密码: ``{endpoint, label, icon, id}`` (a lazy label), shown
    to every signed-in user; the page answers for itself."""
    app.extensions.setdefault("safety_account_links", []).append(link)
    app.jinja_env.globals["account_links"] = account_links


def message_url(message: Any) -> str | None:
    """The page a plugin gives an inbox message of its own kind, or None."""
    link = current_app.extensions.get("safety_message_links", {}).get(message.kind)
    return link(message) if link is not None else None


def account_links() -> list[dict]:
    return list(current_app.extensions.get("safety_account_links", []))


def row_links(spec: Any, row: Any, actor: Any) -> list[dict]:
    return [link for links in current_app.extensions.get("safety_row_links", []) for link in links(spec, row, actor)]


def todo_entries(actor: Any) -> list[dict]:
    return [entry for source in current_app.extensions.get("safety_todo_sources", []) for entry in source(actor)]


def after_migrate(app: Any, echo: Callable[[str], Any]) -> None:
    """Each plugin's ``after_migrate(app, echo)``, in the order of PLUGINS."""
    for plugin in app.extensions.get("safety_plugins", {}).values():
        hook = getattr(plugin.module, "after_migrate", None)
        if callable(hook):
            hook(app, echo)


def after_bulk_load(app: Any, tables: list[str], echo: Callable[[str], Any]) -> None:
    """Each plugin's ``after_bulk_load(app, tables, echo)``, in the order of PLUGINS."""
    for plugin in app.extensions.get("safety_plugins", {}).values():
        hook = getattr(plugin.module, "after_bulk_load", None)
        if callable(hook):
            hook(app, tables, echo)


def metadata_roots(plugins: Iterable[Plugin]) -> list[Path]:
    return [p.metadata_root for p in plugins if p.metadata_root is not None]


def init_plugins(app: Any, registry: Any, plugins: Iterable[Plugin]) -> None:
    """Call each plugin's init_app; an exception becomes a PluginError that stops the start."""
    for plugin in plugins:
        try:
            plugin.module.init_app(app, registry)
        except PluginError:
            raise
        except Exception as exc:  # noqa: BLE001 - the start stops with the plugin's name and the cause
            raise PluginError(f"plugin {plugin.name!r} failed in init_app: {type(exc).__name__}: {exc}") from exc
    app.extensions["safety_plugins"] = {p.name: p for p in plugins}
