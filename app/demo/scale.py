"""`flask demo load --scale N`: N generated enterprises and 5 × N hazards written by PostgreSQL COPY (not the ORM),
for trying the screens and the benchmarks at the size of a province (1,000,000 enterprises, 5,000,000 hazards in a
few minutes). The rows are plausible rather than real: names built from real place names and trade words, real
township codes of the region dictionary (30 % in eleven busy cities, as real registers are uneven), valid credit codes
(GB 32100 check digits, unique), dictionary codes that exist. bench/list.py and bench/charts.py load their data with
the same generator. Enterprise accounts are not made for generated enterprises (`flask demo load` makes them for its
own demo enterprises)."""
from __future__ import annotations

import io
import random
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator

from stdnum.cn import uscc

TABLE = "reg_enterprise"
HAZARD_TABLE = "reg_hazard"
TABLES = (TABLE, HAZARD_TABLE)  # what load_scale writes


BRANDS = ["华锦", "德美", "鑫盛", "三元", "恒达", "金泰", "宏远", "永安", "瑞丰", "天和", "中兴", "华福",
          "嘉源", "昌盛", "东方", "盛通", "安泰", "利民", "丰源", "泰和", "龙腾", "汇通", "远大", "国信",
          "新华", "长城", "振华", "海天", "宝丰", "广源", "福瑞", "盛世", "鸿达", "万家", "同心", "联合",
          "润发", "兴隆", "凯达", "蓝天", "绿源", "信达", "正大", "华夏", "开元", "明珠", "金星", "银河"]
