"""CRUD through the HTTP interface for every shipped register, as a signed-in administrator."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from stdnum.cn import uscc

from tests.helpers import field_errors, visible_text


def valid_uscc(body: str = "91320411MA1XYB123") -> str:
    return body + uscc.calc_check_digit(body)


def enterprise_form(**override):
    data = {
        "name": "常州测试化工有限公司", "uscc": valid_uscc(), "enterprise_type": "hc_production",
        "region": "320411004", "address": "江苏省常州市新北区春江街道1号", "legal_representative": "王伟",
        "phone": "0519-85681234", "department": "emergency", "status": "producing", "grade": "B",
        "established_on": "2015-06-01", "employee_count": "120", "registered_capital": "3000.50",
        "location_lat": "31.85", "location_lng": "119.97", "management_level": "county",
        # what the form shows filled in (their defaults): a browser sends them back on every save
        "report_status": "normal", "report_cycle": "monthly",
    }
    data.update(override)
    return data


def rows(app, register):
    svc = app.extensions["safety"]
    with app.app_context():
        return list(svc.session.scalars(select(svc.models[register]).options(selectinload("*"))))


def count(app, register):
    svc = app.extensions["safety"]
    with app.app_context():
        return svc.session.execute(select(func.count()).select_from(svc.models[register])).scalar_one()


def test_add_show_edit_delete_enterprise(admin, db_app):
    response = admin.post_form("/r/enterprise/add", enterprise_form(**{
        "certificates-0-certificate_name": "危险化学品经营许可证", "certificates-0-certificate_number": "苏常危化经字〔2024〕000123",
        "certificates-0-expires_on": "2027-06-30"}))
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[:2000]
    [row] = rows(db_app, "enterprise")
    assert row.region == "320411004" and row.enterprise_type == "hc_production"
    assert float(row.location_lat) == 31.85 and row.established_on == date(2015, 6, 1)
    assert [c.certificate_number for c in row.certificates] == ["苏常危化经字〔2024〕000123"]

    listing = visible_text(admin.get("/r/enterprise/list/").get_data(as_text=True))
    assert "常州测试化工有限公司" in listing and "新北区 / 春江街道" in listing and "危险化学品生产单位" in listing

    shown = visible_text(admin.get(f"/r/enterprise/show/{row.id}").get_data(as_text=True))
    assert "江苏省 / 常州市 / 新北区 / 春江街道" in shown and "B级" in shown and "苏常危化经字〔2024〕000123" in shown

    response = admin.post_form(f"/r/enterprise/edit/{row.id}", enterprise_form(
        name="常州测试新材料有限公司", grade="A", **{"certificates-0-id": str(row.certificates[0].id),
                                               "certificates-0-certificate_name": "安全生产许可证",
                                               "certificates-0-certificate_number": "（苏）WH安许证字〔2024〕1号"}))
    assert response.status_code == 302
    [row] = rows(db_app, "enterprise")
    assert row.name == "常州测试新材料有限公司" and row.grade == "A"
    assert [c.certificate_name for c in row.certificates] == ["安全生产许可证"]

    response = admin.post_form(f"/r/enterprise/delete/{row.id}", {}, page_url=f"/r/enterprise/show/{row.id}")
    assert response.status_code == 302
    assert count(db_app, "enterprise") == 0 and count(db_app, "enterprise_certificate") == 0


def test_wrong_uscc_is_refused_on_the_field_in_chinese_and_nothing_is_saved(admin, db_app):
    bad = valid_uscc()[:-1] + ("0" if valid_uscc()[-1] != "0" else "1")
    response = admin.post_form("/r/enterprise/add", enterprise_form(uscc=bad))
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), "uscc")
    assert errors and "统一社会信用代码无效" in errors[0] and "GB 32100-2015" in errors[0]
    assert count(db_app, "enterprise") == 0


def test_mobile_number_is_accepted_for_a_shop_without_licence(admin, db_app):
    response = admin.post_form("/r/enterprise/add", enterprise_form(uscc="13912345678", name="朝阳某餐饮店（个体）"))
    assert response.status_code == 302
    assert rows(db_app, "enterprise")[0].uscc == "13912345678"


def test_required_fields_and_types_are_checked_on_the_server(admin, db_app):
    response = admin.post_form("/r/enterprise/add", enterprise_form(
        name="", region="", employee_count="很多", location_lat="95", safety_manager_mobile="12345"))
    html = response.get_data(as_text=True)
    assert field_errors(html, "name") == ["此项为必填项。"]
    assert field_errors(html, "region") == ["此项为必填项。"]
    assert field_errors(html, "employee_count") == ["不是有效的整数。"]
    assert field_errors(html, "location") == ["纬度必须在 -90 到 90 之间。"]
    assert "手机号码无效" in field_errors(html, "safety_manager_mobile")[0]
    assert count(db_app, "enterprise") == 0


def test_tree_field_takes_only_known_codes_and_leaves_where_declared(admin, db_app):
    html = admin.post_form("/r/enterprise/add", enterprise_form(enterprise_type="hazardous_goods")).get_data(as_text=True)
    assert field_errors(html, "enterprise_type") == ["请选择到最后一级。"]
    html = admin.post_form("/r/enterprise/add", enterprise_form(region="999999")).get_data(as_text=True)
    assert field_errors(html, "region") == ["不是有效的选项。"]
    assert count(db_app, "enterprise") == 0


def test_same_code_type_and_address_is_refused_with_the_declared_message(admin, db_app):
    assert admin.post_form("/r/enterprise/add", enterprise_form()).status_code == 302
    html = admin.post_form("/r/enterprise/add", enterprise_form(name="另一个名字")).get_data(as_text=True)
    assert "同一代码只能以不同的企业类型或地址再次登记" in field_errors(html, "uscc")[0]
    # 004 Q21: another type (or another address) for the same code is a second, legal row
    assert admin.post_form("/r/enterprise/add", enterprise_form(enterprise_type="hc_storage")).status_code == 302
    assert admin.post_form("/r/enterprise/add", enterprise_form(address="云南省昆明市另一地址8号")).status_code == 302
    assert count(db_app, "enterprise") == 3


def test_law_chemical_and_standard_crud(admin, db_app):
    law = {"title": "中华人民共和国安全生产法", "kind": "law", "supervision_type": "general",
           "document_number": "中华人民共和国主席令第八十八号", "effective_on": "2021-09-01", "validity": "in_force"}
    assert admin.post_form("/r/law/add", law).status_code == 302
    chemical = {"name_zh": "甲醇", "name_en": "methanol", "hazard_class": "3", "cas": "67-56-1", "un_number": "1230",
                "dangerous_goods_number": "32058"}
    assert admin.post_form("/r/chemical/add", chemical).status_code == 302
    standard = {"code": "GB 18218-2018", "title": "危险化学品重大危险源辨识", "kind": "national", "validity": "in_force",
                "mandatory": "y"}
    assert admin.post_form("/r/standard/add", standard).status_code == 302
    assert [r.title for r in rows(db_app, "law")] == ["中华人民共和国安全生产法"]
    assert rows(db_app, "chemical")[0].cas == "67-56-1"
    assert rows(db_app, "standard")[0].mandatory is True

    html = admin.post_form("/r/chemical/add", dict(chemical, cas="67-56-2", name_zh="甲醇2")).get_data(as_text=True)
    assert "CAS号无效" in field_errors(html, "cas")[0]
    html = admin.post_form("/r/chemical/add", dict(chemical, un_number="12a", cas="64-17-5")).get_data(as_text=True)
    assert field_errors(html, "un_number") == ["UN号为4位数字"]
    html = admin.post_form("/r/standard/add", dict(standard, title="重复")).get_data(as_text=True)
    assert "已被其他记录" in field_errors(html, "code")[0]
    assert count(db_app, "chemical") == 1 and count(db_app, "standard") == 1

    law_id = rows(db_app, "law")[0].id
    assert admin.post_form(f"/r/law/edit/{law_id}", dict(law, validity="amended")).status_code == 302
    assert rows(db_app, "law")[0].validity == "amended"
    assert admin.post_form(f"/r/law/delete/{law_id}", {}, page_url=f"/r/law/show/{law_id}").status_code == 302
    assert count(db_app, "law") == 0


def test_delete_needs_post_with_csrf(admin, db_app):
    assert admin.post_form("/r/law/add", {"title": "条例", "kind": "law", "supervision_type": "general",
                                          "effective_on": "2020-01-01", "validity": "in_force"}).status_code == 302
    law_id = rows(db_app, "law")[0].id
    admin.get(f"/r/law/delete/{law_id}")
    admin.post(f"/r/law/delete/{law_id}")  # no CSRF token
    assert count(db_app, "law") == 1


def test_attachment_upload_download_and_type_check(admin, db_app, tmp_path):
    from io import BytesIO
    law = {"title": "危险化学品安全管理条例", "kind": "administrative_regulation", "supervision_type": "hazardous_chemicals",
           "effective_on": "2013-12-07", "validity": "in_force"}
    response = admin.post_form("/r/law/add", dict(law, full_text=(BytesIO(b"%PDF-1.4 test"), "条例全文.pdf")),
                               content_type="multipart/form-data")
    assert response.status_code == 302
    [row] = rows(db_app, "law")
    assert row.full_text[0]["name"] == "条例全文.pdf" and row.full_text[0]["size"] == 13
    download = admin.get(f"/r/law/attachment/{row.id}/full_text/0")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"

    html = admin.post_form("/r/law/add", dict(law, title="另一个", full_text=(BytesIO(b"MZ"), "virus.exe")),
                           content_type="multipart/form-data").get_data(as_text=True)
    assert "不允许上传 .exe" in field_errors(html, "full_text")[0]
    assert count(db_app, "law") == 1
