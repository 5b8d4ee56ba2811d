"""The charts' summaries (plugins/charts/summaries.py): counts of hazards per enterprise (and state, level) kept by
triggers on reg_hazard. A chart read from a summary shows what the same chart counted from the register shows, for
every kind of account, after every kind of write; a stale summary is not read; a wrong descriptor names its line."""
from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from tests.security.factory import make_org, make_row, make_user

from .conftest import WUJIN, XINBEI, World, metadata_errors

HAZARD_CHARTS = ["hazards_by_county", "hazards_by_region", "hazards_by_state", "hazards_by_level",
                 "rectification_rate", "rectification_rate_by_region"]


def charts(app: Any) -> Any:
    return app.extensions["charts"]


def summary(app: Any, name: str) -> Any:
    return charts(app).summaries[name]


def out_of_step(app: Any) -> dict[str, int]:
    from plugins.charts.summaries import differences
    from app.extensions import db
    with app.app_context():
        return {name: differences(db.engine, s) for name, s in charts(app).summaries.items()}


def figures(app: Any, username: str | None, chart: str, use_summaries: bool, query: dict | None = None) -> Any:
    """(summary used, slices as key → (value, stacks), total) for the account, as the chart's page shows them."""
    from werkzeug.datastructures import MultiDict

    from app.security.actor import acting_as, actor_for
    with app.test_request_context():
        user = app.appbuilder.sm.find_user(username=username or "admin")
        actor = actor_for(user)
        with acting_as(actor):
            spec = charts(app).chart(chart, actor)
            assert spec is not None, f"{username} may not see {chart}"
            data = charts(app).data(spec, actor, MultiDict(query or {}), use_summaries=use_summaries)
            return data.summary, {s.key: (s.value, s.stacks) for s in data.slices}, data.total


def assert_same(world: World, accounts: list[str | None]) -> None:
    """Every hazard chart, for every account, is the same from the summary as from the register, and the summary
    was read."""
    for who in accounts:
        username = world.users[who] if who else None
        for chart in HAZARD_CHARTS:
            used, slices, total = figures(world.app, username, chart, True)
            direct_used, direct, direct_total = figures(world.app, username, chart, False)
            assert direct_used is None
            assert used is not None, f"{chart} for {who or 'admin'}: no summary was read"
            assert (slices, total) == (direct, direct_total), f"{chart} for {who or 'admin'}"


@pytest.fixture
def accounts(world: World) -> World:
    svc = world.svc
    with world.app.app_context():
        world.users["inspector"] = make_user(world.app, "inspector", make_org(svc, XINBEI, "emergency")).username
        # 武进区's housing department: it sees no enterprise of its own, only what is handed over to it
        housing = make_org(svc, WUJIN, "housing")
        world.users["housing"] = make_user(world.app, "regulator", housing).username
        world.housing_id = housing.id  # type: ignore[attr-defined]
        svc.session.commit()
    return world


def test_the_summaries_are_installed_and_in_step(world: World) -> None:
    with world.app.app_context():
        from app.extensions import db
        rows = dict(db.session.execute(text("SELECT name, rows FROM chart_summary_state")).all())
        per_enterprise = db.session.execute(text("SELECT enterprise_id, n FROM chart_sum_hazards_per_enterprise "
                                                 "ORDER BY enterprise_id")).all()
    assert set(rows) == {"hazards_per_enterprise", "hazards_per_enterprise_state"}
    # one row per enterprise with hazards, holding how many it has (the world's hazards are listed by hand)
    assert per_enterprise == [(world.enterprises[i], world.count(enterprise=i)) for i in range(5)]
    assert out_of_step(world.app) == {"hazards_per_enterprise": 0, "hazards_per_enterprise_state": 0}


