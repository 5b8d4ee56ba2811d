"""Demo rows moved along their workflows by the demo accounts, through the engine (history, notices, effects
as users would leave them): hazards at every step, licence applications, an enforcement plan, inspections
(one submitted, its failed items now hazards), a case, an enterprise change awaiting the city's approval."""
from __future__ import annotations

import io
import random
from datetime import date, timedelta
from typing import Any, Callable

from flask import current_app
from sqlalchemy import func, select

from app.i18n import label_text
from app.security.actor import acting_as, actor_for
from app.services import services
from app.workflow import Upload, guard


def _png() -> bytes:
    """A small photo stand-in (a grey square) for steps that need a picture."""
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 200, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class _Demo:
    def __init__(self) -> None:
        self.svc = services()
        self.engine = current_app.extensions["safety_workflow"]
        self.sm = current_app.appbuilder.sm
        self.png = _png()

    def user(self, login: str) -> Any:
        user = self.sm.find_user(username=login)
        if user is None:
            raise LookupError(f"demo account {login} is missing (run `flask demo accounts` first)")
        return user

    def add(self, register: str, login: str, **values: Any) -> Any:
        model = self.svc.models[register]
        spec = self.svc.registry.register(register)
        row = model()
        for name, value in values.items():
            field = spec.field_map.get(name)
            if field is not None and field.type == "children":
                child = self.svc.models[field.target]
                setattr(row, name, [child(**item) for item in value])
            elif field is not None and field.type == "reference":
                setattr(row, f"{name}_id", value.id if hasattr(value, "id") else value)
            else:
                setattr(row, name, value)
        with acting_as(actor_for(self.user(login))):
            self.svc.session.add(row)
            self.svc.session.commit()
        return row

    def step(self, register: str, row: Any, name: str, login: str, comment: str | None = None,
             files: int = 0, pdf: bool = False, signature: bool = False) -> None:
        spec = self.svc.registry.register(register)
        uploads = [Upload(f"{'材料' if pdf else '现场照片'}{i + 1}.{'pdf' if pdf else 'png'}",
                          io.BytesIO(PDF if pdf else self.png)) for i in range(files)]
        sign = Upload("签名.png", io.BytesIO(self.png)) if signature else None
        with acting_as(actor_for(self.user(login))):
            self.engine.take(spec, row, name, actor_for(self.user(login)), comment, uploads, sign)


def _gas_campaign(demo: _Demo, svc: Any, enterprise: Any, owner: Callable[[Any], str], today: date) -> None:
    """燃气专项整治 (004) issued province → 常州市 → 新北区; 新北区's inspector inspects an enterprise for the campaign
    (the inspection names the county's task copy): two items fail, so two hazards of the campaign, one of them
    rectified and confirmed; the 专项工作统计 roll-up counts them on the county's line and every line above."""
    model = svc.models["gas_task"]
    task = demo.add("gas_task", "js_admin", title=f"{today.year}年城镇燃气安全专项整治", year=today.year, region="32",
                    deadline=today + timedelta(days=45), requirements="全面排查燃气经营、使用场所安全隐患，逐级核实燃气企业名单")
    demo.step("gas_task", task, "issue", "js_admin")
    city = svc.session.scalar(select(model).where(model.parent_task_id == task.id).order_by(model.id))
    if city is None:
        return
    demo.step("gas_task", city, "issue", "cz_admin")
    county = svc.session.scalar(select(model).where(model.parent_task_id == city.id, model.region == "320411"))
    if county is None:
        return
    demo.step("gas_task", county, "issue", "xb_admin")
    items = [{"stage": "燃气设施", "content": "燃气管道、阀门无泄漏，连接软管未超期使用", "result": "pass"},
             {"stage": "燃气设施", "content": "使用场所安装可燃气体报警装置并与切断阀联锁", "result": "fail",
              "problem": "厨房未安装可燃气体报警装置", "location": "职工食堂", "responsible_person": "王伟",
              "rectify_by": today + timedelta(days=10)},
             {"stage": "安全管理", "content": "气瓶存放间通风良好，不超量存放", "result": "fail",
              "problem": "液化气瓶存放间超量存放且通风不良", "location": "气瓶间", "responsible_person": "王伟",
              "rectify_by": today + timedelta(days=7)}]
    inspection = demo.add("inspection", "xb_inspector", title=f"{enterprise.name}燃气安全专项检查", enterprise=enterprise,
                          gas_task=county, kind="independent", inspected_on=today - timedelta(days=3),
                          inspectors="王强、李娜", items=items, conclusion="存在两项不满足，已责令限期整改")
    demo.step("inspection", inspection, "submit", "xb_inspector")
    hazard = svc.models["hazard"]
    first = svc.session.scalar(select(hazard).where(hazard.inspection_id == inspection.id).order_by(hazard.id))
    if first is not None:
        demo.step("hazard", first, "submit", owner(enterprise), "已安装可燃气体报警装置并联锁", files=1)
        demo.step("hazard", first, "confirm", "xb_inspector")


