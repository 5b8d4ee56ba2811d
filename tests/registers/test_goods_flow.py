"""003 物品流向: warehouses, products, a batch traced through stock in/out, a consignment note and a return, a
stock-taking whose difference opens 库存差异预警 (closed with a reason), and the goods classes as sub-platforms:
a regulator sees the classes its department oversees on every path (roles.yaml goods_classes)."""
from __future__ import annotations

import base64
import re
from datetime import datetime

from sqlalchemy import select

from tests.excel.workbook import fill
from tests.helpers import visible_text
from tests.security import factory
from tests.workflow.helpers import client_for

from .conftest import add, upload


def _flow(company, enterprise_id: int) -> dict[str, int]:
    """An enterprise's warehouse, product and batch, the batch in and out, and a stock-taking that differs."""
    e = str(enterprise_id)
    ids = {"warehouse": add(company, "warehouse", {"enterprise": e, "name": "民爆二", "goods_class": "civil_explosives",
                                                    "address": "鼓楼区", "capacity": "5", "unit": "t"})}
    ids["product"] = add(company, "goods_product", {"enterprise": e, "name": "硝化甘油炸药",
                                                    "goods_class": "civil_explosives", "unit": "kg"})
    ids["batch"] = add(company, "goods_batch", {"enterprise": e, "product": str(ids["product"]),
                                                "batch_number": "20261101-A01", "goods_class": "civil_explosives",
                                                "produced_on": "2026-11-01", "quantity": "100"})
    for direction, quantity, other, at in (("in", "100", "本厂生产线", "2026-11-02T08:00"),
                                           ("out", "60", "福建省兆丰矿业有限公司", "2026-11-03T09:30")):
        ids[direction] = add(company, "stock_movement", {
            "enterprise": e, "warehouse": str(ids["warehouse"]), "batch": str(ids["batch"]), "direction": direction,
            "quantity": quantity, "moved_at": at, "counterparty": other})
    ids["take"] = add(company, "stock_take", {"enterprise": e, "warehouse": str(ids["warehouse"]),
                                              "product": str(ids["product"]), "taken_on": "2026-11-04",
                                              "system_quantity": "0.014", "counted_quantity": "0.015"})
    return ids


def _warnings(app, **where) -> list:
    svc = app.extensions["safety"]
    model = svc.models.engine["Warning"]
    with app.app_context():
        found = list(svc.session.scalars(select(model).filter_by(**where)))
        svc.session.expunge_all()
        return found


