"""REST API per register (/api/v1/<register>/): the same list arguments, forms, defaults, access rules and row
scope as the screens; every refusal in one JSON shape (errors.py); the OpenAPI document and its Swagger UI page
(openapi.py, docs.py). Signed in by the session (with the X-CSRFToken header on writes) or by HTTP Basic auth."""
from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request, session
from flask_babel import gettext, refresh
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from app.extensions import csrf
from app.i18n import label_text, list_separator
from app.records import blocking_references, scoped_get
from app.security.actor import actor_for, current_actor
from app.security.policy import AccessDenied
from app.workflow import TransitionRefused, WorkflowRefused
from app.workflow.screens import uploads_from_request
from app.query import listing
from app.security.tokens import user_of
from app.views.forms import build_form

from . import errors
from .errors import ApiError
from .payload import form_data, type_errors

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)
errors.register_handlers(api)

#: endpoints a browser opens without credentials (the Swagger UI page sends the user to the sign-in page)
_OPEN_ENDPOINTS = {"api.docs"}


def init_app(app: Flask) -> None:
    errors.init_app(app)
    app.register_blueprint(api)


@api.before_request
def _authenticate() -> Any:
    _sign_in()
    if any("\x00" in value for values in request.args.listvalues() for value in values):
        raise ApiError(400, gettext("Text may not contain a NUL character."))
    return None


def _sign_in() -> None:
    if request.endpoint in _OPEN_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_of(header[7:].strip())
        if user is None:
            raise ApiError(401, gettext("The token is unknown, expired or revoked."))
        _check_first_password(user)
        _act_as(user)
        return None
    if header.startswith("Basic "):
        try:
            username, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ApiError(401, gettext("The Authorization header cannot be read."))
        user = current_app.appbuilder.sm.auth_user_db(username, password)
        if user is None:
            raise ApiError(401, gettext("Wrong user name or password."))
        _check_first_password(user)
        _act_as(user)
        return None
    if not current_user.is_authenticated:
        raise ApiError(401)
    _check_first_password(current_user)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:  # a browser session writes only with the page's CSRF token
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except Exception:
            raise ApiError(400, gettext("The CSRF token is missing or invalid: send the page's token as "
                                        "X-CSRFToken."), code="csrf_invalid")
    return None


def _act_as(user: Any) -> None:
    g.user = user
    g._actor = actor_for(user)
    if getattr(user, "locale", None) in current_app.config["LANGUAGES"] and session.get("locale") != user.locale:
        session["locale"] = user.locale  # messages in the account's language, as on its pages
        refresh()


def _check_first_password(user: Any) -> None:
    if getattr(user, "must_change_password", False):
        raise ApiError(403, gettext("Change the first password on the web page first."),
                       code="password_change_required")


@api.errorhandler(AccessDenied)
def _denied(error: AccessDenied) -> Any:
    current_app.extensions["safety"].session.rollback()
    if isinstance(error, WorkflowRefused):
        return errors.error_response(ApiError(409, str(error), code="workflow_refused"))
    return errors.error_response(ApiError(403))


def _spec(register: str) -> Any:
    spec = current_app.extensions["safety"].registry.registers.get(register)
    if spec is None or spec.parent:
        raise ApiError(404, gettext("No such register."))
    return spec


def _require(spec: Any, action: str) -> None:
    if not current_app.extensions["safety_policy"].can(spec, current_actor(), action):
        raise ApiError(403)


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
    item["version"] = row.version
    return item


def _row(spec: Any, row_id: int) -> Any:
    """The row if the actor may see it. A row outside the actor's scope and a row that does not exist get the
    same 404 and the same body: the answer never tells whether someone else's row is there."""
    svc = current_app.extensions["safety"]
    row = scoped_get(svc.session, svc.models[spec.name], row_id)
    if row is None:
        raise ApiError(404)
    return row


@api.get("/<register>/")
def list_rows(register: str) -> Any:
    spec = _spec(register)
    _require(spec, "view")
    svc = current_app.extensions["safety"]
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    req = listing.parse_list_args(spec, request.args, hidden=hidden)
    wrong = {_filter_argument(flt): [gettext("Not a valid value for this filter.")]
             for flt in req.filters.values() if flt.error}
    # a filter on a field hidden from the caller (here, or on the register a reference points to) is not applied:
    # say so rather than answer rows it did not narrow
    wrong.update({f"f.{name}": [gettext("This filter is not available to you.")] for name in req.refused})
    if wrong:
        raise ApiError(422, fields=wrong)
    page = listing.load_page(svc.session, spec, svc.models[spec.name], req, svc.dictionaries, svc.dictionary_item,
                             current_app.config["LIST_COUNT_CAP"])
    return jsonify(count=page.total, capped=page.capped, estimated=page.estimated, page=page.page, size=page.size,
                   has_next=page.has_next, items=[serialize(spec, row, hidden) for row in page.rows])


def _filter_argument(flt: Any) -> str:
    return f"f.{flt.name}" + (".from" if flt.op == "range" else "")


