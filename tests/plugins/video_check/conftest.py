"""A small world for the cloud verification: a county regulator (新北区), the regulator of the next county (武进区),
an enterprise of 新北区 with its account, and its licence application waiting for its verification by video."""
from __future__ import annotations

import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from app.security.actor import actor_from_id
from tests.conftest import CHROMIUM
from tests.security.factory import make_org, make_row, make_user

HOME_TOWNSHIP = "320411002"   # 三井街道, 常州市新北区


@dataclass
class World:
    app: Any
    svc: Any
    application: int
    regulator: int
    away_regulator: int
    enterprise_user: int
    logins: dict

    @property
    def checks(self) -> Any:
        return self.app.extensions["video_check"]

    def actor(self, user_id: int) -> Any:
        return actor_from_id(user_id)

    def check(self) -> Any:
        service = self.checks
        service.svc.session.expire_all()
        return service.svc.session.execute(
            service.Check.__table__.select().where(service.Check.application_id == self.application)).first()


def png(width: int = 8, height: int = 8, colour: tuple = (200, 30, 30)) -> bytes:
    """A small valid PNG (a photo stand-in) without any imaging library."""
    raw = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build_world(db_app: Any, state: str = "verifying") -> World:
    svc = db_app.extensions["safety"]
    # the plugin's own table is not a register: the shared fixtures do not empty it
    svc.session.execute(db_app.extensions["video_check"].Check.__table__.delete())
    svc.session.commit()
    home_org = make_org(svc, "320411", "emergency")
    away_org = make_org(svc, "320412", "emergency")
    enterprise = make_row(svc, "enterprise", {"region": HOME_TOWNSHIP, "department": "emergency",
                                              "name": "常州新北安泰化工贸易有限公司", "status": "producing"})
    application = make_row(svc, "licence_application", {
        "enterprise": enterprise, "applicant_name": "危险化学品经营许可证（首次）", "licence_type": "hazchem_business",
        "business_mode": ["other"], "verification_mode": "cloud"}, state=state)
    login = getattr(enterprise, svc.registry.enterprise_accounts.login)
    regulator = make_user(db_app, "regulator", home_org)
    away = make_user(db_app, "regulator", away_org)
    company = make_user(db_app, "enterprise_user", enterprise_key=login)
    return World(db_app, svc, application.id, regulator.id, away.id, company.id,
                 {"regulator": regulator.username, "away": away.username, "enterprise": company.username})


@pytest.fixture
def world(db_app) -> Iterator[World]:
    with db_app.app_context():
        yield build_world(db_app)


@pytest.fixture
def web_world(db_app) -> World:
    with db_app.app_context():
        return build_world(db_app)


@pytest.fixture(scope="session")
def call_browser(playwright) -> Iterator[Any]:
    """Chromium with fake camera and microphone, media allowed, and ICE on the loopback interface (without these
    flags two pages of one machine never connect); launched from the run's one Playwright (tests/conftest.py)."""
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    chromium = playwright.chromium.launch(executable_path=executable, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--allow-loopback-in-peer-connection"])
    yield chromium
    chromium.close()