def _joint_inspection_and_notices(demo: _Demo, svc: Any, today: date) -> None:
    """A joint inspection of a Changzhou gas enterprise led by the city's emergency bureau: the housing bureau
    accepted, 新北区 has not answered yet; a hazard handed to the housing bureau; a notice it has not read."""
    organisations = svc.models["organisation"]
    by_name = {o.name: o for o in svc.session.scalars(select(organisations))}
    enterprises = svc.models["enterprise"]
    target = svc.session.scalar(select(enterprises).where(enterprises.region.like("3204%")).order_by(enterprises.id))
    joint = demo.add("inspection", "cz_admin", title=f"{target.name}燃气安全联合检查", enterprise=target,
                     kind="joint", inspected_on=today + timedelta(days=5), inspectors="常州市应急管理局 周涛、住建局 李娜",
                     reply_by=today + timedelta(days=3),
                     invited=[{"organisation_invited_id": by_name["常州市住房和城乡建设局"].id, "note": "燃气设施检查"},
                              {"organisation_invited_id": by_name["常州市新北区应急管理局"].id, "note": "属地配合"}],
                     items=[{"stage": "燃气设施", "content": "燃气管道、阀门无泄漏，报警装置完好"}])
    demo.step("inspection", joint, "invite", "cz_admin")
    invitation = svc.models["inspection_invitation"]
    first = svc.session.scalar(select(invitation).where(invitation.inspection_id == joint.id,
                                                        invitation.invitee_id == by_name["常州市住房和城乡建设局"].id))
    demo.step("inspection_invitation", first, "accept", "cz_housing")
    hazard = svc.session.scalar(select(svc.models["hazard"]).where(svc.models["hazard"].state == "pending")
                                .order_by(svc.models["hazard"].id))
    hazard.transfer_to_id = by_name["常州市住房和城乡建设局"].id
    svc.session.commit()
    demo.step("hazard", hazard, "transfer", "cz_admin", "涉及城镇燃气设施，属住建部门监管")
    demo.add("notice", "cz_admin", title="关于通报燃气企业安全隐患的函", receiver=by_name["常州市住房和城乡建设局"],
             content="我局在联合检查中发现辖区燃气企业存在安全隐患，按职责归口通报贵局依法处理。", enterprise=target)


