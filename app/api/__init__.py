"""REST API per register (/api/v1/<register>/): the same list arguments, forms, access rules and row scope
as the screens. Signed in by the session (with the X-CSRFToken header on writes) or by HTTP Basic auth."""
from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app.extensions import csrf
from app.records import blocking_references, scoped_get
from app.security.actor import actor_for, current_actor
from app.security.policy import AccessDenied
from app.workflow import TransitionRefused, WorkflowRefused
from app.workflow.screens import uploads_from_request
from app.views import listing
from app.views.forms import build_form

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)


def init_app(app: Flask) -> None:
    app.register_blueprint(api)


@api.before_request
def _authenticate() -> Any:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            username, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            abort(401)
        user = current_app.appbuilder.sm.auth_user_db(username, password)
        if user is None:
            return jsonify(error="invalid credentials"), 401
        if user.must_change_password:
            return jsonify(error="change the first password on the web page first"), 403
        g.user = user
        g._actor = actor_for(user)
        return None
    if not current_user.is_authenticated:
        return jsonify(error="sign in first"), 401
    if getattr(current_user, "must_change_password", False):
        return jsonify(error="change the first password on the web page first"), 403
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:  # a browser session writes only with the page's CSRF token
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except CSRFError as exc:
            return jsonify(error=exc.description), 400
        except Exception:
            return jsonify(error="the CSRF token is missing or invalid"), 400
    return None


@api.errorhandler(AccessDenied)
def _denied(error: AccessDenied) -> Any:
    current_app.extensions["safety"].session.rollback()
    if isinstance(error, WorkflowRefused):
        return jsonify(error="refused by the workflow", reason=str(error)), 409
    return jsonify(error="forbidden"), 403


def _spec(register: str) -> Any:
    svc = current_app.extensions["safety"]
    spec = svc.registry.registers.get(register)
    if spec is None or spec.parent:
        abort(404)
    return spec


def _require(spec: Any, action: str) -> None:
    if not current_app.extensions["safety_policy"].can(spec, current_actor(), action):
        abort(403)


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value == value.to_integral_value() or abs(value) < 1e15 else str(value)
    return value


def serialize(spec: Any, row: Any, hidden: frozenset[str]) -> dict[str, Any]:
    svc = current_app.extensions["safety"]
    item: dict[str, Any] = {"id": row.id}
    for f in spec.fields:
        if f.name in hidden:
            continue
        if f.type == "reference":
            item[f.name] = getattr(row, f"{f.name}_id")
        elif f.type == "geo":
            lat, lng = getattr(row, f"{f.name}_lat"), getattr(row, f"{f.name}_lng")
            item[f.name] = None if lat is None else {"lat": float(lat), "lng": float(lng)}
        elif f.type == "children":
            child = svc.registry.register(f.target)
            item[f.name] = [serialize(child, c, frozenset()) for c in getattr(row, f.name)]
        elif f.type in ("attachment", "image"):
            item[f.name] = [{"name": a.get("name"), "size": a.get("size")} for a in getattr(row, f.name) or []]
        else:
            item[f.name] = _json_value(getattr(row, f.name))
    item["created_at"] = _json_value(row.created_at)
    item["updated_at"] = _json_value(row.updated_at)
    return item


def _row(spec: Any, row_id: int) -> Any:
    svc = current_app.extensions["safety"]
    model = svc.models[spec.name]
    row = scoped_get(svc.session, model, row_id)
    if row is None:
        exists = svc.session.execute(select(model.id).where(model.id == row_id)
                                     .execution_options(unscoped_reason="403 or 404")).first()
        abort(403 if exists else 404)
    return row


@api.get("/<register>/")
def list_rows(register: str) -> Any:
    spec = _spec(register)
    _require(spec, "view")
    svc = current_app.extensions["safety"]
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    req = listing.parse_list_args(spec, request.args, hidden=hidden)
    page = listing.load_page(svc.session, spec, svc.models[spec.name], req, svc.dictionaries, svc.dictionary_item,
                             current_app.config["LIST_COUNT_CAP"])
    return jsonify(count=page.total, capped=page.capped, estimated=page.estimated, page=page.page, size=page.size,
                   has_next=page.has_next, items=[serialize(spec, row, hidden) for row in page.rows])


@api.get("/<register>/<int:row_id>")
def get_row(register: str, row_id: int) -> Any:
    spec = _spec(register)
    _require(spec, "view")
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    return jsonify(serialize(spec, _row(spec, row_id), hidden))


def _formdata(spec: Any, payload: dict[str, Any], row: Any = None) -> MultiDict:
    """A JSON object as the form would have posted it (an edit starts from the row's current values)."""
    data = MultiDict()
    current = serialize(spec, row, frozenset()) if row is not None else {}
    for f in spec.fields:
        value = payload.get(f.name, current.get(f.name)) if f.name in payload or row is not None else None
        if value is None and row is None and f.name not in payload and f.default not in (None, "today", "now"):
            value = f.default  # a new row gets the field's default, as the form would have shown it
        if value is None:
            continue
        if f.type == "geo" and isinstance(value, dict):
            data.add(f"{f.name}_lat", str(value.get("lat", "")))
            data.add(f"{f.name}_lng", str(value.get("lng", "")))
        elif f.type == "children":
            for index, child in enumerate(value):
                for key, sub in child.items():
                    if sub is not None and key not in ("created_at", "updated_at"):
                        data.add(f"{f.name}-{index}-{key}", "y" if sub is True else str(sub))
        elif f.type in ("attachment", "image"):
            continue
        elif isinstance(value, list):
            for item in value:
                data.add(f.name, str(item))
        elif isinstance(value, bool):
            if value:
                data.add(f.name, "y")
        else:
            data.add(f.name, str(value))
    return data


