"""Generated demo enterprises in the real regions the seeds name: 常州, 朝阳, 河北, 福建, 云南."""
from __future__ import annotations

import random
import string
from datetime import date, timedelta
from typing import Any

from stdnum.cn import uscc

from app.services import Services

# (region code, approximate centre lat/lng) — cities of the seeds (000 Changzhou, 001 Chaoyang,
# 002 Hebei, 003 Fujian, 004 Yunnan)
AREAS = [
    ("3204", 31.81, 119.97), ("2113", 41.57, 120.45),
    ("1301", 38.04, 114.51), ("1302", 39.63, 118.18), ("1309", 38.30, 116.84),
    ("3501", 26.07, 119.30), ("3502", 24.48, 118.09), ("3505", 24.87, 118.68),
    ("5301", 25.04, 102.71), ("5303", 25.49, 103.80), ("5304", 24.35, 102.54),
]
BRANDS = ["华锦", "德美", "鑫盛", "三元", "恒达", "金泰", "宏远", "永安", "瑞丰", "天和", "中兴", "华福", "卡斯特",
          "嘉源", "昌盛", "东方", "新世纪", "盛通", "安泰", "利民", "丰源", "泰和", "龙腾", "汇通"]
# enterprise sub-type → (words in the name, department)
TRADES = {
    "hc_production": (["化工", "新材料", "精细化工"], "emergency"),
    "hc_business": (["化工贸易", "化学品经营"], "emergency"),
    "hc_use": (["纳米材料", "制药", "涂料"], "emergency"),
    "hc_storage": (["仓储物流"], "emergency"),
    "fuel_station": (["加油站"], "commerce"),
    "fireworks_retail": (["烟花爆竹零售店"], "emergency"),
    "metal_open_pit": (["矿业"], "emergency"),
    "tailings_pond": (["尾矿库"], "emergency"),
    "metallurgy": (["钢铁", "冶金"], "industry"),
    "machinery": (["机械制造", "重工"], "industry"),
    "textile": (["纺织"], "industry"),
    "gas_filling": (["燃气充装站"], "housing"),
    "lpg_bottled": (["液化气供应站"], "housing"),
    "piped_gas": (["燃气"], "housing"),
    "gas_user_catering": (["餐饮", "酒楼"], "market"),
    "gas_user_school": (["学校食堂"], "education"),
    "construction": (["建设工程"], "housing"),
}
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国立新"
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc(rng: random.Random, county: str) -> str:
    body = "91" + county[:6].ljust(6, "0") + "".join(rng.choice(ORG_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice(string.digits) for _ in range(9))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def generate_enterprises(svc: Services, count: int, seed: int = 2023) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    levels = random.Random(seed + 1)  # its own sequence: the other demo values stay as they were
    risks = random.Random(seed + 2)  # likewise: the four-colour risk level, and who has not reported a position
    regions = svc.dictionaries
    townships = {code: [c for c in regions.subtree_codes("region", code) if regions.is_leaf("region", c)]
                 for code, _, _ in AREAS}
    rows: list[dict[str, Any]] = []
    for index in range(count):
        area, lat, lng = AREAS[index % len(AREAS)]
        township = rng.choice(townships[area])
        county = regions.node("region", township).parent
        city_name = regions.label("region", area, "zh_Hans").removesuffix("市")
        trade = rng.choice(list(TRADES))
        words, department = TRADES[trade]
        unlicensed = trade in ("gas_user_catering", "fireworks_retail") and rng.random() < 0.3
        name = f"{city_name}{rng.choice(BRANDS)}{rng.choice(words)}"
        name += "（个体）" if unlicensed else rng.choice(SUFFIXES)
        street = regions.label("region", township, "zh_Hans")
        row = {
            "name": name,
            # 004 Q22: a shop without a business licence registers with the operator's mobile number
            "uscc": _mobile(rng) if unlicensed else _uscc(rng, county),
            "enterprise_type": trade,
            "region": township,
            "address": f"{regions.path_label('region', township, locale='zh_Hans', sep='')}{rng.randint(1, 999)}号",
            "legal_representative": _person(rng),
            "phone": f"0{rng.randint(10, 99)}{rng.randint(1, 9)}-{rng.randint(2000000, 8999999)}",
            "safety_manager": _person(rng),
            "safety_manager_mobile": _mobile(rng),
            "department": department,
            "scale": rng.choice(["large", "medium", "small", "small", "micro"]),
            "grade": rng.choice("ABCCDD"),
            "status": rng.choice(["producing"] * 8 + ["suspended", "trial"]),
            "established_on": date(1990, 1, 1) + timedelta(days=rng.randint(0, 12000)),
            "employee_count": rng.randint(3, 2000),
            "registered_capital": rng.randint(10, 50000),
            "location_lat": round(lat + rng.uniform(-0.25, 0.25), 6),
            "location_lng": round(lng + rng.uniform(-0.25, 0.25), 6),
            "business_scope": f"{words[0]}相关业务（{street}）",
            # 002: a few enterprises are supervised by the province or the city directly
            "management_level": levels.choices(["county", "city", "province"], [85, 10, 5])[0],
        }
        row["risk_level"] = risks.choices(["major", "high", "general", "low"], [5, 15, 40, 40])[0]
        if index and risks.random() < 0.1:  # 资源地图: a tenth has not reported its position yet
            row["location_lat"] = row["location_lng"] = None
        if trade.startswith("hc_") or trade in ("fuel_station", "gas_filling", "lpg_bottled"):
            row["licence_name"] = "危险化学品经营许可证" if trade != "hc_production" else "安全生产许可证"
            row["licence_number"] = f"{city_name}危化经字〔{rng.randint(2019, 2024)}〕{rng.randint(100, 999):06d}"
            row["licence_expires_on"] = date(2025, 1, 1) + timedelta(days=rng.randint(0, 1500))
            row["certificates"] = [{
                "certificate_name": row["licence_name"], "certificate_number": row["licence_number"],
                "issuer": f"{city_name}市应急管理局", "issued_on": row["licence_expires_on"] - timedelta(days=1095),
                "expires_on": row["licence_expires_on"]}]
        rows.append(row)
    # 004 Q21/Q38: one enterprise with two types is two rows with the same code
    twin = dict(rows[0], enterprise_type="hc_storage", name=rows[0]["name"], certificates=[])
    rows.append(twin)
    return rows
