"""Demo rows of the 001 (Chaoyang) registers — risk grading, major hazard sources — written by the demo
enterprise accounts of 常州市新北区 for their own enterprises, as they would enter them on the forms."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import func, select

from app.security.actor import acting_as, actor_for

from .workflows import _Demo

# one risk chain per enterprise: object → unit → event → measures, with the four colours spread over them
RISKS = [
    ("液氨储罐区", "equipment", "major", "储罐区东侧", "液氨卸车作业", "卸车软管破裂导致液氨泄漏", "中毒和窒息、火灾爆炸", 4, 5,
     [("engineering", "卸车鹤管设置紧急切断阀和拉断阀", "company", 1), ("emergency", "卸车现场配备正压式空气呼吸器和喷淋洗眼器", "workshop", 7)]),
    ("甲类仓库", "place", "high", "厂区北侧", "危化品储存", "可燃气体积聚遇明火爆炸", "火灾爆炸", 3, 4,
     [("engineering", "设置可燃气体报警装置并与排风联锁", "workshop", 7), ("management", "严禁烟火，进入仓库登记并消除静电", "team", 1)]),
    ("动火作业", "activity", "general", "全厂", "检修动火", "动火点周边可燃物未清理", "火灾", 2, 4,
     [("management", "办理动火作业票，配备监火人", "workshop", 1)]),
    ("配电房", "place", "low", "综合楼一层", "低压配电", "带电检修触电", "触电", 1, 3,
     [("training", "电工持证上岗，停电挂牌上锁", "post", 30)]),
]


def _enterprises(svc: Any, limit: int = 3) -> list[Any]:
    """The 新北区 emergency-management enterprises the demo enterprise accounts sign in for (accounts.py)."""
    model = svc.models["enterprise"]
    return list(svc.session.scalars(select(model).where(model.region.like("320411%"), model.department == "emergency",
                                                        model.uscc.like("9%")).order_by(model.id).limit(limit)))


def load_demo_chaoyang(echo: Callable[[str], Any] = print) -> None:
    demo = _Demo()
    svc = demo.svc
    if "risk_object" not in svc.registry.registers:
        return
    if svc.session.execute(select(func.count()).select_from(svc.models["risk_object"])).scalar_one():
        echo("Demo risk grading: rows already exist, left as is.")
        return
    local = _enterprises(svc)
    if not local:
        echo("Demo risk grading: no enterprise in 新北区, skipped.")
        return
    today = date.today()
    made = 0
    for number, enterprise in enumerate(local):
        login = enterprise.uscc
        demo.add("risk_identification", login, enterprise=enterprise, title=f"{today.year}年度安全风险辨识",
                 identified_on=today - timedelta(days=60), method="jha", participants="张敏、王伟、刘洋",
                 scope="生产装置、储存设施、作业活动全覆盖", objects_found=len(RISKS), events_found=len(RISKS),
                 result="辨识重大风险1处、较大风险1处、一般风险1处、低风险1处")
        for index, (name, kind, level, place, unit_name, event_text, consequence, likelihood, severity, measures) \
                in enumerate(RISKS):
            obj = demo.add("risk_object", login, enterprise=enterprise, name=name, code=f"DX-{index + 1:03d}",
                           kind=kind, risk_level=level, location=place, responsible_department="安全环保部",
                           responsible_person="王伟")
            unit = demo.add("risk_unit", login, enterprise=enterprise, risk_object=obj, name=unit_name,
                            risk_level=level, control_level=measures[0][2], responsible_person="张敏")
            event = demo.add("risk_event", login, enterprise=enterprise, risk_unit=unit, description=event_text,
                             consequence=consequence, likelihood=likelihood, severity=severity, risk_level=level)
            demo.add("risk_assessment", login, enterprise=enterprise, risk_event=event, title=f"{event_text}风险评估",
                     assessed_on=today - timedelta(days=50), method="ls", score=likelihood * severity,
                     risk_level=level, assessor="张敏", conclusion="按评估等级落实分级管控")
            for kind_code, content, control, days in measures:
                measure = demo.add("risk_measure", login, enterprise=enterprise, risk_event=event, kind=kind_code,
                                   content=content, risk_level=level, control_level=control,
                                   responsible_person="刘洋", patrol_days=days)
                for back in (days * 2, days):
                    abnormal = number == 0 and index == 1 and back == days
                    demo.add("risk_patrol", login, enterprise=enterprise, risk_measure=measure,
                             patrolled_on=today - timedelta(days=back), patroller="刘洋",
                             result="abnormal" if abnormal else "normal",
                             finding="可燃气体报警器探头被遮挡，已现场整改" if abnormal else None)
                made += 1
    echo(f"Demo risk grading: {len(local)} enterprises of 新北区, {made} control measures with their patrols.")
    _major_hazards(demo, local, echo)
    _self_inspection(demo, local, echo)
    _grids_training_permits(demo, local, echo)
    _transport(demo, local, echo)
    if "enterprise_correction" in demo.svc.registry.registers and len(local) > 1:
        demo.add("enterprise_correction", local[1].uscc, enterprise=local[1], reason="企业住所门牌号变更，营业执照已换发",
                 address=f"{local[1].address}（新门牌：春江路66号）")
        echo("Demo enterprise correction: 1 awaiting the regulator's review.")
    _self_service(demo, local, echo)


# (source, kind, grade, R value, substances, points: (tag, name, quantity, unit, low, high, readings))
SOURCES = [
    ("液氨储罐区", "tank_farm", "3", 36.5, "液氨", [
        ("LT-101", "V101液氨储罐液位", "level", "m", 0.5, 8.5, (6.2, 6.4, 8.9)),
        ("PT-101", "V101液氨储罐压力", "pressure", "MPa", None, 1.6, (1.1, 1.2, 1.2)),
        ("AT-101", "储罐区氨气浓度", "toxic_gas", "ppm", None, 30, (2, 3, 35))]),
    ("甲类仓库", "warehouse", "4", 8.2, "甲醇、乙酸乙酯", [
        ("AT-201", "甲类仓库可燃气体浓度", "flammable_gas", "%LEL", None, 25, (0, 1, 2)),
        ("TT-201", "甲类仓库温度", "temperature", "℃", None, 35, (22.5, 24, 26.5))]),
]


def _major_hazards(demo: _Demo, local: list[Any], echo: Callable[[str], Any]) -> None:
    """Each demo enterprise's major hazard sources, their monitoring points and a morning of readings (the
    computed 超限 flag marks the few above their thresholds)."""
    now = datetime.now().replace(minute=0, second=0, microsecond=0)
    readings = 0
    for enterprise in local:
        login = enterprise.uscc
        for name, kind, grade, r_value, substances, points in SOURCES:
            source = demo.add("major_hazard_source", login, enterprise=enterprise, name=name, kind=kind, grade=grade,
                              r_value=r_value, substances=substances, location=enterprise.address,
                              record_number=f"BA320411-{enterprise.id:04d}-{kind}", responsible_person="王伟",
                              identified_on=date.today() - timedelta(days=400),
                              coordinates_lat=enterprise.location_lat, coordinates_lng=enterprise.location_lng)
            for tag, point_name, quantity, unit, low, high, values in points:
                point = demo.add("monitoring_point", login, enterprise=enterprise, source=source,
                                 code=f"{tag}-{enterprise.id}", name=point_name, quantity=quantity, unit=unit,
                                 lower_limit=low, upper_limit=high)
                for hours, value in zip((3, 2, 1), values):
                    demo.add("monitoring_reading", login, enterprise=enterprise, point=point,
                             measured_at=now - timedelta(hours=hours), value=value)
                    readings += 1
    echo(f"Demo major hazard sources: {len(local) * len(SOURCES)} sources, {readings} readings.")


def _self_inspection(demo: _Demo, local: list[Any], echo: Callable[[str], Any]) -> None:
    """新北区's guideline standard, the first enterprise's custom standard (approved) and the second's (awaiting
    review), the self-inspection reports of the last cycles (one enterprise late), and the first enterprise's file:
    registration, a secondary unit, this year's confirmation."""
    svc, today = demo.svc, date.today()
    guideline = demo.add("self_check_standard", "xb_admin", title="危险化学品企业安全风险隐患排查治理指引",
                         enterprise_type="hc_production", department="emergency", standard_version="2024版",
                         issued_on=today - timedelta(days=300),
                         content="一、安全领导能力；二、安全生产责任制；三、岗位安全教育和操作技能培训；四、安全风险管理；"
                                 "五、设计管理；六、试生产管理；七、装置运行安全管理；八、设备设施完好性；九、特殊作业管理")
    for number, enterprise in enumerate(local):
        login = enterprise.uscc
        standard = demo.add("custom_standard", login, enterprise=enterprise, based_on=guideline,
                            title=f"{enterprise.name}隐患排查标准",
                            items="1. 液氨储罐区紧急切断阀完好有效\n2. 可燃气体报警器每季度校验\n3. 动火作业票证齐全")
        if number < 2:
            demo.step("custom_standard", standard, "submit", login)
        if number == 0:
            demo.step("custom_standard", standard, "approve", "xb_admin")
        back = 75 if number == 1 else 10
        demo.add("self_inspection_report", login, enterprise=enterprise, standard=standard if number == 0 else None,
                 period=f"{(today - timedelta(days=back)):%Y年%m月}", reported_on=today - timedelta(days=back),
                 items_checked=36, hazards_general=2 - min(number, 2), hazards_major=0, reporter="张敏",
                 summary="按本企业隐患排查标准逐项排查，发现的隐患已录入隐患台账并限期整改")
    first = local[0]
    branch = svc.models["enterprise_branch"](branch_name=f"{first.name}运输部", branch_type="hc_transport",
                                             branch_department="transport", branch_manager="赵强",
                                             branch_address=first.address)
    with acting_as(actor_for(demo.user(first.uscc))):
        first.registration_number = f"320411{first.id:09d}"
        first.approved_on = first.established_on
        first.operating_from = first.established_on
        first.registration_authority = "常州市新北区市场监督管理局"
        first.info_confirmed_on = today - timedelta(days=3)
        first.branches.append(branch)
        svc.session.commit()
    echo(f"Demo self-inspection: 1 guideline standard, {len(local)} custom standards and reports; "
         "a secondary unit and this year's confirmation for the first enterprise.")