@api.get("/<register>/<int:row_id>")
def get_row(register: str, row_id: int) -> Any:
    spec = _spec(register)
    _require(spec, "view")
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    row = _row(spec, row_id)
    response = jsonify(serialize(spec, row, hidden))
    response.set_etag(str(row.version))  # sent back in If-Match, a PUT is refused if the row changed meanwhile
    return response


def _child_specs(spec: Any) -> dict[str, Any]:
    registry = current_app.extensions["safety"].registry
    return {f.target: registry.register(f.target) for f in spec.fields if f.type == "children"}


def _save(spec: Any, row: Any, payload: Any, action: str) -> Any:
    svc = current_app.extensions["safety"]
    policy = current_app.extensions["safety_policy"]
    if not isinstance(payload, dict):
        raise ApiError(400, gettext("Send a JSON object (Content-Type: application/json)."))
    locked = policy.read_only_fields(spec, current_actor(), action)
    names = tuple(n for n in spec.form_fields if not spec.field(n).read_only and n not in locked)
    problems: dict[str, list[str]] = {}
    for name in sorted(set(payload) & (locked | {f.name for f in spec.fields if f.read_only})):
        problems[name] = [gettext("This field is read-only.")]
    for name in sorted(set(payload) - set(spec.field_map)):
        problems[name] = [gettext("Unknown field.")]
    children = _child_specs(spec)
    problems.update(type_errors(spec, children, {k: v for k, v in payload.items() if k not in problems}))
    if problems:
        raise ApiError(422, fields=problems)
    current = serialize(spec, row, frozenset()) if row is not None else None
    form = build_form(spec, svc, names)(formdata=form_data(spec, children, payload, current), meta={"csrf": False})
    form._id = row.id if row is not None else None
    if not form.validate():
        raise ApiError(422, fields=errors.form_errors(form.errors))
    target = row if row is not None else svc.models[spec.name]()
    form.populate_obj(target)
    if row is None:
        svc.session.add(target)
    if row is not None:
        row.updated_at = datetime.now()  # every change bumps the version, a change of child rows only too
    try:
        svc.session.commit()
    except StaleDataError:  # another change came between this request's read and its write
        svc.session.rollback()
        raise ApiError(412)
    except IntegrityError as exc:
        svc.session.rollback()
        raise ApiError(409, gettext("The database refused the record: %(reason)s",
                                    reason=str(exc.orig).splitlines()[0]))
    response = jsonify(serialize(spec, target, policy.hidden_fields(spec, current_actor())))
    response.set_etag(str(target.version))
    return response, 201 if row is None else 200


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
    if request.if_match and not request.if_match.contains(str(row.version)) and not request.if_match.star_tag:
        raise ApiError(412)
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
        raise ApiError(409, gettext("Still referred to by: %(registers)s.", registers=list_separator().join(
            f"{label_text(other.label)} ({count})" for other, count in blockers)), code="still_referenced")
    svc.session.delete(row)
    svc.session.commit()
    return "", 204


def _workflow(spec: Any) -> Any:
    if spec.workflow is None:
        raise ApiError(404, gettext("This register has no workflow."))
    return spec.workflow


@api.get("/<register>/<int:row_id>/transitions")
def list_transitions(register: str, row_id: int) -> Any:
    """The row's state, the steps this user may take now, and the steps taken so far."""
    spec = _spec(register)
    _require(spec, "view")
    workflow = _workflow(spec)
    row = _row(spec, row_id)
    engine = current_app.extensions["safety_workflow"]
    return jsonify(
        state=getattr(row, workflow.field),
        available=[{"name": t.name, "label": label_text(t.label), "to": t.to, "requires": t.require.model_dump()}
                   for t in engine.offered(spec, row, current_actor())],
        history=[{"transition": h.transition, "from": h.from_state, "to": h.to_state, "at": h.at.isoformat(),
                  "user": h.username, "organisation": h.organisation_name, "comment": h.comment,
                  "attachments": [a.get("name") for a in h.attachments or []]}
                 for h in engine.history(spec, row.id)])


@api.post("/<register>/<int:row_id>/transitions/<name>")
def take_transition(register: str, row_id: int, name: str) -> Any:
    """Take a step: JSON {"comment": ...}, or multipart with comment, files and signature."""
    spec = _spec(register)
    _require(spec, "view")
    if _workflow(spec).transition(name) is None:
        raise ApiError(404, gettext("No such transition."))
    row = _row(spec, row_id)
    payload = request.get_json(silent=True) if request.is_json else request.form
    comment = payload.get("comment") if isinstance(payload, (dict, MultiDict)) else None
    if comment is not None and not isinstance(comment, str):
        raise ApiError(422, fields={"comment": [gettext("Wrong type: expected %(types)s.", types="string")]})
    if comment and "\x00" in comment:
        raise ApiError(422, fields={"comment": [gettext("Text may not contain a NUL character.")]})
    files, signature = uploads_from_request()
    try:
        current_app.extensions["safety_workflow"].take(spec, row, name, current_actor(), comment, files, signature)
    except TransitionRefused as exc:
        raise ApiError(409, str(exc), code="transition_refused")
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    return jsonify(serialize(spec, row, hidden))


from . import docs, openapi  # noqa: E402,F401 - their routes join the blueprint before any app registers it

__all__ = ["api", "init_app", "serialize"]
