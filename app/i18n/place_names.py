"""English names of Chinese administrative divisions (the region dictionary's label_en).

Convention, applied at every level:
- Province-level divisions: the official English names from the reviewed table PROVINCES below (Shaanxi ≠ Shanxi,
  Inner Mongolia, Guangxi Zhuang, Ningxia Hui, Xinjiang Uygur, Xizang autonomous regions, Hong Kong/Macao SAR);
  the four municipalities by their bare names (Beijing, Shanghai …).
- Lower levels: Hanyu Pinyin of the proper name written as one word, first letter capital, with an apostrophe
  before a syllable that starts with a, o or e and is not the first (西安 → Xi'an, 延安 → Yan'an, 淮安 → Huai'an),
  then the type in English: 市 is dropped (常州市 → Changzhou, 江阴市 → Jiangyin), 区 → District (新北区 →
  Xinbei District), 县 → County, 街道 → Subdistrict (春江街道 → Chunjiang Subdistrict), 镇 → Town,
  乡 → Township, 旗 → Banner, 盟 → League, 地区 → Prefecture (city level) or Area (township level).
- Autonomous prefectures, counties, banners and ethnic townships name their peoples in English (湘西土家族苗族
  自治州 → Xiangxi Tujia and Miao Autonomous Prefecture).
- A few places are known abroad by their official non-Pinyin names (拉萨 → Lhasa, 乌鲁木齐 → Urumqi,
  哈尔滨 → Harbin …): the reviewed table EXCEPTIONS, keyed by the proper name without its type.
"""
from __future__ import annotations

import re

# Reviewed against the names the State Council and the National Bureau of Statistics publish in English.
PROVINCES = {
    "北京市": "Beijing", "天津市": "Tianjin", "上海市": "Shanghai", "重庆市": "Chongqing",
    "河北省": "Hebei Province", "山西省": "Shanxi Province", "辽宁省": "Liaoning Province",
    "吉林省": "Jilin Province", "黑龙江省": "Heilongjiang Province", "江苏省": "Jiangsu Province",
    "浙江省": "Zhejiang Province", "安徽省": "Anhui Province", "福建省": "Fujian Province",
    "江西省": "Jiangxi Province", "山东省": "Shandong Province", "河南省": "Henan Province",
    "湖北省": "Hubei Province", "湖南省": "Hunan Province", "广东省": "Guangdong Province",
    "海南省": "Hainan Province", "四川省": "Sichuan Province", "贵州省": "Guizhou Province",
    "云南省": "Yunnan Province", "陕西省": "Shaanxi Province", "甘肃省": "Gansu Province",
    "青海省": "Qinghai Province", "台湾省": "Taiwan Province",
    "内蒙古自治区": "Inner Mongolia Autonomous Region", "广西壮族自治区": "Guangxi Zhuang Autonomous Region",
    "西藏自治区": "Xizang Autonomous Region", "宁夏回族自治区": "Ningxia Hui Autonomous Region",
    "新疆维吾尔自治区": "Xinjiang Uygur Autonomous Region",
    "香港特别行政区": "Hong Kong SAR", "澳门特别行政区": "Macao SAR",
}

# Official English names that are not plain Pinyin (keyed by the proper name, type removed).
EXCEPTIONS = {
    "拉萨": "Lhasa", "乌鲁木齐": "Urumqi", "呼和浩特": "Hohhot", "哈尔滨": "Harbin", "喀什": "Kashgar",
    "日喀则": "Shigatse", "克拉玛依": "Karamay", "吐鲁番": "Turpan", "阿拉善": "Alxa", "锡林郭勒": "Xilingol",
    "巴音郭楞": "Bayingolin", "博尔塔拉": "Bortala", "伊犁": "Ili", "克孜勒苏": "Kizilsu", "阿克苏": "Aksu",
    "和田": "Hotan", "阿勒泰": "Altay", "鄂尔多斯": "Ordos", "呼伦贝尔": "Hulunbuir", "乌兰察布": "Ulanqab",
    "巴彦淖尔": "Bayannur", "石河子": "Shihezi",
}

# Readings of characters in place names where the word-level default is wrong (长阳 is Changyang, not
# Zhangyang), with the names that keep the other reading (长子县 is Zhangzi).
PLACE_READINGS = {"长": ("chang", {"长子"})}

# Whole names that are groupings in the GB/T 2260 tree rather than places.
SPECIAL = {"市辖区": "City districts", "省直辖县级行政区划": "County-level divisions under the province",
           "自治区直辖县级行政区划": "County-level divisions under the region", "县": "Counties"}

