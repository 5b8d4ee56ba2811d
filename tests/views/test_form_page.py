"""What the add and edit forms show around their fields: the error summary after a failed save (one link per
field in error), tabs from the YAML that open on the first section in error, a way back, and no internal
notes ("(002)", "（004 问38）") in the texts the shipped YAML shows to users."""
from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import field_errors, visible_text

ROOT = Path(__file__).resolve().parents[2]


def test_failed_save_counts_its_errors_and_links_each_field(admin):
    response = admin.post_form("/r/enterprise/add", {"name": "", "uscc": "123"})
    html = response.get_data(as_text=True)
    summary = html[html.index('id="form-error-summary"'):html.index("</ul>", html.index('id="form-error-summary"'))]
    links = re.findall(r'href="#(\w+)" class="form-error-link"', summary)
    count = int(re.search(r"共 (\d+) 处错误", visible_text(summary)).group(1))
    assert count == len(links) >= 3
    assert {"name", "uscc", "region"} <= set(links)
    for name in links:
        assert field_errors(html, name), name  # each link names a field that shows its error


def test_tabs_open_on_the_first_section_with_an_error(admin):
    html = admin.get("/r/enterprise/add").get_data(as_text=True)
    assert 'class="nav nav-tabs form-tabs"' in html
    assert re.search(r'<li role="presentation" class=" active"><a href="#form-section-1"', html)
    # an error in the second section (安全管理) marks its tab with the count; the first section, with its
    # required fields in error too, opens first
    response = admin.post_form("/r/enterprise/add", {"employee_count": "many"})
    html = response.get_data(as_text=True)
    second = re.search(r'<li role="presentation" class="has-errors ">\s*<a href="#form-section-2"[^>]*>.*?'
                       r'<span class="badge form-tab-errors">(\d+)</span>', html, re.S)
    assert second is not None and int(second.group(1)) >= 1
    assert field_errors(html, "employee_count")
    assert 'class="tab-pane active" id="form-section-1"' in html
    assert 'class="tab-pane" id="form-section-2"' in html


def test_cancel_leads_back_to_the_list(admin):
    html = admin.get("/r/enterprise/add").get_data(as_text=True)
    assert re.search(r'id="cancel-record" href="/r/enterprise/list/"', html)


def test_shipped_texts_carry_no_internal_source_notes():
    shown = re.compile(r"^\s*(?:-\s*)?(?:label|help|zh|en|description|message)\b.*?[（(]\s*00\d")
    leaks = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in (ROOT / "metadata").rglob("*.yaml")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if shown.search(line.split(" #", 1)[0])]
    assert leaks == []
