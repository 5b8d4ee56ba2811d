"""The verification's steps without a browser: the parties, the appointment (propose, counter, confirm), the day
before reminder, the signature upload, the TURN credentials, the end and the resumption after a rectification."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.security.actor import acting_as
from app.workflow.engine import Upload
from tests.helpers import FormClient, login
from tests.security.factory import PASSWORD

from .conftest import World, png

ALL = ["premises", "rules", "personnel", "fire", "signs", "emergency"]


def image(name: str = "photo.png") -> Upload:
    return Upload(name, io.BytesIO(png()))


def as_(world: World, user_id: int):
    return acting_as(world.actor(user_id))


def schedule(world: World, when: datetime) -> None:
    with as_(world, world.regulator):
        world.checks.propose(world.application, world.actor(world.regulator), when)
    with as_(world, world.enterprise_user):
        world.checks.confirm(world.application, world.actor(world.enterprise_user))


def start_and_sign(world: World) -> None:
    schedule(world, datetime.now() + timedelta(hours=2))
    with as_(world, world.regulator):
        world.checks.start(world.application, world.actor(world.regulator))
    with as_(world, world.enterprise_user):
        world.checks.sign(world.application, world.actor(world.enterprise_user), image("signature.png"), image())


def test_only_the_two_parties(world: World) -> None:
    from plugins.video_check.service import NotParty
    for user, side in ((world.regulator, "regulator"), (world.enterprise_user, "enterprise")):
        with as_(world, user):
            assert world.checks.party(world.application, world.actor(user))[1] == side
    with as_(world, world.away_regulator), pytest.raises(NotParty):
        world.checks.party(world.application, world.actor(world.away_regulator))


def test_an_application_waiting_for_its_appointment_is_listed_for_both_parties(world: World) -> None:
    """Before any appointment, the regulator's 云核查 list (and 待办) says to propose one; the enterprise sees the
    application waiting; a regulator of another county sees nothing. Once proposed it is listed once, as a check."""
    regulator, company = world.actor(world.regulator), world.actor(world.enterprise_user)
    with as_(world, world.regulator):
        listed = world.checks.listing(regulator)
        assert [(c["row"].id, c["check"], c["todo"]) for c in listed] == [(world.application, None, "预约核查时间")]
    with as_(world, world.enterprise_user):
        assert [(c["row"].id, c["check"], c["todo"]) for c in world.checks.listing(company)] == \
            [(world.application, None, None)]
    with as_(world, world.away_regulator):
        assert world.checks.listing(world.actor(world.away_regulator)) == []
    with as_(world, world.regulator):
        world.checks.propose(world.application, regulator, datetime.now() + timedelta(days=2))
        listed = world.checks.listing(regulator)
    assert [(c["row"].id, c["check"].status, c["todo"]) for c in listed] == [(world.application, "appointing", None)]


def test_appointment_counter_proposal_and_reminder(world: World) -> None:
    from plugins.video_check.service import CheckRefused
    first = datetime.now() + timedelta(days=3)
    regulator, company = world.actor(world.regulator), world.actor(world.enterprise_user)
    with as_(world, world.enterprise_user), pytest.raises(CheckRefused):
        world.checks.propose(world.application, company, first)  # nothing to answer yet
    with as_(world, world.regulator):
        world.checks.propose(world.application, regulator, first)
        with pytest.raises(CheckRefused):
            world.checks.confirm(world.application, regulator)  # the regulator does not confirm its own time
    with as_(world, world.enterprise_user):
        assert [c["todo"] for c in world.checks.listing(company)] == ["确认预约时间"]
        tomorrow = (datetime.now() + timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)
        world.checks.propose(world.application, company, tomorrow)  # 更改时间
    with as_(world, world.regulator):
        assert [c["todo"] for c in world.checks.listing(regulator)] == ["确认企业提出的新时间"]
        check = world.checks.confirm(world.application, regulator)
    assert (check.status, check.appointment_state, check.appointment_at) == ("scheduled", "confirmed", tomorrow)
    assert [e["action"] for e in check.appointment_log] == ["propose", "propose", "confirm"]

    Message = world.svc.models.engine["Message"]
    assert world.checks.due_reminders(date.today()) == 2  # the regulator and the enterprise
    assert world.checks.due_reminders(date.today()) == 0  # once
    texts = sorted(world.svc.session.scalars(select(Message.text_zh).where(Message.row_id == world.application)))
    assert len(texts) == 2 and all(f"明天 {tomorrow:%Y-%m-%d %H:%M} 云核查" in t for t in texts)


def test_signature_upload_through_the_page(web_world: World, db_app) -> None:
    world = web_world
    with db_app.app_context():
        schedule(world, datetime.now() + timedelta(hours=1))
        with as_(world, world.regulator):
            world.checks.start(world.application, world.actor(world.regulator))
    client = FormClient(db_app.test_client())
    login(client, world.logins["enterprise"], PASSWORD)
    url = f"/video_check/{world.application}/sign"
    page = client.client.get(f"/video_check/{world.application}")
    assert page.status_code == 200 and "signature-pad" in page.get_data(as_text=True)
    token = page.get_data(as_text=True).split('data-csrf="')[1].split('"')[0]
    refused = client.client.post(url, data={"signature": (io.BytesIO(b"GIF89a..."), "signature.png"),
                                            "operator_photo": (io.BytesIO(png()), "me.png")},
                                 headers={"X-CSRFToken": token})
    assert refused.status_code == 409 and not refused.json["ok"]
    done = client.client.post(url, data={"signature": (io.BytesIO(png()), "signature.png"),
                                         "operator_photo": (io.BytesIO(png()), "经办人.png")},
                              headers={"X-CSRFToken": token})
    assert done.status_code == 200 and done.json["ok"], done.get_data(as_text=True)
    with db_app.app_context():
        check = world.check()
        [signature] = check.signatures
        assert signature["round"] == 1 and signature["user"] == world.logins["enterprise"]
        stored = world.svc.files.path_of(signature["file"]).read_bytes()
        assert stored.startswith(b"\x89PNG") and signature["at"]
    shown = client.client.get(f"/video_check/{world.application}/file/{signature['file']['path']}")
    assert shown.status_code == 200 and shown.data.startswith(b"\x89PNG")
    # the regulator of the next county sees neither the page nor the file
    other = FormClient(db_app.test_client())
    login(other, world.logins["away"], PASSWORD)
    assert other.client.get(f"/video_check/{world.application}").status_code == 404
    assert other.client.get(f"/video_check/{world.application}/file/{signature['file']['path']}").status_code == 404


def test_turn_credentials_only_for_the_parties(web_world: World, db_app) -> None:
    import base64
    import hashlib
    import hmac
    world = web_world
    db_app.config.update(VIDEO_TURN_URLS=["turn:10.32.4.11:3478?transport=udp"], VIDEO_TURN_SECRET="s3cret")
    try:
        client = FormClient(db_app.test_client())
        login(client, world.logins["regulator"], PASSWORD)
        page = client.client.get(f"/video_check/{world.application}").get_data(as_text=True)
        token = page.split('data-csrf="')[1].split('"')[0]
        [server] = client.client.post(f"/video_check/{world.application}/ice",
                                      headers={"X-CSRFToken": token}).json["iceServers"]
        expiry, user = server["username"].split(":")
        assert int(user) == world.regulator and 0 < int(expiry) - datetime.now().timestamp() <= 600
        assert server["credential"] == base64.b64encode(hmac.new(b"s3cret", server["username"].encode(),
                                                                 hashlib.sha1).digest()).decode()
        other = FormClient(db_app.test_client())
        login(other, world.logins["away"], PASSWORD)
        home = other.client.get("/").get_data(as_text=True)
        token = home.split('name="csrf_token" value="')[1].split('"')[0] if 'name="csrf_token"' in home else token
        assert other.client.post(f"/video_check/{world.application}/ice",
                                 headers={"X-CSRFToken": token}).status_code in (400, 404)
    finally:
        db_app.config.update(VIDEO_TURN_URLS=[], VIDEO_TURN_SECRET="")


def test_failed_items_go_to_rectification_and_the_verification_resumes(world: World) -> None:
    from plugins.video_check.service import CheckRefused
    start_and_sign(world)
    regulator, company = world.actor(world.regulator), world.actor(world.enterprise_user)
    with as_(world, world.regulator):
        for code in ALL[:-1]:
            world.checks.record_item(world.application, regulator, code, "pass", "", image("snap.png"))
        with pytest.raises(CheckRefused):
            world.checks.finish(world.application, regulator)  # one item not recorded
        world.checks.record_item(world.application, regulator, "emergency", "fail", "应急器材不足", image("snap.png"))
        assert world.checks.finish(world.application, regulator).status == "rectifying"
    with as_(world, world.enterprise_user):
        with pytest.raises(CheckRefused):
            world.checks.submit_rectification(world.application, company)  # nothing rectified, not signed again
        world.checks.rectify(world.application, company, "emergency", [image("after.png")], "已补充应急器材")
        with pytest.raises(CheckRefused):
            world.checks.submit_rectification(world.application, company)  # the second signature is missing
        world.checks.sign(world.application, company, image("signature.png"), image())
        check = world.checks.submit_rectification(world.application, company)
    assert (check.status, check.round) == ("in_progress", 2)
    # resumed where it stopped: the passed items stay, only the failed one waits
    assert [c for c, i in check.items.items() if i["result"] is None] == ["emergency"]
    assert check.items["emergency"]["history"][0]["rectification"]["remark"] == "已补充应急器材"
    with as_(world, world.regulator):
        world.checks.record_item(world.application, regulator, "emergency", "pass", "", image("snap.png"))
        world.checks.finish(world.application, regulator)
    model = world.svc.models["licence_application"]
    row = world.svc.session.execute(select(model).where(model.id == world.application)
                                    .execution_options(unscoped_reason="test")).scalar_one()
    assert row.state == "approving" and row.verified_on == date.today()


def test_the_pass_step_is_no_button(world: World) -> None:
    """cloud_verify (manual: false) is neither offered nor taken outside the verification."""
    from app.workflow.engine import TransitionRefused
    engine = world.app.extensions["safety_workflow"]
    spec = world.checks.spec
    regulator = world.actor(world.regulator)
    with as_(world, world.regulator):
        row = world.checks.application(world.application)
        assert [t.name for t in engine.offered(spec, row, regulator)] == ["send_back"]
        with pytest.raises(TransitionRefused):
            engine.take(spec, row, "cloud_verify", regulator)
    assert row.state == "verifying"
