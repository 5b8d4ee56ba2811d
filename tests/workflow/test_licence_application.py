"""The 危险化学品经营许可证 application (seed 000): 审核机关 worked out from the enterprise's region and department (the
county's 应急管理局, the city's for storage, warehousing and explosive precursors) and each authority's list and
to-do holding only what it reviews; 申请材料 required per 申报类型, 确认提交 refused on the form and through the API
naming what is missing; 经营品种 picked from the 危险化学品目录 and written to the licence's certificate."""
from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from tests.api.conftest import ApiClient
from tests.helpers import visible_text
from tests.security import factory

from .helpers import PDF, alerts, buttons, client_for, state_of, stored, take

BASE = {"applicant_name": "危险化学品经营许可证申请", "licence_type": "hazchem_business", "verification_mode": "onsite",
        "chemical_scope": ["general"]}

# 申报类型 → the materials the seed's application asks for, by label, in the order of the form
MATERIALS = {
    "new": ["申请书", "营业执照（复印件）", "安全生产规章制度和岗位操作规程目录", "主要负责人、安全生产管理人员资格证书",
            "经营场所产权或租赁证明", "应急预案备案登记表"],
    "extend": ["申请书", "主要负责人、安全生产管理人员资格证书", "应急预案备案登记表", "原经营许可证正副本"],
    "change": ["申请书", "营业执照（复印件）", "原经营许可证正副本", "变更事项证明材料"],
    "reapply": ["申请书", "营业执照（复印件）", "安全生产规章制度和岗位操作规程目录", "主要负责人、安全生产管理人员资格证书",
                "经营场所产权或租赁证明", "应急预案备案登记表"],
}
FIELD_OF = {"申请书": "application_letter", "营业执照（复印件）": "business_licence",
            "安全生产规章制度和岗位操作规程目录": "safety_rules", "主要负责人、安全生产管理人员资格证书": "qualification_proof",
            "经营场所产权或租赁证明": "premises_proof", "应急预案备案登记表": "plan_filing_form",
            "原经营许可证正副本": "original_licence", "变更事项证明材料": "change_proof",
            "储存设施安全评价报告": "storage_assessment"}


@pytest.fixture
def api_as(db_app):
    return lambda username: ApiClient(db_app, username)


