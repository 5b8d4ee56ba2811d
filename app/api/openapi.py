"""The OpenAPI 3.1 document of the REST API, built from the register descriptors (GET /api/v1/openapi.json).

Built as a plain dict: its schemas come from our descriptors, not from marshmallow or dataclasses, so apispec's
plugins would have nothing to read and its APISpec would only wrap the same dict (README, "Libraries and why")."""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask_babel import gettext, ngettext

from app.i18n import label_text, list_separator
from app.metadata.spec import FieldBase, RegisterSpec
from app.views.forms import INTEGER_RANGE, initial_value
from app.query.listing import filter_label, list_filters, sortable_columns

from . import api
from .errors import CODES

JSON = "application/json"
ID_MAX = 2 ** 31 - 1  # the id columns are INTEGER
READ_SECURITY = [{"bearerToken": []}, {"basicAuth": []}, {"sessionCookie": []}]
WRITE_SECURITY = [{"bearerToken": []}, {"basicAuth": []}, {"sessionCookie": [], "csrfToken": []}]
#: the refusals each kind of operation may answer (with the Error schema)
READ_ERRORS = (400, 401, 403, 404, 500)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 500)
#: optional on PUT: the ETag (the row's version) the client read; a row changed since is refused with 412
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "The ETag of the GET the change is based on, e.g. \"3\"; 412 if the row changed since."}
LIST_ERRORS = (400, 401, 403, 422, 500)


@api.get("/openapi.json")
def openapi_document() -> Any:
    return jsonify(build_document())


