"""隐患自查自报 (001 §2.1, §2.4–2.7): guideline standards from the regulators, the enterprises' custom standards
reviewed by the regulator, 查报状态 and 查报周期 on the enterprise, and 填报情况: who reported within its cycle."""
from __future__ import annotations

import re
from datetime import date, timedelta

from tests.helpers import field_errors, visible_text
from tests.security import factory
from tests.workflow.helpers import buttons, client_for, state_of, take

from .conftest import add


def _numbers(html: str) -> dict[str, dict[str, int]]:
    found = re.findall(r'data-code="(\w+)" data-total="(\d+)" data-done="(\d+)" data-required="(\d+)" '
                       r'data-missing="(\d+)"', html)
    return {code: {"total": int(t), "done": int(d), "required": int(r), "missing": int(m)}
            for code, t, d, r, m in found}


def test_a_custom_standard_is_submitted_sent_back_and_approved(db_app, county):
    admin = client_for(db_app, county["admin"])
    guideline = add(admin, "self_check_standard", {
        "title": "危险化学品企业安全风险隐患排查指引", "enterprise_type": "hc_production", "department": "emergency",
        "standard_version": "2024版", "issued_on": date.today().isoformat(), "content": "一、安全领导能力 …"})
    company = client_for(db_app, county["enterprise"])
    assert "危险化学品企业安全风险隐患排查指引" in visible_text(
        company.get("/r/self_check_standard/list/").get_data(as_text=True))
    assert company.get("/r/self_check_standard/add").status_code == 403

    standard = add(company, "custom_standard", {"enterprise": str(county["enterprise_id"]),
                                               "based_on": str(guideline), "title": "本企业隐患排查标准",
                                               "items": "1. 液氨储罐区紧急切断阀完好\n2. 可燃气体报警器每季度校验"})
    assert state_of(db_app, "custom_standard", standard) == "draft"
    assert buttons(company.get(f"/r/custom_standard/show/{standard}").get_data(as_text=True)) == ["submit"]
    take(company, "custom_standard", standard, "submit")
    assert state_of(db_app, "custom_standard", standard) == "submitted"
    # submitted: frozen for the enterprise until the review
    assert company.get(f"/r/custom_standard/edit/{standard}", follow_redirects=True).status_code in (200, 403)
    assert "本企业隐患排查标准" in visible_text(admin.get("/r/custom_standard/list/").get_data(as_text=True))
    assert sorted(buttons(admin.get(f"/r/custom_standard/show/{standard}").get_data(as_text=True))) == [
        "approve", "send_back"]

    take(admin, "custom_standard", standard, "send_back")            # no reason: refused
    assert state_of(db_app, "custom_standard", standard) == "submitted"
    take(admin, "custom_standard", standard, "send_back", comment="缺少特殊作业管理的标准项")
    assert state_of(db_app, "custom_standard", standard) == "draft"
    take(company, "custom_standard", standard, "submit")
    take(admin, "custom_standard", standard, "approve")
    assert state_of(db_app, "custom_standard", standard) == "approved"
    shown = visible_text(company.get(f"/r/custom_standard/show/{standard}").get_data(as_text=True))
    assert "审核通过" in shown and "缺少特殊作业管理的标准项" in shown
    # another county's regulator does not see it
    assert client_for(db_app, county["away"]).get(f"/r/custom_standard/show/{standard}").status_code == 403