def test_every_account_sees_the_same_figures_from_the_summary(accounts: World) -> None:
    world = accounts
    assert_same(world, [None, "city", "county", "wujin", "inspector", "enterprise", "housing"])
    # the figures themselves, as the world lists them
    _used, slices, total = figures(world.app, world.users["city"], "hazards_by_county", True)
    assert {k: v for k, (v, _s) in slices.items()} == {XINBEI: world.count(county=XINBEI),
                                                       WUJIN: world.count(county=WUJIN)}
    assert total == len(world.hazards)
    used, slices, _total = figures(world.app, world.users["wujin"], "hazards_by_state", True)
    assert used == "hazards_per_enterprise_state"   # grouped by state: the summary that holds it
    assert figures(world.app, world.users["city"], "hazards_by_county", True)[0] == "hazards_per_enterprise"
    # a list filter on a dimension still reads the summary; one on another field counts the register
    used, slices, total = figures(world.app, world.users["county"], "hazards_by_level", True, {"f.state": "pending"})
    assert used == "hazards_per_enterprise_state" and total == world.count(county=XINBEI, state="pending")
    used, _slices, total = figures(world.app, world.users["county"], "hazards_by_level", True,
                                   {"f.source": "self_check"})
    assert used is None


def test_a_handed_over_hazard_is_counted_once_for_its_receiver(accounts: World) -> None:
    world, svc = accounts, accounts.svc
    with world.app.app_context():
        model = svc.models["hazard"]
        hazard = svc.session.scalars(select(model).where(model.enterprise_id == world.enterprises[0])
                                     .order_by(model.id)).first()
        orgs = svc.models["organisation"]
        make_row(svc, "hazard_transfer", {"hazard": hazard, "to_organisation": svc.session.get(orgs, world.housing_id),
                                          "summary": hazard.description})
        # and one handed over to 武进区's emergency department, which sees the enterprise's county anyway: not twice
        wujin_org = svc.session.scalars(select(orgs).where(orgs.region == WUJIN, orgs.department == "emergency")).first()
        other = svc.session.scalars(select(model).where(model.enterprise_id == world.enterprises[3])).first()
        make_row(svc, "hazard_transfer", {"hazard": other, "to_organisation": wujin_org, "summary": "x"})
        svc.session.commit()
    # the housing department sees no enterprise of its own: only the hazards handed over within its county (a
    # transfer is seen by jurisdiction: both of them), each once
    used, slices, total = figures(world.app, world.users["housing"], "hazards_by_county", True)
    assert used == "hazards_per_enterprise" and total == 2
    assert {k: v for k, (v, _s) in slices.items()} == {XINBEI: 1, WUJIN: 1}
    # 武进区's emergency department: its own county's hazards (the one handed to itself counted once) and the
    # 新北区 hazard handed over within its county
    _used, slices, total = figures(world.app, world.users["wujin"], "hazards_by_county", True)
    assert total == world.count(county=WUJIN) + 1 and slices[XINBEI][0] == 1
    assert_same(world, ["housing", "wujin", "county"])


def test_writes_keep_the_summaries_in_step(accounts: World) -> None:
    world, svc, app = accounts, accounts.svc, accounts.app
    model = svc.models["hazard"]
    with app.app_context():
        # inserts (one statement per row, as the forms write), a state change, a level change, a move to another
        # enterprise, a bulk UPDATE and a DELETE
        for i in range(3):
            make_row(svc, "hazard", {"enterprise": svc.session.get(svc.models["enterprise"], world.enterprises[4]),
                                     "description": f"新增{i}", "level": "major", "state": "pending",
                                     "found_on": date.today(), "rectify_by": date.today() + timedelta(days=3)})
        first = svc.session.scalars(select(model).order_by(model.id)).first()
        first.state = "rectified"
        first.level = "major"
        svc.session.commit()
        moved = svc.session.scalars(select(model).where(model.enterprise_id == world.enterprises[2])).first()
        moved.enterprise_id = world.enterprises[3]
        svc.session.commit()
        svc.session.execute(text("UPDATE reg_hazard SET state = 'submitted' WHERE state = 'pending' "
                                 "AND enterprise_id = :e"), {"e": world.enterprises[4]})
        svc.session.execute(text("DELETE FROM reg_hazard WHERE enterprise_id = :e"), {"e": world.enterprises[1]})
        svc.session.commit()
        # an enterprise left without hazards leaves no row behind
        left = svc.session.execute(text("SELECT count(*) FROM chart_sum_hazards_per_enterprise "
                                         "WHERE enterprise_id = :e"), {"e": world.enterprises[1]}).scalar()
        counts = dict(svc.session.execute(text("SELECT state, sum(n) FROM chart_sum_hazards_per_enterprise_state "
                                               "WHERE enterprise_id = :e GROUP BY state"),
                                          {"e": world.enterprises[4]}).all())
    assert left == 0
    assert counts == {"submitted": 6}   # 2 pending + 1 submitted before, 3 added pending, all set to submitted
    assert out_of_step(app) == {"hazards_per_enterprise": 0, "hazards_per_enterprise_state": 0}
    assert_same(world, [None, "city", "county", "wujin", "enterprise"])