@pytest.fixture
def world(db_app):
    """常州市应急管理局 above 新北区应急管理局 and 武进区应急管理局; an enterprise of 新北区 with its account; two
    chemicals of the catalogue."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        city = factory.make_row(svc, "organisation", {"name": "常州市应急管理局", "region": "3204",
                                                      "department": "emergency", "level": "city"})
        county = factory.make_row(svc, "organisation", {"name": "新北区应急管理局", "region": "320411",
                                                        "department": "emergency", "level": "county", "parent": city})
        other = factory.make_row(svc, "organisation", {"name": "武进区应急管理局", "region": "320412",
                                                       "department": "emergency", "level": "county", "parent": city})
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        petrol = factory.make_row(svc, "chemical", {"name_zh": "汽油", "alias_zh": "车用汽油", "cas": "86290-81-5",
                                                    "un_number": "1203"})
        methanol = factory.make_row(svc, "chemical", {"name_zh": "甲醇", "alias_zh": "木醇", "cas": "67-56-1",
                                                      "un_number": "1230"})
        return {
            "city": city.id, "county": county.id, "other": other.id, "enterprise_id": enterprise.id,
            "city_regulator": factory.make_user(db_app, "regulator", city).username,
            "county_regulator": factory.make_user(db_app, "regulator", county).username,
            "county_admin": factory.make_user(db_app, "org_admin", county).username,
            "other_regulator": factory.make_user(db_app, "regulator", other).username,
            "enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=enterprise.uscc).username,
            "petrol": petrol.id, "methanol": methanol.id,
        }


def files(labels) -> dict:
    return {FIELD_OF[label]: (BytesIO(PDF), f"{FIELD_OF[label]}.pdf") for label in labels}


def save_draft(company, **values) -> int:
    """保存: the enterprise's add form; the draft's id."""
    response = company.post_form("/r/licence_application/add", {**BASE, "applied_on": date.today().isoformat(),
                                                                **values})
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    listing = company.get("/r/licence_application/list/").get_data(as_text=True)
    return max(int(i) for i in re.findall(r"/r/licence_application/show/(\d+)", listing))


def listed(client) -> set[int]:
    listing = client.get("/r/licence_application/list/").get_data(as_text=True)
    return {int(i) for i in re.findall(r"/r/licence_application/show/(\d+)", listing)}


def test_the_reviewing_authority_follows_region_department_and_business_mode(db_app, world):
    company = client_for(db_app, world["enterprise"])
    other_only = save_draft(company, declaration_type="new", business_mode=["other"], **files(MATERIALS["new"]))
    storage = save_draft(company, declaration_type="new", business_mode=["with_storage"],
                         **files(MATERIALS["new"] + ["储存设施安全评价报告"]))
    precursor = save_draft(company, declaration_type="new", business_mode=["other"],
                           chemical_scope=["general", "explosive_precursor"], **files(MATERIALS["new"]))
    assert stored(db_app, "licence_application", other_only).authority_id == world["county"]
    assert stored(db_app, "licence_application", storage).authority_id == world["city"]
    assert stored(db_app, "licence_application", precursor).authority_id == world["city"]
    # the applicant's page names it
    page = visible_text(company.get(f"/r/licence_application/show/{other_only}").get_data(as_text=True))
    assert "审核机关名称 新北区应急管理局" in page

    for row in (other_only, storage, precursor):
        take(company, "licence_application", row, "submit")
        assert state_of(db_app, "licence_application", row) == "accepting"

    # each authority's list and to-do hold only what it reviews; the next county sees none of them
    county, city = client_for(db_app, world["county_regulator"]), client_for(db_app, world["city_regulator"])
    other = client_for(db_app, world["other_regulator"])
    assert listed(county) == {other_only}
    assert listed(city) == {storage, precursor}
    assert listed(other) == set()
    assert re.findall(r"/r/licence_application/show/(\d+)", county.get("/workflow/todo").get_data(as_text=True)) \
        == [str(other_only)]
    assert sorted(int(i) for i in re.findall(r"/r/licence_application/show/(\d+)",
                                             city.get("/workflow/todo").get_data(as_text=True))) == [storage, precursor]
    assert county.get(f"/r/licence_application/show/{storage}").status_code in (403, 404)
    assert buttons(city.get(f"/r/licence_application/show/{storage}").get_data(as_text=True)) == \
        ["accept", "send_back"]

    # a change of business mode in a draft moves it to the city
    moved = save_draft(company, declaration_type="new", business_mode=["other"], **files(MATERIALS["new"]))
    assert stored(db_app, "licence_application", moved).authority_id == world["county"]
    response = company.post_form(f"/r/licence_application/edit/{moved}", {
        **BASE, "declaration_type": "new", "business_mode": ["other", "warehouse"],
        "applied_on": date.today().isoformat()})
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    assert stored(db_app, "licence_application", moved).authority_id == world["city"]


def test_without_an_authority_the_application_cannot_be_submitted(db_app, world):
    svc = db_app.extensions["safety"]
    with db_app.app_context():  # an enterprise of 武进区 supervised by 住建: no such authority is set up
        elsewhere = factory.make_row(svc, "enterprise", {"region": "320412001", "department": "housing"})
        username = factory.make_user(db_app, "enterprise_user", enterprise_key=elsewhere.uscc).username
    company = client_for(db_app, username)
    row = save_draft(company, declaration_type="new", business_mode=["other"], **files(MATERIALS["new"]))
    assert stored(db_app, "licence_application", row).authority_id is None
    page = take(company, "licence_application", row, "submit").get_data(as_text=True)
    assert "审核机关" in alerts(page)
    assert state_of(db_app, "licence_application", row) == "draft"


@pytest.mark.parametrize("kind", ["new", "extend", "change", "reapply"])
def test_submit_needs_the_materials_of_the_declaration_type(db_app, world, api_as, kind):
    company = client_for(db_app, world["enterprise"])
    needed = MATERIALS[kind]
    row = save_draft(company, declaration_type=kind, business_mode=["other"])  # 保存 keeps a draft without them
    assert state_of(db_app, "licence_application", row) == "draft"

    # the form says which files 确认提交 will need for this type (register.js shows the notes that apply)
    form = company.get(f"/r/licence_application/edit/{row}").get_data(as_text=True)
    noted = set(re.findall(r'data-field="(\w+)"(?:(?!data-field=).)*?class="help-block required-for"', form, re.S))
    assert noted == set(FIELD_OF.values())
    assert "办理“确认提交”、“补正后重新提交”前须提供" in visible_text(form)

    # the page greys 确认提交 out and says what is missing
    page = visible_text(company.get(f"/r/licence_application/show/{row}").get_data(as_text=True))
    message = "办理“确认提交”前须提供：" + "、".join(needed) + "。"
    assert message in page

    # the button's form and the API are refused with the same words; nothing moves
    assert message in alerts(take(company, "licence_application", row, "submit").get_data(as_text=True))
    api = api_as(world["enterprise"])
    refused = api.post(f"/api/v1/licence_application/{row}/transitions/submit", json={})
    assert refused.status_code == 409 and refused.get_json()["message"] == message, refused.get_json()
    assert state_of(db_app, "licence_application", row) == "draft"

    # one file short: only that one is named
    response = company.post_form(f"/r/licence_application/edit/{row}", {
        **BASE, "declaration_type": kind, "business_mode": ["other"], "applied_on": date.today().isoformat(),
        **files(needed[:-1])})
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    refused = api.post(f"/api/v1/licence_application/{row}/transitions/submit", json={})
    assert refused.status_code == 409
    assert refused.get_json()["message"] == f"办理“确认提交”前须提供：{needed[-1]}。"

    response = company.post_form(f"/r/licence_application/edit/{row}", {
        **BASE, "declaration_type": kind, "business_mode": ["other"], "applied_on": date.today().isoformat(),
        **files(needed[-1:])})
    assert response.status_code == 302
    accepted = api.post(f"/api/v1/licence_application/{row}/transitions/submit", json={})
    assert accepted.status_code == 200, accepted.get_json()
    assert state_of(db_app, "licence_application", row) == "accepting"


def test_storage_needs_the_safety_assessment(db_app, world, api_as):
    company = client_for(db_app, world["enterprise"])
    row = save_draft(company, declaration_type="extend", business_mode=["with_storage"], **files(MATERIALS["extend"]))
    refused = api_as(world["enterprise"]).post(f"/api/v1/licence_application/{row}/transitions/submit", json={})
    assert refused.get_json()["message"] == "办理“确认提交”前须提供：储存设施安全评价报告。"


def test_chemicals_are_picked_from_the_catalogue_and_written_to_the_certificate(db_app, world):
    company = client_for(db_app, world["enterprise"])
    # the picker searches the catalogue by alias, CAS and UN number and shows them under the name
    lookup = company.get("/r/chemical/lookup", query_string={"q": "67-56", "field": "licence_chemical.chemical"})
    [found] = lookup.get_json()["results"]
    assert (found["id"], found["text"]) == (world["methanol"], "甲醇") and "67-56-1" in found["detail"]
    by_alias = company.get("/r/chemical/lookup", query_string={"q": "车用", "field": "licence_chemical.chemical"})
    assert [r["id"] for r in by_alias.get_json()["results"]] == [world["petrol"]]

    row = save_draft(company, declaration_type="new", business_mode=["other"], **files(MATERIALS["new"]),
                     **{"chemicals-0-chemical": str(world["petrol"]), "chemicals-1-chemical": str(world["methanol"])})
    page = visible_text(company.get(f"/r/licence_application/show/{row}").get_data(as_text=True))
    assert "汽油" in page and "甲醇" in page

    take(company, "licence_application", row, "submit")
    regulator, admin = client_for(db_app, world["county_regulator"]), client_for(db_app, world["county_admin"])
    take(regulator, "licence_application", row, "accept")
    take(regulator, "licence_application", row, "verify")
    valid_until = date.today() + timedelta(days=1095)
    response = admin.post_form(f"/r/licence_application/edit/{row}", {
        "licence_number": "（苏）WH安经字〔2026〕000777", "valid_until": valid_until.isoformat()})
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    take(admin, "licence_application", row, "approve")
    assert state_of(db_app, "licence_application", row) == "issued"
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        model = svc.models["enterprise_certificate"]
        [certificate] = svc.session.scalars(select(model).where(model.parent_id == world["enterprise_id"])
                                            .execution_options(unscoped_reason="test")).all()
        assert (certificate.certificate_number, certificate.expires_on, certificate.licensed_scope) == \
            ("（苏）WH安经字〔2026〕000777", valid_until, "汽油、甲醇")