def _grids_training_permits(demo: _Demo, local: list[Any], echo: Callable[[str], Any]) -> None:
    """新北区's grids with their members and enterprises, a training course with attendance, each enterprise's
    special work permits and an overhaul along their approval steps, and two third-party agencies."""
    svc, today = demo.svc, date.today()
    township = local[0].region
    street = svc.dictionaries.label("region", township, "zh_Hans")
    grid = demo.add("grid", "xb_admin", name=f"{street}第一网格", kind="territorial", region=township,
                    boundary=f"{street}辖区内化工企业集中区")
    industry = demo.add("grid", "xb_admin", name="新北区危险化学品行业网格", kind="industry", region="320411",
                        department="emergency", boundary="新北区危险化学品生产、经营、使用企业")
    for row, (person, post, mobile) in ((grid, ("陈立新", "head", "13961110001")), (grid, ("周红", "member", "13961110002")),
                                        (industry, ("王强", "head", "13961110003"))):
        demo.add("grid_member", "xb_admin", grid=row, person_name=person, post=post, mobile=mobile,
                 work_unit="常州市新北区应急管理局" if row is industry else f"{street}安监所")
    for enterprise in local:
        enterprise.grid_id = grid.id
    svc.session.commit()
    course = demo.add("training_course", "xb_admin", title="危险化学品企业主要负责人安全培训", kind="principal",
                      starts_on=today - timedelta(days=20), hours=16, teacher="常州市安全生产专家 刘敏",
                      place="新北区应急管理局培训中心", content="安全生产法、危险化学品安全管理条例、重大危险源管控")
    for number, enterprise in enumerate(local):
        login = enterprise.uscc
        demo.add("training_attendance", login, course=course, enterprise=enterprise,
                 trainee=enterprise.legal_representative, post="主要负责人", attended=True, score=90 - number * 5)
        start = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=number + 1)
        permit = demo.add("special_work_permit", login, enterprise=enterprise, title="V101储罐进料管线动火焊接",
                          kind="hot_work", grade="first", location="液氨储罐区", starts_at=start,
                          ends_at=start + timedelta(hours=6), worker="焊工 刘洋（特种作业证 T320411…）",
                          guardian="张敏", measures="清理动火点周边可燃物，可燃气体检测合格，配备灭火器两具")
        demo.step("special_work_permit", permit, "submit", login)
        if number == 0:
            demo.step("special_work_permit", permit, "approve", "xb_admin")
        plan = demo.add("overhaul_plan", login, enterprise=enterprise, title=f"{today.year}年度全厂停车大检修",
                        units="合成氨装置、液氨储罐区", starts_on=today + timedelta(days=30),
                        ends_on=today + timedelta(days=45), responsible_person="王伟", contractor="常州华东石化检修有限公司",
                        scheme="停车置换、能量隔离、检修作业票证管理、开车前安全条件确认")
        if number == 1:
            demo.step("overhaul_plan", plan, "submit", login)
    for name, code, kind in (("江苏安评技术服务有限公司", "91320411MA1XYA0P5E", "evaluation"),
                             ("常州市特种设备检测研究所有限公司", "91320411MA1XYA1L2P", "testing")):
        demo.add("third_party_agency", "xb_admin", name=name, uscc=code, kind=kind, region="320411",
                 qualification_number=f"APJ-（苏）-{code[-4:]}", qualification_expires_on=today + timedelta(days=400),
                 contact="周涛", phone="0519-85681234", address="常州市新北区太湖东路9号")
    echo("Demo grids, training, permits: 2 grids, 3 grid members, 1 course, permits and overhauls of "
         f"{len(local)} enterprises, 2 third-party agencies.")