def _emergency_plans(demo: _Demo, svc: Any, enterprises: list[Any], owner: Callable[[Any], str], today: date) -> None:
    """Emergency plans at each filing step: an enterprise's plan filed by 新北区, another awaiting filing, one
    returned; 新北区's own plan filed by the city above it; the city's own plan still a draft."""
    def document(name: str) -> list[dict[str, Any]]:
        return [svc.files.save("emergency_plan", f"{name}.pdf", io.BytesIO(PDF))]

    first, second = enterprises[0], enterprises[-1]
    for enterprise, plan_type, steps in ((first, "comprehensive", ("submit", "file")), (first, "special", ("submit",)),
                                         (second, "comprehensive", ("submit", "return"))):
        label = "综合应急预案" if plan_type == "comprehensive" else "危险化学品泄漏专项应急预案"
        row = demo.add("emergency_plan", owner(enterprise), name=f"{enterprise.name}{label}", plan_type=plan_type,
                       plan_level="enterprise", region=enterprise.region, plan_version="V2.0",
                       issued_on=today - timedelta(days=40), review_due_on=today + timedelta(days=3 * 365 - 40),
                       summary="适用于本企业生产安全事故的应急响应与处置", document=document(label))
        for step in steps:
            login = owner(enterprise) if step == "submit" else "xb_admin"
            comment = "应急处置卡缺少储罐区泄漏处置步骤，请补充后重新提交" if step == "return" else None
            demo.step("emergency_plan", row, step, login, comment)
    own = demo.add("emergency_plan", "xb_admin", name="常州市新北区生产安全事故应急预案", plan_type="comprehensive",
                   plan_level="county", region="320411", plan_version="2024版", issued_on=date(today.year, 3, 1),
                   summary="新北区行政区域内生产安全事故的应对工作", document=document("新北区生产安全事故应急预案"))
    demo.step("emergency_plan", own, "submit_own", "xb_admin")
    demo.step("emergency_plan", own, "file_own", "cz_admin")
    demo.add("emergency_plan", "cz_admin", name="常州市危险化学品事故应急预案", plan_type="special", plan_level="city",
             region="3204", plan_version="征求意见稿", summary="全市危险化学品生产、储存、运输环节事故的应急处置")