SUFFIXES = ["有限公司"] * 6 + ["有限责任公司"] * 2 + ["股份有限公司", "分公司", "厂", "（个体）"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国立新志红春海波玉兰凤云亮斌鹏宇浩晨欣"
ROADS = ["人民路", "建设路", "解放路", "中山路", "长江路", "黄河路", "工业园路", "兴业大道", "开发区大道", "滨江路",
         "幸福路", "朝阳路", "和平路", "胜利路", "新华街", "文化路", "光明路", "环城东路", "环城西路", "科技路"]
ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # USCC characters (no I, O, S, V, Z)
# cities that get a larger share of rows, as real registers are uneven (the seeds' cities: 常州, 朝阳, 石家庄,
# 唐山, 沧州, 福州, 厦门, 泉州, 昆明, 曲靖, 玉溪)
BUSY_CITIES = ["3204", "2113", "1301", "1302", "1309", "3501", "3502", "3505", "5301", "5303", "5304"]
BUSY_SHARE = 0.3
TYPE_WEIGHTS = {"gas_user_catering": 14, "trade": 8, "construction": 7, "machinery": 6, "light_industry": 5,
                "fuel_station": 5, "hc_business": 5, "hc_use": 4, "other_unit": 6, "lpg_bottled": 3,
                "transport_business": 4, "illegal_gas_site": 0.2, "toxic_production": 0.3,
                "explosives_production": 0.2, "radioactive_use": 0.3}
DEPARTMENTS_BY_CATEGORY = {"hazardous_goods": ["emergency"] * 6 + ["police", "transport", "commerce"],
                           "non_coal_mine": ["emergency"] * 3 + ["natural_resources"],
                           "metallurgy_trade": ["industry"] * 4 + ["commerce", "emergency", "market"],
                           "town_gas": ["housing"] * 5 + ["market", "education", "health", "culture_tourism"],
                           "other": ["housing", "transport", "market", "emergency", "agriculture", "civil_affairs"]}
GRADES = (["A"] * 10 + ["B"] * 30 + ["C"] * 35 + ["D"] * 10 + [None] * 15)
STATUSES = (["producing"] * 78 + ["trial"] * 3 + ["building"] * 4 + ["suspended"] * 7 + ["closed_business"] * 5
            + ["shut_down"] * 3)
SCALES = ["large"] * 3 + ["medium"] * 12 + ["small"] * 45 + ["micro"] * 35 + [None] * 5
LICENSED_CATEGORIES = {"hazardous_goods", "non_coal_mine"}
COLUMNS = ["name", "uscc", "enterprise_type", "region", "address", "legal_representative", "phone", "safety_manager",
           "safety_manager_mobile", "department", "scale", "grade", "status", "established_on", "employee_count",
           "registered_capital", "business_scope", "licence_name", "licence_number", "licence_expires_on",
           "created_at", "updated_at"]


@dataclass
class Reference:
    """What the generator draws from: the database's own dictionary items."""

    townships: list[str]
    busy_townships: list[str]
    labels: dict[str, str]            # region code → label_zh
    parents: dict[str, str | None]    # region code → parent code
    types: list[tuple[str, str, str]]  # (leaf code, category code, trade words)
    type_weights: list[float]
    codes: dict[str, set[str]] = field(default_factory=dict)


def read_reference(conn: Any) -> Reference:
    with conn.cursor() as cur:
        cur.execute("SELECT code, parent_code, label_zh, depth FROM sys_dictionary_item WHERE dictionary = 'region'")
        rows = cur.fetchall()
        cur.execute("""SELECT i.code, i.parent_code, i.label_zh FROM sys_dictionary_item i
                        WHERE i.dictionary = 'enterprise_type' AND NOT EXISTS (
                          SELECT 1 FROM sys_dictionary_item c
                           WHERE c.dictionary = 'enterprise_type' AND c.parent_code = i.code)
                        ORDER BY i.sort""")
        type_rows = cur.fetchall()
        cur.execute("SELECT dictionary, code FROM sys_dictionary_item WHERE dictionary IN "
                    "('department', 'enterprise_grade', 'enterprise_status', 'enterprise_scale')")
        codes: dict[str, set[str]] = {}
        for dictionary, code in cur.fetchall():
            codes.setdefault(dictionary, set()).add(code)
    if not rows or not type_rows:
        raise SystemExit("sys_dictionary_item has no region or enterprise_type items: did migrate_database run?")
    labels = {code: label for code, _, label, _ in rows}
    parents = {code: parent for code, parent, _, _ in rows}
    townships = sorted(code for code, _, _, depth in rows if depth == 4)
    busy = [c for c in townships if c[:4] in BUSY_CITIES]
    types = []
    for code, parent, label in type_rows:
        words = re.sub(r"(单位|企业|机构)$", "", label).replace("、", "")
        types.append((code, parent or "other", words))
    weights = [TYPE_WEIGHTS.get(code, 2.0) for code, _, _ in types]
    for needed, values in (("department", {d for ds in DEPARTMENTS_BY_CATEGORY.values() for d in ds}),
                           ("enterprise_grade", set(GRADES) - {None}), ("enterprise_status", set(STATUSES)),
                           ("enterprise_scale", set(SCALES) - {None})):
        missing = values - codes.get(needed, set())
        if missing:
            raise SystemExit(f"the scale generator uses codes that dictionary {needed} no longer has: "
                             f"{sorted(missing)}")
    return Reference(townships, busy, labels, parents, types, weights, codes)


def _gb11714_check(body: str) -> str:
    """Check character of a GB 11714 organisation code (the 9th character of the USCC's organisation part)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_uscc(index: int, county: str) -> str:
    n = (index * 2_654_435_761 + 97) % (31 ** 8)  # a bijection on 0..31^8-1: unique, scattered codes
    chars = []
    for _ in range(8):
        n, r = divmod(n, 31)
        chars.append(ORG_ALPHABET[r])
    org = "".join(chars)
    body = "91" + county[:6] + org + _gb11714_check(org)
    return body + uscc.calc_check_digit(body)


def _esc(value: Any) -> str:
    if value is None:
        return r"\N"
    s = str(value)
    return s.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def generate_lines(ref: Reference, start: int, count: int, seed: int) -> Iterator[str]:
    """``count`` COPY text lines (tab-separated, in COLUMNS order) for rows start .. start+count-1."""
    rng = random.Random(seed * 1_000_003 + start)
    rand, choice, randint = rng.random, rng.choice, rng.randint
    labels, parents = ref.labels, ref.parents
    town_all, town_busy = ref.townships, ref.busy_townships
    type_picks = rng.choices(ref.types, weights=ref.type_weights, k=count)
    day0, days = date(1985, 1, 1).toordinal(), (date(2024, 12, 31) - date(1985, 1, 1)).days
    t0 = datetime(2019, 1, 1).timestamp()
    span = datetime(2025, 6, 30).timestamp() - t0
    place_cache: dict[str, tuple[str, str, str]] = {}

    def person() -> str:
        return choice(SURNAMES) + choice(GIVEN) + (choice(GIVEN) if rand() < 0.6 else "")

    def mobile() -> str:
        return f"1{choice('3578')}{randint(0, 999_999_999):09d}"

    for k in range(count):
        i = start + k
        township = choice(town_busy) if rand() < BUSY_SHARE else choice(town_all)
        place = place_cache.get(township)
        if place is None:
            county = parents[township]
            city = parents[county]
            province = parents[city]
            city_label = labels[city]
            if city_label in ("市辖区", "县") or "直辖" in city_label:
                city_label = labels[province]
            short = re.sub(r"(市|省|地区|盟|自治州|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$", "",
                           city_label)
            full = labels[province] + ("" if labels[city] in ("市辖区", "县") or "直辖" in labels[city]
                                       else labels[city]) + labels[county] + labels[township]
            place = (short, full, county)
            place_cache[township] = place
        short, full, county = place
        type_code, category, words = type_picks[k]
        suffix = choice(SUFFIXES)
        individual = suffix == "（个体）"
        name = f"{short}{choice(BRANDS)}{words}{suffix}"
        established = date.fromordinal(day0 + randint(0, days))
        created = t0 + rand() * span
        updated = created + rand() * (t0 + span - created)
        licensed = category in LICENSED_CATEGORIES and rand() < 0.8
        year = randint(2019, 2025)
        row = (
            name,
            mobile() if individual else make_uscc(i, county),
            type_code,
            township,
            f"{full}{choice(ROADS)}{randint(1, 999)}号",
            person(),
            mobile() if rand() < 0.5 else f"0{randint(10, 999)}-{randint(2_000_000, 89_999_999)}",
            person() if rand() < 0.85 else None,
            mobile() if rand() < 0.8 else None,
            choice(DEPARTMENTS_BY_CATEGORY.get(category, DEPARTMENTS_BY_CATEGORY["other"])),
            choice(SCALES),
            choice(GRADES),
            choice(STATUSES),
            established.isoformat() if rand() < 0.95 else None,
            int(rng.expovariate(1 / 60)) + 1 if rand() < 0.9 else None,
            f"{rng.expovariate(1 / 800):.2f}" if rand() < 0.85 else None,
            f"{words}相关经营活动",
            "安全生产许可证" if licensed else None,
            f"（{short}）WH安许证字〔{year}〕{i % 10000:04d}号" if licensed else None,
            date(year + 3, randint(1, 12), randint(1, 28)).isoformat() if licensed else None,
            datetime.fromtimestamp(created).isoformat(sep=" ", timespec="seconds"),
            datetime.fromtimestamp(updated).isoformat(sep=" ", timespec="seconds"),
        )
        yield "\t".join(map(_esc, row)) + "\n"


HAZARD_COLUMNS = ["enterprise_id", "description", "level", "source", "found_on", "rectify_by", "state",
                  "confirmed_on"]
WORDS = ["甲类仓库未设置可燃气体报警装置", "配电箱未接地", "安全出口堵塞", "消防器材过期", "特种作业人员无证上岗",
         "危化品储存超量", "应急预案未演练", "有限空间作业未审批", "动火作业无监护", "防爆电气失效",
         "安全培训记录缺失", "警示标志缺失", "通风设施不运行", "燃气管道锈蚀", "灭火器压力不足"]
STATES = ["pending"] * 30 + ["supervised"] * 3 + ["submitted"] * 7 + ["rectified"] * 60


def hazard_lines(start: int, count: int, enterprises: int, seed: int, first_id: int = 1) -> str:
    """COPY lines of ``count`` hazards, each of a random enterprise among ids first_id .. first_id + enterprises - 1."""
    rng = random.Random(seed + start)
    today = date.today()
    out = []
    for _ in range(count):
        found = today - timedelta(days=rng.randrange(730))
        state = rng.choice(STATES)
        confirmed = (found + timedelta(days=rng.randrange(1, 40))).isoformat() if state == "rectified" else "\\N"
        out.append(f"{rng.randrange(first_id, first_id + enterprises)}\t{rng.choice(WORDS)}\t"
                   f"{'major' if rng.random() < 0.12 else 'general'}\t"
                   f"{'self_check' if rng.random() < 0.7 else 'inspection'}\t{found.isoformat()}\t"
                   f"{(found + timedelta(days=30)).isoformat()}\t{state}\t{confirmed}\n")
    return "".join(out)



def _copy_without_indexes(cur: Any, table: str, columns: list[str], chunks: Iterator[str],
                          echo: Callable[[str], Any], every: int) -> None:
    """COPY the chunks into ``table`` with its secondary indexes dropped, then rebuilt from their own definitions, and
    its user triggers off (a plugin's derived tables, the chart summaries: refilled after the load by the plugins'
    ``after_bulk_load``, once rather than per chunk)."""
    cur.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                    WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""", (table,))
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    started, done = time.perf_counter(), 0
    for text, count in chunks:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text))
        done += count
        if done % every == 0:
            echo(f"  {table}: {done:,} rows, {time.perf_counter() - started:.0f} s")
    cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    for _, definition in indexes:
        cur.execute(definition)