def test_reporting_status_and_cycle_decide_who_must_report_and_who_did(db_app):
    svc = db_app.extensions["safety"]
    today = date.today()
    with db_app.app_context():
        home = factory.make_org(svc)

        def enterprise(cycle, status="normal", **extra):
            return factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                        "status": "producing", "report_cycle": cycle,
                                                        "report_status": status, **extra})

        monthly_done, monthly_late = enterprise("monthly"), enterprise("monthly", name="常州逾期未报化工有限公司")
        quarterly = enterprise("quarterly")
        enterprise("monthly", status="paused", name="常州暂不上报化工有限公司")   # not counted
        factory.make_row(svc, "self_inspection_report", {"enterprise": monthly_done, "period": "本月",
                                                         "reported_on": today - timedelta(days=5)})
        factory.make_row(svc, "self_inspection_report", {"enterprise": monthly_late, "period": "上上月",
                                                         "reported_on": today - timedelta(days=70)})
        factory.make_row(svc, "self_inspection_report", {"enterprise": quarterly, "period": "上月",
                                                         "reported_on": today - timedelta(days=40)})
        regulator = factory.make_user(db_app, "regulator", home).username
        company = factory.make_user(db_app, "enterprise_user", enterprise_key=monthly_done.uscc).username
        done_id = monthly_done.id

    client = client_for(db_app, regulator)
    page = client.get(f"/frequency/self_inspection_reporting/{factory.HOME_TOWNSHIP}").get_data(as_text=True)
    numbers = _numbers(page)
    assert numbers["monthly"] == {"total": 2, "done": 1, "required": 2, "missing": 1}
    assert numbers["quarterly"] == {"total": 1, "done": 1, "required": 1, "missing": 0}
    text = visible_text(page)
    assert "常州逾期未报化工有限公司" in text and "常州暂不上报化工有限公司" not in text
    # the pages speak of reporting (visits.word 上报), not of inspections
    assert "共2家，已上报1家，应上报2家" in text and "未按频次上报的企业 (1)" in text and "最近上报日期" in text
    overview = visible_text(client.get("/frequency/self_inspection_reporting/").get_data(as_text=True)
                            .split('<div class="frequency">')[1])
    assert "每1个月至少上报一次" in overview and "每格：已上报 / 应上报" in overview and "检查" not in overview
    # the enterprise reports on its own; it cannot change its status or cycle
    enterprise_client = client_for(db_app, company)
    add(enterprise_client, "self_inspection_report", {"enterprise": str(done_id), "period": "本月补报",
                                                      "reported_on": today.isoformat(), "hazards_general": "2",
                                                      "hazards_major": "0"})
    form = enterprise_client.get(f"/r/enterprise/edit/{done_id}").get_data(as_text=True)
    assert 'name="report_cycle"' not in form and 'name="info_confirmed_on"' in form
    assert client_for(db_app, company).get("/frequency/self_inspection_reporting/").status_code == 403


def test_the_enterprise_file_holds_registration_branches_and_the_yearly_confirmation(db_app, county):
    company = client_for(db_app, county["enterprise"])
    enterprise_id = county["enterprise_id"]
    form = company.get(f"/r/enterprise/edit/{enterprise_id}").get_data(as_text=True)
    data = {name: value for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form)}
    data.update({k: v for k, v in re.findall(r'<textarea[^>]*name="([a-z_]+)"[^>]*>([^<]*)<', form)})
    data.update({"registration_number": "320411000123456", "approved_on": "2015-06-01",
                 "operating_from": "2015-06-01", "operating_until": "2014-01-01",
                 "registration_authority": "常州市新北区市场监督管理局",
                 "info_confirmed_on": date.today().isoformat(),
                 "branches-0-branch_name": "运输部", "branches-0-branch_type": "hc_transport",
                 "branches-0-branch_department": "transport"})
    data.pop("csrf_token", None)
    page = company.post_form(f"/r/enterprise/edit/{enterprise_id}", data).get_data(as_text=True)
    assert "经营期限的截止日期不能早于起始日期" in visible_text(page)
    data["operating_until"] = "2045-05-31"
    response = company.post_form(f"/r/enterprise/edit/{enterprise_id}", data)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "name")
    shown = visible_text(company.get(f"/r/enterprise/show/{enterprise_id}").get_data(as_text=True))
    assert "320411000123456" in shown and "常州市新北区市场监督管理局" in shown and "运输部" in shown
    assert date.today().isoformat() in shown
    # regulators find the enterprises that have not confirmed their record this year
    admin = client_for(db_app, county["admin"])
    stale = visible_text(admin.get(f"/r/enterprise/list/?f.info_confirmed_on.to={date.today().year - 1}-12-31"
                                   ).get_data(as_text=True))
    assert county["enterprise_name"] not in stale
