"""乡镇监督检查工作 (001 §6.3–6.5): the frequency page of a township counts the submitted inspections against the
rule of each grade (A ≥ 30 % a year, D every half year), lists the enterprises not inspected in time, and shows
only the enterprises of the user's scope."""
from __future__ import annotations

import re
from datetime import date, timedelta

from tests.helpers import visible_text
from tests.security import factory

from .helpers import client_for


def _numbers(html: str) -> dict[str, dict[str, int]]:
    found = re.findall(r'data-code="(\w+)" data-total="(\d+)" data-done="(\d+)" data-required="(\d+)" '
                       r'data-missing="(\d+)"', html)
    return {code: {"total": int(t), "done": int(d), "required": int(r), "missing": int(m)}
            for code, t, d, r, m in found}


def test_a_township_page_counts_inspections_per_grade_in_the_users_scope(db_app):
    svc = db_app.extensions["safety"]
    today = date.today()
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")

        def enterprise(grade, region=factory.HOME_TOWNSHIP, **extra):
            return factory.make_row(svc, "enterprise", {"region": region, "department": "emergency",
                                                        "grade": grade, "status": "producing", **extra})

        def inspected(row, on, state="submitted"):
            factory.make_row(svc, "inspection", {"enterprise": row, "inspected_on": on, "state": state,
                                                 "kind": "independent"})

        grade_a = [enterprise("A") for _ in range(10)]
        inspected(grade_a[0], date(today.year, 1, 1))
        inspected(grade_a[1], today)
        inspected(grade_a[1], today)                       # twice: one enterprise
        inspected(grade_a[2], today, state="saved")        # not submitted: does not count
        inspected(grade_a[3], date(today.year - 1, 12, 31))  # last year
        enterprise("A", status="shut_down")               # closed: not counted
        recent, late = enterprise("D", name="常州近期检查化工有限公司"), enterprise("D", name="常州逾期未检化工有限公司")
        inspected(recent, today - timedelta(days=60))
        inspected(late, today - timedelta(days=200))
        enterprise("A", region=factory.AWAY_TOWNSHIP)     # outside the jurisdiction
        regulator = factory.make_user(db_app, "regulator", home).username
        company_key = grade_a[0].uscc
        stranger = factory.make_user(db_app, "regulator", away).username

    client = client_for(db_app, regulator)
    index = client.get("/frequency/township_inspections/").get_data(as_text=True)
    assert re.findall(r'data-group="(\d+)"', index) == [factory.HOME_TOWNSHIP]
    # the county reads its township by name, not by the path from the province down to it
    assert re.findall(r'<a href="[^"]*/township_inspections/\d+">([^<]*)</a>', index) == ["春江街道"]
    # the lists: D-grade and (none here) high-risk enterprises not inspected in time
    assert "常州逾期未检化工有限公司" in visible_text(index.split('id="list-grade_d"')[1])
    assert "常州近期检查化工有限公司" not in visible_text(index.split('id="list-grade_d"')[1])

    page = client.get(f"/frequency/township_inspections/{factory.HOME_TOWNSHIP}").get_data(as_text=True)
    numbers = _numbers(page)
    assert numbers["A"] == {"total": 10, "done": 2, "required": 3, "missing": 8}
    assert numbers["D"] == {"total": 2, "done": 1, "required": 2, "missing": 1}
    assert numbers["B"]["total"] == 0 and numbers["C"]["total"] == 0
    assert 'class="panel panel-danger frequency-rule" data-code="A"' in page
    assert "常州逾期未检化工有限公司" in visible_text(page) and "常州近期检查化工有限公司" not in visible_text(page)
    assert "共10家，已检查2家，应检查3家" in visible_text(page) and "每年检查率不低于30%" in visible_text(page)

    # another jurisdiction sees only its own township
    other = client_for(db_app, stranger)
    groups = re.findall(r'data-group="(\d+)"', other.get("/frequency/township_inspections/").get_data(as_text=True))
    assert groups == [factory.AWAY_TOWNSHIP]
    assert other.get(f"/frequency/township_inspections/{factory.HOME_TOWNSHIP}").status_code == 404
    # an enterprise account may not open the page
    with db_app.app_context():
        company = factory.make_user(db_app, "enterprise_user", enterprise_key=company_key).username
    assert client_for(db_app, company).get("/frequency/township_inspections/").status_code == 403
    # the menu offers the frequency pages to the regulator (乡镇监督检查工作 under 执法, 填报情况 under 隐患),
    # the page is the menu's current entry, and an enterprise account is offered neither
    menu = client.get("/").get_data(as_text=True).split('id="app-menu"')[1].split("</aside>")[0]
    assert 'data-menu="menu_frequency_township_inspections"' in menu
    assert 'data-menu="menu_frequency_self_inspection_reporting"' in menu
    entry = re.search(r'<li class="(\w*)"><a href="/frequency/township_inspections/"[^>]*>.*?'
                      r'<span class="app-menu-label">([^<]+)</span>', index.split('id="app-menu"')[1])
    assert entry and entry.group(1) == "active" and entry.group(2) == "乡镇监督检查工作"
    company_menu = client_for(db_app, company).get("/").get_data(as_text=True).split('id="app-menu"')[1]
    assert "menu_frequency_" not in company_menu.split("</aside>")[0]
