"""The related tabs of a row's page (一企一档): the rows of other registers that refer to it, per the YAML's
`related`, counted and listed in the viewer's row scope (the session's scope hook applies to every query here)."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.i18n import label_text
from app.metadata.related_checks import related_field
from app.metadata.spec import RegisterSpec
from app.records import scoped_get
from app.security.actor import current_actor
from app.security.row_scope import enterprise_anchor, own_enterprise_id
from app.services import Services

from app.query import listing
from app.query.formatting import html_value
from app.query.urls import register_url

#: rows listed in a tab; the count covers all, the link opens the full list
RELATED_ROWS = 10


def related_tabs(spec: RegisterSpec, services: Services, row: Any) -> list[dict[str, Any]]:
    """One tab per `related` entry the actor may view: label, count, first rows, list and add links."""
    policy = current_app.extensions["safety_policy"]
    actor = current_actor()
    tabs = []
    for related in spec.related:
        other = services.registry.register(related.target)
        actions = policy.actions(other, actor)
        if "view" not in actions:
            continue
        name = related_field(other, spec.name, related)
        model = services.models[other.name]
        link = getattr(model, f"{name}_id") == row.id
        count = services.session.execute(select(func.count(model.id)).where(link)).scalar_one()
        sort = listing.parse_sort(other, "")
        rows = list(services.session.scalars(
            listing.ordered(other, model, select(model).where(link), sort).limit(RELATED_ROWS)))
        hidden = policy.hidden_fields(other, actor)
        names = [n for n in (related.columns or other.list_columns) if n != name and n not in hidden]
        columns = [other.field(n) for n in names if n in other.field_map]
        settable = name not in policy.read_only_fields(other, actor, "add") and name in other.form_fields
        tabs.append({
            "key": f"{other.name}-{name}",
            "register": other.name,
            "label": label_text(related.label or other.label),
            "count": count,
            "columns": [label_text(f.label) for f in columns],
            "rows": [{"url": register_url(other.name, "show", pk=r.id),
                      "cells": [html_value(other, f, r, services.dictionaries, "list") for f in columns]}
                     for r in rows],
            "list_url": register_url(other.name, "list", **{f"f.{name}": row.id}),
            "add_url": register_url(other.name, "add", **{name: row.id})
            if "add" in actions and settable else None,
        })
    return tabs


def preset_references(spec: RegisterSpec, services: Services, form: Any, args: Any) -> None:
    """`?<reference>=<id>` presets a reference of an add form (a related tab's 新增) if the actor could choose that
    row in the field's picker (its row scope); any other preset is refused and the form says so. An enterprise
    account's own enterprise is preset where the register belongs to one."""
    for name, value in args.items():
        field = spec.field_map.get(name)
        if field is None or field.type != "reference" or name not in form._fields:
            continue
        target = scoped_get(services.session, services.models[field.target], int(value)) if value.isdigit() else None
        if target is None:
            flash(_("The preset %(field)s is not available to you; choose one.", field=label_text(field.label)),
                  "warning")
        else:
            form[name].data = target
    # an enterprise account adds rows of its own enterprise: that reference starts filled in (its picker offers
    # no other row; the stored row would be stamped with it anyway)
    anchor = enterprise_anchor(spec)
    actor = current_actor()
    if anchor in form._fields and form[anchor].data is None and actor is not None and actor.enterprise_key:
        own = own_enterprise_id(services.session, spec, actor)
        target = scoped_get(services.session, services.models[spec.field(anchor).target], own) if own else None
        if target is not None:
            form[anchor].data = target
