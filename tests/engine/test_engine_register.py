"""The engine on a register it was not written for (tests/fixtures/metadata/engine): tables, every field
type through the HTTP forms, lists with every filter kind, reference pickers, delete protection."""
from __future__ import annotations

from datetime import date
from io import BytesIO

from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload

from tests.helpers import field_errors, visible_text


def test_tables_columns_and_indexes_follow_the_yaml(engine_app):
    svc = engine_app.extensions["safety"]
    with engine_app.app_context():
        insp = inspect(svc.db.engine)
        cols = {c["name"]: c for c in insp.get_columns("reg_rescue_team")}
        assert str(cols["team_name"]["type"]) == "VARCHAR(100)" and not cols["team_name"]["nullable"]
        assert str(cols["notes"]["type"]) == "TEXT"
        assert str(cols["members"]["type"]) == "BIGINT"
        assert str(cols["budget"]["type"]) == "NUMERIC(10, 2)"
        assert str(cols["on_duty"]["type"]) == "BOOLEAN"
        assert str(cols["founded_on"]["type"]) == "DATE"
        assert str(cols["last_drill_at"]["type"]) == "TIMESTAMP"
        assert str(cols["kind"]["type"]) == "VARCHAR(64)" and not cols["kind"]["nullable"]
        assert str(cols["skills"]["type"]) == "JSON" and str(cols["plan"]["type"]) == "JSON"
        assert {"station_lat", "station_lng", "depot_id", "created_at", "updated_at"} <= set(cols)
        assert "members_list" not in cols and "station" not in cols
        fks = insp.get_foreign_keys("reg_rescue_team")
        assert [(fk["constrained_columns"], fk["referred_table"], fk["options"].get("ondelete")) for fk in fks] == [
            (["depot_id"], "reg_depot", "RESTRICT")]
        [child_fk] = insp.get_foreign_keys("reg_rescue_member")
        assert child_fk["referred_table"] == "reg_rescue_team" and child_fk["options"]["ondelete"] == "CASCADE"
        indexes = {tuple(ix["column_names"]) for ix in insp.get_indexes("reg_rescue_team")}
        # the default sort (kind, -founded_on) and each equality filter followed by that sort
        assert ("kind", "founded_on", "id") in indexes
        assert ("zone", "kind", "founded_on", "id") in indexes
        assert ("depot_id", "kind", "founded_on", "id") in indexes
        # each range filter, then the id that breaks ties: a page sorted by it walks the index in order
        assert ("founded_on", "id") in indexes and ("members", "id") in indexes
        unique = [ix for ix in insp.get_indexes("reg_depot") if ix["unique"]]
        assert [ix["column_names"] for ix in unique] == [["depot_name"]]


def _depot(client, name="北区一号物资库", zone="n1"):
    assert client.post_form("/r/depot/add", {"depot_name": name, "zone": zone}).status_code == 302


def _team(**override):
    data = {"team_name": "园区危化品救援队", "notes": "负责北区危化品企业", "members": "32", "budget": "85.50",
            "on_duty": "y", "founded_on": "2018-03-01", "last_drill_at": "2024-05-20T09:30", "kind": "chem",
            "skills": ["fire", "chem"], "zone": "n2", "leader_mobile": "13912345678",
            "leader_id_card": "11010519491231002X", "station_lat": "30.5", "station_lng": "120.1",
            "members_list-0-member_name": "张伟", "members_list-0-role": "fire", "members_list-0-joined_on": "2019-01-01",
            "members_list-1-member_name": "李娜", "members_list-1-role": "chem"}
    data.update(override)
    return data


def _rows(app, register):
    svc = app.extensions["safety"]
    with app.app_context():
        return list(svc.session.scalars(select(svc.models[register]).options(selectinload("*"))
                                        .order_by(svc.models[register].id)))


def test_every_field_type_round_trips_through_the_forms(engine_admin, engine_app):
    _depot(engine_admin)
    depot = _rows(engine_app, "depot")[0]
    response = engine_admin.post_form("/r/rescue_team/add", _team(
        depot=str(depot.id), plan=(BytesIO(b"%PDF-1.7 plan"), "救援预案.pdf"),
        photo=(BytesIO(b"\x89PNG\r\n\x1a\nfake"), "合影.png")), content_type="multipart/form-data")
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[:1500]
    [team] = _rows(engine_app, "rescue_team")
    assert (team.members, float(team.budget), team.on_duty, team.founded_on) == (32, 85.5, True, date(2018, 3, 1))
    assert team.last_drill_at.isoformat() == "2024-05-20T09:30:00"
    assert team.skills == ["fire", "chem"] and team.zone == "n2" and team.depot_id == depot.id
    assert (float(team.station_lat), float(team.station_lng)) == (30.5, 120.1)
    assert [m.member_name for m in team.members_list] == ["张伟", "李娜"]
    assert team.plan[0]["name"] == "救援预案.pdf" and team.photo[0]["type"] == "image/png"

    shown = visible_text(engine_admin.get(f"/r/rescue_team/show/{team.id}").get_data(as_text=True))
    for text in ("园区危化品救援队", "危化品救援", "消防救援、危化品救援", "北区 / 北二片", "北区一号物资库", "30.5, 120.1",
                 "救援预案.pdf", "张伟", "李娜", "2024-05-20 09:30", "是"):
        assert text in shown, text

    # edit: drop a member, add one, replace nothing else; the unchanged file stays
    response = engine_admin.post_form(f"/r/rescue_team/edit/{team.id}", _team(
        depot=str(depot.id), **{"members_list-0-id": str(team.members_list[0].id), "members_list-0-member_name": "张伟",
                                "members_list-1-member_name": "王强", "members_list-1-role": "mine"}))
    assert response.status_code == 302
    [team] = _rows(engine_app, "rescue_team")
    assert [m.member_name for m in team.members_list] == ["张伟", "王强"]
    assert len(_rows(engine_app, "rescue_member")) == 2
    assert team.plan[0]["name"] == "救援预案.pdf"


