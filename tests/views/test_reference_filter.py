"""List filters through a reference (`f.enterprise.region=…`, metadata §6.3): the list, its export and the API hold
exactly the rows whose referenced row matches, within the reader's scope; a field hidden from the reader on the
referenced register cannot be filtered on; a chart grouped through the reference drills down to its rows."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.metadata import check_metadata
from tests.helpers import FormClient, login, visible_text
from tests.plugins.charts.conftest import CITY, ENTERPRISES, WUJIN, XINBEI, World, build_world
from tests.security import factory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata"


@pytest.fixture
def world(db_app) -> World:
    return build_world(db_app)


def listed(client: Any, url: str) -> list[int]:
    response = client.get(url + ("&" if "?" in url else "?") + "size=500")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', response.get_data(as_text=True))]


def hazard_ids(world: World, **where: Any) -> set[int]:
    """The ids of the world's hazards matching ``where`` (read as the system, not through any scope)."""
    from sqlalchemy import select
    model = world.svc.models["hazard"]
    with world.app.app_context():
        rows = world.svc.session.execute(select(model.id, model.enterprise_id).order_by(model.id)
                                         .execution_options(include_all_rows=True)).all()
    by_enterprise = {row_id: world.enterprises.index(enterprise_id) for row_id, enterprise_id in rows}
    wanted = {h["enterprise"] for h in world.hazards if all(h[k] == v for k, v in where.items())}
    matching = {row_id for row_id, index in by_enterprise.items() if index in wanted}
    # the enterprise's hazards all share its region and type: the set is exactly the hazards matching ``where``
    assert len(matching) == world.count(**where)
    return matching


def test_the_hazard_list_filters_on_the_enterprises_region(world: World, admin: FormClient) -> None:
    # the administrator: every region, a subtree (a county holds its townships) or one township
    assert set(listed(admin, f"/r/hazard/list/?f.enterprise.region={XINBEI}")) == hazard_ids(world, county=XINBEI)
    assert set(listed(admin, f"/r/hazard/list/?f.enterprise.region={WUJIN}")) == hazard_ids(world, county=WUJIN)
    assert set(listed(admin, "/r/hazard/list/?f.enterprise.region=320411002")) == \
        hazard_ids(world, township="320411002")
    assert len(listed(admin, f"/r/hazard/list/?f.enterprise.region={CITY}")) == len(world.hazards)
    # combined with the register's own filters
    assert set(listed(admin, f"/r/hazard/list/?f.enterprise.region={XINBEI}&f.level=major")) == \
        hazard_ids(world, county=XINBEI) & {i for i in hazard_ids(world) if i in _level_ids(world, "major")}

    # a county regulator: the same filter, inside its scope; another county's region gives nothing
    county = world.client("county")
    assert set(listed(county, "/r/hazard/list/?f.enterprise.region=320411003")) == \
        hazard_ids(world, township="320411003")
    assert set(listed(county, f"/r/hazard/list/?f.enterprise.region={CITY}")) == hazard_ids(world, county=XINBEI)
    assert listed(county, f"/r/hazard/list/?f.enterprise.region={WUJIN}") == []
    assert listed(world.client("wujin"), "/r/hazard/list/?f.enterprise.region=320411002") == []


def _level_ids(world: World, level: str) -> set[int]:
    from sqlalchemy import select
    model = world.svc.models["hazard"]
    with world.app.app_context():
        return set(world.svc.session.scalars(select(model.id).where(model.level == level)
                                             .execution_options(include_all_rows=True)))


def test_the_enterprise_type_filter_and_the_filter_bar(world: World, admin: FormClient) -> None:
    types = [code for code, node in world.svc.dictionaries.tree("enterprise_type").nodes.items()
             if not node.children][:2]
    first_kind = {i for i, (_township, kind) in enumerate(ENTERPRISES) if kind == 0}
    expected = sum(1 for h in world.hazards if h["enterprise"] in first_kind)
    assert len(listed(admin, f"/r/hazard/list/?f.enterprise.enterprise_type={types[0]}")) == expected > 0

    page = admin.get(f"/r/hazard/list/?f.enterprise.region={XINBEI}&size=5").get_data(as_text=True)
    # the target field's own control (the region tree picker), under the YAML's label, holding the value
    item = re.search(r'<div class="filter-item[^"]*" data-filter="enterprise.region">(.*?)</div>\s*</div>', page,
                     re.S)
    assert item is not None
    assert "企业属地" in item.group(1) and 'name="f.enterprise.region"' in item.group(1)
    assert f'value="{XINBEI}"' in item.group(1)
    # the pager and the sort headers keep the filter
    links = [link for link in re.findall(r'href="([^"]*)"', page) if "page=2" in link or "sort=" in link]
    assert links and all(parse_qs(urlsplit(link.replace("&amp;", "&")).query).get("f.enterprise.region") == [XINBEI]
                         for link in links)
    # the filter in the folded part of the panel opens it
    assert "is-folded" not in re.search(r'<form[^>]*id="filter-form"[^>]*>', page).group(0)