# Longest suffix first: "自治县" must win over "县". None = the type is not written (cities).
SUFFIXES = [
    ("特别行政区", "SAR"), ("高新技术产业开发区", "High-tech Industrial Development Zone"),
    ("高新技术开发区", "High-tech Development Zone"),
    ("经济技术开发区", "Economic and Technological Development Zone"),
    ("经济开发区", "Economic Development Zone"), ("开发区", "Development Zone"),
    ("工业园区", "Industrial Park"), ("工业区", "Industrial Zone"),
    ("自治区", "Autonomous Region"), ("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"), ("民族乡", "Ethnic Township"), ("族乡", "Ethnic Township"),
    ("林区", "Forestry District"), ("街道", "Subdistrict"), ("地区", "Prefecture"), ("新区", "New Area"),
    ("农场", "Farm"), ("省", "Province"), ("市", None), ("区", "District"), ("县", "County"),
    ("旗", "Banner"), ("盟", "League"), ("镇", "Town"), ("乡", "Township"),
]
_AUTONOMOUS = {"自治区", "自治州", "自治县", "自治旗", "族乡"}

# Peoples named in autonomous divisions, as written in their official English names.
ETHNIC = {
    "蒙古": "Mongol", "回": "Hui", "藏": "Tibetan", "维吾尔": "Uygur", "苗": "Miao", "彝": "Yi", "壮": "Zhuang",
    "布依": "Bouyei", "朝鲜": "Korean", "满": "Manchu", "侗": "Dong", "瑶": "Yao", "白": "Bai",
    "土家": "Tujia", "哈尼": "Hani", "哈萨克": "Kazak", "傣": "Dai", "黎": "Li", "傈僳": "Lisu", "佤": "Va",
    "畲": "She", "拉祜": "Lahu", "水": "Sui", "东乡": "Dongxiang", "纳西": "Naxi", "景颇": "Jingpo",
    "柯尔克孜": "Kirgiz", "土": "Tu", "达斡尔": "Daur", "仫佬": "Mulao", "羌": "Qiang", "布朗": "Blang",
    "撒拉": "Salar", "毛南": "Maonan", "仡佬": "Gelao", "锡伯": "Xibe", "普米": "Pumi", "塔吉克": "Tajik",
    "怒": "Nu", "鄂温克": "Ewenki", "保安": "Bonan", "裕固": "Yugur", "独龙": "Derung", "鄂伦春": "Oroqen",
    "各": "",  # 各族 ("of all peoples") adds no name
}


def pinyin_word(chinese: str) -> str:
    """One Pinyin word with the apostrophes the orthography requires: 西安 → Xi'an, 淮安 → Huai'an."""
    if chinese in EXCEPTIONS:
        return EXCEPTIONS[chinese]
    from pypinyin import lazy_pinyin  # 0.27 s to import: only when regions are synced, not at every start
    word = ""
    syllables = lazy_pinyin(chinese, v_to_u=True)
    for index, character in enumerate(chinese[: len(syllables)]):
        if character in PLACE_READINGS and chinese not in PLACE_READINGS[character][1]:
            syllables[index] = PLACE_READINGS[character][0]
    for syllable in syllables:
        if word and syllable[:1] in ("a", "o", "e") and word[-1:].isalpha():
            word += "'"
        word += syllable
    return word[:1].upper() + word[1:]


def _peoples(base: str) -> tuple[str, list[str]]:
    """Split the peoples off the end of an autonomous division's name: 湘西土家族苗族 → ('湘西', [Tujia, Miao])."""
    found: list[str] = []
    names = sorted(ETHNIC, key=len, reverse=True)
    while True:
        for name in names:
            for form in (name + "族", name):
                if base.endswith(form) and len(base) > len(form):
                    base = base[: -len(form)]
                    if ETHNIC[name]:
                        found.insert(0, ETHNIC[name])
                    break
            else:
                continue
            break
        else:
            return base, found


def _join(peoples: list[str]) -> str:
    return peoples[0] if len(peoples) == 1 else ", ".join(peoples[:-1]) + " and " + peoples[-1]


def _segments(name: str, level: int) -> str:
    """Names with brackets or a list in them: 中国（上海）自由贸易试验区 → Zhongguo (Shanghai) Ziyoumaoyishiyanqu."""
    parts = []
    for index, text in enumerate(re.split(r"（([^）]*)）", name)):
        if text:
            english = ", ".join(english_name(piece, level) for piece in text.split("、") if piece)
            parts.append(f"({english})" if index % 2 else english)
    return " ".join(parts)


def english_name(name: str, level: int = 0) -> str:
    """English name of a division; ``level`` 1 = province … 4 = township (地区 reads Area at level 4)."""
    if "（" in name or "、" in name:
        return _segments(name, level)
    if name in PROVINCES:
        return PROVINCES[name]
    if name in SPECIAL:
        return SPECIAL[name]
    for suffix, english in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            peoples: list[str] = []
            if suffix in _AUTONOMOUS:
                base, peoples = _peoples(base)
            if suffix == "地区" and level >= 4:
                english = "Area"
            words = [pinyin_word(base)] + ([_join(peoples)] if peoples else []) + ([english] if english else [])
            return " ".join(w for w in words if w)
    return pinyin_word(name)
