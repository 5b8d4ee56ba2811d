"""The draw service on PostgreSQL: a draw, its confirmation into inspections, and each bad input refused with a
Chinese message and nothing half-done."""
from __future__ import annotations

import json
import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.security.actor import acting_as
from plugins.random_draw import algorithm
from plugins.random_draw.pool import DrawRefused, Parameters

from .conftest import HOME_TOWNSHIPS, World, make_officer


def inspections(world: World, number: str | None = None) -> list:
    model = world.svc.models["inspection"]
    stmt = select(model).execution_options(include_all_rows=True)
    if number:
        stmt = stmt.where(model.draw == number)
    return list(world.svc.session.scalars(stmt))


def run(world: World, user, params: Parameters, public_value: str = ""):
    """Prepare and draw as ``user``; returns the draw."""
    with world.app.test_request_context(), force_locale("zh_Hans"):
        actor = world.actor(user)
        with acting_as(actor):
            draw = world.draws.prepare(actor, params)
            return world.draws.draw(actor, draw.id, public_value)


def refused(world: World, user, fn, *args) -> str:
    with world.app.test_request_context(), force_locale("zh_Hans"):
        actor = world.actor(user)
        with acting_as(actor), pytest.raises(DrawRefused) as caught:
            fn(actor, *args)
        return caught.value.message


def test_count_draw_confirms_into_inspections(world: World) -> None:
    draw = run(world, world.home_user, Parameters(mode="count", count=5, per_enterprise=2), "2026-12-02 福彩3D 123")
    record = json.loads(draw.record)
    assert draw.state == "drawn" and draw.pool_size == 50 and len(record["result"]["enterprises"]) == 5
    assert set(record["result"]["enterprises"]) <= set(world.home_enterprises)
    assert all(len(set(group)) == 2 and set(group) <= set(world.home_officers)
               for group in record["result"]["officers"])
    with world.app.test_request_context():
        actor = world.actor(world.home_user)
        with acting_as(actor):
            ids = world.draws.confirm(actor, draw.id)
    rows = inspections(world, draw.number)
    assert sorted(r.id for r in rows) == sorted(ids) and len(rows) == 5
    assert {r.enterprise_id for r in rows} == set(record["result"]["enterprises"])
    assert all(r.kind == "random" and r.state == "saved" and "、" in r.inspectors for r in rows)
    audit = world.svc.models.engine["AuditLog"]
    assert world.svc.session.execute(select(func.count()).select_from(audit)
                                     .where(audit.register == "inspection")).scalar_one() >= 5


def test_quota_draw_keeps_quotas_and_every_draw_is_kept(world: World) -> None:
    params = Parameters(mode="quota", quotas={HOME_TOWNSHIPS[0]: 3, HOME_TOWNSHIPS[1]: 2}, per_enterprise=1)
    first = run(world, world.home_user, params)
    with world.app.test_request_context():
        actor = world.actor(world.home_user)
        with acting_as(actor):
            second = world.draws.redraw(actor, first.id)
            second = world.draws.draw(actor, second.id)
    model = world.svc.models["enterprise"]
    for draw in (first, second):
        chosen = json.loads(draw.record)["result"]["enterprises"]
        regions = [world.svc.session.get(model, e).region for e in chosen]
        assert regions.count(HOME_TOWNSHIPS[0]) == 3 and regions.count(HOME_TOWNSHIPS[1]) == 2
    assert first.id != second.id and first.state == "drawn" and first.seed != second.seed


def test_quota_larger_than_pool(world: World) -> None:
    with world.app.test_request_context():
        actor = world.actor(world.home_user)
        with acting_as(actor):
            draw = world.draws.prepare(actor, Parameters(mode="quota", quotas={HOME_TOWNSHIPS[0]: 26}))
    message = refused(world, world.home_user, world.draws.draw, draw.id)
    assert "配额" in message and "25" in message
    assert world.draws.svc.session.get(world.draws.Draw, draw.id).state == "prepared"


def test_count_larger_than_pool_and_empty_pool(world: World) -> None:
    assert "只有 50" in refused(world, world.home_user, _prepare_and_draw, Parameters(mode="count", count=51))
    empty = Parameters(mode="count", count=1, filters={"f.grade": ["A"]})
    assert "抽取范围为空" in refused(world, world.home_user, _prepare_and_draw, empty)


def _prepare_and_draw(actor, params):
    from flask import current_app
    draws = current_app.extensions["random_draw"]
    return draws.draw(actor, draws.prepare(actor, params).id)