def load_scale(connection: Any, enterprises: int, echo: Callable[[str], Any] = print, seed: int = 2024,
               chunk: int = 50_000) -> tuple[int, int]:
    """Write ``enterprises`` enterprises and five hazards for each into an empty enterprise register (a psycopg2
    connection to a migrated PostgreSQL database); returns the two counts. Refused when enterprises exist."""
    hazards = enterprises * 5
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")
            present = cur.fetchone()[0]
            if present:
                raise ValueError(f"{table} already holds {present:,} rows: --scale fills empty enterprise and hazard "
                                 "registers (a new database: flask metadata migrate, then flask demo load --scale N)")
        ref = read_reference(connection)
        cur.execute("SET maintenance_work_mem = '512MB'")
        every = max(chunk, (enterprises // 5) // chunk * chunk or chunk)
        sizes = [(start, min(chunk, enterprises - start)) for start in range(0, enterprises, chunk)]
        _copy_without_indexes(cur, TABLE, COLUMNS, (("".join(generate_lines(ref, start, n, seed)), n)
                                                    for start, n in sizes), echo, every)
        # the enterprises just written have consecutive ids (one COPY stream, one sequence)
        cur.execute(f"SELECT min(id), max(id) FROM {TABLE}")
        first, last = cur.fetchone()
        assert last - first + 1 == enterprises, (first, last)
        sizes = [(start, min(chunk * 2, hazards - start)) for start in range(0, hazards, chunk * 2)]
        _copy_without_indexes(cur, HAZARD_TABLE, HAZARD_COLUMNS, ((hazard_lines(start, n, enterprises, seed, first), n)
                                                                   for start, n in sizes), echo, every * 5)
    connection.commit()
    autocommit = connection.autocommit
    connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {TABLE}")
        cur.execute(f"VACUUM ANALYZE {HAZARD_TABLE}")
    connection.autocommit = autocommit
    return enterprises, hazards
