"""Roles of roles.yaml synced into FAB roles, with the permissions the registers' access rules imply."""
from __future__ import annotations

from typing import Any

from flask import current_app

from app.metadata import Registry
from app.metadata.spec import RegisterSpec


def menu_name(spec: RegisterSpec) -> str:
    """A register's menu item's permission name (menu_access on it shows the entry)."""
    return f"menu_{spec.name}"


def frequency_menu_name(name: str) -> str:
    """The menu item's permission name of a frequency page (menu_access on it shows the entry)."""
    return f"menu_frequency_{name}"


ACCOUNT_PERMISSIONS = [("can_list", "accounts"), ("can_add", "accounts"), ("can_edit", "accounts"),
                       ("menu_access", "menu_accounts"), ("menu_access", "menu_audit_log"),
                       ("menu_access", "menu_login_log")]


def wanted_permissions(registry: Registry) -> dict[str, set[tuple[str, str]]]:
    """role name → {(permission, view or menu)} derived from the YAML."""
    wanted: dict[str, set[tuple[str, str]]] = {name: set() for name in registry.roles}
    accounts = registry.enterprise_accounts
    for spec in registry.registers.values():
        if not spec.menu:
            continue
        for rule in spec.access:
            for role in rule.roles:
                perms = wanted.setdefault(role, set())
                perms |= {(f"can_{action}", spec.name) for action in rule.action_set}
                if "view" in rule.action_set:
                    perms |= {("menu_access", menu_name(spec)), ("menu_access", spec.menu.category)}
                if accounts and spec.name == accounts.target and "edit" in rule.action_set:
                    perms.add(("can_reset_enterprise", "accounts"))
    # a frequency page's menu entry: the roles named (else every role) that view its subjects and visits; the
    # entry's own condition (app.views.frequency.may_open) decides per account
    for freq in registry.frequencies.values():
        if freq.menu is None:
            continue
        viewers = [{role for rule in registry.register(name).access if "view" in rule.action_set
                    for role in rule.roles} for name in (freq.subjects, freq.visits.target)]
        for role in (set(freq.roles) or set(registry.roles)) & viewers[0] & viewers[1]:
            wanted.setdefault(role, set()).update({("menu_access", frequency_menu_name(freq.name)),
                                                   ("menu_access", freq.menu.category)})
    # permissions a plugin's own screens need (app.plugins.grant_permissions)
    for name, perms in current_app.extensions.get("safety_plugin_permissions", {}).items():
        wanted.setdefault(name, set()).update(perms)
    for name, role in registry.roles.items():
        if role.accounts:
            wanted[name] |= set(ACCOUNT_PERMISSIONS) | {("menu_access", "system")}
    return wanted


def sync_roles(appbuilder: Any, registry: Registry) -> None:
    """Make FAB's roles match roles.yaml (permissions replaced, not merged); Admin gets every permission."""
    sm = appbuilder.sm
    for name, perms in wanted_permissions(registry).items():
        role = sm.find_role(name) or sm.add_role(name)
        role.permissions = [sm.add_permission_view_menu(perm, view) for perm, view in sorted(perms)]
    admin = sm.find_role(current_app.config["AUTH_ROLE_ADMIN"])
    if admin is not None:
        for perm, view in {(p, v) for perms in wanted_permissions(registry).values() for p, v in perms}:
            pv = sm.add_permission_view_menu(perm, view)
            if pv not in admin.permissions:
                admin.permissions.append(pv)
    sm.session.commit()
