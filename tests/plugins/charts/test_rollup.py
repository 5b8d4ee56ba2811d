"""A campaign's roll-up (chart option `rollup`): one line per task copy, level under level, each holding its own
enterprise list and every list below it, by verification result; a level without a list yet shows 0; the total is
the top lines' (never a level counted twice); a county sees its own copy and the one it came from, counted within its
scope, never the next county's; the table's Excel export says the same; a wrong roll-up names its file and line."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
from tests.helpers import visible_text
from tests.security.factory import make_row, make_user

from .conftest import World, metadata_errors

#: (task, township of the enterprise, verification state) of each row of the enterprise lists
ROWS = [("province", "320411002", "confirmed"),
        ("city", "320411002", "pending"), ("city", "320412001", "confirmed"),
        ("xinbei", "320411002", "pending"), ("xinbei", "320411002", "pending"), ("xinbei", "320411003", "excluded")]


def campaign(world: World) -> dict[str, int]:
    """江苏省 → 常州市 → 新北区 and 武进区 (武进区 has not issued: no list yet)."""
    svc = world.svc
    orgs = {"province": ("32", "province", "江苏省应急管理厅"), "city": ("3204", "city", "常州市应急管理局"),
            "xinbei": ("320411", "county", "常州市新北区应急管理局"), "wujin": ("320412", "county", "常州市武进区应急管理局")}
    parents = {"province": None, "city": "province", "xinbei": "city", "wujin": "city"}
    tasks: dict[str, Any] = {}
    with world.app.app_context():
        enterprise = svc.session.get(svc.models["enterprise"], world.enterprises[0])
        for key, (region, level, name) in orgs.items():
            org = make_row(svc, "organisation", {"region": region, "level": level, "department": "emergency",
                                                 "name": name})
            tasks[key] = make_row(svc, "cp_task", {"title": "2026年度清洁生产审核", "organisation": org,
                                                   "region": region, "level": level, "department": "emergency",
                                                   "parent_task": tasks.get(parents[key] or "")},
                                  state="issued" if key != "wujin" else "received")
        for i, (task, township, state) in enumerate(ROWS):
            make_row(svc, "cp_enterprise", {"task": tasks[task], "enterprise": enterprise, "region": township,
                                            "enterprise_name": f"核实企业{i}"}, state=state)
        svc.session.commit()
        return {key: task.id for key, task in tasks.items()}


def lines(world: World, who: str | None, admin: Any = None) -> tuple[list[tuple[str, float, dict]], float]:
    client = admin if who is None else world.client(who)
    response = client.get("/charts/cp_rollup_enterprises/data")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    result = response.get_json()
    return [(s["label"], s["value"], s["stacks"]) for s in result["slices"]], result["total"]


def test_every_level_holds_the_levels_below(world: World, admin) -> None:
    campaign(world)
    shown, total = lines(world, None, admin)
    assert shown == [
        ("2026年度清洁生产审核 · 江苏省应急管理厅", 6, {"pending": 3, "confirmed": 2, "excluded": 1}),
        ("\u3000常州市应急管理局", 5, {"pending": 3, "confirmed": 1, "excluded": 1}),
        ("\u3000\u3000常州市新北区应急管理局", 3, {"pending": 2, "excluded": 1}),
        ("\u3000\u3000常州市武进区应急管理局", 0, {}),
    ]
    assert total == 6  # the province's line holds everything: not 6 + 5 + 3

    # the copies issued below each level, and how far each has got
    copies = admin.get("/charts/cp_rollup_tasks/data").get_json()
    assert [(s["label"].strip("\u3000"), s["value"], s["stacks"]) for s in copies["slices"]] == [
        ("2026年度清洁生产审核 · 江苏省应急管理厅", 3, {"issued": 2, "received": 1}),
        ("常州市应急管理局", 2, {"issued": 1, "received": 1}),
        ("常州市新北区应急管理局", 0, {}), ("常州市武进区应急管理局", 0, {})]

    sheet = openpyxl.load_workbook(io.BytesIO(admin.get("/charts/cp_rollup_enterprises/export").get_data())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert rows[1][0] == "2026年度清洁生产审核 · 江苏省应急管理厅" and rows[1][-1] == 6
    assert rows[-1][0] == "合计" and rows[-1][-1] == 6 and rows[-1][header.index("待核实")] == 3


def test_a_county_sees_its_copy_and_the_one_above_within_its_scope(world: World) -> None:
    campaign(world)
    # 新北区: its copy and the city's it came from (read only); the rows of its townships only
    shown, total = lines(world, "county")
    assert shown == [("2026年度清洁生产审核 · 常州市应急管理局", 4, {"pending": 3, "excluded": 1}),
                     ("\u3000常州市新北区应急管理局", 3, {"pending": 2, "excluded": 1})]
    assert total == 4
    # 武进区: nothing of 新北区's list, not even its line
    shown, total = lines(world, "wujin")
    assert shown == [("2026年度清洁生产审核 · 常州市应急管理局", 1, {"confirmed": 1}),
                     ("\u3000常州市武进区应急管理局", 0, {})]
    assert total == 1


def test_a_wrong_rollup_names_its_file_and_line(tmp_path: Path, app: Any) -> None:
    head = "label: {zh: 汇总, en: Roll-up}\nregister: cp_enterprise\n"
    text = metadata_errors(tmp_path, app, "charts", {
        "flat.yaml": f"name: flat\n{head}by: region\nrollup: parent_task\nkind: table\n",
        "tree.yaml": f"name: tree\n{head}by: task\nrollup: {{tree: organisation}}\nkind: table\n",
        "named.yaml": f"name: named\n{head}by: task\nrollup: {{tree: parent_task, label: organization}}\nkind: table\n"})
    assert "flat.yaml:5: E915 a roll-up's slices are the rows a reference of the register points to" in text
    assert "tree.yaml:5: E915 'organisation' is not a reference of cp_task to its own rows" in text
    assert "parent_task" in text
    assert "named.yaml:5: E915 cp_task has no field 'organization'" in text and "organisation" in text


def gas_campaign(world: World) -> dict[str, Any]:
    """燃气专项整治 issued 江苏省 → 常州市 → 新北区 and 武进区, with an inspector of 新北区 and the organisations."""
    svc = world.svc
    orgs = {"province": ("32", "province"), "city": ("3204", "city"), "xinbei": ("320411", "county"),
            "wujin": ("320412", "county")}
    parents = {"province": None, "city": "province", "xinbei": "city", "wujin": "city"}
    names = {"province": "江苏省应急管理厅", "city": "常州市应急管理局", "xinbei": "常州市新北区应急管理局",
             "wujin": "常州市武进区应急管理局"}
    made: dict[str, Any] = {}
    with world.app.app_context():
        for key, (region, level) in orgs.items():
            org = make_row(svc, "organisation", {"region": region, "level": level, "department": "emergency",
                                                 "name": names[key]})
            task = make_row(svc, "gas_task", {"title": "2026年城镇燃气安全专项整治", "organisation": org,
                                              "region": region, "level": level, "department": "emergency",
                                              "parent_task": made.get(parents[key] or "", {}).get("task")},
                            state="issued")
            made[key] = {"org": org, "task": task}
        inspector = make_user(world.app, "inspector", made["xinbei"]["org"]).username
        return {"inspector": inspector, **{k: {"org": v["org"].id, "task": v["task"].id} for k, v in made.items()}}


def inspection(world: World, task: int, org: int, enterprise: int, results: list[str], state: str) -> int:
    svc = world.svc
    with world.app.app_context():
        row = make_row(svc, "inspection", {"title": "燃气安全专项检查", "enterprise": svc.session.get(
            svc.models["enterprise"], world.enterprises[enterprise]), "kind": "independent", "inspectors": "王强、李娜",
            "gas_task": svc.session.get(svc.models["gas_task"], task)}, organisation_id=org, state=state)
        item = svc.models["inspection_item"]
        row.items = [item(stage="燃气设施", content=f"检查项{i}", result=result,
                          problem="不满足" if result == "fail" else None) for i, result in enumerate(results)]
        svc.session.commit()
        return row.id


def table(client: Any, chart: str) -> list[tuple[str, float, dict]]:
    response = client.get(f"/charts/{chart}/data")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [(s["label"].strip("\u3000"), s["value"], s["stacks"]) for s in response.get_json()["slices"]]


def test_a_campaign_counts_the_inspections_and_hazards_of_every_level_below(world: World, admin) -> None:
    from sqlalchemy import select, update

    from tests.workflow.helpers import client_for, take
    g = gas_campaign(world)
    svc = world.svc
    # 新北区's inspector inspects an enterprise of 新北区 for the campaign: two items fail; submitting makes the two
    # hazards, which carry the task of the inspection
    first = inspection(world, g["xinbei"]["task"], g["xinbei"]["org"], 0, ["pass", "fail", "fail"], "saved")
    page = take(client_for(world.app, g["inspector"]), "inspection", first, "submit")
    assert page.status_code == 200
    hazard = svc.models["hazard"]
    with world.app.app_context():
        found = svc.session.execute(select(hazard.id, hazard.gas_task_id).where(hazard.inspection_id == first)
                                    .execution_options(unscoped_reason="the test reads what the submit made")).all()
        assert [task for _, task in found] == [g["xinbei"]["task"]] * 2
        svc.session.execute(update(hazard).where(hazard.id == found[0][0]).values(state="rectified")
                            .execution_options(unscoped_reason="the enterprise rectified it (the flow is tested "
                                                                "elsewhere)"))
        svc.session.commit()
    # 武进区 inspected one of its enterprises (one hazard, rectified); the city inspected another 武进区 one
    wujin = inspection(world, g["wujin"]["task"], g["wujin"]["org"], 3, ["fail"], "submitted")
    with world.app.app_context():
        make_row(svc, "hazard", {"enterprise": svc.session.get(svc.models["enterprise"], world.enterprises[3]),
                                 "description": "气瓶间通风不良", "state": "rectified",
                                 "inspection": svc.session.get(svc.models["inspection"], wujin),
                                 "gas_task": svc.session.get(svc.models["gas_task"], g["wujin"]["task"])})
    inspection(world, g["city"]["task"], g["city"]["org"], 4, ["pass"], "submitted")

    title = "2026年城镇燃气安全专项整治 · 江苏省应急管理厅"
    assert table(admin, "gas_rollup_inspections") == [
        (title, 3, {"submitted": 3}), ("常州市应急管理局", 3, {"submitted": 3}),
        ("常州市新北区应急管理局", 1, {"submitted": 1}), ("常州市武进区应急管理局", 1, {"submitted": 1})]
    assert table(admin, "gas_rollup_hazards") == [
        (title, 3, {"pending": 1, "rectified": 2}), ("常州市应急管理局", 3, {"pending": 1, "rectified": 2}),
        ("常州市新北区应急管理局", 2, {"pending": 1, "rectified": 1}),
        ("常州市武进区应急管理局", 1, {"rectified": 1})]
    rates = table(admin, "gas_rollup_rectification")
    assert [(label, round(value, 1)) for label, value, _ in rates] == [
        (title, 66.7), ("常州市应急管理局", 66.7), ("常州市新北区应急管理局", 50.0), ("常州市武进区应急管理局", 100.0)]

    # a county counts within its scope only: its line and the city's it came from, never the other county's rows
    assert table(world.client("county"), "gas_rollup_hazards") == [
        ("2026年城镇燃气安全专项整治 · 常州市应急管理局", 2, {"pending": 1, "rectified": 1}),
        ("常州市新北区应急管理局", 2, {"pending": 1, "rectified": 1})]
    assert table(world.client("wujin"), "gas_rollup_inspections") == [
        ("2026年城镇燃气安全专项整治 · 常州市应急管理局", 2, {"submitted": 2}), ("常州市武进区应急管理局", 1, {"submitted": 1})]

    # the dashboard shows them with their headings, and the province's task page lists every level's rows
    board = admin.get("/charts/dashboard/campaigns/").get_data(as_text=True)
    assert "燃气专项整治隐患发现及整改汇总（含下级）" in board and "整改率（%）" in board
    task_page = visible_text(admin.get(f"/r/gas_task/show/{g['province']['task']}").get_data(as_text=True))
    assert "全辖区专项检查" in task_page and "全辖区专项检查发现的隐患及整改" in task_page
    # an enterprise never sees the campaign bookkeeping on its hazards
    mine = world.client("enterprise")
    page = visible_text(mine.get(f"/r/hazard/show/{found[1][0]}").get_data(as_text=True))
    assert "检查项" in page  # the hazard's own page, as its enterprise reads it
    assert "常州市新北区应急管理局" not in page and "专项整治任务" not in page
    assert mine.get("/charts/gas_rollup_hazards/data").status_code in (403, 404)
