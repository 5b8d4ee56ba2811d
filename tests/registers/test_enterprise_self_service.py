"""003 企业自助: the enterprise keeps its staff with their certificates (warned before they expire), the protective
equipment it issues, its safety funds and its employees' health records; its regulators read them, other
enterprises and counties do not."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.helpers import field_errors, visible_text
from tests.workflow.helpers import client_for

from .conftest import add


def test_an_enterprise_keeps_its_staff_equipment_funds_and_health_records(db_app, county):
    company = client_for(db_app, county["enterprise"])
    eid = str(county["enterprise_id"])
    staff = add(company, "enterprise_staff", {
        "enterprise": eid, "person_name": "刘洋", "post": "电工", "certificate_kind": "special_operation",
        "certificate_number": "T320411198501010015", "on_duty": "y",
        "certificate_until": (date.today() + timedelta(days=12)).isoformat()})
    ppe = add(company, "ppe_issue", {"enterprise": eid, "item": "防静电工作服", "standard": "GB 12014-2019",
                                     "staff": str(staff), "quantity": "2", "issued_on": date.today().isoformat()})
    fund = add(company, "safety_fund", {"enterprise": eid, "year": str(date.today().year), "use": "facilities",
                                        "project": "储罐区可燃气体报警器更换", "amount": "12.50",
                                        "spent_on": date.today().isoformat()})
    health = add(company, "health_record", {"enterprise": eid, "staff": str(staff), "exposure": "噪声",
                                            "kind": "on_job", "examined_on": date.today().isoformat(),
                                            "conclusion": "normal"})
    # edited by the enterprise
    form = company.get(f"/r/safety_fund/edit/{fund}").get_data(as_text=True)
    assert 'name="amount"' in form
    response = company.post_form(f"/r/ppe_issue/edit/{ppe}", {
        "enterprise": eid, "item": "防静电工作服", "standard": "GB 12014-2019", "staff": str(staff), "quantity": "3",
        "issued_on": date.today().isoformat()})
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "quantity")
    assert "3" in visible_text(company.get(f"/r/ppe_issue/show/{ppe}").get_data(as_text=True))

    inspector = client_for(db_app, county["inspector"])
    for register, row, text in (("enterprise_staff", staff, "T320411198501010015"), ("ppe_issue", ppe, "防静电工作服"),
                                ("safety_fund", fund, "储罐区可燃气体报警器更换"), ("health_record", health, "噪声")):
        assert text in visible_text(inspector.get(f"/r/{register}/show/{row}").get_data(as_text=True)), register
        assert text in visible_text(inspector.get(f"/r/{register}/list/").get_data(as_text=True)), register
        assert inspector.get(f"/r/{register}/edit/{row}").status_code == 403, register
        assert client_for(db_app, county["other_enterprise"]).get(f"/r/{register}/show/{row}").status_code == 403
        assert client_for(db_app, county["away"]).get(f"/r/{register}/show/{row}").status_code == 403

    # the certificate close to expiry warns the enterprise
    from app.workflow.warnings import scan_deadlines
    with db_app.app_context():
        scan_deadlines()
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        Warning = svc.models.engine["Warning"]
        assert [w.rule for w in svc.session.scalars(select(Warning).where(Warning.register == "enterprise_staff"))] \
            == ["staff_certificate_expiring"]
    assert "从业人员证书即将到期" in visible_text(company.get("/workflow/inbox").get_data(as_text=True))
