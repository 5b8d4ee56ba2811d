"""Demo rows of the 003 (Fujian) goods flow: warehouses, products and a batch of explosives traced from its
producer in 福州 through a distributor to a blasting company, with a consignment note, a return and a
stock-taking that differs (库存差异预警), and fireworks retail points."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable

from sqlalchemy import func, select

from app.services import services


def _fujian(svc: Any, limit: int = 3) -> list[Any]:
    model = svc.models["enterprise"]
    return list(svc.session.scalars(select(model).where(model.region.like("35%"), model.uscc.like("9%"))
                                    .order_by(model.id).limit(limit)))


def _add(svc: Any, register: str, **values: Any) -> Any:
    """One row written by the system (as `flask demo load` writes: no account, no row scope)."""
    spec, row = svc.registry.register(register), svc.models[register]()
    for name, value in values.items():
        field = spec.field(name)
        setattr(row, f"{name}_id" if field.type == "reference" else name,
                value.id if field.type == "reference" else value)
    svc.session.add(row)
    svc.session.flush()
    return row


def load_demo_goods(echo: Callable[[str], Any] = print) -> None:
    svc = services()
    if "stock_movement" not in svc.registry.registers:
        return
    if svc.session.execute(select(func.count()).select_from(svc.models["warehouse"])).scalar_one():
        echo("Demo goods flow: rows already exist, left as is.")
        return
    found = _fujian(svc)
    if len(found) < 3:
        echo("Demo goods flow: fewer than 3 enterprises in 福建, skipped.")
        return
    producer, dealer, user = found
    today = date.today()
    start = datetime.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
    stores = {}
    for company, name, address in ((producer, "民爆一", "成品库一号库房"), (producer, "民爆二", "成品库二号库房"),
                                   (dealer, "民爆器材中转库", "销售中转库"), (user, "爆破器材库", "矿区炸药库")):
        stores[name] = _add(svc, "warehouse", enterprise=company, name=name, goods_class="civil_explosives",
                            address=f"{company.address}{address}", capacity=5, unit="t", keeper="林建华",
                            keeper_phone="0591-87551269")
    emulsion = _add(svc, "goods_product", enterprise=producer, name="乳化炸药", goods_class="civil_explosives",
                    specification="Φ32mm×200g", unit="kg", un_number="0241")
    nitro = _add(svc, "goods_product", enterprise=producer, name="硝化甘油炸药", goods_class="civil_explosives",
                 specification="Φ32mm", unit="kg", un_number="0081")
    batch = _add(svc, "goods_batch", enterprise=producer, product=emulsion, batch_number=f"{today:%Y%m}01-A01",
                 goods_class="civil_explosives", produced_on=today - timedelta(days=21), quantity=1000)
    steps = [  # (hours after start, who, warehouse, direction, quantity, from or to)
        (0, producer, "民爆一", "in", 1000, "本厂乳化炸药生产线"),
        (48, producer, "民爆一", "out", 600, dealer.name),
        (60, dealer, "民爆器材中转库", "in", 600, producer.name),
        (120, dealer, "民爆器材中转库", "out", 200, user.name),
        (130, user, "爆破器材库", "in", 200, dealer.name),
        (150, user, "爆破器材库", "out", 176, "矿区采场爆破作业"),
    ]
    for number, (hours, company, store, direction, quantity, other) in enumerate(steps):
        _add(svc, "stock_movement", enterprise=company, warehouse=stores[store], batch=batch, direction=direction,
             quantity=quantity, moved_at=start + timedelta(hours=hours), counterparty=other,
             voucher_number=f"CRK{today:%Y%m}{number + 1:04d}", handler="林建华")
    _add(svc, "consignment_note", note_number=f"TY{today:%Y%m%d}0001", enterprise=producer, batch=batch,
         quantity=600, consignee=dealer.name, carrier="福建省民爆物品运输有限公司", vehicle_plate="闽A3F218",
         driver="陈志强", escort="黄小乐", origin=producer.address, destination=dealer.address,
         route="沈海高速—福银高速", shipped_at=start + timedelta(hours=50), arrived_at=start + timedelta(hours=58),
         status="delivered")
    _add(svc, "goods_return", enterprise=user, batch=batch, quantity=24, returned_to=dealer.name,
         returned_on=today - timedelta(days=12), reason="surplus", note="爆破作业剩余，当日清退")
    _add(svc, "stock_take", enterprise=producer, warehouse=stores["民爆一"], product=emulsion,
         taken_on=today - timedelta(days=2), system_quantity=400, counted_quantity=400, difference=0,
         has_difference=False, taker="林建华")
    _add(svc, "stock_take", enterprise=producer, warehouse=stores["民爆二"], product=nitro,
         taken_on=today - timedelta(days=1), system_quantity=0.014, counted_quantity=0.015, difference=0.001,
         has_difference=True, taker="林建华", note="月末盘点")
    for number, (name, address) in enumerate((("鼓楼区东街烟花爆竹零售点", "鼓楼区东街口"),
                                              ("台江区上海街道烟花爆竹零售点", "台江区上海街道"))):
        _add(svc, "fireworks_retail_point", enterprise=dealer, name=name, licence_number=f"(闽)YH零[{today.year}]"
             f"{number + 11:05d}", address=f"福州市{address}", operator="郑丽", phone="0591-87093291",
             valid_until=date(today.year + 1, 2, 28))
    svc.session.commit()
    echo(f"Demo goods flow: 4 warehouses, 2 products, batch {batch.batch_number} traced from {producer.name} to "
         f"{user.name}, a stock-taking that differs, 2 fireworks retail points.")
