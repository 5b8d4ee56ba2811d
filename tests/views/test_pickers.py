"""The pickers' answers: a region search finds 春江街道 by Chinese, pinyin or its initials inside the user's
jurisdiction and nothing outside it; an enterprise picker finds rows by credit code and tells two rows with the
same name apart by their second line; both stay in the viewer's row scope. Also the YAML checks of the options."""
from __future__ import annotations

import textwrap

import pytest

from app.metadata.loader import check_metadata
from tests.helpers import FormClient, login
from tests.security import factory

XINBEI, CHUNJIANG_XB, CHUNJIANG_HZ = "320411", "320411004", "330111002"  # 常州新北区, its 春江街道, 杭州's


def _signed_in(app, role, organisation=None, enterprise_key=None) -> FormClient:
    user = factory.make_user(app, role, organisation, enterprise_key)
    client = FormClient(app.test_client())
    login(client, user.username, factory.PASSWORD)
    return client


def _codes(client, query, start="jurisdiction"):
    response = client.get("/dict/region/search", query_string={"q": query, "start": start})
    assert response.status_code == 200
    return [item["code"] for item in response.get_json()["items"]], response.get_json()["items"]


@pytest.mark.parametrize("query", ["春江", "chunjiang", "cjjd", "CJ"])
def test_region_search_finds_chunjiang_inside_the_jurisdiction_only(db_app, query):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        xinbei = factory.make_org(svc, region=XINBEI)
        client = _signed_in(db_app, "org_admin", xinbei)
    codes, items = _codes(client, query)
    assert CHUNJIANG_XB in codes
    assert CHUNJIANG_HZ not in codes  # 杭州市富阳区's 春江街道 lies outside 新北区
    assert all(code.startswith(XINBEI) for code in codes)
    chosen = next(i for i in items if i["code"] == CHUNJIANG_XB)
    assert chosen["label"] == "江苏省 / 常州市 / 新北区 / 春江街道"


def test_region_search_of_an_administrator_spans_the_country(admin):
    codes, _items = _codes(admin, "春江")
    assert {CHUNJIANG_XB, CHUNJIANG_HZ} <= set(codes)


def test_region_picker_of_the_form_opens_at_the_jurisdiction(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        xinbei = factory.make_org(svc, region=XINBEI)
        client = _signed_in(db_app, "org_admin", xinbei)
    html = client.get("/r/enterprise/add").get_data(as_text=True)
    region = html[html.index('data-field="region"'):]
    assert "start=jurisdiction" in region
    assert '"code": "320411", "label": "新北区"' in region.split("</div>")[0].replace("&#34;", '"')


def test_a_region_outside_the_jurisdiction_is_refused_on_save(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        xinbei = factory.make_org(svc, region=XINBEI)
        client = _signed_in(db_app, "org_admin", xinbei)
    response = client.post_form("/r/enterprise/add", {"name": "杭州某公司", "region": CHUNJIANG_HZ})
    assert response.status_code == 200
    assert "请在本辖区内选择。" in response.get_data(as_text=True)


def _enterprises(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        near = factory.make_row(svc, "enterprise", {"name": "常州华锦化工有限公司", "region": CHUNJIANG_XB,
                                                    "department": factory.HOME_DEPARTMENT})
        far = factory.make_row(svc, "enterprise", {"name": "常州华锦化工有限公司", "region": CHUNJIANG_HZ,
                                                   "department": factory.HOME_DEPARTMENT})
        return (near.id, near.uscc), (far.id, far.uscc)


def test_reference_picker_searches_the_credit_code_and_shows_the_second_line(db_app, admin):
    (near_id, near_uscc), (far_id, far_uscc) = _enterprises(db_app)
    found = admin.get("/r/enterprise/lookup", query_string={"q": near_uscc[-8:], "field": "hazard.enterprise",
                                                            "display": "name"}).get_json()["results"]
    assert [r["id"] for r in found] == [near_id]
    assert found[0]["text"] == "常州华锦化工有限公司"
    assert found[0]["detail"] == f"{near_uscc} · 江苏省 / 常州市 / 新北区 / 春江街道"
    both = admin.get("/r/enterprise/lookup", query_string={"q": "华锦", "field": "hazard.enterprise"}).get_json()
    details = {r["id"]: r["detail"] for r in both["results"]}
    assert details[near_id] != details[far_id] and far_uscc in details[far_id]


def test_reference_picker_stays_in_the_viewers_scope(db_app):
    (near_id, near_uscc), (far_id, far_uscc) = _enterprises(db_app)
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        xinbei = factory.make_org(svc, region=XINBEI)
        client = _signed_in(db_app, "org_admin", xinbei)
    found = client.get("/r/enterprise/lookup", query_string={"q": "华锦", "field": "hazard.enterprise"}).get_json()
    assert [r["id"] for r in found["results"]] == [near_id]
    by_code = client.get("/r/enterprise/lookup", query_string={"q": far_uscc, "field": "hazard.enterprise"}).get_json()
    assert by_code["results"] == []


def test_the_form_offers_the_picker_of_its_field(admin):
    html = admin.get("/r/hazard/add").get_data(as_text=True)
    assert "field=hazard.enterprise" in html


# ---------------------------------------------------------------- YAML checks

REGISTER = """\
name: demo_picker
label: {zh: 演示, en: Demo}
fields:
  - name: name
    label: {zh: 名称, en: Name}
    type: string
  - name: kind
    label: {zh: 类型, en: Kind}
    type: tree
    dictionary: demo_tree
    picker: {start: jurisdiction}
  - name: other
    label: {zh: 其他, en: Other}
    type: reference
    register: demo_picker
    picker: {search: [nme, kind], detail: [name, notes]}
  - name: notes
    label: {zh: 备注, en: Notes}
    type: text
show:
  style: tabs
  fieldsets:
    - label: {zh: 概况, en: Overview}
      fields: [name]
"""

TREE = """\
name: demo_tree
label: {zh: 树, en: Tree}
kind: tree
items:
  - {code: a, label: {zh: 甲, en: A}}
"""


def test_picker_options_are_checked_with_their_lines(tmp_path):
    (tmp_path / "registers").mkdir()
    (tmp_path / "dictionaries").mkdir()
    (tmp_path / "registers" / "demo_picker.yaml").write_text(textwrap.dedent(REGISTER), encoding="utf-8")
    (tmp_path / "dictionaries" / "demo_tree.yaml").write_text(TREE, encoding="utf-8")
    registry, issues = check_metadata([tmp_path])
    assert registry is None
    found = {(i.id, i.line) for i in issues}
    assert ("E150", 11) in found      # start: jurisdiction on a tree that is not the region dictionary
    assert ("E151", 16) in found      # 'nme' is no field of the target
    assert ("E152", 16) in found      # 'kind' is a tree: the type-ahead matches text
    assert ("E153", 16) in found      # 'notes' is a text field: not for the second line
    assert ("E154", 21) in found      # style is a form option
    messages = " ".join(i.message for i in issues)
    assert "'nme'" in messages and "'notes'" in messages
