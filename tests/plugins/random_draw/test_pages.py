"""The draw screens over HTTP: the pool size before drawing, the user's scope on the pool and on a forced id,
and the public page (no login, publishable data only)."""
from __future__ import annotations

import json

from sqlalchemy import select

from tests.helpers import FormClient, login, visible_text
from tests.security.factory import PASSWORD

from .conftest import HOME_TOWNSHIPS, World


def signed_in(world: World, user_id: int) -> FormClient:
    with world.app.app_context():
        username = world.app.appbuilder.sm.get_user_by_id(user_id).username
    client = FormClient(world.app.test_client())
    login(client, username, PASSWORD)
    return client


def latest_draw(world: World):
    """The newest draw, read in an app context of its own and detached (its columns are loaded)."""
    with world.app.app_context():
        draw = world.svc.session.execute(select(world.draws.Draw).order_by(world.draws.Draw.id.desc())) \
            .scalars().first()
        world.svc.session.expunge(draw)
        return draw


def test_pool_size_is_shown_within_scope(web_world: World) -> None:
    world = web_world
    client = signed_in(world, world.home_user)
    page = visible_text(client.get("/random_draw/?preview=1&mode=count&count=5").get_data(as_text=True))
    assert "符合条件的企业共 50 家" in page
    page = visible_text(client.get(f"/random_draw/?preview=1&f.region={HOME_TOWNSHIPS[0]}").get_data(as_text=True))
    assert "符合条件的企业共 25 家" in page
    away = signed_in(world, world.away_user)
    assert "符合条件的企业共 10 家" in visible_text(away.get("/random_draw/?preview=1").get_data(as_text=True))


def test_a_forced_id_of_another_county_is_refused(web_world: World) -> None:
    world = web_world
    client = signed_in(world, world.home_user)
    response = client.post_form("/random_draw/prepare", {"mode": "count", "count": "1", "per_enterprise": "1",
                                                         "ids": [str(world.away_enterprises[0])]},
                                page_url="/random_draw/")
    assert response.status_code == 302
    draw = latest_draw(world)
    page = client.post_form(f"/random_draw/{draw.id}/draw", {"public_value": ""}, page_url=f"/random_draw/{draw.id}",
                            follow_redirects=True)
    assert "不在您的管辖范围内" in visible_text(page.get_data(as_text=True))
    assert latest_draw(world).state == "prepared" and latest_draw(world).record is None


def test_another_countys_user_cannot_open_or_confirm_the_draw(web_world: World) -> None:
    world = web_world
    client = signed_in(world, world.home_user)
    client.post_form("/random_draw/prepare", {"mode": "count", "count": "2", "per_enterprise": "1"},
                     page_url="/random_draw/")
    draw = latest_draw(world)
    away = signed_in(world, world.away_user)
    assert away.get(f"/random_draw/{draw.id}").status_code == 404
    token = away.csrf_token("/random_draw/")
    page = away.post(f"/random_draw/{draw.id}/draw", data={"csrf_token": token}, follow_redirects=True)
    assert page.status_code == 404 or "不存在" in visible_text(page.get_data(as_text=True))
    assert latest_draw(world).state == "prepared"


def test_public_page_needs_no_login_and_shows_only_publishable_data(web_world: World) -> None:
    world = web_world
    client = signed_in(world, world.home_user)
    client.post_form("/random_draw/prepare", {"mode": "count", "count": "3", "per_enterprise": "2"},
                     page_url="/random_draw/")
    draw = latest_draw(world)
    client.post_form(f"/random_draw/{draw.id}/draw", {"public_value": "123"}, page_url=f"/random_draw/{draw.id}")
    client.post_form(f"/random_draw/{draw.id}/confirm", {}, page_url=f"/random_draw/{draw.id}")
    draw = latest_draw(world)
    assert draw.state == "confirmed"
    summary = json.loads(draw.summary)
    anonymous = world.app.test_client()
    html = anonymous.get("/draws/").get_data(as_text=True)
    text = visible_text(html)
    assert draw.number in text and "双随机检查" in text and draw.commitment in text
    with world.app.app_context():
        enterprise = world.svc.session.get(world.svc.models["enterprise"], summary["items"][0]["enterprise_id"])
        world.svc.session.expunge(enterprise)
    officer = summary["items"][0]["officers"][0]
    assert enterprise.name in text and officer["name"] in text and officer["code"] in text
    for private in (enterprise.uscc, enterprise.address, enterprise.legal_representative, draw.seed):
        assert private not in html
    record = anonymous.get(f"/draws/{draw.number}.json")
    assert record.status_code == 200 and json.loads(record.data)["seed"] == draw.seed
    for private in (enterprise.uscc, enterprise.address, enterprise.legal_representative):
        assert private not in record.get_data(as_text=True)
    assert anonymous.get("/draws/verify_draw.py").status_code == 200
    assert anonymous.get("/random_draw/").status_code in (302, 401)


def test_an_unconfirmed_draw_is_not_published(web_world: World) -> None:
    world = web_world
    client = signed_in(world, world.home_user)
    client.post_form("/random_draw/prepare", {"mode": "count", "count": "3", "per_enterprise": "2"},
                     page_url="/random_draw/")
    draw = latest_draw(world)
    client.post_form(f"/random_draw/{draw.id}/draw", {"public_value": ""}, page_url=f"/random_draw/{draw.id}")
    anonymous = world.app.test_client()
    assert draw.number not in anonymous.get("/draws/").get_data(as_text=True)
    assert anonymous.get(f"/draws/{draw.number}.json").status_code == 404
