"""危化品运输 (001 五): the carrier enters its vehicles, drivers (qualification warnings) and waybills, followed
through departure and delivery; the regulator records violations the carrier answers; a vehicle's page is its 360
view (driver, waybills, violations); vehicles come in from the Excel template."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import openpyxl
from sqlalchemy import select

from tests.excel.test_import import _upload
from tests.excel.workbook import fill
from tests.helpers import visible_text
from tests.security import factory
from tests.workflow.helpers import client_for, state_of, stored, take

from .conftest import add

ID_CARD = "320411198501010015"


def _minutes(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M")


def test_a_carrier_enters_its_fleet_and_waybills_and_the_vehicle_page_shows_all(db_app, county):
    company = client_for(db_app, county["enterprise"])
    eid = str(county["enterprise_id"])
    driver = add(company, "transport_driver", {
        "enterprise": eid, "person_name": "王建国", "post": "driver", "id_card": ID_CARD, "mobile": "13861100001",
        "licence_class": "A2", "qualification_number": "3204111985010100",
        "qualification_until": (date.today() + timedelta(days=400)).isoformat()})
    escort = add(company, "transport_driver", {
        "enterprise": eid, "person_name": "李秀英", "post": "escort", "id_card": "32041119950101001X",
        "mobile": "13861100002", "qualification_number": "3204111995010100",
        "qualification_until": (date.today() + timedelta(days=400)).isoformat()})
    # a plate typed in small full-width letters is stored as the plate
    vehicle = add(company, "transport_vehicle", {
        "enterprise": eid, "plate_number": "苏ｄ7h521", "vehicle_type": "tank", "goods_class": ["2", "3"],
        "transport_permit": "苏交运管常字320411001234号", "load_capacity": "25", "status": "in_service",
        "driver": str(driver), "escort": str(escort),
        "annual_review_until": (date.today() + timedelta(days=200)).isoformat()})
    assert stored(db_app, "transport_vehicle", vehicle).plate_number == "苏D7H521"
    bad = company.post_form("/r/transport_vehicle/add", {
        "enterprise": eid, "plate_number": "ABC123", "vehicle_type": "tank", "goods_class": "3",
        "transport_permit": "x", "status": "in_service", "annual_review_until": date.today().isoformat()})
    assert "车牌号码格式不正确" in visible_text(bad.get_data(as_text=True))

    svc = db_app.extensions["safety"]
    with db_app.app_context():
        methanol = factory.make_row(svc, "chemical", {"name_zh": "甲醇", "hazard_class": "3", "un_number": "1230"})
        methanol_id = methanol.id
    leave = datetime.now().replace(second=0, microsecond=0) + timedelta(hours=2)
    waybill = {"waybill_number": "yd20261203001", "enterprise": eid, "vehicle": str(vehicle), "driver": str(driver),
               "escort": str(escort), "consignor": county["enterprise_name"], "consignee": "常州武进精细化工有限公司",
               "goods": str(methanol_id), "weight": "18.5", "loading_place": "常州市新北区春江镇圩塘化工园区",
               "unloading_place": "常州市武进区遥观镇", "route": "S122省道—G2京沪高速—武进大道",
               "planned_departure": _minutes(leave), "planned_arrival": _minutes(leave - timedelta(days=1))}
    refused = company.post_form("/r/waybill/add", waybill)
    assert "计划到达时间不能早于计划起运时间" in visible_text(refused.get_data(as_text=True))
    waybill["planned_arrival"] = _minutes(leave + timedelta(hours=3))
    bill = add(company, "waybill", waybill)
    assert stored(db_app, "waybill", bill).waybill_number == "YD20261203001"
    assert state_of(db_app, "waybill", bill) == "planned"
    take(company, "waybill", bill, "depart")
    assert state_of(db_app, "waybill", bill) == "in_transit" and stored(db_app, "waybill", bill).departed_at
    take(company, "waybill", bill, "deliver")
    assert state_of(db_app, "waybill", bill) == "delivered" and stored(db_app, "waybill", bill).arrived_at

    # the regulator records a violation; the carrier answers it but cannot change what was recorded
    inspector = client_for(db_app, county["inspector"])
    violation = add(inspector, "transport_violation", {
        "vehicle": str(vehicle), "enterprise": eid, "driver": str(driver), "waybill": str(bill), "kind": "speeding",
        "occurred_at": _minutes(datetime.now() - timedelta(days=1)), "place": "G2京沪高速常州段K1124+300",
        "speed": "92", "description": "限速80km/h路段超速"})
    form = company.get(f"/r/transport_violation/edit/{violation}").get_data(as_text=True)
    assert 'name="handling"' in form and 'name="kind"' not in form

    # the vehicle's 360 view: its record, its driver, its waybills and its violations
    page = visible_text(inspector.get(f"/r/transport_vehicle/show/{vehicle}").get_data(as_text=True))
    for text in ("苏D7H521", "王建国", "李秀英", "电子运单", "YD20261203001", "违章记录", "超速行驶"):
        assert text in page, text
    assert "YD20261203001" in visible_text(inspector.get("/r/waybill/list/").get_data(as_text=True))
    # the other enterprise and another county's regulator see none of it
    other = client_for(db_app, county["other_enterprise"])
    assert other.get(f"/r/transport_vehicle/show/{vehicle}").status_code == 403
    assert "苏D7H521" not in visible_text(other.get("/r/transport_vehicle/list/").get_data(as_text=True))
    assert client_for(db_app, county["away"]).get(f"/r/waybill/show/{bill}").status_code == 403
    # an inspector reads waybills, never writes them
    assert inspector.get("/r/waybill/add").status_code == 403


def test_a_driver_qualification_close_to_expiry_warns_the_carrier(db_app, county):
    from app.workflow.warnings import scan_deadlines
    company = client_for(db_app, county["enterprise"])
    add(company, "transport_driver", {
        "enterprise": str(county["enterprise_id"]), "person_name": "赵志强", "post": "driver", "id_card": ID_CARD,
        "mobile": "13861100003", "qualification_number": "3204111985010100",
        "qualification_until": (date.today() + timedelta(days=10)).isoformat()})
    with db_app.app_context():
        scan_deadlines()
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        Warning = svc.models.engine["Warning"]
        rules = {w.rule for w in svc.session.scalars(select(Warning).where(Warning.register == "transport_driver"))}
    assert rules == {"transport_qualification_expiring"}
    inbox = visible_text(company.get("/workflow/inbox").get_data(as_text=True))
    assert "从业资格证即将到期" in inbox and "赵志强" in inbox


def test_vehicles_come_in_from_the_template(db_app, county):
    company = client_for(db_app, county["enterprise"])
    template = company.get("/r/transport_vehicle/template")
    assert template.status_code == 200
    header = [str(c.value).lstrip("*") for c in openpyxl.load_workbook(io.BytesIO(template.data)).worksheets[1][1]]
    values = {"运输企业": county["enterprise_name"], "车牌号码": "苏D8K302", "车辆类型": "罐式车辆",
              "准运危险货物类别": "第3类 易燃液体", "道路运输证号": "苏交运管常字320411005678号", "核定载质量(吨)": 30,
              "车辆状态": "营运", "年审有效期至": (date.today() + timedelta(days=300)).isoformat()}
    _, page = _upload(company, "transport_vehicle", fill(template.data, [[values.get(c) for c in header]]),
                      name="车辆.xlsx")
    assert "新增 1 条" in page, page[-800:]
    listing = visible_text(company.get("/r/transport_vehicle/list/").get_data(as_text=True))
    assert "苏D8K302" in listing
