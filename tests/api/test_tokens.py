"""Personal API tokens: created in 个人中心 and shown once, stored as a hash, acting as their account (its scope),
no login-log row per call, refused once revoked or expired; creation and revocation in 操作日志."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from tests.helpers import FormClient, login, visible_text
from tests.security import factory


def _signed_in(db_app, username: str) -> FormClient:
    client = FormClient(db_app.test_client())
    login(client, username, factory.PASSWORD)
    return client


def _create(client: FormClient, name: str = "数据对接", days: str = "90") -> str:
    page = client.post_form("/account/tokens", {"name": name, "days": days}, page_url="/account/")
    assert page.status_code == 200
    return re.search(r'id="new-token-value">(sk_[\w-]+)<', page.get_data(as_text=True)).group(1)


def _login_rows(db_app, username: str) -> int:
    svc = db_app.extensions["safety"]
    log = svc.models.engine["LoginLog"]
    with db_app.app_context():
        return svc.session.scalar(select(func.count()).select_from(log).where(log.username == username))


def test_a_token_acts_as_its_account_until_revoked(db_app, county):
    owner = _signed_in(db_app, county["regulator"])
    token = _create(owner)
    # shown once: the page afterwards lists it by its first characters only, and only a hash is stored
    listing = owner.get("/account/").get_data(as_text=True)
    assert token not in listing and token[:10] in listing and "数据对接" in listing
    svc = db_app.extensions["safety"]
    table = svc.models.engine["ApiToken"]
    with db_app.app_context():
        stored = svc.session.scalars(select(table.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0]

    api = db_app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    before = _login_rows(db_app, county["regulator"])
    for _ in range(3):
        mine = api.get(f"/api/v1/enterprise/{county['enterprise_id']}", headers=bearer)
        assert mine.status_code == 200
    # the account's scope: another county's enterprise is as unknown as a missing one
    assert api.get(f"/api/v1/enterprise/{county['far_enterprise_id']}", headers=bearer).status_code == 404
    assert _login_rows(db_app, county["regulator"]) == before  # no login-log row per call
    assert "最近使用" in visible_text(owner.get("/account/").get_data(as_text=True))

    token_id = re.search(r'data-token="(\d+)"', owner.get("/account/").get_data(as_text=True)).group(1)
    # nobody else may revoke it
    other = _signed_in(db_app, county["admin"])
    other.post_form(f"/account/tokens/{token_id}/revoke", {}, page_url="/account/")
    assert api.get(f"/api/v1/enterprise/{county['enterprise_id']}", headers=bearer).status_code == 200
    owner.post_form(f"/account/tokens/{token_id}/revoke", {}, page_url="/account/")
    refused = api.get(f"/api/v1/enterprise/{county['enterprise_id']}", headers=bearer)
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized"

    log = visible_text(_signed_in_admin(db_app).get("/audit/changes/?f.register=account&size=50")
                       .get_data(as_text=True))
    assert "API 令牌" in log and "已创建：数据对接" in log and "已撤销：数据对接" in log


def _signed_in_admin(db_app) -> FormClient:
    from tests.conftest import ADMIN_PASSWORD
    client = FormClient(db_app.test_client())
    login(client, "admin", ADMIN_PASSWORD)
    return client


def test_an_expired_or_forged_token_is_refused(db_app, county):
    owner = _signed_in(db_app, county["enterprise"])
    token = _create(owner, "企业对接", "30")
    api = db_app.test_client()
    # an enterprise's token sees its own enterprise only
    assert api.get(f"/api/v1/enterprise/{county['enterprise_id']}",
                   headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert api.get(f"/api/v1/enterprise/{county['far_enterprise_id']}",
                   headers={"Authorization": f"Bearer {token}"}).status_code == 404
    svc = db_app.extensions["safety"]
    table = svc.models.engine["ApiToken"]
    with db_app.app_context():
        svc.session.execute(update(table).values(expires_at=datetime.now() - timedelta(minutes=1)))
        svc.session.commit()
    for sent in (token, token[:-1] + ("A" if token[-1] != "A" else "B"), "sk_"):
        assert api.get("/api/v1/enterprise/", headers={"Authorization": f"Bearer {sent}"}).status_code == 401
    assert "已过期" in visible_text(owner.get("/account/").get_data(as_text=True))