def _save(spec: Any, row: Any, payload: Any, action: str) -> Any:
    svc = current_app.extensions["safety"]
    policy = current_app.extensions["safety_policy"]
    if not isinstance(payload, dict):
        return jsonify(error="send a JSON object"), 400
    locked = policy.read_only_fields(spec, current_actor(), action)
    names = tuple(n for n in spec.form_fields if not spec.field(n).read_only and n not in locked)
    refused = sorted(set(payload) & (locked | {f.name for f in spec.fields if f.read_only}))
    if refused:
        return jsonify(errors={name: ["read-only"] for name in refused}), 422
    unknown = sorted(set(payload) - set(spec.field_map))
    if unknown:
        return jsonify(errors={name: ["unknown field"] for name in unknown}), 422
    form = build_form(spec, svc, names)(formdata=_formdata(spec, payload, row if action == "edit" else None),
                                       meta={"csrf": False})
    form._id = row.id if action == "edit" else None
    if not form.validate():
        return jsonify(errors={name: [str(e) for e in errors] for name, errors in form.errors.items()}), 422
    target = row if row is not None else svc.models[spec.name]()
    form.populate_obj(target)
    if row is None:
        svc.session.add(target)
    try:
        svc.session.commit()
    except WorkflowRefused as exc:
        svc.session.rollback()
        return jsonify(error="refused by the workflow", reason=str(exc)), 409
    except AccessDenied:
        svc.session.rollback()
        return jsonify(error="forbidden"), 403
    except IntegrityError as exc:
        svc.session.rollback()
        return jsonify(error="the database refused the row", reason=str(exc.orig).splitlines()[0]), 409
    return jsonify(serialize(spec, target, policy.hidden_fields(spec, current_actor()))), 201 if row is None else 200


@api.post("/<register>/")
def create_row(register: str) -> Any:
    spec = _spec(register)
    _require(spec, "add")
    return _save(spec, None, request.get_json(silent=True), "add")


@api.put("/<register>/<int:row_id>")
def update_row(register: str, row_id: int) -> Any:
    spec = _spec(register)
    _require(spec, "edit")
    row = _row(spec, row_id)
    current_app.extensions["safety_policy"].require(spec, current_actor(), row, "edit")
    return _save(spec, row, request.get_json(silent=True), "edit")


@api.delete("/<register>/<int:row_id>")
def delete_row(register: str, row_id: int) -> Any:
    spec = _spec(register)
    _require(spec, "delete")
    svc = current_app.extensions["safety"]
    row = _row(spec, row_id)
    current_app.extensions["safety_policy"].require(spec, current_actor(), row, "delete")
    blockers = blocking_references(svc, spec, row.id)
    if blockers:
        return jsonify(error="still referred to", by={other.name: count for other, count in blockers}), 409
    svc.session.delete(row)
    svc.session.commit()
    return "", 204


@api.get("/<register>/<int:row_id>/transitions")
def list_transitions(register: str, row_id: int) -> Any:
    """The row's state, the steps this user may take now, and the steps taken so far."""
    spec = _spec(register)
    _require(spec, "view")
    if spec.workflow is None:
        abort(404)
    row = _row(spec, row_id)
    engine = current_app.extensions["safety_workflow"]
    return jsonify(
        state=getattr(row, spec.workflow.field),
        available=[{"name": t.name, "label": t.label.text(_locale()), "to": t.to,
                    "requires": t.require.model_dump()} for t in engine.offered(spec, row, current_actor())],
        history=[{"transition": h.transition, "from": h.from_state, "to": h.to_state, "at": h.at.isoformat(),
                  "user": h.username, "organisation": h.organisation_name, "comment": h.comment,
                  "attachments": [a.get("name") for a in h.attachments or []]}
                 for h in engine.history(spec, row.id)])


@api.post("/<register>/<int:row_id>/transitions/<name>")
def take_transition(register: str, row_id: int, name: str) -> Any:
    """Take a step: JSON {"comment": ...}, or multipart with comment, files and signature."""
    spec = _spec(register)
    _require(spec, "view")
    if spec.workflow is None:
        abort(404)
    row = _row(spec, row_id)
    payload = request.get_json(silent=True) if request.is_json else request.form
    comment = payload.get("comment") if isinstance(payload, (dict, MultiDict)) else None
    files, signature = uploads_from_request()
    try:
        current_app.extensions["safety_workflow"].take(spec, row, name, current_actor(), comment, files, signature)
    except TransitionRefused as exc:
        return jsonify(error="refused", reason=str(exc)), 409
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    return jsonify(serialize(spec, row, hidden))


def _locale() -> str:
    from app.i18n import current_locale
    return current_locale()


__all__ = ["api", "init_app"]
