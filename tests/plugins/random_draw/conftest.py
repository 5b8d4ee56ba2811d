"""A small world for the random draw: two counties, their enterprises, officers and drawing accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

import pytest

from app.security.actor import actor_from_id
from tests.security.factory import make_org, make_row, make_user

HOME_TOWNSHIPS = ("320411002", "320411003")   # 三井街道, 龙虎塘街道 in 常州市新北区
AWAY_TOWNSHIP = "320412001"                    # 戚墅堰街道 in 常州市武进区: another county


@dataclass
class World:
    app: Any
    svc: Any
    home_org: Any
    away_org: Any
    home_user: int
    away_user: int
    home_enterprises: list
    away_enterprises: list
    home_officers: list

    @property
    def draws(self) -> Any:
        return self.app.extensions["random_draw"]

    def actor(self, user_id: int) -> Any:
        """The actor of an account (inside an app or request context)."""
        return actor_from_id(user_id)


def make_enterprise(svc: Any, region: str, name: str) -> Any:
    return make_row(svc, "enterprise", {"region": region, "department": "emergency", "name": name,
                                        "status": "producing"})


def make_officer(svc: Any, org: Any, name: str, code: str, **extra: Any) -> Any:
    values = {"organisation": org, "person_name": name, "code": code, "department": "emergency",
              "certificate_valid_until": date(2099, 1, 1), "active": True, **extra}
    return make_row(svc, "law_officer", values)


def build_world(db_app: Any) -> World:
    svc = db_app.extensions["safety"]
    home_org = make_org(svc, "320411", "emergency")
    away_org = make_org(svc, "320412", "emergency")
    home = [make_enterprise(svc, HOME_TOWNSHIPS[i % 2], f"新北企业{i:02d}") for i in range(50)]
    away = [make_enterprise(svc, AWAY_TOWNSHIP, f"武进企业{i:02d}") for i in range(10)]
    officers = [make_officer(svc, home_org, f"新北执法{i}", f"XB-{i:03d}") for i in range(6)]
    make_officer(svc, away_org, "武进执法0", "WJ-000")
    home_user = make_user(db_app, "regulator", home_org).id
    away_user = make_user(db_app, "regulator", away_org).id
    return World(db_app, svc, home_org, away_org, home_user, away_user, [e.id for e in home],
                 [e.id for e in away], [o.id for o in officers])


@pytest.fixture
def world(db_app) -> Iterator[World]:
    """Built as the system; the test body runs inside the same app context (one session, rows stay bound)."""
    with db_app.app_context():
        yield build_world(db_app)


@pytest.fixture
def web_world(db_app) -> World:
    """The same world for HTTP tests: no app context stays pushed (each request gets its own ``g``); read rows
    inside ``with world.app.app_context()``."""
    with db_app.app_context():
        return build_world(db_app)