def test_the_export_and_the_api_hold_exactly_the_filtered_rows(world: World, admin: FormClient) -> None:
    expected = hazard_ids(world, county=XINBEI)
    text = admin.get(f"/r/hazard/export?format=csv&f.enterprise.region={XINBEI}").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) - 1 == len(expected)
    # a county regulator's export of another county's region: the header only
    county = world.client("county")
    text = county.get(f"/r/hazard/export?format=csv&f.enterprise.region={WUJIN}").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1

    answer = admin.client.get(f"/api/v1/hazard/?f.enterprise.region={XINBEI}&size=100").get_json()
    assert answer["count"] == len(expected) and {item["id"] for item in answer["items"]} == expected
    bad = admin.client.get("/api/v1/hazard/?f.enterprise.established_on.from=x")
    assert bad.status_code == 200  # not a filter of the hazard list: ignored like any unknown argument


def test_a_chart_grouped_through_the_enterprise_drills_down_to_its_rows(world: World) -> None:
    for who, chart in (("city", "hazards_by_region"), ("county", "hazards_by_region"), ("city", "hazards_by_county"),
                       ("wujin", "hazards_by_region")):
        client = world.client(who)
        result = client.get(f"/charts/{chart}/data").get_json()
        assert result["slices"], (who, chart)
        for s in result["slices"]:
            assert s["url"] and f"f.enterprise.region={s['key']}" in s["url"], (who, chart, s)
            assert len(listed(client, s["url"])) == s["value"] > 0, (who, chart, s)
    # a rate: the slice links to the rows it is a rate of
    rate = world.client("city").get("/charts/rectification_rate_by_region/data").get_json()
    for s in rate["slices"]:
        assert len(listed(world.client("city"), s["url"])) == world.count(county=s["key"])


# ---------------------------------------------------------------- a field hidden from the reader


@pytest.fixture(scope="module")
def notes_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """tests/fixtures/metadata/scoped with a register of notes on its companies (reference_filter/)."""
    from config import TestConfig
    from sqlalchemy.engine import make_url
    from tests.conftest import EAGER, PG_BASE, make_app
    return make_app(make_url(PG_BASE).database + "_reffilter", tmp_path_factory.mktemp("reffilter"),
                    metadata_dirs=[FIXTURES / "scoped", FIXTURES / "reference_filter"],
                    CELERY={**TestConfig.CELERY, **EAGER})


@pytest.fixture
def notes(notes_app: Any) -> dict[str, Any]:
    from tests.conftest import truncate_registers
    truncate_registers(notes_app)
    svc = notes_app.extensions["safety"]
    with notes_app.app_context():
        home = factory.make_org(svc)
        rated = {}
        for rating in ("AAA", "BBB"):
            company = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "rating": rating,
                                                        "sector": factory.HOME_DEPARTMENT})
            rated[rating] = factory.make_row(svc, "company_note", {"company": company, "note": f"{rating}的备注"}).id
        away = factory.make_row(svc, "company", {"area": factory.AWAY_TOWNSHIP, "rating": "AAA",
                                                 "sector": factory.HOME_DEPARTMENT})
        rated["away"] = factory.make_row(svc, "company_note", {"company": away, "note": "外地的备注"}).id
        users = {role: factory.make_user(notes_app, role, home).username for role in ("viewer", "chief", "officer")}
    clients = {}
    for role, username in users.items():
        clients[role] = FormClient(notes_app.test_client())
        login(clients[role], username, factory.PASSWORD)
    return {"ids": rated, "clients": clients}


