"""安全生产标准化: the regulator records an enterprise's standardisation grade and its validity (the validity is
required with a grade); the enterprise sees but cannot change them; 60 days before the end it is warned, and once
the date has passed the warning is an alarm."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.helpers import visible_text
from tests.workflow.helpers import client_for, stored


def _rules(db_app) -> list[str]:
    svc = db_app.extensions["safety"]
    from app.workflow.warnings import scan_deadlines
    with db_app.app_context():
        scan_deadlines()
        Warning = svc.models.engine["Warning"]
        return sorted(w.rule for w in svc.session.scalars(
            select(Warning).where(Warning.register == "enterprise", Warning.state == "open")))


def test_a_grade_with_its_validity_warns_before_and_after_it_ends(db_app, county):
    eid = county["enterprise_id"]
    admin = client_for(db_app, county["admin"])
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = svc.session.get(svc.models["enterprise"], eid)
        form = {"name": row.name, "uscc": row.uscc, "enterprise_type": row.enterprise_type, "region": row.region,
                "address": row.address or "常州市新北区", "legal_representative": row.legal_representative or "王伟",
                "department": row.department, "status": row.status or "producing"}
    # a grade without its validity is refused on the field
    page = admin.post_form(f"/r/enterprise/edit/{eid}", {**form, "standardisation_grade": "third"})
    assert page.status_code == 200 and "标准化有效期至" in visible_text(page.get_data(as_text=True))
    ends = date.today() + timedelta(days=45)
    response = admin.post_form(f"/r/enterprise/edit/{eid}", {**form, "standardisation_grade": "third",
                                                              "standardisation_valid_until": ends.isoformat()})
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[-600:]
    assert (stored(db_app, "enterprise", eid).standardisation_grade, stored(db_app, "enterprise", eid)
            .standardisation_valid_until) == ("third", ends)
    # the enterprise sees its grade and cannot change it
    company = client_for(db_app, county["enterprise"])
    page = visible_text(company.get(f"/r/enterprise/show/{eid}").get_data(as_text=True))
    assert "标准化等级" in page and "三级" in page
    assert 'name="standardisation_grade"' not in company.get(f"/r/enterprise/edit/{eid}").get_data(as_text=True)
    # within 60 days of the end: a warning; the list filter finds the grade
    assert _rules(db_app) == ["standardisation_expiring"]
    listing = admin.get("/r/enterprise/list/?f.standardisation_grade=third").get_data(as_text=True)
    assert f"/r/enterprise/show/{eid}" in listing and f"/r/enterprise/show/{county['other_id']}" not in listing
    # the date passes: an alarm instead
    try:
        db_app.config["TODAY"] = ends + timedelta(days=1)
        assert _rules(db_app) == ["standardisation_expired"]
    finally:
        db_app.config.pop("TODAY", None)
