"""A small world for the charts: a city (常州) with two counties (新北区, 武进区), their enterprises and hazards, and
accounts at city, county and enterprise level. The hazards are listed here, so tests count them by hand."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from tests.helpers import FormClient, login
from tests.security.factory import PASSWORD, make_org, make_row, make_uscc, make_user

CITY = "3204"                                           # 常州市
XINBEI, WUJIN = "320411", "320412"                      # 新北区, 武进区
TOWNSHIPS = {"320411002": XINBEI, "320411003": XINBEI, "320412001": WUJIN}   # 三井街道, 龙虎塘街道, 戚墅堰街道
# (township, enterprise type index) per enterprise; hazards per enterprise: (level, state, days ago found)
ENTERPRISES = [("320411002", 0), ("320411002", 1), ("320411003", 0), ("320412001", 1), ("320412001", 0)]
HAZARDS = {
    0: [("general", "pending", 3), ("general", "rectified", 5), ("major", "supervised", 40)],
    1: [("general", "submitted", 1)],
    2: [("major", "pending", 2), ("general", "rectified", 60), ("general", "rectified", 2), ("general", "pending", 8)],
    3: [("general", "pending", 1), ("major", "rectified", 3)],
    4: [("general", "pending", 20), ("general", "pending", 21), ("general", "submitted", 4)],
}


@dataclass
class World:
    app: Any
    svc: Any
    enterprises: list[int]
    hazards: list[dict]                      # what each hazard is: enterprise index, township, county, level, state
    users: dict[str, str] = field(default_factory=dict)   # city, county, wujin, enterprise → login

    def client(self, who: str) -> FormClient:
        client = FormClient(self.app.test_client())
        login(client, self.users[who], PASSWORD)
        return client

    def count(self, **where: Any) -> int:
        return sum(1 for h in self.hazards if all(h[k] == v for k, v in where.items()))


def build_world(db_app: Any) -> World:
    svc = db_app.extensions["safety"]
    types = [code for code, node in svc.dictionaries.tree("enterprise_type").nodes.items() if not node.children][:2]
    today = date.today()
    enterprises, hazards, keys = [], [], []
    with db_app.app_context():
        for i, (township, kind) in enumerate(ENTERPRISES):
            key = make_uscc()
            row = make_row(svc, "enterprise", {"region": township, "department": "emergency", "uscc": key,
                                               "name": f"常州测试企业{i:02d}", "status": "producing",
                                               "enterprise_type": types[kind]})
            enterprises.append(row)
            keys.append(key)
            for level, state, ago in HAZARDS[i]:
                found = today - timedelta(days=ago)
                make_row(svc, "hazard", {"enterprise": row, "description": f"隐患{len(hazards)}", "level": level,
                                         "state": state, "found_on": found, "rectify_by": found + timedelta(days=7),
                                         "confirmed_on": today if state == "rectified" else None})
                hazards.append({"enterprise": i, "township": township, "county": TOWNSHIPS[township],
                                "level": level, "state": state, "found_on": found})
        world = World(db_app, svc, [e.id for e in enterprises], hazards)
        world.users = {
            "city": make_user(db_app, "regulator", make_org(svc, CITY, "emergency")).username,
            "county": make_user(db_app, "regulator", make_org(svc, XINBEI, "emergency")).username,
            "wujin": make_user(db_app, "regulator", make_org(svc, WUJIN, "emergency")).username,
            "enterprise": make_user(db_app, "enterprise_user", None, keys[0]).username,
        }
    return world


def metadata_errors(tmp_path: Any, app: Any, folder: str, files: dict[str, str]) -> str:
    """The start-up's message for chart metadata made of ``files`` (name → YAML) in ``folder`` (charts,
    summaries …): what a configurator reads."""
    from app.metadata import MetadataError
    from plugins.charts.settings import read_charts
    where = tmp_path / folder
    where.mkdir()
    for name, text in files.items():
        (where / name).write_text(text, encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        read_charts(tmp_path, app.extensions["safety"].registry)
    return str(caught.value)


@pytest.fixture
def world(db_app) -> World:
    return build_world(db_app)
