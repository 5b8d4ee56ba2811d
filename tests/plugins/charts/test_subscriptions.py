"""系统订阅 (001 §7.4): a user subscribes to a dashboard of its roles, daily or monthly; the beat task takes the
dashboard's figures as that user (its scope) once per day or on the 1st, tells it in the inbox, and the snapshot is
read in 个人中心 → 我的订阅 (and as Excel) by its owner only."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import delete, select

from tests.conftest import Worker, truncate_registers
from tests.helpers import FormClient, login, visible_text
from tests.workflow.helpers import inbox

from .conftest import WUJIN, XINBEI, World, build_world

TASK = "charts.subscriptions"


def clean(app: Any) -> None:
    """The plugin's own tables are not registers: the register truncation of the fixtures leaves them."""
    service = app.extensions["chart_subscriptions"]
    with app.app_context():
        service.session.execute(delete(service.Snapshot))
        service.session.execute(delete(service.Subscription))
        service.session.commit()


@pytest.fixture
def subs(world: World):
    clean(world.app)
    yield world
    world.app.config["TODAY"] = None


def subscribe(client: FormClient, dashboard: str, frequency: str = "daily", **more: str) -> Any:
    return client.post_form("/subscriptions/add", {"dashboard": dashboard, "frequency": frequency, "enabled": "1",
                                                   "position": "0", **more})


def run_task(app: Any, day: date) -> int:
    """The beat task, run inline (the app's Celery is eager here) on ``day``."""
    app.config["TODAY"] = day
    return app.extensions["celery"].tasks[TASK].apply().get()


def snapshots(app: Any, **where: Any) -> list[Any]:
    service = app.extensions["chart_subscriptions"]
    N = service.Snapshot
    with app.app_context():
        rows = list(service.session.scalars(select(N).filter_by(**where).order_by(N.id)))
        service.session.expunge_all()
        return rows


def user_id(app: Any, username: str) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).id


def chart_json(client: FormClient, name: str) -> dict:
    response = client.get(f"/charts/{name}/data")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def assert_same_as_dashboard(app: Any, client: FormClient, snapshot: Any) -> None:
    """Every table of the snapshot holds what the chart shows the same user on the day it reports."""
    assert snapshot.tables
    app.config["TODAY"] = snapshot.as_of
    for table in snapshot.tables:
        now = chart_json(client, table["name"])
        assert table["total"] == now["total"], table["name"]
        assert [(s["label"], s["value"], s["stacks"]) for s in table["slices"]] == \
            [(s["label"], s["value"], s["stacks"]) for s in now["slices"]], table["name"]


def by_name(snapshot: Any) -> dict[str, dict]:
    return {t["name"]: t for t in snapshot.tables}


