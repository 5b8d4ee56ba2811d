"""专家抽取 (people draws declared in draw.yaml ``people``) on PostgreSQL: filters, avoidance of the reviewed
enterprise's own experts and of declared conflicts, no expert twice within the window, the record verified by
scripts/verify_draw.py (and a tampered one rejected), the public page, and bad input refused in Chinese."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from flask_babel import force_locale

from app.security.actor import acting_as
from plugins.random_draw.people import PeopleParameters
from tests.helpers import visible_text
from tests.security.factory import make_row

from .conftest import World
from .test_algorithm import verify
from .test_pages import signed_in
from .test_service import refused


def make_expert(world: World, name: str, specialty: str, employer: str, n: int, available: bool = True):
    return make_row(world.svc, "expert", {"person_name": name, "specialty": specialty, "employer": employer,
                                          "mobile": f"139{n:08d}", "region": "320411002", "available": available,
                                          "organisation": world.home_org})


def experts(world: World):
    """8 chemical experts (2 employed by the reviewed enterprise, 1 with a declared conflict, 1 unavailable)
    and 3 fire experts; the reviewed enterprise is the first of the home county."""
    subject = world.svc.session.get(world.svc.models["enterprise"], world.home_enterprises[0])
    chem = [make_expert(world, f"化工专家{i}", "hazardous_chemicals", subject.name if i < 2 else f"常州大学{i}", i)
            for i in range(8)]
    make_expert(world, "停用专家", "hazardous_chemicals", "某研究院", 50, available=False)
    fire = [make_expert(world, f"消防专家{i}", "fire", "消防研究所", 60 + i) for i in range(3)]
    make_row(world.svc, "expert_conflict", {"expert": chem[2], "enterprise": subject, "reason": "曾任该企业顾问"})
    world.svc.session.commit()
    return subject, [e.id for e in chem], [e.id for e in fire]


def draw_people(world: World, user: int, params: PeopleParameters, public_value: str = ""):
    with world.app.test_request_context(), force_locale("zh_Hans"):
        actor = world.actor(user)
        with acting_as(actor):
            draw = world.draws.people.prepare(actor, params)
            return world.draws.draw(actor, draw.id, public_value)


def confirm(world: World, user: int, draw_id: int) -> list:
    with world.app.test_request_context(), force_locale("zh_Hans"):
        actor = world.actor(user)
        with acting_as(actor):
            return world.draws.confirm(actor, draw_id)


def chemical(subject, count: int) -> PeopleParameters:
    return PeopleParameters(draw="expert", filters={"f.specialty": ["hazardous_chemicals"]}, count=count,
                            subject=subject.id)


def test_expert_draw_avoids_own_employer_conflicts_and_recent(world: World, tmp_path: Path) -> None:
    subject, chem, fire = experts(world)
    eligible = set(chem[3:])  # not the two employed by the enterprise, not the declared conflict
    draw = draw_people(world, world.home_user, chemical(subject, 3), "2026-12-03 福彩3D 456")
    record = json.loads(draw.record)
    drawn = record["result"]["members"]
    assert draw.state == "drawn" and draw.kind == "expert" and len(drawn) == 3 and set(drawn) <= eligible
    assert draw.pool_size == 8  # the unavailable expert and the fire experts are not in the pool
    assert record["conflicts"] == [chem[2]]
    # the verify script reproduces the kept record; a changed pool, seed or subject is detected
    done = verify(tmp_path, record, "--commitment", draw.commitment)
    assert done.returncode == 0 and "OK: the record reproduces its result" in done.stdout, done.stdout
    for tamper in ("pool", "seed", "subject"):
        bad = copy.deepcopy(record)
        if tamper == "pool":
            bad["pool"]["members"] = [m for m in bad["pool"]["members"] if m[0] != drawn[0]]
        elif tamper == "seed":
            bad["seed"] = "00" * 32
        else:
            bad["subject"]["keys"] = []
        done = verify(tmp_path, bad)
        assert done.returncode == 1 and "TAMPERED OR INVALID" in done.stdout, (tamper, done.stdout)
    assert confirm(world, world.home_user, draw.id) == []
    assert draw.state == "confirmed"
    # within six months the same experts are not drawn again while others remain
    again = draw_people(world, world.home_user, chemical(subject, 2))
    second = json.loads(again.record)["result"]
    assert not set(second["members"]) & set(drawn) and second["exhausted"] == []
    assert json.loads(again.summary)["exhausted"] == []
    # asking for all five eligible: the pool is exhausted, recent ones come back, and the page says so
    third = draw_people(world, world.home_user, chemical(subject, 5))
    assert set(json.loads(third.record)["result"]["members"]) == eligible
    assert json.loads(third.summary)["exhausted"] == ["*"]


def test_expert_draw_bad_input_is_refused_in_chinese(world: World) -> None:
    subject, chem, fire = experts(world)
    message = refused(world, world.home_user, lambda actor: world.draws.people.prepare(actor, chemical(subject, 0)))
    assert "请抽取 1 至 30 名" in message
    message = refused(world, world.home_user, lambda actor: world.draws.people.prepare(
        actor, PeopleParameters(draw="expert", count=2)))
    assert "请选择被评审企业" in message
    # another county's enterprise is outside the drawing user's scope
    message = refused(world, world.home_user, lambda actor: world.draws.people.prepare(
        actor, PeopleParameters(draw="expert", count=2, subject=world.away_enterprises[0])))
    assert "请选择被评审企业" in message
    with world.app.test_request_context(), force_locale("zh_Hans"):
        actor = world.actor(world.home_user)
        with acting_as(actor):
            draw = world.draws.people.prepare(actor, chemical(subject, 6))
    message = refused(world, world.home_user, lambda actor: world.draws.draw(actor, draw.id))
    assert "要求抽取 6 人，但回避后只有 5 人可抽取" in message
    assert world.draws.Draw.__table__ is not None and draw.state == "prepared" and draw.record is None


def test_expert_draw_pages_and_public_page(web_world: World) -> None:
    world = web_world
    with world.app.app_context():
        subject, chem, fire = experts(world)
        subject_id, subject_name = subject.id, subject.name
    client = signed_in(world, world.home_user)
    page = visible_text(client.get("/random_draw/").get_data(as_text=True))
    assert "专家抽取" in page
    page = visible_text(client.get(f"/random_draw/people/expert/?preview=1&f.specialty=fire&subject={subject_id}")
                        .get_data(as_text=True))
    assert "符合条件的可抽取人员共 3 人" in page and subject_name in page
    assert "回避规则：本单位专家回避、申报回避；近 6 个月内已被抽中的人员，仅在抽取范围用尽时才会再次抽中。" in page
    client.get("/lang/en")
    english = visible_text(client.get("/random_draw/people/expert/").get_data(as_text=True))
    assert ("Avoidance: Experts employed by the reviewed enterprise, declared conflicts; someone drawn in the last 6 "
            "months is drawn again only when the pool is exhausted.") in english
    client.get("/lang/zh_Hans")
    response = client.post_form("/random_draw/people/expert/prepare",
                                {"f.specialty": "fire", "count": "2", "subject": str(subject_id)},
                                page_url="/random_draw/people/expert/")
    assert response.status_code == 302
    url = response.headers["Location"]
    draw_id = int(url.rstrip("/").rsplit("/", 1)[1])
    page = client.post_form(f"/random_draw/{draw_id}/draw", {"public_value": ""}, page_url=url,
                            follow_redirects=True)
    text = visible_text(page.get_data(as_text=True))
    assert "专家抽取" in text and subject_name in text and text.count("消防专家") == 2
    page = client.post_form(f"/random_draw/{draw_id}/confirm", {}, page_url=url, follow_redirects=True)
    public = visible_text(world.app.test_client().get("/draws/").get_data(as_text=True))
    assert "专家抽取" in public and subject_name in public and "消防专家" in public
    assert f"被评审企业：{subject_name} · 已抽取：" in public, public   # Chinese punctuation in Chinese …
    english = world.app.test_client()
    english.get("/lang/en")
    public_en = visible_text(english.get("/draws/").get_data(as_text=True))
    assert f"Under review: {subject_name} · Drawn: " in public_en and "、" not in public_en   # … English in English
    # experts' mobile numbers are not published (a seed or hash on the page may hold any digits: the numbers
    # themselves are looked for)
    for n in (60, 61, 62):
        assert f"139{n:08d}" not in public
