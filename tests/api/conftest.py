"""Accounts for the API tests: a county's regulator, inspector and administrator, an enterprise there with its
account, and a regulator of another county; a JSON client per account signed in by HTTP Basic."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.security import factory


class ApiClient:
    """Flask's test client with an account's HTTP Basic header on every call."""

    def __init__(self, flask_app: Any, username: str, password: str = factory.PASSWORD):
        self.client = flask_app.test_client()
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.client, method)
        return lambda url, **kwargs: call(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


@pytest.fixture
def county(db_app) -> dict[str, Any]:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        far = factory.make_row(svc, "enterprise", {"region": factory.AWAY_TOWNSHIP, "department": "emergency"})
        return {
            "regulator": factory.make_user(db_app, "regulator", home).username,
            "inspector": factory.make_user(db_app, "inspector", home).username,
            "admin": factory.make_user(db_app, "org_admin", home).username,
            "away": factory.make_user(db_app, "regulator", away).username,
            "enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=enterprise.uscc).username,
            "enterprise_id": enterprise.id, "far_enterprise_id": far.id,
        }


@pytest.fixture
def api_as(db_app):
    def make(username: str) -> ApiClient:
        return ApiClient(db_app, username, ADMIN_PASSWORD if username == "admin" else factory.PASSWORD)
    return make