def load_demo_workflows(echo: Callable[[str], Any] = print) -> None:
    svc = services()
    hazard = svc.models["hazard"]
    if svc.session.execute(select(func.count()).select_from(hazard)).scalar_one():
        echo("Demo workflows: hazards already exist, left as is.")
        return
    demo = _Demo()
    enterprises = svc.models["enterprise"]
    local = list(svc.session.scalars(select(enterprises).where(enterprises.region.like("320411%"),
                                                               enterprises.department == "emergency")
                                     .order_by(enterprises.id).limit(8)))
    if not local:
        echo("Demo workflows: no enterprise in 新北区, skipped.")
        return
    accounts = svc.registry.enterprise_accounts

    def pick(index: int) -> Any:
        return local[index % len(local)]

    def owner(enterprise: Any) -> str:
        login = getattr(enterprise, accounts.login)
        user = demo.sm.find_user(username=login)
        if user is not None and user.must_change_password:
            from werkzeug.security import generate_password_hash
            user.password = generate_password_hash("Qy@demo2024")
            user.must_change_password = False
            svc.session.commit()
        return login

    rng = random.Random(11)
    today = date.today()
    problems = [
        ("甲类仓库未设置可燃气体报警装置", "甲类仓库"), ("安全出口被货物堵塞", "生产车间"),
        ("配电箱未张贴警示标识", "配电房"), ("动火作业未办理作业票", "储罐区"),
        ("特种作业人员证书过期", "机修车间"), ("应急预案未按规定演练", "办公楼"),
        ("危化品储存超量", "乙类仓库"), ("消防器材过期未更换", "宿舍楼"),
        ("压力表未定期校验", "锅炉房"), ("防雷检测报告过期", "储罐区"),
    ]
    made = 0
    for index, (text, place) in enumerate(problems):
        enterprise = local[index % len(local)]
        due = today + timedelta(days=rng.choice((-12, -3, 4, 9, 18, 35)))
        row = demo.add("hazard", "xb_inspector", enterprise=enterprise, description=text, location=place,
                       level="general", source=rng.choice(("self_check", "inspection")),
                       found_on=min(today - timedelta(days=rng.randint(5, 40)), due), rectify_by=due,
                       responsible_person="王伟", requirement="按规定限期整改，并上传整改后照片")
        made += 1
        login = owner(enterprise)
        if index % 3 == 1:
            demo.step("hazard", row, "submit", login, "已按要求整改完毕", files=1)
        elif index % 3 == 2:
            demo.step("hazard", row, "submit", login, "已整改", files=1)
            if index == 2:
                demo.step("hazard", row, "send_back", "xb_admin", "整改照片不清晰，请重新上传")
            else:
                demo.step("hazard", row, "confirm", "xb_inspector")
    major = demo.add("hazard", "xb_inspector", enterprise=pick(0), description="液氨储罐区未设置紧急切断装置",
                     location="液氨储罐区", level="major", source="inspection", found_on=today - timedelta(days=6),
                     rectify_by=today + timedelta(days=45), supervision_level="county",
                     contingency="储罐区设置警戒区，禁止动火作业，每班巡检两次")
    demo.step("hazard", major, "supervise", "xb_admin")
    demo.add("hazard", "xb_inspector", enterprise=pick(1), description="粉尘涉爆区域除尘系统未设置泄爆装置",
             location="抛光车间", level="major", source="inspection", found_on=today - timedelta(days=2),
             rectify_by=today + timedelta(days=30))
    made += 2

    applications = []
    # the 申请材料 确认提交 needs (required_for): one PDF each, as the applicant uploads them
    materials = [f for f in svc.registry.register("licence_application").fields
                 if f.type == "attachment" and getattr(f, "required_for", None)]
    for index, enterprise in enumerate(local[i % len(local)] for i in range(4)):
        files = {f.name: [svc.files.save("licence_application", f"{label_text(f.label)}.pdf", io.BytesIO(PDF))]
                 for f in materials}
        row = demo.add("licence_application", owner(enterprise), enterprise=enterprise, **files,
                       applicant_name=f"{enterprise.name}危险化学品经营许可证申请",
                       licence_type="hazchem_business", business_mode=["other"], chemical_scope=["general"],
                       # the application being verified is verified by video (云核查, plugins/video_check)
                       verification_mode="cloud" if index == 1 else "onsite", affiliation="county",
                       applied_on=today - timedelta(days=20 - index), contact="张敏", contact_mobile="13912345678")
        applications.append(row)
        demo.step("licence_application", row, "submit", owner(enterprise))
    demo.step("licence_application", applications[1], "accept", "xb_admin")
    demo.step("licence_application", applications[2], "send_back", "xb_admin", "营业执照复印件不清晰，请补正")
    demo.step("licence_application", applications[3], "accept", "xb_admin")
    demo.step("licence_application", applications[3], "verify", "xb_inspector")

    plan = demo.add("enforcement_plan", "xb_inspector", name=f"{today.year}年度危险化学品执法检查计划",
                    year=today.year, starts_on=date(today.year, 3, 1), ends_on=date(today.year, 11, 30),
                    region="320411", department="emergency", planned_count=40,
                    content="危险化学品生产、经营、使用单位安全生产主体责任落实情况",
                    scheme="按照《江苏省危险化学品经营企业安全检查清单》逐项检查；每组两名执法人员，3月至11月分批实施")
    demo.step("enforcement_plan", plan, "submit", "xb_inspector")
    demo.step("enforcement_plan", plan, "approve", "xb_admin")
    checklist = svc.session.scalar(select(svc.models["checklist"]).order_by(svc.models["checklist"].id))
    items = [{"stage": c.stage, "content": c.content, "basis": c.basis, "result": "pass"} for c in checklist.items]
    items[3].update(result="fail", problem="甲类仓库未设置可燃气体报警装置", location="甲类仓库",
                    responsible_person="张敏", rectify_by=today + timedelta(days=15))
    items[4].update(result="fail", problem="现场动火无作业票", location="储罐区", responsible_person="刘伟")
    inspection = demo.add("inspection", "xb_inspector", title=f"{pick(2).name}专项检查", enterprise=pick(2),
                          plan=plan, checklist=checklist, kind="independent", inspected_on=today - timedelta(days=1),
                          inspectors="王强、李娜", items=items, conclusion="存在两项不满足，已责令限期整改")
    demo.step("inspection", inspection, "submit", "xb_inspector")
    demo.add("inspection", "xb_inspector", title=f"{pick(3).name}日常检查", enterprise=pick(3), plan=plan,
             kind="independent", inspected_on=today, inspectors="王强", items=[{"content": "安全出口应保持畅通",
                                                                              "result": "pass"}])
    _joint_inspection_and_notices(demo, svc, today)
    _emergency_plans(demo, svc, local[:2], owner, today)
    # 信息发布: 新北区 publishes a notice to its enterprises (each gets a copy to read) and keeps a draft
    notice = demo.add("announcement", "xb_admin", title="关于做好冬季危险化学品安全生产工作的通知", category="notice",
                      region="320411", content="各企业要立即开展冬季防火、防冻、防泄漏专项自查，12月20日前将自查情况报区应急管理局。")
    demo.step("announcement", notice, "publish", "xb_admin")
    demo.add("announcement", "xb_admin", title="2027年度安全生产培训计划（征求意见稿）", category="training",
             region="320411", content="请各企业于下周五前反馈培训需求。")
    case = demo.add("enforcement_case", "xb_inspector", case_name="未按规定设置可燃气体报警装置案",
                    enterprise=pick(2), inspection=inspection,
                    facts="现场检查发现甲类仓库未设置可燃气体报警装置", case_number=f"常新应急立〔{today.year}〕12号")
    demo.step("enforcement_case", case, "apply", "xb_inspector")
    demo.step("enforcement_case", case, "approve_filing", "xb_admin", signature=True)

    demo.add("enterprise_change", "xb_admin", kind="add", reason="辖区排查发现新开业企业，尚未纳入监管",
             name="常州新北示范化工有限公司", uscc="91320411MA1XYB1206", enterprise_type=pick(0).enterprise_type,
             region=pick(0).region, address="常州市新北区示范路1号", legal_representative="赵六",
             department="emergency")
    # an enterprise that registered itself on the public form (/public/enterprise_application), awaiting review
    application = svc.models["enterprise_application"](
        name="常州新北恒泰精细化工有限公司", uscc="91320411MA1XYC2607", enterprise_type=pick(1).enterprise_type,
        region=pick(1).region, address="常州市新北区恒泰路8号", legal_representative="钱七",
        department=pick(1).department, contact="钱七", contact_mobile="13961112233")
    guard.authorise(svc.session, application, None)
    svc.session.add(application)
    svc.session.commit()
    task = demo.add("cp_task", "js_admin", title=f"{today.year}年度清洁生产审核", year=today.year, region="32",
                    deadline=today + timedelta(days=30), requirements="请于期限前完成本级企业名单核实并盖章上报")
    demo.step("cp_task", task, "issue", "js_admin")
    city_task = svc.session.scalar(select(svc.models["cp_task"]).where(svc.models["cp_task"].parent_task_id == task.id))
    if city_task is not None:
        demo.step("cp_task", city_task, "issue", "cz_admin")
    _gas_campaign(demo, svc, pick(3), owner, today)
    echo(f"Demo workflows: {made} hazards, {len(applications)} licence applications, 1 plan, 2 inspections, "
         "1 case, 5 emergency plans, 1 enterprise change request, 1 self-registration, a cleaner-production campaign issued down to 新北区, "
         "a gas campaign issued down to 新北区 with 1 inspection and 2 hazards found (1 rectified).")
    for enterprise in local[:2]:
        echo(f"  enterprise account in these flows: {enterprise.name}: {owner(enterprise)} / Qy@demo2024")
