"""A campaign's roll-up (chart option `rollup`): one line per task copy, level under level, each holding its own
enterprise list and every list below it, by verification result; a level without a list yet shows 0; the total is
the top lines' (never a level counted twice); a county sees its own copy and the one it came from, counted within its
scope, never the next county's; the table's Excel export says the same; a wrong roll-up names its file and line."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
from tests.security.factory import make_row

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