# (plate, type, classes, load, driver, escort, goods (chemical name), weight, from, to, route)
VEHICLES = [
    ("苏D7H521", "tank", ["2"], "25.00", ("王建国", "320411198501010015", "A2"), ("李秀英", "32041119950101001X"),
     "氨", "18.500", "常州市新北区春江镇圩塘化工园区", "常州市武进区遥观镇", "S122省道—G2京沪高速—常州绕城高速—武进大道"),
    ("苏DF3307", "tank_semi_trailer", ["3"], "30.00", ("赵志强", "320411200301010010", "A2"), None,
     "甲醇", "26.000", "常州市新北区春江镇滨江经济开发区", "无锡市惠山区钱桥街道", "沿江高速—S38常合高速—G2京沪高速"),
]


def _transport(demo: _Demo, local: list[Any], echo: Callable[[str], Any]) -> None:
    """危化品运输 of the first demo enterprise (its 运输部): two vehicles with their drivers and escort, one
    driver's qualification close to expiry, waybills along their steps, and a violation answered."""
    if "transport_vehicle" not in demo.svc.registry.registers:
        return
    svc, today = demo.svc, date.today()
    enterprise = local[0]
    login = enterprise.uscc
    chemical = svc.models["chemical"]
    now = datetime.now().replace(second=0, microsecond=0)
    made = 0
    for number, (plate, kind, classes, load, driver, escort, goods, weight, start, end, route) in enumerate(VEHICLES):
        person = demo.add("transport_driver", login, enterprise=enterprise, person_name=driver[0], post="driver",
                          id_card=driver[1], mobile=f"1386110{number:04d}", licence_class=driver[2],
                          qualification_number=driver[1][:16],
                          qualification_until=today + timedelta(days=20 if number == 1 else 700))
        guard = demo.add("transport_driver", login, enterprise=enterprise, person_name=escort[0], post="escort",
                         id_card=escort[1], mobile="13861109999", qualification_number=escort[1][:16],
                         qualification_until=today + timedelta(days=500)) if escort else person
        vehicle = demo.add("transport_vehicle", login, enterprise=enterprise, plate_number=plate, vehicle_type=kind,
                           goods_class=classes, transport_permit=f"苏交运管常字32041100{1234 + number}号",
                           load_capacity=Decimal(load), status="in_service", driver=person, escort=guard,
                           annual_review_until=today + timedelta(days=200 + number * 90),
                           insurance_until=today + timedelta(days=150), tank_inspection_until=today + timedelta(days=300),
                           gps_terminal=f"1320411{number:06d}")
        product = svc.session.scalars(select(chemical).where(chemical.name_zh == goods).limit(1)).first() \
            or svc.session.scalars(select(chemical).order_by(chemical.id).limit(1)).first()
        if product is None:
            continue
        for trip in range(2):
            leave = now - timedelta(days=3 - trip * 3, hours=-8)
            bill = demo.add("waybill", login, waybill_number=f"YD{today:%Y%m%d}{number}{trip:03d}", enterprise=enterprise,
                            vehicle=vehicle, driver=person, escort=guard, consignor=enterprise.name,
                            consignee="常州武进精细化工有限公司" if number == 0 else "无锡惠山新材料有限公司",
                            goods=product, weight=Decimal(weight), loading_place=start, unloading_place=end, route=route,
                            planned_departure=leave, planned_arrival=leave + timedelta(hours=3))
            if trip == 0:
                demo.step("waybill", bill, "depart", login)
                demo.step("waybill", bill, "deliver", login)
            made += 1
        if number == 0:
            demo.add("transport_violation", "xb_admin", vehicle=vehicle, enterprise=enterprise, driver=person,
                     kind="speeding", occurred_at=now - timedelta(days=2, hours=3), place="G2京沪高速常州段K1124+300",
                     speed=92, description="限速80km/h路段超速行驶，卫星定位平台报警")
    echo(f"Demo hazmat transport: {len(VEHICLES)} vehicles of {enterprise.name} with drivers, {made} waybills, "
         "1 violation.")


