"""A trainer switches the whole UI between 简体中文, 繁體中文 and English; the choice follows the user."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import FormClient, field_errors, login, visible_text
from tests.security import factory
from tests.views.test_crud import valid_uscc

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def test_default_is_simplified_chinese(admin):
    text = visible_text(admin.get("/r/enterprise/list/").get_data(as_text=True))
    assert "生产经营单位" in text and "企业名称" in text and "查询" in text and "新增" in text


def test_switch_to_traditional_and_english_changes_labels_menus_buttons(admin):
    admin.get("/lang/zh_Hant")
    text = visible_text(admin.get("/r/enterprise/list/").get_data(as_text=True))
    for word in ("生產經營單位", "企業名稱", "統一社會信用代碼", "基礎資訊", "安全知識庫", "重置"):
        assert word in text, word
    assert "生产经营单位" not in text

    admin.get("/lang/en")
    html = admin.get("/r/enterprise/list/").get_data(as_text=True)
    text = visible_text(html)
    for word in ("Enterprises", "Enterprise name", "Unified social credit code", "Basic data", "Search", "Add",
                 "Reset", "Knowledge base"):
        assert word in text, word


def test_enum_values_help_texts_and_validation_errors_follow_the_language(admin):
    admin.post_form("/r/law/add", {"title": "Work Safety Law", "kind": "law", "supervision_type": "general",
                                   "effective_on": "2021-09-01", "validity": "in_force"})
    admin.get("/lang/en")
    assert "In force" in visible_text(admin.get("/r/law/list/").get_data(as_text=True))
    form = admin.get("/r/enterprise/add").get_data(as_text=True)
    assert "The 18-character code; shops without a business licence give the operator&#39;s mobile number" in form \
        or "The 18-character code; shops without a business licence give the operator's mobile number" in visible_text(form)
    html = admin.post_form("/r/enterprise/add", {"name": "", "uscc": "123", "employee_count": "x"}).get_data(as_text=True)
    assert field_errors(html, "name") == ["This field is required."]
    assert field_errors(html, "employee_count") == ["Not a valid integer value."]
    assert "Not a valid unified social credit code" in field_errors(html, "uscc")[0]
    admin.get("/lang/zh_Hant")
    html = admin.post_form("/r/enterprise/add", {"name": ""}).get_data(as_text=True)
    assert field_errors(html, "name") == ["此項為必填項。"]


def test_flash_messages_follow_the_language(admin):
    admin.get("/lang/en")
    response = admin.post_form("/r/law/add", {"title": "Law", "kind": "law", "supervision_type": "general",
                                              "effective_on": "2021-09-01", "validity": "in_force"},
                               follow_redirects=True)
    assert "Added Row" in visible_text(response.get_data(as_text=True))


def test_the_choice_sticks_to_the_user_across_sessions(db_app):
    first = FormClient(db_app.test_client())
    login(first, "admin", ADMIN_PASSWORD)
    first.get("/lang/en")
    second = FormClient(db_app.test_client())  # another browser, a later day
    login(second, "admin", ADMIN_PASSWORD)
    assert "Enterprises" in visible_text(second.get("/r/enterprise/list/").get_data(as_text=True))
    second.get("/lang/zh_Hans")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith(("/lang/", "/logout")):
            self.links.append(href)


def _engine_text(html: str) -> str:
    """Visible text without the language menu (it names each language in that language, on purpose)."""
    html = re.sub(r'(?s)<li class="dropdown" id="language-menu">.*?</ul>\s*</li>', " ", html)
    return visible_text(html)


def test_english_pages_have_no_chinese_left(admin, db_app):
    """Crawl every menu entry and each register's pages in English, with ASCII data only."""
    admin.get("/lang/en")
    # a row per register whose own values are ASCII, so any Chinese on the page is the engine's
    admin.post_form("/r/law/add", {"title": "Work Safety Law", "kind": "law", "supervision_type": "general",
                                   "effective_on": "2021-09-01", "validity": "in_force"})
    admin.post_form("/r/standard/add", {"code": "GB 18218-2018", "title": "Major hazard identification",
                                        "kind": "national", "validity": "in_force"})
    admin.post_form("/r/chemical/add", {"name_zh": "Methanol", "hazard_class": "3", "cas": "67-56-1"})
    admin.post_form("/r/enterprise/add", {
        "name": "Changzhou Test Chemicals Co", "uscc": valid_uscc(), "enterprise_type": "hc_use",
        "region": "320411004", "address": "No 1 Test Road", "legal_representative": "Wang Wei", "department": "emergency",
        "status": "producing"})
    parser = _Links()
    parser.feed(admin.get("/").get_data(as_text=True))
    pages = set(parser.links)
    for register in ("enterprise", "law", "standard", "chemical"):
        pages |= {f"/r/{register}/list/", f"/r/{register}/add", f"/r/{register}/show/1", f"/r/{register}/edit/1"}
    checked = []
    for url in sorted(pages):
        response = admin.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue  # downloads linked from pages (a chart's Excel) are not pages
        leftovers = CJK.findall(_engine_text(response.get_data(as_text=True)))
        assert not leftovers, f"{url}: {''.join(leftovers)[:80]}"
        checked.append(url)
    for register in ("enterprise", "law", "standard", "chemical"):
        assert f"/r/{register}/show/1" in checked and f"/r/{register}/edit/1" in checked
    assert len(checked) >= 20, checked


def heading(html: str) -> str:
    return visible_text(re.search(r'<h3 class="form-title">.*?</h3>', html, re.S).group(0))


def test_the_form_titles_read_as_english_and_name_the_record(admin, db_app):
    """The register's label is a plural ("Enterprises"): an edit form is titled "Edit in Enterprises", never
    "Edit Enterprises"; in Chinese 编辑生产经营单位 as before; and the heading names the record, as its page does."""
    with db_app.app_context():
        row_id = factory.make_row(db_app.extensions["safety"], "enterprise", {"name": "标题测试企业"}).id
    assert heading(admin.get(f"/r/enterprise/edit/{row_id}").get_data(as_text=True)) == "编辑生产经营单位 / 标题测试企业"
    admin.get("/lang/en")
    text = visible_text(admin.get(f"/r/enterprise/edit/{row_id}").get_data(as_text=True))
    assert "Edit in Enterprises / 标题测试企业" in text and "Edit Enterprises" not in text
    assert "Add to Enterprises" in visible_text(admin.get("/r/enterprise/add").get_data(as_text=True))