def test_an_import_keeps_the_summary_in_step(accounts: World) -> None:
    """The Excel import writes with COPY: one statement, one grouped upsert."""
    from tests.excel.test_import import _upload
    from tests.excel.workbook import fill
    world, app = accounts, accounts.app
    client = world.client("county")
    with app.app_context():
        name = world.svc.session.get(world.svc.models["enterprise"], world.enterprises[2]).name
    found, due = date.today().isoformat(), (date.today() + timedelta(days=9)).isoformat()
    rows = [[name, f"导入隐患{i}", "一般隐患", "企业自查", "仓库", found, due, None, None, None] for i in range(40)]
    _job, page = _upload(client, "hazard", fill(client.get("/r/hazard/template").data, rows), name="隐患.xlsx")
    assert "完成：新增 40 条" in page, page[-400:]
    assert out_of_step(app) == {"hazards_per_enterprise": 0, "hazards_per_enterprise_state": 0}
    _used, slices, _total = figures(app, world.users["county"], "hazards_by_level", True)
    assert slices["general"][0] == world.count(county=XINBEI, level="general") + 40


def test_concurrent_writers_do_not_lose_counts(accounts: World) -> None:
    """Two transactions adding hazards to the same enterprises at once: each upsert adds to the committed value."""
    from app.extensions import db
    with accounts.app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    ids = accounts.enterprises
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        try:
            for batch in range(10):
                with engine.begin() as conn:
                    conn.execute(text(
                        "INSERT INTO reg_hazard (enterprise_id, description, level, state, found_on, rectify_by, "
                        "created_at, updated_at) SELECT e, '并发' || g, 'general', 'pending', current_date, "
                        "current_date + 7, now(), now() FROM unnest(CAST(:ids AS int[])) e, generate_series(1, 5) g"),
                        {"ids": ids[offset:] + ids[:offset]})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert not errors, errors
    assert out_of_step(accounts.app) == {"hazards_per_enterprise": 0, "hazards_per_enterprise_state": 0}
    with accounts.app.app_context():
        total = db.session.execute(text("SELECT sum(n) FROM chart_sum_hazards_per_enterprise")).scalar()
    assert total == len(accounts.hazards) + 3 * 10 * 5 * len(ids)


def test_a_stale_summary_is_not_read(world: World) -> None:
    from app.extensions import db
    app = world.app
    with app.app_context():
        db.session.execute(text("UPDATE chart_summary_state SET digest = 'changed' "
                                "WHERE name = 'hazards_per_enterprise'"))
        db.session.commit()
        charts(app)._ready = None
    try:
        used, slices, total = figures(app, world.users["city"], "hazards_by_county", True)
        # the next summary that fits is read instead, with the same figures
        assert used == "hazards_per_enterprise_state" and total == len(world.hazards)
        # `flask metadata migrate` rebuilds it
        with app.app_context():
            from app.setup import migrate_database
            out: list[str] = []
            assert migrate_database(echo=out.append) == 0
        assert any("Chart summary hazards_per_enterprise: built" in line for line in out), out
        assert figures(app, world.users["city"], "hazards_by_county", True)[0] == "hazards_per_enterprise"
    finally:
        charts(app)._ready = None


def test_a_wrong_summary_names_its_file_and_line(tmp_path: Path, app: Any) -> None:
    text_ = metadata_errors(tmp_path, app, "summaries", {
        "bad.yaml": "name: bad\nregister: hazard\nkey: description\ndimensions: [state, photos_before, state, stat]\n",
        "nowhere.yaml": "name: nowhere\nregister: hazzard\nkey: enterprise\n"})
    assert "bad.yaml:3: E912 hazard.description is a string" in text_
    assert "bad.yaml:4: E913 'photos_before' is a image field" in text_
    assert "bad.yaml:4: E914 'state' is named twice" in text_
    assert "bad.yaml:4: E913 hazard has no field 'stat'" in text_ and "state" in text_
    assert "nowhere.yaml:2: E912 unknown register 'hazzard'" in text_