def _self_service(demo: _Demo, local: list[Any], echo: Callable[[str], Any]) -> None:
    """003 企业自助 of each demo enterprise: staff with certificates (one close to expiry), protective equipment,
    this year's safety funds and a health examination."""
    if "enterprise_staff" not in demo.svc.registry.registers:
        return
    today = date.today()
    for number, enterprise in enumerate(local):
        login = enterprise.uscc
        electrician = demo.add("enterprise_staff", login, enterprise=enterprise, person_name="刘洋", post="电工",
                               mobile=f"1396120{number:04d}", certificate_kind="special_operation",
                               certificate_number=f"T3204111985010100{number}", on_duty=True,
                               certificate_until=today + timedelta(days=20 if number == 0 else 600))
        demo.add("enterprise_staff", login, enterprise=enterprise, person_name="张敏", post="安全管理人员",
                 certificate_kind="safety_manager", certificate_number=f"AQ32041120230{number}",
                 certificate_until=today + timedelta(days=900), on_duty=True)
        demo.add("ppe_issue", login, enterprise=enterprise, item="防静电工作服", standard="GB 12014-2019",
                 staff=electrician, quantity=2, issued_on=today - timedelta(days=30),
                 replace_by=today + timedelta(days=335))
        demo.add("safety_fund", login, enterprise=enterprise, year=today.year, use="facilities",
                 project="储罐区可燃气体报警器更换", amount=Decimal("12.50"), spent_on=today - timedelta(days=45))
        demo.add("health_record", login, enterprise=enterprise, staff=electrician, exposure="噪声、工频电场",
                 kind="on_job", examined_on=today - timedelta(days=90), institution="常州市第三人民医院",
                 conclusion="normal", next_exam_on=today + timedelta(days=275))
    echo(f"Demo enterprise self-service: staff, protective equipment, safety funds, health records of "
         f"{len(local)} enterprises.")
    _own_inspections(demo, local, echo)


