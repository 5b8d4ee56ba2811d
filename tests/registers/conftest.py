"""A county with its regulators and two enterprises with their accounts, for the 001 registers' tests."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import visible_text
from tests.security import factory


@pytest.fixture
def county(db_app) -> dict[str, Any]:
    """新北区 (应急): an administrator and an inspector; two enterprises there with their accounts; a regulator of
    朝阳 (another county) who must not reach any of it."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")
        first = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        second = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        return {
            "admin": factory.make_user(db_app, "org_admin", home).username,
            "inspector": factory.make_user(db_app, "inspector", home).username,
            "away": factory.make_user(db_app, "regulator", away).username,
            "enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=first.uscc).username,
            "other_enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=second.uscc).username,
            "enterprise_id": first.id, "enterprise_name": first.name, "other_id": second.id,
        }


def add(client: Any, register: str, data: dict[str, Any]) -> int:
    """Post the add form; the new row's id (the newest row the list links to)."""
    response = client.post_form(f"/r/{register}/add", data)
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[:800]
    listing = client.get(f"/r/{register}/list/?sort=-id").get_data(as_text=True)
    return max(int(i) for i in re.findall(rf'/r/{register}/show/(\d+)', listing))


def upload(client: Any, register: str, workbook: Any, name: str = "导入.xlsx") -> str:
    """Upload a filled template (add only); the job page's text."""
    response = client.post_form(f"/r/{register}/import", {"file": (workbook, name), "mode": "insert"},
                                page_url=f"/r/{register}/import", content_type="multipart/form-data")
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[-500:]
    return visible_text(client.get(response.headers["Location"]).get_data(as_text=True))
