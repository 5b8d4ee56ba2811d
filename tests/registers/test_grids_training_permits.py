"""网格化, 培训, 特殊作业报备, 大检修 and 第三方机构 (001 §9, §11, §13–§15) through the screens and the API."""
from __future__ import annotations

import base64
import re
from datetime import date, datetime, timedelta

from tests.excel.workbook import code, fill
from tests.helpers import visible_text
from tests.security import factory
from tests.workflow.helpers import PNG, buttons, client_for, state_of, take

from .conftest import add, upload


def _basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{factory.PASSWORD}".encode()).decode()}


def test_grids_their_members_and_the_enterprises_assigned(db_app, county):
    admin = client_for(db_app, county["admin"])
    grid = add(admin, "grid", {"name": "春江街道第一网格", "kind": "territorial", "region": factory.HOME_TOWNSHIP})
    # an industry grid names its department
    page = admin.post_form("/r/grid/add", {"name": "危化行业网格", "kind": "industry", "region": "320411"})
    assert "此项为必填项。" in visible_text(page.get_data(as_text=True))
    add(admin, "grid_member", {"grid": str(grid), "person_name": "陈立新", "post": "head", "mobile": "13961110001"})
    response = db_app.test_client().put(f"/api/v1/enterprise/{county['enterprise_id']}", json={"grid": grid},
                                        headers=_basic(county["admin"]))
    assert response.status_code == 200, response.get_json()
    shown = visible_text(admin.get(f"/r/grid/show/{grid}").get_data(as_text=True))
    assert "陈立新" in shown and county["enterprise_name"] in shown
    # the enterprise cannot move itself to another grid; another county does not see the grid
    refused = db_app.test_client().put(f"/api/v1/enterprise/{county['enterprise_id']}", json={"grid": None},
                                       headers=_basic(county["enterprise"]))
    assert refused.status_code == 422 and "grid" in refused.get_json()["fields"]
    assert client_for(db_app, county["away"]).get(f"/r/grid/show/{grid}").status_code == 403


def test_a_course_and_the_enterprises_attendance(db_app, county):
    admin = client_for(db_app, county["admin"])
    course = add(admin, "training_course", {"title": "危险化学品企业主要负责人安全培训", "kind": "principal",
                                            "starts_on": date.today().isoformat(), "hours": "16"})
    company = client_for(db_app, county["enterprise"])
    template = company.get("/r/training_attendance/template").data
    rows = [["危险化学品企业主要负责人安全培训", county["enterprise_name"], "王伟", "总经理", "是", "92"],
            ["危险化学品企业主要负责人安全培训", county["enterprise_name"], "张敏", "安全员", "是", "120"]]
    page = upload(company, "training_attendance", fill(template, rows))
    assert "未写入任何数据" in page and re.search(r"行 列 问题 3 考试成绩 ", page), page[-600:]
    rows[1][5] = "88"
    assert "完成：新增 2 条" in upload(company, "training_attendance", fill(template, rows))
    shown = visible_text(admin.get(f"/r/training_course/show/{course}").get_data(as_text=True))
    assert "王伟" in shown and "张敏" in shown
    assert "王伟" not in visible_text(client_for(db_app, county["other_enterprise"]).get(
        "/r/training_attendance/list/").get_data(as_text=True))


def test_a_special_work_permit_through_its_states(db_app, county):
    company, admin = client_for(db_app, county["enterprise"]), client_for(db_app, county["admin"])
    start = (datetime.now() + timedelta(days=1)).replace(minute=0)
    permit = {"enterprise": str(county["enterprise_id"]), "title": "进料管线动火焊接", "kind": "hot_work",
              "grade": "first", "location": "液氨储罐区", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
              "ends_at": (start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "guardian": "张敏",
              "measures": "清理可燃物，气体检测合格"}
    assert "作业结束时间不能早于开始时间" in visible_text(
        company.post_form("/r/special_work_permit/add", permit).get_data(as_text=True))
    permit["ends_at"] = (start + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    row = add(company, "special_work_permit", permit)
    assert state_of(db_app, "special_work_permit", row) == "draft"
    take(company, "special_work_permit", row, "submit")
    assert sorted(buttons(admin.get(f"/r/special_work_permit/show/{row}").get_data(as_text=True))) == [
        "approve", "send_back"]
    take(admin, "special_work_permit", row, "send_back", comment="缺少气体检测记录")
    assert state_of(db_app, "special_work_permit", row) == "draft"
    take(company, "special_work_permit", row, "submit")
    take(admin, "special_work_permit", row, "approve")
    assert state_of(db_app, "special_work_permit", row) == "approved"
    take(company, "special_work_permit", row, "close")                 # a photo of the site is required
    assert state_of(db_app, "special_work_permit", row) == "approved"
    take(company, "special_work_permit", row, "close", files=[("现场.png", PNG)])
    assert state_of(db_app, "special_work_permit", row) == "closed"
    assert client_for(db_app, county["away"]).get(f"/r/special_work_permit/show/{row}").status_code == 403


def test_an_overhaul_plan_is_approved_and_completed(db_app, county):
    company, admin = client_for(db_app, county["enterprise"]), client_for(db_app, county["admin"])
    row = add(company, "overhaul_plan", {
        "enterprise": str(county["enterprise_id"]), "title": "年度全厂停车大检修", "units": "合成氨装置",
        "starts_on": (date.today() + timedelta(days=30)).isoformat(),
        "ends_on": (date.today() + timedelta(days=45)).isoformat(), "responsible_person": "王伟",
        "scheme": "停车置换、能量隔离"})
    take(company, "overhaul_plan", row, "submit")
    take(admin, "overhaul_plan", row, "approve")
    take(company, "overhaul_plan", row, "complete")
    assert state_of(db_app, "overhaul_plan", row) == "completed"
    shown = visible_text(company.get(f"/r/overhaul_plan/show/{row}").get_data(as_text=True))
    assert "已完工" in shown and date.today().isoformat() in shown


def test_third_party_agencies_are_kept_by_the_county_and_imported(db_app, county):
    admin = client_for(db_app, county["admin"])
    template = admin.get("/r/third_party_agency/template").data
    good, bad = code(1), code(2)[:-1] + ("0" if code(2)[-1] != "0" else "1")
    rows = [["江苏安评技术服务有限公司", good, "安全评价机构", "APJ-001", "2027-06-30", "江苏省/常州市/新北区", None, "周涛",
             "0519-85681234"],
            ["常州检测研究所有限公司", bad, "检测检验机构", None, None, "江苏省/常州市/新北区", None, None, None]]
    page = upload(admin, "third_party_agency", fill(template, rows))
    assert "未写入任何数据" in page and re.search(r"行 列 问题 3 统一社会信用代码 ", page), page[-600:]
    rows[1][1] = code(3)
    assert "完成：新增 2 条" in upload(admin, "third_party_agency", fill(template, rows))
    assert "江苏安评技术服务有限公司" in visible_text(client_for(db_app, county["enterprise"]).get(
        "/r/third_party_agency/list/").get_data(as_text=True))
    assert "江苏安评技术服务有限公司" not in visible_text(client_for(db_app, county["away"]).get(
        "/r/third_party_agency/list/").get_data(as_text=True))