# the items of a demo enterprise's own checklist: (stage, content, basis, method)
OWN_CHECKLIST = [
    ("储罐区", "液氨储罐紧急切断阀完好有效，每月试验一次并记录", "《危险化学品重大危险源监督管理暂行规定》第十三条", "现场查看"),
    ("储罐区", "可燃、有毒气体报警器按期校验，报警值设置正确", "《石油化工可燃气体和有毒气体检测报警设计标准》GB/T 50493-2019",
     "查阅资料"),
    ("甲类仓库", "危险化学品分类分区存放，禁配物料不混存", "《危险化学品仓库储存通则》GB 15603-2022", "现场查看"),
    ("特殊作业", "动火、受限空间作业票证审批齐全，监护人在岗", "《危险化学品企业特殊作业安全规范》GB 30871-2022", "查阅资料"),
    ("应急管理", "应急器材、空气呼吸器完好，放置在规定位置", "《生产安全事故应急预案管理办法》", "现场查看"),
]


def _own_inspections(demo: _Demo, local: list[Any], echo: Callable[[str], Any]) -> None:
    """003 企业端 检查清单管理 and 检查计划管理: each demo enterprise's own checklist derived from 新北区's guideline
    standard; the first enterprise executed this month's comprehensive inspection and plans a seasonal one, the
    second has not executed a plan past its end date (its warning)."""
    if "enterprise_checklist" not in demo.svc.registry.registers:
        return
    svc, today = demo.svc, date.today()
    standard = svc.models["self_check_standard"]
    guideline = svc.session.scalars(select(standard).order_by(standard.id).limit(1)).first()
    plans = 0
    for number, enterprise in enumerate(local[:2]):
        login = enterprise.uscc
        checklist = demo.add("enterprise_checklist", login, enterprise=enterprise, name=f"{enterprise.name}综合检查表",
                             based_on=guideline, scope="全厂",
                             description="依据行业隐患排查指引，结合本企业储罐区和甲类仓库的实际制定",
                             items=[{"stage": stage, "content": content, "basis": basis, "method": method}
                                    for stage, content, basis, method in OWN_CHECKLIST])
        if number == 0:
            # executed within its dates (a plan saved past its end unexecuted would warn at once)
            done = demo.add("enterprise_check_plan", login, enterprise=enterprise,
                            title=f"{today:%Y年%m月}全厂综合检查", checklist=checklist,
                            check_type="comprehensive", starts_on=today - timedelta(days=5),
                            ends_on=today + timedelta(days=2), leader="王伟", participants="张敏、刘洋", scope="全厂",
                            executed_on=today - timedelta(days=1), hazards_found=2,
                            execution_summary="按检查表逐项检查，发现报警器探头遮挡、仓库通道堆物2项一般隐患，"
                                              "已录入隐患台账限期整改")
            demo.step("enterprise_check_plan", done, "execute", login)
            demo.add("enterprise_check_plan", login, enterprise=enterprise, title="季节性安全检查",
                     checklist=checklist, check_type="seasonal", starts_on=today + timedelta(days=10),
                     ends_on=today + timedelta(days=15), leader="张敏", participants="刘洋", scope="储罐区、甲类仓库")
            plans += 2
        else:
            demo.add("enterprise_check_plan", login, enterprise=enterprise, title="节假日前安全检查",
                     checklist=checklist, check_type="holiday", starts_on=today - timedelta(days=12),
                     ends_on=today - timedelta(days=8), leader="王伟", participants="张敏", scope="全厂")
            plans += 1
    echo(f"Demo enterprise inspections: {min(len(local), 2)} checklists, {plans} plans (one executed, one overdue).")
