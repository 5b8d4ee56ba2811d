"""许可 (001 §4): 受理 → 核查 → 审批 → 发证 with 打回 at each step; 企业信息变更 (003): a county's addition,
removal or correction of an enterprise takes effect when the city above approves it."""
from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from tests.security import factory

from .helpers import PDF, alerts, buttons, client_for, history, inbox, state_of, stored, take


@pytest.fixture
def chain(db_app):
    """常州市 (city) above 新北区 (county); an enterprise of 新北区 with its account; 朝阳 elsewhere."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        city = factory.make_row(svc, "organisation", {"region": "3204", "department": "emergency", "level": "city"})
        county = factory.make_row(svc, "organisation", {"region": "320411", "department": "emergency",
                                                        "level": "county", "parent": city})
        away = factory.make_org(svc, region="211302")
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        return {
            "city_admin": factory.make_user(db_app, "org_admin", city).username,
            "city_regulator": factory.make_user(db_app, "regulator", city).username,
            "county_regulator": factory.make_user(db_app, "regulator", county).username,
            "county_admin": factory.make_user(db_app, "org_admin", county).username,
            "county_inspector": factory.make_user(db_app, "inspector", county).username,
            "away_regulator": factory.make_user(db_app, "regulator", away).username,
            "enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=enterprise.uscc).username,
            "enterprise_id": enterprise.id, "enterprise_uscc": enterprise.uscc,
        }


def _new_id(client, register: str) -> int:
    import re
    listing = client.get(f"/r/{register}/list/").get_data(as_text=True)
    return max(int(i) for i in re.findall(rf'/r/{register}/show/(\d+)', listing))


def test_licence_application_through_every_step_with_send_backs(db_app, chain):
    company = client_for(db_app, chain["enterprise"])
    response = company.post_form("/r/licence_application/add", {
        "applicant_name": "危险化学品经营许可证申请", "licence_type": "hazchem_business",
        "declaration_type": "new", "business_mode": ["other"], "verification_mode": "onsite",
        "chemical_scope": ["general"],
        "applied_on": date.today().isoformat(),
        # the materials of a first application (申报类型 新办) without storage
        **{name: (BytesIO(PDF), f"{name}.pdf") for name in ("application_letter", "business_licence", "safety_rules",
                                                             "qualification_proof", "premises_proof",
                                                             "plan_filing_form")}})
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    application = _new_id(company, "licence_application")
    # 保存 keeps a draft; 确认提交 submits it
    assert state_of(db_app, "licence_application", application) == "draft"
    take(company, "licence_application", application, "submit")
    assert state_of(db_app, "licence_application", application) == "accepting"
    assert stored(db_app, "licence_application", application).enterprise_id == chain["enterprise_id"]

    regulator = client_for(db_app, chain["county_regulator"])
    inspector = client_for(db_app, chain["county_inspector"])
    admin = client_for(db_app, chain["county_admin"])

    # 打回 at 受理: a comment is required; the applicant corrects and submits again with the new material
    assert buttons(regulator.get(f"/r/licence_application/show/{application}").get_data(as_text=True)) == \
        ["accept", "send_back"]
    take(regulator, "licence_application", application, "send_back", comment="营业执照复印件不清晰")
    assert state_of(db_app, "licence_application", application) == "returned"
    assert "许可申请被打回" in inbox(company)
    page = take(company, "licence_application", application, "resubmit").get_data(as_text=True)
    assert "附件" in alerts(page)
    take(company, "licence_application", application, "resubmit", files=[("营业执照.pdf", PDF)])
    assert state_of(db_app, "licence_application", application) == "accepting"

    take(regulator, "licence_application", application, "accept")
    assert stored(db_app, "licence_application", application).accepted_on == date.today()
    # verifying: the applicant may no longer swap its materials or type
    response = company.post_form(f"/r/licence_application/edit/{application}", {
        "applicant_name": "改过的名称", "licence_type": "fireworks_retail", "applied_on": date.today().isoformat()})
    assert stored(db_app, "licence_application", application).licence_type == "hazchem_business"

    # 打回 at 核查, then again through; 打回 at 审批 too
    take(inspector, "licence_application", application, "send_back", comment="现场核查：储存场所与申请不符")
    take(company, "licence_application", application, "resubmit", files=[("整改说明.pdf", PDF)])
    take(regulator, "licence_application", application, "accept")
    take(inspector, "licence_application", application, "verify")
    assert state_of(db_app, "licence_application", application) == "approving"

    # 审批 needs the licence number and validity filled in first; only the administrator approves
    assert buttons(inspector.get(f"/r/licence_application/show/{application}").get_data(as_text=True)) == \
        ["send_back"]
    page = take(admin, "licence_application", application, "approve").get_data(as_text=True)
    assert "许可证编号" in alerts(page)
    response = admin.post_form(f"/r/licence_application/edit/{application}", {
        "licence_number": "（苏）WH安经字〔2026〕000123", "valid_until": (date.today() + timedelta(days=1095)).isoformat(),
        "contact": "张三"})
    assert response.status_code == 302
    page = take(inspector, "licence_application", application, "approve").get_data(as_text=True)
    assert "角色" in alerts(page)
    take(admin, "licence_application", application, "approve")
    row = stored(db_app, "licence_application", application)
    assert row.state == "issued" and row.issued_on == date.today() and row.approved_by
    assert "许可已审批通过并发证" in inbox(company)
    steps = [h.transition for h in history(db_app, "licence_application", application)]
    assert steps == ["submit", "send_back", "resubmit", "accept", "send_back", "resubmit", "accept", "verify",
                     "approve"]
    # issuing added the licence to the enterprise's 企业证书 (number and validity), which the warnings watch
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        model = svc.models["enterprise_certificate"]
        [certificate] = svc.session.scalars(select(model).where(model.parent_id == chain["enterprise_id"])
                                            .execution_options(unscoped_reason="test")).all()
        assert (certificate.certificate_name, certificate.certificate_number, certificate.expires_on) == \
            ("危险化学品经营许可证", "（苏）WH安经字〔2026〕000123", row.valid_until)

    # the page shows the flow chart with the current step lit
    page = company.get(f"/r/licence_application/show/{application}").get_data(as_text=True)
    assert 'class="state current"' in page.replace("class=\"current state\"", 'class="state current"') or \
        'data-state="issued"' in page
    svg = company.get("/r/licence_application/workflow.svg?state=issued")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "已发证" in svg.get_data(as_text=True)


def _change_form(**override):
    data = {"kind": "add", "reason": "新开业企业，辖区排查发现未纳入监管", "name": "常州新北示范化工有限公司",
            "uscc": factory.make_uscc(), "enterprise_type": None, "region": factory.HOME_TOWNSHIP,
            "address": "常州市新北区示范路1号", "legal_representative": "赵六", "department": "emergency"}
    data.update(override)
    return {k: v for k, v in data.items() if v is not None}


def _leaf_type(db_app) -> str:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        tree = svc.dictionaries.tree("enterprise_type")
        return next(code for code, node in tree.nodes.items() if not node.children)


def test_an_added_enterprise_exists_only_after_the_level_above_approves(db_app, chain):
    county = client_for(db_app, chain["county_regulator"])
    form = _change_form(enterprise_type=_leaf_type(db_app))
    assert county.post_form("/r/enterprise_change/add", form).status_code == 302
    change = _new_id(county, "enterprise_change")
    svc = db_app.extensions["safety"]
    model = svc.models["enterprise"]

    def enterprises_named(name):
        with db_app.app_context():
            return list(svc.session.scalars(select(model).where(model.name == name)
                                            .execution_options(include_all_rows=True)))

    assert enterprises_named(form["name"]) == []
    # the county cannot approve its own request, neither can a city elsewhere see it
    assert buttons(county.get(f"/r/enterprise_change/show/{change}").get_data(as_text=True)) == []
    page = take(client_for(db_app, chain["county_admin"]), "enterprise_change", change, "approve_add")
    assert "上级单位" in alerts(page.get_data(as_text=True))
    assert client_for(db_app, chain["away_regulator"]).get(f"/r/enterprise_change/show/{change}").status_code == 403

    city = client_for(db_app, chain["city_regulator"])
    assert buttons(city.get(f"/r/enterprise_change/show/{change}").get_data(as_text=True)) == \
        ["approve_add", "reject"]
    take(city, "enterprise_change", change, "approve_add")
    created = enterprises_named(form["name"])
    assert len(created) == 1 and created[0].uscc == form["uscc"] and created[0].status == "producing"
    # the new enterprise gets its account like any other (login = its code)
    with db_app.app_context():
        assert db_app.appbuilder.sm.find_user(username=form["uscc"]) is not None
    assert stored(db_app, "enterprise_change", change).decided_by
    # approved: the request is kept and frozen
    assert "/r/enterprise_change/edit/" not in city.get(f"/r/enterprise_change/show/{change}").get_data(as_text=True)


def test_removal_and_correction_change_the_enterprise_on_approval_and_rejection_needs_a_reason(db_app, chain):
    county = client_for(db_app, chain["county_regulator"])
    city = client_for(db_app, chain["city_admin"])
    target = stored(db_app, "enterprise", chain["enterprise_id"])

    county.post_form("/r/enterprise_change/add", _change_form(
        kind="correct", enterprise=str(chain["enterprise_id"]), name=target.name, uscc=None, region=target.region,
        address="常州市新北区更正后地址8号", legal_representative=None, department=None))
    correction = _new_id(county, "enterprise_change")
    take(city, "enterprise_change", correction, "approve_correct")
    corrected = stored(db_app, "enterprise", chain["enterprise_id"])
    assert corrected.address == "常州市新北区更正后地址8号"
    assert corrected.uscc == target.uscc and corrected.legal_representative == target.legal_representative

    county.post_form("/r/enterprise_change/add", _change_form(
        kind="remove", enterprise=str(chain["enterprise_id"]), name=target.name, region=target.region,
        reason="企业已注销营业执照"))
    removal = _new_id(county, "enterprise_change")
    page = take(city, "enterprise_change", removal, "reject").get_data(as_text=True)
    assert "意见" in alerts(page)
    take(city, "enterprise_change", removal, "reject", comment="请附注销证明")
    assert state_of(db_app, "enterprise_change", removal) == "rejected"
    assert stored(db_app, "enterprise", chain["enterprise_id"]).status != "shut_down"
    assert "企业信息变更申请被驳回" in inbox(county)

    county.post_form("/r/enterprise_change/add", _change_form(
        kind="remove", enterprise=str(chain["enterprise_id"]), name=target.name, region=target.region,
        reason="企业已注销营业执照，附注销通知书"))
    removal = _new_id(county, "enterprise_change")
    take(city, "enterprise_change", removal, "approve_remove")
    # removed means shut down, not erased: its hazards, inspections and history stay
    assert stored(db_app, "enterprise", chain["enterprise_id"]).status == "shut_down"


def test_cloud_verification_is_refused_without_other_business(db_app, chain):
    """000: 云核查 only when 申请经营方式 includes 其他经营 — a rule on a multiple-choice field, said on the form."""
    from tests.helpers import field_errors
    company = client_for(db_app, chain["enterprise"])
    base = {"applicant_name": "危险化学品经营许可证申请", "licence_type": "hazchem_business",
            "declaration_type": "new", "chemical_scope": ["general"], "applied_on": date.today().isoformat()}
    refused = company.post_form("/r/licence_application/add", {**base, "business_mode": ["warehouse"],
                                                                 "verification_mode": "cloud"})
    assert refused.status_code == 200
    assert field_errors(refused.get_data(as_text=True), "verification_mode") == ["仅申请经营方式包含“其他经营”时可选择云核查"]
    accepted = company.post_form("/r/licence_application/add", {**base, "business_mode": ["warehouse", "other"],
                                                                  "verification_mode": "cloud"})
    assert accepted.status_code == 302