def test_the_goods_flow_through_http_traced_by_batch(db_app, county):
    company = client_for(db_app, county["enterprise"])
    ids = _flow(company, county["enterprise_id"])
    take = visible_text(company.get(f"/r/stock_take/show/{ids['take']}").get_data(as_text=True))
    assert "系统盘点数量 0.014" in take and "实际盘点数量 0.015" in take and "差异数量 0.001" in take, take
    # the batch's page traces it: the movements in time order, from the producer's stock-in to the user
    trace = visible_text(company.get(f"/r/goods_batch/show/{ids['batch']}").get_data(as_text=True))
    assert re.search(r"入库 100.*本厂生产线.*出库 60.*福建省兆丰矿业有限公司", trace), trace
    # a consignment note and a return of the batch appear on its page too
    add(company, "consignment_note", {
        "note_number": "TY202611030001", "enterprise": str(county["enterprise_id"]), "batch": str(ids["batch"]),
        "quantity": "60", "consignee": "福建省兆丰矿业有限公司", "carrier": "福建省民爆物品运输有限公司",
        "vehicle_plate": "闽A3F218", "driver": "陈志强", "origin": "福州市鼓楼区", "destination": "三明市大田县",
        "shipped_at": "2026-11-03T10:00", "status": "in_transit"})
    add(company, "goods_return", {"enterprise": str(county["enterprise_id"]), "batch": str(ids["batch"]),
                                  "quantity": "5", "returned_to": "福建省民爆化工股份有限公司", "returned_on": "2026-11-05",
                                  "reason": "surplus"})
    trace = visible_text(company.get(f"/r/goods_batch/show/{ids['batch']}").get_data(as_text=True))
    assert "TY202611030001" in trace and "福建省民爆化工股份有限公司" in trace and "作业剩余" in trace
    # a quantity of 0 is refused with the rule's message
    page = company.post_form("/r/stock_movement/add", {
        "enterprise": str(county["enterprise_id"]), "warehouse": str(ids["warehouse"]), "batch": str(ids["batch"]),
        "direction": "in", "quantity": "0", "moved_at": "2026-11-02T08:00"}).get_data(as_text=True)
    assert "数量应大于0" in visible_text(page)

    # the county's administrator edits a movement; the inspector reads the lists; the other enterprise sees none
    admin = client_for(db_app, county["admin"])
    response = admin.post_form(f"/r/stock_movement/edit/{ids['out']}", {
        "enterprise": str(county["enterprise_id"]), "warehouse": str(ids["warehouse"]), "batch": str(ids["batch"]),
        "direction": "out", "quantity": "55", "moved_at": "2026-11-03T09:30", "counterparty": "福建省兆丰矿业有限公司"})
    assert response.status_code == 302
    inspector = client_for(db_app, county["inspector"])
    listing = visible_text(inspector.get("/r/stock_movement/list/").get_data(as_text=True))
    assert "出库 55" in listing and "入库 100" in listing
    other = client_for(db_app, county["other_enterprise"])
    assert "民爆二" not in visible_text(other.get("/r/warehouse/list/").get_data(as_text=True))
    assert other.get(f"/r/goods_batch/show/{ids['batch']}").status_code in (403, 404)