def test_each_snapshot_holds_the_dashboard_as_its_subscriber_sees_it(subs: World) -> None:
    app, today = subs.app, date.today()
    yesterday = today - timedelta(days=1)   # a daily report, taken after midnight, counts the day that ended
    clients = {who: subs.client(who) for who in ("county", "wujin", "city")}
    for client in clients.values():
        assert subscribe(client, "leadership").status_code == 302
    # the list shows the subscriber's own row only
    page = visible_text(clients["county"].get("/subscriptions/").get_data(as_text=True))
    assert "领导驾驶舱" in page and "每日" in page and "启用" in page and "订阅相关统计可在个人中心查看" in page

    assert run_task(app, today) == 3
    for who, client in clients.items():
        [snapshot] = snapshots(app, user_id=user_id(app, subs.users[who]))
        assert (snapshot.period, snapshot.as_of, snapshot.title) == (yesterday.isoformat(), yesterday, "领导驾驶舱")
        assert_same_as_dashboard(app, client, snapshot)
    county, wujin, city = (snapshots(app, user_id=user_id(app, subs.users[w]))[0] for w in ("county", "wujin", "city"))
    # a county's snapshot never counts the other county's hazards; the city's counts both
    assert by_name(county)["hazards_by_region"]["total"] == subs.count(county=XINBEI)
    assert by_name(wujin)["hazards_by_region"]["total"] == subs.count(county=WUJIN)
    assert by_name(city)["hazards_by_region"]["total"] == len(subs.hazards)
    assert {s["label"] for s in by_name(city)["hazards_by_region"]["slices"]} == {"新北区", "武进区"}
    assert "武进区" not in {s["label"] for s in by_name(county)["hazards_by_region"]["slices"]}
    assert by_name(county)["hazards_overdue"]["total"] == chart_json(clients["county"], "hazards_overdue")["total"]

    # once a day: a second run the same day takes nothing
    assert run_task(app, today) == 0
    assert len(snapshots(app)) == 3

    # the inbox tells it and leads to the snapshot, which shows its tables read-only
    client = clients["county"]
    text = f"【订阅】领导驾驶舱（每日统计）：{yesterday.isoformat()}"
    assert text in inbox(client)
    html = client.get("/workflow/inbox").get_data(as_text=True)
    opened = re.search(r'href="(/workflow/inbox/\d+/open)">【订阅】', html)
    assert opened, html
    assert client.get(opened.group(1)).headers["Location"].endswith(f"/my_subscriptions/{county.id}")
    shown = client.get(f"/my_subscriptions/{county.id}")
    assert shown.status_code == 200
    shown_text = visible_text(shown.get_data(as_text=True))
    assert "领导驾驶舱" in shown_text and "各地区隐患数量" in shown_text and "武进区" not in shown_text
    assert 'href="/r/' not in shown.get_data(as_text=True).split('id="snapshot-')[1]  # no link to today's rows
    # 我的订阅 lists it, newest first
    listed = client.get("/my_subscriptions/").get_data(as_text=True)
    assert f'data-id="{county.id}"' in listed and f'data-id="{wujin.id}"' not in listed

    # the Excel of the snapshot: the figures, then one sheet per chart with its total
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/my_subscriptions/{county.id}/export").get_data()))
    figures = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows(min_row=2)}
    assert figures["逾期未整改隐患"] == by_name(county)["hazards_overdue"]["total"]
    sheet = book["各地区隐患数量"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[-1][0] == "合计" and rows[-1][-1] == subs.count(county=XINBEI)


def test_a_snapshot_stays_as_it_was_and_other_days_take_new_ones(subs: World) -> None:
    app, today = subs.app, date.today()
    client = subs.client("county")
    subscribe(client, "leadership")
    assert run_task(app, today) == 1
    [first] = snapshots(app)
    # the dashboard changes afterwards (a hazard of 新北区 more): the snapshot keeps the figures of then
    svc = app.extensions["safety"]
    from tests.security.factory import make_row
    with app.app_context():
        enterprise = svc.session.get(svc.models["enterprise"], subs.enterprises[0])
        make_row(svc, "hazard", {"enterprise": enterprise, "description": "新隐患", "level": "general",
                                 "state": "pending", "found_on": today, "rectify_by": today})
    assert chart_json(client, "hazards_by_region")["total"] == subs.count(county=XINBEI) + 1
    page = visible_text(client.get(f"/my_subscriptions/{first.id}").get_data(as_text=True))
    assert by_name(first)["hazards_by_region"]["total"] == subs.count(county=XINBEI)
    assert f"合计 {subs.count(county=XINBEI)}" in page.replace(",", "")
    # the next day: a new snapshot, reporting today, with the new figures
    tomorrow = date.fromordinal(today.toordinal() + 1)
    assert run_task(app, tomorrow) == 1
    second = snapshots(app)[-1]
    assert second.period == today.isoformat()
    assert by_name(second)["hazards_by_region"]["total"] == subs.count(county=XINBEI) + 1


def test_monthly_only_on_the_first_and_disabled_never(subs: World) -> None:
    app = subs.app
    county, city = subs.client("county"), subs.client("city")
    assert subscribe(county, "leadership", "monthly").status_code == 302
    assert subscribe(city, "home_regulator", "daily", enabled="").status_code == 302   # disabled
    assert run_task(app, date(2031, 7, 15)) == 0
    assert run_task(app, date(2031, 8, 1)) == 1
    [snapshot] = snapshots(app)
    # taken on the 1st, it reports the month that ended, counted as of its last day
    assert (snapshot.frequency, snapshot.period, snapshot.as_of) == ("monthly", "2031-07", date(2031, 7, 31))
    assert run_task(app, date(2031, 8, 1)) == 0
    assert run_task(app, date(2031, 8, 2)) == 0
    assert "【订阅】领导驾驶舱（每月统计）：2031-07" in inbox(county)
    assert "【订阅】" not in inbox(city)
    # enabled again: taken from then on
    [row] = re.findall(r'data-id="(\d+)" data-dashboard="home_regulator"', city.get("/subscriptions/").get_data(as_text=True))
    assert city.post_form(f"/subscriptions/{row}/edit", {"dashboard": "home_regulator", "frequency": "daily",
                                                         "enabled": "1", "position": "2"}).status_code == 302
    assert run_task(app, date(2031, 8, 2)) == 1
    assert snapshots(app)[-1].title == "本辖区概况"


def test_only_the_dashboards_of_ones_roles_may_be_subscribed(subs: World) -> None:
    app = subs.app
    enterprise, county = subs.client("enterprise"), subs.client("county")
    # an enterprise account is offered its own home dashboard, not the regulators'
    form = enterprise.get("/subscriptions/add").get_data(as_text=True)
    assert 'value="home_enterprise"' in form and 'value="leadership"' not in form
    assert subscribe(enterprise, "leadership").status_code == 403
    assert subscribe(enterprise, "campaigns").status_code == 403
    assert subscribe(county, "home_enterprise").status_code == 403   # the regulator's home is its own
    assert subscribe(county, "no_such_board").status_code == 403
    service = app.extensions["chart_subscriptions"]
    with app.app_context():
        assert service.session.scalars(select(service.Subscription)).all() == []
    # the same subscription twice is refused with a message, nothing written
    assert subscribe(enterprise, "home_enterprise").status_code == 302
    again = subscribe(enterprise, "home_enterprise")
    assert again.status_code == 400 and "已订阅" in visible_text(again.get_data(as_text=True))
    assert subscribe(county, "leadership", "weekly").status_code == 400
    # the enterprise's snapshot counts its own hazards only
    assert run_task(app, date.today()) == 1
    [snapshot] = snapshots(app)
    assert by_name(snapshot)["hazards_by_state"]["total"] == subs.count(enterprise=0)
    assert_same_as_dashboard(app, enterprise, snapshot)


def test_nobody_opens_or_changes_someone_elses(subs: World) -> None:
    app = subs.app
    county, wujin = subs.client("county"), subs.client("wujin")
    subscribe(county, "leadership")
    assert run_task(app, date.today()) == 1
    [snapshot] = snapshots(app)
    [row] = re.findall(r'data-id="(\d+)" data-dashboard="leadership"', county.get("/subscriptions/").get_data(as_text=True))
    for url in (f"/my_subscriptions/{snapshot.id}", f"/my_subscriptions/{snapshot.id}/export",
                f"/subscriptions/{row}/edit"):
        assert wujin.get(url).status_code == 404, url
        assert county.get(url).status_code == 200, url
    assert wujin.post_form(f"/subscriptions/{row}/edit", {"dashboard": "leadership", "frequency": "monthly",
                                                          "enabled": "1", "position": "0"},
                           page_url="/subscriptions/").status_code == 404
    # nor listed: 系统订阅 and 我的订阅 show one's own only
    assert f'data-id="{row}"' not in wujin.get("/subscriptions/").get_data(as_text=True)
    assert f'data-id="{snapshot.id}"' not in wujin.get("/my_subscriptions/").get_data(as_text=True)
    # a delete naming another's subscription deletes nothing
    wujin.post_form("/subscriptions/delete", {"ids": [row]}, page_url="/subscriptions/")
    assert f'data-id="{row}"' in county.get("/subscriptions/").get_data(as_text=True)
    # the owner deletes it; the snapshots taken stay readable
    county.post_form("/subscriptions/delete", {"ids": [row]}, page_url="/subscriptions/")
    assert f'data-id="{row}"' not in county.get("/subscriptions/").get_data(as_text=True)
    assert county.get(f"/my_subscriptions/{snapshot.id}").status_code == 200
    # an anonymous visitor is sent to the login
    anonymous = app.test_client()
    for url in ("/subscriptions/", "/my_subscriptions/", f"/my_subscriptions/{snapshot.id}"):
        assert anonymous.get(url).status_code in (302, 401), url


def test_the_pages_in_the_three_languages(subs: World) -> None:
    client = subs.client("county")
    home = client.get("/").get_data(as_text=True)
    assert "系统订阅" in home and "我的订阅" in home and 'href="/my_subscriptions/"' in home
    client.get("/lang/en")
    page = visible_text(client.get("/subscriptions/").get_data(as_text=True))
    assert "Subscriptions" in page and "My subscriptions" in page
    client.get("/lang/zh_Hant")
    page = visible_text(client.get("/subscriptions/add").get_data(as_text=True))
    assert "訂閱" in page and "每日" in page
    # a snapshot taken in Chinese is named in the reader's language once the reader has switched
    client.get("/lang/zh_Hans")
    assert subscribe(client, "home_regulator").status_code == 302
    assert run_task(subs.app, date.today()) == 1
    [snapshot] = snapshots(subs.app)
    assert snapshot.title == "本辖区概况"
    client.get("/lang/en")
    for url in ("/my_subscriptions/", f"/my_subscriptions/{snapshot.id}"):
        page = visible_text(client.get(url).get_data(as_text=True))
        assert "My jurisdiction" in page and "本辖区概况" not in page


def subscribe_every_account(app: Any, logins: dict[str, str]) -> int:
    """Each account subscribes to the first dashboard offered to it and the day's snapshot is taken (the crawl
    then opens 我的订阅 and a snapshot as every account); returns how many snapshots were taken."""
    clean(app)
    for username, password in logins.items():
        client = FormClient(app.test_client())
        login(client, username, password)
        form = client.get("/subscriptions/add").get_data(as_text=True)
        first = re.search(r'<option value="([a-z_]+)"', form)
        assert first, (username, form[:500])
        assert subscribe(client, first.group(1)).status_code == 302, username
    try:
        return run_task(app, date.today())
    finally:
        app.config["TODAY"] = None


# ---------------------------------------------------------------- the beat task on a real worker

@pytest.fixture
def day(worker_app, tmp_path):
    path = tmp_path / "today.txt"
    path.write_text(date.today().isoformat())
    worker_app.config["TODAY_FILE"] = str(path)
    yield path
    worker_app.config["TODAY_FILE"] = None


def test_the_beat_task_on_a_real_worker(worker_app, day) -> None:
    truncate_registers(worker_app)
    clean(worker_app)
    world = build_world(worker_app)
    county, city = world.client("county"), world.client("city")
    assert subscribe(county, "leadership").status_code == 302
    assert subscribe(city, "leadership", "monthly").status_code == 302
    celery = worker_app.extensions["celery"]
    entry = celery.conf.beat_schedule["chart-subscriptions"]
    assert entry["task"] == TASK and entry["schedule"] == 3600.0
    today = date.today()
    first_of_next = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    worker = Worker(Path(worker_app.config["UPLOAD_FOLDER"]), TODAY_FILE=str(day))
    try:
        task = celery.tasks[TASK]
        day.write_text(first_of_next.isoformat())
        assert task.delay().get(timeout=60) == 2            # the 1st: the county's daily and the city's monthly
        assert task.delay().get(timeout=60) == 0            # once a day
        day.write_text(date(first_of_next.year, first_of_next.month, 2).isoformat())
        assert task.delay().get(timeout=60) == 1            # the 2nd: the daily only
        assert task.delay().get(timeout=60) == 0
    finally:
        worker.stop()
    found = snapshots(worker_app)
    assert sorted((s.frequency, s.period) for s in found) == sorted([
        ("daily", first_of_next.isoformat()), ("daily", (first_of_next - timedelta(days=1)).isoformat()),
        ("monthly", today.strftime("%Y-%m"))])
    # computed by the worker as each user: the county's counts 新北区 only
    county_id = user_id(worker_app, world.users["county"])
    for snapshot in found:
        expected = world.count(county=XINBEI) if snapshot.user_id == county_id else len(world.hazards)
        assert by_name(snapshot)["hazards_by_region"]["total"] == expected
    assert "【订阅】领导驾驶舱（每月统计）" in inbox(city)
    assert "【订阅】领导驾驶舱（每日统计）" not in inbox(city)