def test_a_field_hidden_on_the_referenced_register_cannot_be_filtered_on(notes: dict[str, Any]) -> None:
    ids, viewer, chief = notes["ids"], notes["clients"]["viewer"], notes["clients"]["chief"]
    # the chief reads ratings: the filter applies (and the row scope: the away company's note is not listed)
    assert listed(chief, "/r/company_note/list/?f.company.rating=AAA") == [ids["AAA"]]
    # the viewer may not read a company's rating: no such filter in its panel, and the URL's is ignored, with a note
    page = viewer.get("/r/company_note/list/?f.company.rating=AAA").get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r'<tr data-id="(\d+)"', page)) == sorted([ids["AAA"], ids["BBB"]])
    assert 'name="f.company.rating"' not in page and 'id="refused-filters"' in page
    # its default label: the reference's, then the field's
    assert 'data-filter="company.area"' in page and "公司·区域" in visible_text(page)
    # nor through the export or the API
    text = viewer.get("/r/company_note/export?format=csv&f.company.rating=AAA").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 3
    refused = viewer.client.get("/api/v1/company_note/?f.company.rating=AAA")
    assert refused.status_code == 422 and "f.company.rating" in refused.get_json()["fields"]
    # the fields it may read filter as usual, within its scope
    assert sorted(listed(viewer, f"/r/company_note/list/?f.company.area={factory.HOME_REGION}")) == \
        sorted([ids["AAA"], ids["BBB"]])
    assert listed(viewer, f"/r/company_note/list/?f.company.area={factory.AWAY_TOWNSHIP}") == []
    assert listed(chief, f"/r/company_note/list/?f.company.area={factory.AWAY_TOWNSHIP}") == []


def test_the_referenced_registers_row_scope_applies_inside_the_filter(notes: dict[str, Any]) -> None:
    ids, officer = notes["ids"], notes["clients"]["officer"]
    # the officer reads every note, the away company's too, but not that company: no filter on it matches
    assert sorted(listed(officer, "/r/company_note/list/")) == sorted(ids.values())
    assert listed(officer, f"/r/company_note/list/?f.company.area={factory.AWAY_TOWNSHIP}") == []
    assert listed(officer, "/r/company_note/list/?f.company.rating=AAA") == [ids["AAA"]]
    assert sorted(listed(officer, f"/r/company_note/list/?f.company.sector={factory.HOME_DEPARTMENT}")) == \
        sorted([ids["AAA"], ids["BBB"]])


# ---------------------------------------------------------------- the metadata


def test_a_wrong_reference_filter_is_reported_at_its_line_with_the_fix() -> None:
    _, issues = check_metadata([FIXTURES / "_base", FIXTURES / "broken_reference_filters"])
    found = {(i.line, i.id): str(i) for i in issues}
    assert found[(11, "E306")].endswith("filters: 'plantt.district': unknown field 'plantt' — did you mean 'plant'?")
    assert "register 'plant' has no field 'distrikt' — did you mean 'district'?" in found[(13, "E306")]
    assert "cannot be filtered" in found[(15, "E301")]
    assert found[(11, "E306")].startswith("broken_reference_filters/registers/finding.yaml:11:")


# ---------------------------------------------------------------- the embedded default


def test_the_filter_works_on_sqlite(tmp_path: Path) -> None:
    from app import create_app
    from app.setup import migrate_database
    from tests.conftest import ADMIN_PASSWORD
    app = create_app("embedded", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'safety.db'}",
                     UPLOAD_FOLDER=tmp_path / "uploads", BACKUP_DIR=tmp_path / "backups")
    svc = app.extensions["safety"]
    with app.app_context():
        assert migrate_database(echo=lambda *_: None) == 0
        sm = app.appbuilder.sm
        sm.add_user("admin", "Admin", "User", "admin@example.invalid", sm.find_role("Admin"), ADMIN_PASSWORD)
        found = {}
        for township in ("320411002", "320411003", "320412001"):
            enterprise = factory.make_row(svc, "enterprise", {"region": township, "department": "emergency"})
            found[township] = [factory.make_row(svc, "hazard", {"enterprise": enterprise, "level": "general"}).id
                               for _ in range(2)]
        county = factory.make_user(app, "regulator", factory.make_org(svc, XINBEI, "emergency")).username
    admin = FormClient(app.test_client())
    login(admin, "admin", ADMIN_PASSWORD)
    regulator = FormClient(app.test_client())
    login(regulator, county, factory.PASSWORD)
    xinbei = sorted(found["320411002"] + found["320411003"])
    assert sorted(listed(admin, f"/r/hazard/list/?f.enterprise.region={XINBEI}")) == xinbei
    assert sorted(listed(admin, f"/r/hazard/list/?f.enterprise.region={WUJIN}")) == sorted(found["320412001"])
    assert sorted(listed(regulator, f"/r/hazard/list/?f.enterprise.region={CITY}")) == xinbei
    assert listed(regulator, f"/r/hazard/list/?f.enterprise.region={WUJIN}") == []
    text = admin.get(f"/r/hazard/export?format=csv&f.enterprise.region={XINBEI}").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + len(xinbei)