def test_a_department_sees_only_the_goods_classes_it_oversees(db_app, county):
    """商务 oversees 散装汽油 only: a 商务-supervised enterprise's explosives rows are out of its lists, pages, API,
    exports and charts, its gasoline rows in; the fireworks sub-platform's own register is not in its menu."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        commerce = factory.make_user(db_app, "regulator", factory.make_org(svc, department="commerce")).username
        station = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "commerce"})
        made = {}
        for name, goods in (("汽油储罐", "bulk_gasoline"), ("民爆二", "civil_explosives")):
            store = factory.make_row(svc, "warehouse", {"enterprise": station, "name": name, "goods_class": goods})
            product = factory.make_row(svc, "goods_product", {"enterprise": station, "name": f"{name}产品",
                                                              "goods_class": goods})
            factory.make_row(svc, "stock_take", {"enterprise": station, "warehouse": store, "product": product,
                                                 "taker": f"{name}盘点人"})
            made[goods] = store.id
        svc.session.commit()
        station_id = station.id
    shop = client_for(db_app, commerce)
    listing = visible_text(shop.get("/r/warehouse/list/").get_data(as_text=True))
    assert "汽油储罐" in listing and "民爆二" not in listing
    takes = visible_text(shop.get("/r/stock_take/list/").get_data(as_text=True))
    assert "汽油储罐" in takes and "民爆二" not in takes
    assert shop.get(f"/r/warehouse/show/{made['civil_explosives']}").status_code in (403, 404)
    assert shop.get(f"/r/warehouse/show/{made['bulk_gasoline']}").status_code == 200
    auth = base64.b64encode(f"{commerce}:{factory.PASSWORD}".encode()).decode()
    api = db_app.test_client().get("/api/v1/warehouse/", headers={"Authorization": f"Basic {auth}"}).get_json()
    assert [item["name"] for item in api["items"]] == ["汽油储罐"]
    exported = shop.get("/r/warehouse/export?format=csv&" + "&".join(f"ids={i}" for i in made.values()))
    assert "汽油储罐" in exported.get_data(as_text=True) and "民爆二" not in exported.get_data(as_text=True)
    chart = shop.get("/charts/warehouses_by_class/data")
    assert chart.status_code == 200 and chart.get_json()["total"] == 1, chart.get_data(as_text=True)
    # a write outside its classes is refused: nothing is saved
    shop.post_form(f"/r/warehouse/edit/{made['bulk_gasoline']}", {
        "enterprise": str(station_id), "name": "汽油储罐", "goods_class": "civil_explosives"})
    assert {r.name: r.goods_class for r in _rows(db_app, "warehouse")}["汽油储罐"] == "bulk_gasoline"
    # the fireworks sub-platform's own register: not in 商务's menu, refused; in 应急's
    assert "烟花爆竹零售点" not in visible_text(shop.get("/r/warehouse/list/").get_data(as_text=True))
    assert shop.get("/r/fireworks_retail_point/list/").status_code == 403
    assert shop.get("/api/v1/fireworks_retail_point/", headers={"Authorization": f"Basic {auth}"}).status_code == 403
    inspector = client_for(db_app, county["inspector"])
    assert "烟花爆竹零售点" in visible_text(inspector.get("/r/warehouse/list/").get_data(as_text=True))
    assert inspector.get("/r/fireworks_retail_point/list/").status_code == 200


def _rows(app, register: str) -> list:
    svc = app.extensions["safety"]
    model = svc.models[register]
    with app.app_context():
        found = list(svc.session.scalars(select(model).execution_options(include_all_rows=True)))
        svc.session.expunge_all()
        return found


def test_a_stock_difference_opens_a_warning_a_regulator_closes_with_a_reason(db_app, county):
    company = client_for(db_app, county["enterprise"])
    ids = _flow(company, county["enterprise_id"])
    (warning,) = _warnings(db_app, rule="stock_difference")
    assert warning.row_id == ids["take"] and warning.state == "open"
    admin = client_for(db_app, county["admin"])
    page = visible_text(admin.get("/warnings/?register=stock_take").get_data(as_text=True))
    assert "库存差异预警" in page
    token = admin.csrf_token("/warnings/")
    admin.post(f"/warnings/{warning.id}/close", data={"reason": "盘点称量误差，已复核", "csrf_token": token})
    (closed,) = _warnings(db_app, id=warning.id)
    assert closed.state == "closed" and closed.reason == "盘点称量误差，已复核"
    # a stock-taking that agrees opens none
    add(company, "stock_take", {"enterprise": str(county["enterprise_id"]), "warehouse": str(ids["warehouse"]),
                                "product": str(ids["product"]), "taken_on": "2026-11-04",
                                "system_quantity": "40", "counted_quantity": "40"})
    assert len(_warnings(db_app, rule="stock_difference")) == 1


def test_warehouses_and_stock_takings_are_imported_from_their_templates(db_app, county):
    company = client_for(db_app, county["enterprise"])
    name = county["enterprise_name"]
    template = company.get("/r/warehouse/template").data
    page = upload(company, "warehouse", fill(template, [[name, "民爆一", "民爆物品", "鼓楼区", "5", "吨", "林建华", None],
                                                        [name, "烟花库", "烟花", None, None, None, None, None]]))
    assert "未写入任何数据" in page and re.search(r"3 物品类别", page), page[-600:]
    page = upload(company, "warehouse", fill(template, [[name, "民爆一", "民爆物品", "鼓楼区", "5", "吨", "林建华", None]]))
    assert "完成：新增 1 条" in page, page[-600:]
    add(company, "goods_product", {"enterprise": str(county["enterprise_id"]), "name": "乳化炸药",
                                   "goods_class": "civil_explosives", "unit": "kg"})
    template = company.get("/r/stock_take/template").data
    today = datetime.now().strftime("%Y-%m-%d")
    page = upload(company, "stock_take", fill(template, [[name, "民爆一", "乳化炸药", today, "10", "9.5", "林建华", None]]))
    assert "完成：新增 1 条" in page, page[-600:]
    (take,) = _rows(db_app, "stock_take")
    assert take.has_difference is True and float(take.difference) == -0.5
