"""列设置: each user's choice of a list's columns (order, hidden ones), stored per user and register in
sys_list_preference; the YAML's `list.columns` stay the default and the set to choose from."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from app.metadata.spec import RegisterSpec
from app.services import Services


def available_columns(spec: RegisterSpec, hidden: frozenset[str]) -> list[str]:
    """The columns a user may choose from: the list's columns, less the fields hidden from the user."""
    return [c for c in spec.list_columns if c not in hidden]


def stored_choice(services: Services, user_id: int | None, register: str) -> dict[str, list[str]] | None:
    if user_id is None:
        return None
    model = services.models.engine["ListPreference"]
    found = services.session.scalars(select(model.columns).where(model.user_id == user_id,
                                                                 model.register == register)).first()
    return found if isinstance(found, dict) else None


def chosen_columns(available: list[str], choice: dict[str, list[str]] | None) -> list[str]:
    """The columns shown, in order: the user's order (columns added to the YAML since come last), less the ones
    the user hid; with no choice, the YAML's."""
    if not choice:
        return list(available)
    order = [c for c in choice.get("order", []) if c in available]
    order += [c for c in available if c not in order]
    hidden = set(choice.get("hidden", []))
    shown = [c for c in order if c not in hidden]
    return shown or list(available)


def column_settings(available: list[str], choice: dict[str, list[str]] | None) -> list[tuple[str, bool]]:
    """(column, shown) in the user's order, for the 列设置 menu."""
    if not choice:
        return [(c, True) for c in available]
    shown = set(chosen_columns(available, choice))
    order = [c for c in choice.get("order", []) if c in available]
    order += [c for c in available if c not in order]
    return [(c, c in shown) for c in order]


def save_choice(services: Services, user_id: int, register: str, available: list[str], order: list[str],
                hidden: list[str]) -> None:
    """Store the user's columns (unknown names dropped; at least one column stays shown)."""
    order = [c for c in dict.fromkeys(order) if c in available]
    hidden = [c for c in dict.fromkeys(hidden) if c in available]
    if not [c for c in available if c not in hidden]:
        hidden = hidden[:-1]
    model = services.models.engine["ListPreference"]
    session = services.session
    row = session.scalars(select(model).where(model.user_id == user_id, model.register == register)).first()
    if row is None:
        row = model(user_id=user_id, register=register)
        session.add(row)
    row.columns = {"order": order, "hidden": hidden}
    row.updated_at = datetime.utcnow()
    session.commit()


def reset_choice(services: Services, user_id: int, register: str) -> None:
    model = services.models.engine["ListPreference"]
    services.session.execute(delete(model).where(model.user_id == user_id, model.register == register))
    services.session.commit()


def save_from_form(spec: RegisterSpec, services: Services, hidden_fields: frozenset[str], user_id: int,
                   form: Any) -> None:
    """The 列设置 menu's POST: `order` (comma-separated) and the ticked `shown` columns, or `reset`."""
    available = available_columns(spec, hidden_fields)
    if form.get("reset"):
        reset_choice(services, user_id, spec.name)
        return
    order = [c for c in form.get("order", "").split(",") if c] or available
    shown = set(form.getlist("shown"))
    save_choice(services, user_id, spec.name, available, order, [c for c in available if c not in shown])


def column_labels(spec: RegisterSpec, names: list[str], system_labels: dict[str, str], label: Any) -> dict[str, str]:
    return {n: label(spec.field(n).label) if n in spec.field_map else system_labels.get(n, n) for n in names}