def test_each_rule_is_refused_on_its_field(engine_admin, engine_app):
    _depot(engine_admin)
    response = engine_admin.post_form("/r/rescue_team/add", _team(
        members="0", budget="12.345", zone="north", leader_id_card="110105194912310021", station_lat="50",
        depot="999", kind="nonsense", **{"members_list-0-member_name": ""}), content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert field_errors(html, "members") == ["不能小于 1。"]
    assert field_errors(html, "budget") == ["最多 2 位小数。"]
    assert field_errors(html, "zone") == ["请选择到最后一级。"]
    assert "身份证号码无效" in field_errors(html, "leader_id_card")[0]
    assert "坐标超出允许范围" in field_errors(html, "station")[0]
    assert field_errors(html, "depot") == ["所选记录不存在或无权访问。"]
    assert field_errors(html, "kind") == ["不是有效的选项。"]
    assert _rows(engine_app, "rescue_team") == []

    html = engine_admin.post_form("/r/rescue_team/add", _team(plan=(BytesIO(b"x" * (1024 * 1024 + 1)), "big.pdf")),
                                  content_type="multipart/form-data").get_data(as_text=True)
    assert field_errors(html, "plan") == ["big.pdf 超过 1MB。"]


def test_list_filters_search_sort_and_pages(engine_admin, engine_app):
    _depot(engine_admin, "北区一号物资库", "n1")
    _depot(engine_admin, "南区物资库", "s1")
    north, south = _rows(engine_app, "depot")
    svc = engine_app.extensions["safety"]
    with engine_app.app_context():
        model = svc.models["rescue_team"]
        for i in range(25):
            svc.session.add(model(team_name=f"救援队{i:02d}", kind=["fire", "mine", "chem"][i % 3],
                                  zone=["n1", "n2", "s1"][i % 3], depot_id=(north if i % 2 else south).id,
                                  members=i + 1, founded_on=date(2000 + i, 1, 1), on_duty=i % 4 == 0,
                                  notes="夜间值守" if i == 7 else None))
        svc.session.commit()

    def names(query):
        html = engine_admin.get("/r/rescue_team/list/?" + query).get_data(as_text=True)
        import re
        return re.findall(r"救援队\d\d", visible_text(html)), visible_text(html)

    found, text = names("")
    assert "共 25 条" in text and len(found) == 10  # page_size: 10 from the YAML
    # default sort [kind, -founded_on]: chem first (codes sort chem < fire < mine), newest first
    assert found[:3] == ["救援队23", "救援队20", "救援队17"]
    assert names("f.kind=mine")[0] == [f"救援队{i:02d}" for i in (22, 19, 16, 13, 10, 7, 4, 1)]
    assert sorted(names("f.zone=north&size=50")[0]) == sorted(f"救援队{i:02d}" for i in range(25) if i % 3 != 2)
    assert sorted(names("f.zone=s1&size=50")[0]) == sorted(f"救援队{i:02d}" for i in range(25) if i % 3 == 2)
    assert sorted(names(f"f.depot={north.id}&size=50")[0]) == sorted(f"救援队{i:02d}" for i in range(25) if i % 2)
    assert sorted(names("f.founded_on.from=2010-01-01&f.founded_on.to=2012-12-31")[0]) == ["救援队10", "救援队11", "救援队12"]
    assert sorted(names("f.members.from=24")[0]) == ["救援队23", "救援队24"]
    assert sorted(names("f.on_duty=1&size=50")[0]) == sorted(f"救援队{i:02d}" for i in range(25) if i % 4 == 0)
    assert names("f.team_name=队07")[0] == ["救援队07"]
    assert names("q=夜间")[0] == ["救援队07"]
    assert names("sort=members")[0][:3] == ["救援队00", "救援队01", "救援队02"]
    assert names("sort=-members&page=3")[0] == ["救援队04", "救援队03", "救援队02", "救援队01", "救援队00"]
    bad, text = names("f.founded_on.from=not-a-date")
    assert len(bad) == 10 and "输入值无效，已忽略该条件。" in text


def test_reference_picker_searches_and_delete_is_refused_while_referred(engine_admin, engine_app):
    _depot(engine_admin, "北区一号物资库")
    _depot(engine_admin, "南区物资库", "s1")
    found = engine_admin.get("/r/depot/lookup?q=南区").get_json()
    assert [r["text"] for r in found["results"]] == ["南区物资库"]
    north = _rows(engine_app, "depot")[0]
    assert engine_admin.post_form("/r/rescue_team/add", _team(depot=str(north.id))).status_code == 302
    response = engine_admin.post_form(f"/r/depot/delete/{north.id}", {}, page_url=f"/r/depot/show/{north.id}",
                                      follow_redirects=True)
    assert "该记录无法删除：仍被救援队伍 1 条引用" in visible_text(response.get_data(as_text=True))
    assert len(_rows(engine_app, "depot")) == 2