def test_no_eligible_officer_after_avoidance(world: World) -> None:
    conflict = world.svc.models["draw_conflict"]
    target = world.home_enterprises[0]
    with acting_as(None):
        for officer in world.home_officers:
            world.svc.session.add(conflict(officer_id=officer, enterprise_id=target, reason="亲属"))
        world.svc.session.commit()
    message = refused(world, world.home_user, _prepare_and_draw,
                      Parameters(mode="count", count=1, ids=[target]))
    assert "回避" in message and "执法人员" in message
    assert inspections(world) == []


def test_scope_pool_excludes_other_county_and_forced_id_is_refused(world: World) -> None:
    draw = run(world, world.home_user, Parameters(mode="count", count=50, per_enterprise=1))
    record = json.loads(draw.record)
    members = {int(i) for values in record["pool"]["groups"].values() for i in algorithm.group_members(values)}
    assert members == set(world.home_enterprises)
    assert algorithm.verify(record) == []  # the record as kept reproduces its draw
    forced = Parameters(mode="count", count=1, ids=[world.away_enterprises[0], world.home_enterprises[0]])
    message = refused(world, world.home_user, _prepare_and_draw, forced)
    assert "管辖范围" in message


def test_confirm_twice_and_outside_jurisdiction(world: World) -> None:
    draw = run(world, world.home_user, Parameters(mode="count", count=3, per_enterprise=1))
    assert "不存在" in refused(world, world.away_user, world.draws.confirm, draw.id)
    with world.app.test_request_context():
        actor = world.actor(world.home_user)
        with acting_as(actor):
            world.draws.confirm(actor, draw.id)
    assert "已确认" in refused(world, world.home_user, world.draws.confirm, draw.id)
    assert len(inspections(world, draw.number)) == 3


def test_two_users_confirming_at_once(world: World) -> None:
    from tests.security.factory import make_user
    with world.app.app_context():
        colleague = make_user(world.app, "regulator", world.home_org).id
    draw = run(world, world.home_user, Parameters(mode="count", count=4, per_enterprise=1))
    draw_id, number = draw.id, draw.number  # read here: the threads have sessions of their own
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def confirm(user_id: int) -> None:
        with world.app.app_context(), world.app.test_request_context(), force_locale("zh_Hans"):
            from app.security.actor import actor_from_id
            actor = actor_from_id(user_id)
            with acting_as(actor):
                barrier.wait()
                try:
                    world.draws.confirm(actor, draw_id)
                    outcomes.append("ok")
                except DrawRefused as exc:
                    outcomes.append(exc.message)
                except Exception as exc:  # noqa: BLE001 - shown by the assertion below
                    outcomes.append(repr(exc))
                finally:
                    world.svc.session.remove()

    threads = [threading.Thread(target=confirm, args=(u,)) for u in (world.home_user, colleague)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert len(outcomes) == 2 and outcomes.count("ok") == 1, outcomes
    assert "已确认" in next(o for o in outcomes if o != "ok")
    assert len(inspections(world, number)) == 4


def test_recent_enterprises_come_back_only_when_the_pool_is_exhausted(world: World) -> None:
    first = run(world, world.home_user, Parameters(mode="count", count=48, per_enterprise=1))
    with world.app.test_request_context():
        actor = world.actor(world.home_user)
        with acting_as(actor):
            world.draws.confirm(actor, first.id)
    again = run(world, world.home_user, Parameters(mode="count", count=2, per_enterprise=1))
    chosen = set(json.loads(again.record)["result"]["enterprises"])
    assert chosen == set(world.home_enterprises) - set(json.loads(first.record)["result"]["enterprises"])
    exhausted = run(world, world.home_user, Parameters(mode="count", count=3, per_enterprise=1))
    assert json.loads(exhausted.record)["result"]["exhausted"] == ["*"]
    assert json.loads(exhausted.summary)["exhausted"]


def test_officers_of_another_county_and_expired_certificates_are_not_drawn(world: World) -> None:
    from datetime import date
    with acting_as(None):
        expired = make_officer(world.svc, world.home_org, "过期执法", "XB-OLD",
                               certificate_valid_until=date(2020, 1, 1)).id
    draw = run(world, world.home_user, Parameters(mode="count", count=50, per_enterprise=3))
    officers = {o[0] for o in json.loads(draw.record)["officers"]["members"]}
    assert officers == set(world.home_officers) and expired not in officers
