"""Each UI language reads as its own: no Chinese in English pages (data aside), Taiwan wording in 繁體中文, the
punctuation of each language, and import reports shown in the language the reader uses now."""
from __future__ import annotations

import io
import re
from html import unescape
from html.parser import HTMLParser

import openpyxl

from tests.excel.test_import import _upload
from tests.excel.workbook import code, enterprise_row, fill
from tests.helpers import visible_text
from tests.i18n.test_languages import _Links
from tests.views.test_crud import valid_uscc

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
#: mainland words a Taiwanese reader does not expect (Simplified or character-converted forms)
MAINLAND = re.compile(r"用户|用戶|信息|联系|聯繫|平臺|默认|默認|视频|視頻|文件上傳|數據庫|登錄")
SKIPPED = {"script", "style", "template"}
DATA = {"td", "dd"}   # list and record cells hold the users' data, shown as entered


class _EngineText(HTMLParser):
    """Text nodes and visible attributes outside scripts, data cells and the language menu (which names each
    language in that language, on purpose)."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        hidden = tag in SKIPPED or tag in DATA or "data-locale" in attributes
        if not self._hidden() and not hidden:
            for name in ("placeholder", "title", "aria-label"):
                if attributes.get(name):
                    self.texts.append(attributes[name])
            if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.texts.append(attributes["value"])
        if tag not in ("br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"):
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if data.strip() and not self._hidden():
            self.texts.append(data.strip())


def engine_texts(html: str) -> list[str]:
    parser = _EngineText()
    parser.feed(html)
    return parser.texts


def _ascii_records(admin):
    admin.post_form("/r/law/add", {"title": "Work Safety Law", "kind": "law", "supervision_type": "general",
                                   "effective_on": "2021-09-01", "validity": "in_force"})
    admin.post_form("/r/enterprise/add", {
        "name": "Changzhou Test Chemicals Co", "uscc": valid_uscc(), "enterprise_type": "hc_use",
        "region": "320411004", "address": "No 1 Test Road", "legal_representative": "Wang Wei",
        "department": "emergency", "status": "producing"})


def _main_pages(admin) -> list[str]:
    parser = _Links()
    parser.feed(admin.get("/").get_data(as_text=True))
    pages = {"/", "/workflow/todo", "/account/"} | {link for link in parser.links if "/r/" in link}
    for register in ("enterprise", "law", "hazard", "personnel"):
        pages |= {f"/r/{register}/list/", f"/r/{register}/add", f"/r/{register}/import"}
    pages |= {"/r/enterprise/show/1", "/r/law/show/1"}
    return sorted(pages)


def test_english_pages_show_no_chinese_outside_the_data(admin, db_app):
    admin.get("/lang/en")
    _ascii_records(admin)
    checked = []
    for url in _main_pages(admin):
        response = admin.get(url)
        if response.status_code != 200:
            continue
        leftovers = [t for t in engine_texts(response.get_data(as_text=True)) if CJK.search(t)]
        assert not leftovers, f"{url}: {leftovers[:5]}"
        checked.append(url)
    assert {"/r/enterprise/import", "/r/enterprise/add", "/r/enterprise/show/1", "/r/hazard/list/"} <= set(checked)
    # the quick search names its fields with an English comma, the import page its columns
    html = admin.get("/r/enterprise/list/").get_data(as_text=True)
    assert re.search(r'placeholder="Enterprise name, Unified social credit code', html)
    text = visible_text(admin.get("/r/enterprise/import").get_data(as_text=True))
    assert "Columns: *Enterprise name, *Unified social credit code" in text
    assert "Check only: report problems, write nothing" in text and "write <clear> in a cell" in text


def test_traditional_pages_use_taiwan_wording(admin, db_app):
    admin.get("/lang/zh_Hant")
    _ascii_records(admin)
    checked = []
    for url in _main_pages(admin):
        response = admin.get(url)
        if response.status_code != 200:
            continue
        html = response.get_data(as_text=True)
        mainland = [t for t in engine_texts(html) if MAINLAND.search(t)]
        assert not mainland, f"{url}: {mainland[:5]}"
        checked.append(url)
    assert len(checked) >= 15
    text = visible_text(admin.get("/r/enterprise/add").get_data(as_text=True))
    assert "統一社會信用代碼" in text and "程式碼" not in text   # the override keeps 代碼
    assert "基礎資訊" in text                                   # 基础信息 → 資訊 (s2twp)


def _a_row_with_a_workflow(admin) -> str:
    saved = admin.post_form("/r/enforcement_plan/add", {"name": "2026 plan", "year": "2026", "starts_on": "2026-01-01",
                                                        "ends_on": "2026-12-31", "region": "320411"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    return "/r/enforcement_plan/show/1"


def test_chinese_captions_take_the_full_width_colon(admin, db_app):
    html = admin.get("/r/enterprise/list/").get_data(as_text=True)
    assert re.search(r'placeholder="企业名称、统一社会信用代码', html)
    hazard = _a_row_with_a_workflow(admin)
    assert "当前状态：" in admin.get(hazard).get_data(as_text=True)
    admin.get("/lang/en")
    assert "Current state:" in admin.get(hazard).get_data(as_text=True)


def _bad_file(admin):
    template = admin.get("/r/enterprise/template").data
    bad_code = code(2)[:-1] + ("0" if code(2)[-1] != "0" else "1")
    # two rows with problems: row 3 has two (a bad code and an unknown type), row 4 one (a duplicate of row 2)
    rows = [enterprise_row(1), enterprise_row(2, uscc=bad_code, enterprise_type="燃气公司"),
            enterprise_row(1, name="重复的行")]
    return fill(template, rows)


def test_the_problem_count_names_the_rows_that_have_problems(admin, db_app):
    _job, page = _upload(admin, "enterprise", _bad_file(admin))
    assert "2 行中发现 3 个问题，未写入任何数据" in page
    admin.get("/lang/en")
    page = visible_text(admin.get(_job).get_data(as_text=True))
    assert "3 problems in 2 rows; nothing was written." in page


def test_an_import_report_made_in_chinese_reads_in_english_after_switching(admin, db_app):
    job_url, page = _upload(admin, "enterprise", _bad_file(admin))          # run in 简体中文
    assert "重复于文件第 2 行" in page and "“燃气公司”不在可选范围内" in page

    admin.get("/lang/en")
    page = visible_text(admin.get(job_url).get_data(as_text=True))
    assert "Duplicate of row 2 of this file (Unified social credit code" in page
    assert "'燃气公司' is not in the list; choose it from the drop-down list." in page   # the cell's text as typed
    assert "Must be one of: Not a valid unified social credit code" in page    # a validator's message too
    assert "Enterprise type" in page and "企业类型" not in page             # column titles follow too
    html = admin.get(job_url).get_data(as_text=True)
    assert not [t for t in engine_texts(html) if CJK.search(t) and t != "企业.xlsx"]   # the file's name is data
    cells = re.findall(r"<td>(.*?)</td>", html.split('class="table table-condensed table-bordered import-problems"')[1])
    assert not [c for c in cells if CJK.search(unescape(c).replace("'燃气公司'", ""))]

    marked = openpyxl.load_workbook(io.BytesIO(admin.get(job_url + "/file").data))
    sheet = marked["企业信息收集表"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "Error description"
    note = sheet.cell(row=3, column=len(header)).value
    assert note.startswith("Unified social credit code: ") and "; Enterprise type: " in note
    assert "Duplicate of row 2" in sheet.cell(row=4, column=len(header)).value
    assert sheet.cell(row=3, column=2).comment.text.startswith("Must be one of: Not a valid unified social credit")

    admin.get("/lang/zh_Hans")                                              # and back again
    marked = openpyxl.load_workbook(io.BytesIO(admin.get(job_url + "/file").data))
    assert [c.value for c in marked["企业信息收集表"][1]][-1] == "错误说明"


def test_the_english_template_gives_drop_down_examples_in_english(admin, db_app):
    admin.get("/lang/en")
    workbook = openpyxl.load_workbook(io.BytesIO(admin.get("/r/enterprise/template").data))
    guide = workbook.worksheets[0]
    rows = {row[0]: row for row in guide.iter_rows(values_only=True) if row and row[0]}
    assert rows["Status"][5] == "In production" or not CJK.search(str(rows["Status"][5]))
    assert not CJK.search(str(rows["Region"][5]))
    assert "、" not in str(rows["Enterprise type"][4])


def test_a_background_job_writes_in_the_language_of_its_user(db_app):
    """A Celery worker has no request: the job's forced locale decides labels, separators and the workbook's
    recorded language (which decides whether a download re-renders it)."""
    from flask_babel import force_locale

    from app.i18n import current_locale, list_separator
    from app.i18n.deferred import label
    from app.metadata.spec import Label

    with db_app.app_context(), force_locale("en"):
        assert current_locale() == "en" and list_separator() == ", "
        assert label(Label(zh="企业类型", en="Enterprise type")) == "Enterprise type"
    with db_app.app_context():
        assert current_locale() == "zh_Hans" and list_separator() == "、"


def test_a_language_forced_inside_a_request_switches_the_templates_and_comes_back(db_app):
    """A request's translations are looked up once per language (app.i18n.current_translations): a language forced
    for part of a request (a workbook in its reader's language) is the one of the templates and labels there, and
    the request's own comes back after it."""
    from flask import render_template_string
    from flask_babel import force_locale

    from app.i18n import current_locale

    def page() -> tuple[str, str]:
        return render_template_string("{{ _('Export') }}"), current_locale()

    with db_app.test_request_context("/"):
        assert page() == ("导出", "zh_Hans")
        with force_locale("en"):
            assert page() == ("Export", "en")
            with force_locale("zh_Hant"):
                assert page() == ("匯出", "zh_Hant")
            assert page() == ("Export", "en")
        assert page() == ("导出", "zh_Hans")
    with db_app.test_request_context("/?lang=en"):
        with force_locale("en"):
            assert page() == ("Export", "en")
    with db_app.test_request_context("/"):
        assert page() == ("导出", "zh_Hans")  # the next request starts from its own language