def build_document() -> dict[str, Any]:
    """Every register that has its own API (child registers travel inside their parent's rows)."""
    svc = current_app.extensions["safety"]
    registry = svc.registry
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": gettext("Work-safety supervision back office API"), "version": "1",
                 "description": gettext(
                     "The registers of the back office, with the same forms, defaults, access rules and row scope "
                     "as the screens. Sign in with HTTP Basic (user name and password) or use the session of the "
                     "web page; a session writes only with the page's CSRF token in the X-CSRFToken header. "
                     "A record outside your scope answers 404, like a record that does not exist.")},
        "servers": [{"url": "/api/v1"}],
        "tags": [],
        "paths": {},
        "components": {"schemas": {"Error": _error_schema()}, "securitySchemes": _security_schemes(),
                       "responses": {str(status): _error_response(status) for status in CODES}},
    }
    builder = _Builder(svc)
    for spec in registry.registers.values():
        if spec.parent:
            continue
        doc["tags"].append({"name": spec.name, "description": label_text(spec.label)})
        doc["components"]["schemas"].update(builder.schemas(spec))
        doc["paths"].update(builder.paths(spec))
    return doc


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object", "required": ["error", "message", "fields"], "additionalProperties": False,
        "properties": {
            "error": {"type": "string", "description": "a stable code: " + ", ".join(c for c, _ in CODES.values())
                      + ", csrf_invalid, password_change_required, workflow_refused, transition_refused, "
                        "still_referenced"},
            "message": {"type": "string", "description": "for people, in the user's UI language"},
            "fields": {"type": "object", "description": "messages per field; a child row's field as "
                                                        "'items[0].result', a list filter as 'f.<field>'",
                       "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
    }


def _error_response(status: int) -> dict[str, Any]:
    return {"description": str(CODES[status][1]),
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _security_schemes() -> dict[str, Any]:
    return {
        "bearerToken": {"type": "http", "scheme": "bearer",
                        "description": "a personal API token created in 个人中心 (acts as its account; no login-log "
                                       "row per call)"},
        "basicAuth": {"type": "http", "scheme": "basic",
                      "description": "user name and password of an account (an enterprise's login is its code)"},
        "sessionCookie": {"type": "apiKey", "in": "cookie",
                          "name": current_app.config.get("SESSION_COOKIE_NAME", "session"),
                          "description": "the session of the web page after signing in"},
        "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                      "description": "the page's CSRF token; required on writes made with the session cookie"},
    }


def _responses(success: dict[str, Any], errors: tuple[int, ...]) -> dict[str, Any]:
    return {**success, **{str(s): {"$ref": f"#/components/responses/{s}"} for s in errors}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        schema = {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**schema, "type": [*kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


class _Builder:
    def __init__(self, svc: Any):
        self.svc, self.registry = svc, svc.registry

    # ------------------------------------------------------------ schemas
    def schemas(self, spec: RegisterSpec) -> dict[str, Any]:
        created = self.input_schema(spec, for_child=False)
        changed = {k: v for k, v in created.items() if k != "required"}  # an edit keeps what it leaves out
        out = {spec.name: self.item_schema(spec), f"{spec.name}_input": created, f"{spec.name}_update": changed,
               f"{spec.name}_list": self.list_schema(spec)}
        for f in spec.fields:
            if f.type == "children":
                child = self.registry.register(f.target)
                out[f.target] = self.item_schema(child)
                out[f"{f.target}_input"] = self.input_schema(child, for_child=True)
        return out

    def item_schema(self, spec: RegisterSpec) -> dict[str, Any]:
        """A row as the API answers it; fields hidden from the account are left out, so only id is required."""
        props: dict[str, Any] = {"id": {"type": "integer"}}
        for f in spec.fields:
            props[f.name] = {**self.output_type(f), **self._describe(f)}
        props["created_at"] = {"type": ["string", "null"], "description": "ISO 8601, server time"}
        props["updated_at"] = {"type": ["string", "null"], "description": "ISO 8601, server time"}
        props["version"] = {"type": "integer", "minimum": 1,
                            "description": "+1 on every change; also the ETag of GET, for If-Match on PUT"}
        return {"type": "object", "title": label_text(spec.label), "required": ["id"],
                "additionalProperties": False, "properties": props}

    def output_type(self, f: FieldBase) -> dict[str, Any]:
        match f.type:
            case "integer" | "reference":
                return {"type": ["integer", "null"]}
            case "decimal":
                return {"type": ["number", "string", "null"]}
            case "boolean":
                return {"type": ["boolean", "null"]}
            case "date":
                return {"type": ["string", "null"], "format": "date"}
            case "enum" if getattr(f, "multiple", False):
                return {"type": ["array", "null"], "items": {"type": "string"}}
            case "attachment" | "image":
                return {"type": ["array", "null"], "items": {
                    "type": "object", "properties": {"name": {"type": ["string", "null"]},
                                                     "size": {"type": ["integer", "null"]}}}}
            case "geo":
                return _nullable(self._geo())
            case "children":
                return {"type": "array", "items": _ref(f.target)}
        return {"type": ["string", "null"]}

    def input_schema(self, spec: RegisterSpec, for_child: bool) -> dict[str, Any]:
        """What a POST or PUT sends: the form's writable fields. A field left out takes its default on a new row
        and keeps its value on an edit; required fields without a default must be sent for a new row."""
        names = [f.name for f in spec.fields if not f.read_only and f.type != "children"] if for_child \
            else [n for n in spec.form_fields if not spec.field(n).read_only]
        props: dict[str, Any] = {}
        required = []
        if for_child:
            props["id"] = {"type": "integer", "minimum": 1, "maximum": ID_MAX,
                           "description": "a stored row's id keeps that row (its other values stay)"}
        for name in names:
            f = spec.field(name)
            if f.type in ("attachment", "image"):
                continue  # files are sent on the pages or with a transition (multipart)
            schema = self.input_type(f)
            default = initial_value(f) if f.default not in ("today", "now") else None
            if default is not None and f.type not in ("children",):
                schema["default"] = default
            props[name] = {**schema, **self._describe(f)}
            if f.required and f.default is None and f.type not in ("boolean", "geo"):
                required.append(name)
        schema: dict[str, Any] = {"type": "object", "title": label_text(spec.label), "properties": props,
                                  "additionalProperties": False}
        if required:
            schema["required"] = required
        return schema

    def input_type(self, f: FieldBase) -> dict[str, Any]:
        """Null (or leaving the field out of an edit) is an empty field; a required one refuses it."""
        match f.type:
            case "string":
                return _nullable({"type": "string", "maxLength": f.length})
            case "integer":
                return _nullable({"type": "integer", "minimum": INTEGER_RANGE[0], "maximum": INTEGER_RANGE[1]})
            case "decimal":
                return {"type": ["number", "string", "null"],
                        "description": f"at most {f.precision - f.scale} digits before the point, {f.scale} after"}
            case "boolean":
                return {"type": ["boolean", "null"]}
            case "date":
                return _nullable({"type": "string", "format": "date"})
            case "datetime":
                return _nullable({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"})
            case "enum":
                codes = self._codes(f.dictionary)
                item = {"type": "string", **({"enum": codes} if codes else {})}
                if getattr(f, "multiple", False):
                    return {"type": ["array", "null"], "items": item, "uniqueItems": True}
                return _nullable(item)
            case "tree":
                return _nullable({"type": "string", "maxLength": 64,
                                  "description": f"a code of the tree dictionary '{f.dictionary}'"})
            case "reference":
                return _nullable({"type": "integer", "minimum": 1, "maximum": ID_MAX,
                                  "description": f"the id of a '{f.target}' row you may see"})
            case "geo":
                return _nullable(self._geo())
            case "children":
                return {"type": "array", "items": _ref(f"{f.target}_input"), "maxItems": f.max_rows}
        return _nullable({"type": "string"})

    @staticmethod
    def _geo() -> dict[str, Any]:
        return {"type": "object", "required": ["lat", "lng"], "additionalProperties": False,
                "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                               "lng": {"type": "number", "minimum": -180, "maximum": 180}}}

    def _codes(self, dictionary: str) -> list[str]:
        spec = self.registry.dictionaries.get(dictionary)
        if spec is not None and spec.kind == "tree":
            return []
        try:
            return [code for code, _ in self.svc.dictionaries.choices(dictionary)]
        except KeyError:
            return []

    @staticmethod
    def _describe(f: FieldBase) -> dict[str, Any]:
        text = label_text(f.label)
        if f.help:
            text += f" — {label_text(f.help)}"
        if f.default in ("today", "now"):
            text += f" (default: {f.default})"
        if f.read_only:
            text += " (read-only)"
        return {"description": text}

    def list_schema(self, spec: RegisterSpec) -> dict[str, Any]:
        return {"type": "object", "required": ["count", "capped", "estimated", "page", "size", "has_next", "items"],
                "additionalProperties": False,
                "properties": {"count": {"type": ["integer", "null"]}, "capped": {"type": "boolean"},
                               "estimated": {"type": "boolean"}, "page": {"type": "integer"},
                               "size": {"type": "integer"}, "has_next": {"type": "boolean"},
                               "items": {"type": "array", "items": _ref(spec.name)}}}

    # ------------------------------------------------------------ paths
    def _who(self, spec: RegisterSpec, action: str) -> str:
        """Which roles may take the action, on which rows: the access rules in words (administrators may do all)."""
        parts = []
        for rule in spec.access:
            if action in rule.action_set:
                roles = list_separator().join(label_text(self.registry.roles[r].label) if r in self.registry.roles else r
                                 for r in rule.roles)
                locked = [n for n in (*rule.read_only, *rule.hidden) if n in spec.field_map] \
                    if action in ("add", "edit") else []
                parts.append(f"{roles} ({', '.join(rule.scope)})" + (
                    gettext(" — may not send: %(fields)s", fields=", ".join(locked)) if locked else ""))
        allowed = "; ".join(parts) or "—"
        return gettext("Allowed for administrators and: %(roles)s. Other accounts get 403.", roles=allowed)

    def paths(self, spec: RegisterSpec) -> dict[str, Any]:
        name, label, tags = spec.name, label_text(spec.label), [spec.name]
        row_id = {"name": "id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX}}
        item = {"description": label, "content": {JSON: {"schema": _ref(name)}}}
        body = {"required": True, "content": {JSON: {"schema": _ref(f"{name}_input")}}}
        update = {"required": True, "content": {JSON: {"schema": _ref(f"{name}_update")}}}
        paths: dict[str, Any] = {
            f"/{name}/": {
                "get": {"operationId": f"{name}_list", "tags": tags, "summary": f"{label}: list",
                        "description": self._who(spec, "view"), "parameters": self.list_parameters(spec),
                        "security": READ_SECURITY,
                        "responses": _responses({"200": {"description": label, "content": {
                            JSON: {"schema": _ref(f"{name}_list")}}}}, LIST_ERRORS)},
                "post": {"operationId": f"{name}_create", "tags": tags, "summary": f"{label}: add",
                         "description": self._who(spec, "add"), "requestBody": body, "security": WRITE_SECURITY,
                         "responses": _responses({"201": item}, WRITE_ERRORS)},
            },
            f"/{name}/{{id}}": {
                "parameters": [row_id],
                "get": {"operationId": f"{name}_get", "tags": tags, "summary": f"{label}: one record",
                        "description": self._who(spec, "view"), "security": READ_SECURITY,
                        "responses": _responses({"200": item}, READ_ERRORS)},
                "put": {"operationId": f"{name}_update", "tags": tags, "summary": f"{label}: change",
                        "description": self._who(spec, "edit") + " " + gettext(
                            "Fields left out keep their values."),
                        "parameters": [IF_MATCH], "requestBody": update, "security": WRITE_SECURITY,
                        "responses": _responses({"200": item}, WRITE_ERRORS + (412,))},
                "delete": {"operationId": f"{name}_delete", "tags": tags, "summary": f"{label}: delete",
                           "description": self._who(spec, "delete"), "security": WRITE_SECURITY,
                           "responses": _responses({"204": {"description": gettext("Deleted.")}},
                                                   (400, 401, 403, 404, 409, 500))},
            },
        }
        if spec.workflow is not None:
            paths.update(self.transition_paths(spec, row_id, item))
        return paths

    def list_parameters(self, spec: RegisterSpec) -> list[dict[str, Any]]:
        sort_keys = sorted(sortable_columns(spec))
        params = [
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100},
             "description": gettext("Quick search in: %(fields)s", fields=list_separator().join(
                 label_text(spec.field(n).label) for n in spec.search if n in spec.field_map) or "—")},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000,
                                                       "default": 1}},
            {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 5, "maximum": 500,
                                                       "default": spec.list_.page_size}},
            {"name": "sort", "in": "query", "schema": {"type": "string"},
             "description": gettext("Comma-separated fields, '-' for descending: %(keys)s",
                                    keys=", ".join(sort_keys))},
            {"name": "ids", "in": "query", "style": "form", "explode": True,
             "schema": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX}},
             "description": gettext("Only these rows (ids)")},
        ]
        for flt in list_filters(spec, self.registry):
            f, op, name = flt.field, flt.op, flt.name
            value = self.input_type(f) if f.type not in ("children", "geo") else {"type": "string"}
            value = {k: v for k, v in value.items() if k not in ("default",)}
            value = value.get("anyOf", [value])[0] if "anyOf" in value else value
            if isinstance(value.get("type"), list):
                value = {**value, "type": next(t for t in value["type"] if t != "null")}
            if value.get("type") == "array":
                value = value["items"]
            label = filter_label(flt)
            if op == "range":
                for end in ("from", "to"):
                    params.append({"name": f"f.{name}.{end}", "in": "query", "schema": value,
                                   "description": f"{label} ({end})"})
            elif op == "in":
                params.append({"name": f"f.{name}", "in": "query", "style": "form", "explode": True,
                               "schema": {"type": "array", "items": value}, "description": label})
            else:
                params.append({"name": f"f.{name}", "in": "query", "schema": value,
                               "description": f"{label} ({op})"})
        return params

    def transition_paths(self, spec: RegisterSpec, row_id: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        name, label, tags = spec.name, label_text(spec.label), [spec.name]
        workflow = spec.workflow
        states = [s.name for s in workflow.states]
        paths: dict[str, Any] = {f"/{name}/{{id}}/transitions": {"parameters": [row_id], "get": {
            "operationId": f"{name}_transitions", "tags": tags, "summary": f"{label}: state and steps",
            "description": gettext("The state, the steps you may take now and the steps taken so far."),
            "security": READ_SECURITY,
            "responses": _responses({"200": {"description": label, "content": {JSON: {"schema": {
                "type": "object", "required": ["state", "available", "history"],
                "properties": {
                    "state": {"type": ["string", "null"], "enum": [*states, None]},
                    "available": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "label": {"type": "string"}, "to": {"type": "string"},
                        "requires": {"type": "object"}}}},
                    "history": {"type": "array", "items": {"type": "object"}}}}}}}}, READ_ERRORS)}}}
        for t in workflow.transitions:
            needs = []
            if t.require.comment:
                needs.append(gettext("a comment"))
            if t.require.attachments:
                needs.append(ngettext("%(num)s file (%(types)s)", "%(num)s files (%(types)s)", t.require.attachments,
                                      types=", ".join(t.require.accept)))
            if t.require.signature:
                needs.append(gettext("a signature image"))
            roles = list_separator().join(label_text(self.registry.roles[r].label) if r in self.registry.roles else r
                             for r in t.roles)
            description = gettext("From %(states)s to %(to)s, for %(roles)s (and administrators).",
                                  states=", ".join(t.from_), to=t.to, roles=roles)
            if needs:
                description += " " + gettext("Requires: %(needs)s.", needs=", ".join(needs))
            comment = {"type": "string", "description": gettext("comment (意见)")}
            multipart = {"type": "object", "properties": {
                "comment": comment,
                "files": {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"}},
                "signature": {"type": "string", "contentMediaType": "image/png"}}}
            paths[f"/{name}/{{id}}/transitions/{t.name}"] = {"parameters": [row_id], "post": {
                "operationId": f"{name}_transition_{t.name}", "tags": tags,
                "summary": f"{label}: {label_text(t.label)}", "description": description,
                "security": WRITE_SECURITY,
                "requestBody": {"required": False, "content": {
                    JSON: {"schema": {"type": "object", "properties": {"comment": _nullable(comment)}}},
                    "multipart/form-data": {"schema": multipart}}},
                "responses": _responses({"200": item}, WRITE_ERRORS)}}
        return paths
