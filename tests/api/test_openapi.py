"""The OpenAPI document at /api/v1/openapi.json: a valid OpenAPI 3.1 document generated from the metadata (every
register, its list arguments, types, enums, defaults, transitions, the error shape, the ways to sign in); and its
Swagger UI page, served from the app's own files."""
from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import FormClient, login


def _document(api_as, username: str = "admin") -> dict:
    response = api_as(username).get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def test_the_document_is_valid_openapi_3_1_and_covers_every_register(db_app, api_as):
    doc = _document(api_as)
    validate(doc)  # raises with the path of the first problem
    assert doc["openapi"] == "3.1.0"
    registry = db_app.extensions["safety"].registry
    for spec in registry.registers.values():
        if spec.parent:
            assert f"/{spec.name}/" not in doc["paths"]  # child rows travel inside their parent's rows
            continue
        assert set(doc["paths"][f"/{spec.name}/"]) == {"get", "post"}
        assert {"get", "put", "delete"} <= set(doc["paths"][f"/{spec.name}/{{id}}"])
        for t in (spec.workflow.transitions if spec.workflow else ()):
            assert "post" in doc["paths"][f"/{spec.name}/{{id}}/transitions/{t.name}"]
        for operation in (doc["paths"][f"/{spec.name}/"]["get"], doc["paths"][f"/{spec.name}/{{id}}"]["delete"]):
            assert {"401", "403", "500"} <= set(operation["responses"])


def test_the_document_says_what_the_form_says(db_app, api_as):
    doc = _document(api_as)
    schemas = doc["components"]["schemas"]
    hazard = schemas["hazard_input"]
    # a field with a default is not required; its default is given (today's date is described: it moves)
    assert "found_on" not in hazard["required"] and "description" in hazard["required"]
    assert hazard["properties"]["level"]["default"] == "general"
    assert "general" in hazard["properties"]["level"]["enum"] and None in hazard["properties"]["level"]["enum"]
    assert "today" in hazard["properties"]["found_on"]["description"]
    assert "state" not in hazard["properties"] and "state" in schemas["hazard"]["properties"]
    assert "required" not in schemas["hazard_update"]  # an edit keeps what it leaves out
    # an item is checked later (满足/不满足/不涉及): its result is optional and has no default
    item = schemas["inspection_item_input"]
    assert "default" not in item["properties"]["result"] and item["required"] == ["content"]
    assert schemas["inspection_input"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/inspection_item_input"}
    listing = {p["name"] for p in doc["paths"]["/hazard/"]["get"]["parameters"]}
    assert {"q", "page", "size", "sort"} <= listing and any(name.startswith("f.") for name in listing)
    assert schemas["Error"]["required"] == ["error", "message", "fields"]
    assert set(doc["components"]["securitySchemes"]) == {"bearerToken", "basicAuth", "sessionCookie", "csrfToken"}
    assert doc["components"]["securitySchemes"]["csrfToken"] == {
        "type": "apiKey", "in": "header", "name": "X-CSRFToken",
        "description": doc["components"]["securitySchemes"]["csrfToken"]["description"]}
    # who may do what, in the UI language
    assert "企业用户" in doc["paths"]["/hazard/"]["post"]["description"]
    assert doc["paths"]["/hazard/{id}/transitions/submit"]["post"]["summary"] == "隐患台账: 提交整改"


def test_the_document_follows_the_ui_language(db_app, api_as):
    with db_app.app_context():
        user = db_app.appbuilder.sm.find_user(username="admin")
        user.locale = "en"
        db_app.extensions["safety"].session.commit()
    doc = _document(api_as)
    validate(doc)
    assert doc["paths"]["/hazard/{id}/transitions/submit"]["post"]["summary"].endswith(": Submit rectification")


def test_the_document_needs_an_account(db_app):
    response = db_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_swagger_ui_is_served_from_the_site(db_app):
    client = FormClient(db_app.test_client())
    assert client.get("/api/v1/docs").status_code == 302  # sign in first
    login(client, "admin", ADMIN_PASSWORD)
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-spec-url="/api/v1/openapi.json"' in html
    # every file and link of the page is on this site (in-page anchors of the layout's menus aside)
    assets = [a for a in re.findall(r'(?:src|href)="([^"]+)"', html) if not a.startswith("#")]
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
