"""In two real headless Chromium pages (fake camera and microphone), the regulator and the enterprise of one
application: appointment agreed, the enterprise signs the 承诺书 on the pad, both reach `connected`, the regulator
decodes video frames, records the call (WebM), snapshots and records every item, and the application moves on.
A regulator of the next county is refused by the signalling server. With the call dropped, photo evidence
completes a verification."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.security.actor import acting_as
from tests.security.factory import PASSWORD

from .conftest import World, png

pytestmark = pytest.mark.browser


def open_page(browser, live_server, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: print(f"[{username}] {m.text}") if m.type == "error" else None)
    page.goto(live_server.url + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(live_server.url + "/")
    return page


def started(world: World) -> None:
    """Appointment agreed and verification started (the steps' own tests are in test_service.py)."""
    with world.app.app_context():
        with acting_as(world.actor(world.regulator)):
            world.checks.propose(world.application, world.actor(world.regulator), datetime.now() + timedelta(hours=1))
        with acting_as(world.actor(world.enterprise_user)):
            world.checks.confirm(world.application, world.actor(world.enterprise_user))
        with acting_as(world.actor(world.regulator)):
            world.checks.start(world.application, world.actor(world.regulator))


def sign(page, url: str, tmp_path) -> None:
    page.goto(url)
    pad = page.locator("#signature-pad")
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 100)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box["x"] + 40 + i * 25, box["y"] + 100 - (i % 3) * 30)
    page.mouse.up()
    photo = tmp_path / "经办人.png"
    photo.write_bytes(png(32, 32))
    page.set_input_files("#operator-photo", str(photo))
    page.click("#signature-submit")
    expect(page.locator("#signature-done")).to_be_visible()


def application_state(world: World) -> str:
    with world.app.app_context():
        model = world.svc.models["licence_application"]
        world.svc.session.expire_all()
        return world.svc.session.execute(select(model.state).where(model.id == world.application)
                                         .execution_options(unscoped_reason="test")).scalar_one()


def both_parties(world: World, browser, live_server, tmp_path) -> tuple[str, object, object]:
    """The verification started, the enterprise's 承诺书 signed, both parties on the verification page."""
    started(world)
    url = f"{live_server.url}/video_check/{world.application}"
    regulator = open_page(browser, live_server, world.logins["regulator"])
    company = open_page(browser, live_server, world.logins["enterprise"])
    sign(company, url, tmp_path)
    regulator.goto(url)
    return url, regulator, company


def test_video_call_items_recording_and_refusal(web_world: World, call_browser, live_server, tmp_path) -> None:
    world = web_world
    url, regulator, company = both_parties(world, call_browser, live_server, tmp_path)
    expect(regulator.locator("#signature-image")).to_be_visible()  # the regulator sees the signed 承诺书
    started_at = datetime.now()
    regulator.click("#call-start")
    company.click("#call-start")
    for page in (regulator, company):
        expect(page.locator("#call-state")).to_have_attribute("data-state", "connected", timeout=20_000)
    print(f"connected in {(datetime.now() - started_at).total_seconds():.1f} s")
    regulator.wait_for_function("""async () => {
        const pc = window.videoCheck.peer(); if (!pc) return false;
        const stats = await pc.getStats(); let frames = 0;
        stats.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0; });
        return frames > 0; }""", timeout=15_000)

    # a third account, a regulator of the next county, is refused by the signalling server itself
    away = open_page(call_browser, live_server, world.logins["away"])
    refusal = away.evaluate("""(path) => new Promise(resolve => {
        const messages = []; const ws = new WebSocket('ws://' + location.host + path);
        ws.onmessage = e => messages.push(JSON.parse(e.data));
        ws.onclose = e => resolve({code: e.code, messages}); })""", f"/video_check/{world.application}/signal")
    assert refusal["messages"] == [{"type": "refused", "reason": "not a party"}], refusal
    # closed by the server with 4403 (under gunicorn); werkzeug's test server writes its own response bytes
    # after a WebSocket handler returns, which the browser reports as a broken frame (1006)
    assert refusal["code"] in (4403, 1006), refusal
    assert away.goto(url).status == 404

    # recording, announced on both screens
    regulator.click("#record-start")
    expect(company.locator("#recording-banner")).to_be_visible()
    expect(regulator.locator("#recording-banner")).to_be_visible()
    regulator.wait_for_timeout(2500)
    regulator.click("#record-stop")
    expect(regulator.locator("#record-message")).to_have_attribute("data-saved", "1")
    expect(company.locator("#recording-banner")).to_be_hidden()

    for row in regulator.locator(".check-item").all():
        row.locator("input[value=pass]").check()
        row.locator(".item-snap").click()
        expect(row.locator(".item-preview")).to_be_visible()
        row.locator(".item-save").click()
        expect(row).to_have_attribute("data-result", "pass")

    with world.app.app_context():
        check = world.check()
        assert all(i["result"] == "pass" and i["snapshot"]["type"] == "image/png" for i in check.items.values())
        snapshot = world.svc.files.path_of(check.items["premises"]["snapshot"]).read_bytes()
        assert snapshot.startswith(b"\x89PNG") and len(snapshot) > 1000  # a real frame, not an empty canvas
        [recording] = check.recordings
        data = world.svc.files.path_of(recording).read_bytes()
        assert recording["size"] == len(data) > 0 and data[:4] == b"\x1a\x45\xdf\xa3"

    regulator.click("#verification-finish")
    expect(regulator.locator("#verification-passed")).to_be_visible()
    assert application_state(world) == "approving"
    for page in (regulator, company, away):
        page.context.close()


def test_photo_evidence_when_the_call_drops(web_world: World, call_browser, live_server, tmp_path) -> None:
    world = web_world
    url, regulator, company = both_parties(world, call_browser, live_server, tmp_path)
    regulator.click("#call-start")
    company.click("#call-start")
    expect(regulator.locator("#call-state")).to_have_attribute("data-state", "connected", timeout=20_000)
    company.context.close()  # the enterprise's network drops
    expect(regulator.locator("#call-state")).not_to_have_attribute("data-state", "connected", timeout=20_000)

    regulator.click("#switch-photo")
    expect(regulator.locator("#photo-mode")).to_be_visible()
    company = open_page(call_browser, live_server, world.logins["enterprise"])
    company.goto(url)
    photo = tmp_path / "现场.png"
    photo.write_bytes(png(24, 24, (20, 120, 40)))
    for code in [r.get_attribute("data-code") for r in company.locator(".check-item").all()]:
        form = company.locator(f".check-item[data-code={code}] .evidence-form")
        form.locator("input[type=file]").set_input_files(str(photo))
        form.locator("input[name=remark]").fill("现场照片")
        form.locator("button").click()
        expect(company.locator(f".check-item[data-code={code}] .item-evidence img")).to_be_visible()

    regulator.goto(url)
    for row in regulator.locator(".check-item").all():
        expect(row.locator(".item-evidence img")).to_be_visible()
        row.locator("input[value=pass]").check()
        row.locator(".item-save").click()  # the enterprise's photo is the evidence: no snapshot needed
        expect(row).to_have_attribute("data-result", "pass")
    regulator.click("#verification-finish")
    expect(regulator.locator("#verification-passed")).to_be_visible()
    assert application_state(world) == "approving"
    regulator.context.close()
    company.context.close()
