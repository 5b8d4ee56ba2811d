"""In Chromium: download the template from the import page, fill it in (openpyxl), upload it, watch the
progress bar finish and find the row in the list."""
from __future__ import annotations

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.excel.workbook import enterprise_row
from tests.browser.test_enterprise_flow import _login

pytestmark = pytest.mark.browser


def test_template_fill_upload_and_find_the_row(db_app, page, tmp_path):
    _login(page)
    page.goto(page.base_url + "/r/enterprise/list/")
    page.click("#import-records")
    page.wait_for_url("**/r/enterprise/import")
    with page.expect_download() as download_info:
        page.click("#download-template")
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)
    assert download_info.value.suggested_filename.endswith(".xlsx")

    workbook = openpyxl.load_workbook(template)
    assert workbook.sheetnames[0] == "填写说明"
    workbook.worksheets[1].append(enterprise_row(7, name="常州浏览器导入测试有限公司"))
    filled = tmp_path / "企业信息.xlsx"
    workbook.save(filled)

    page.set_input_files("#import-file", str(filled))
    page.click("#start-import")
    page.wait_for_url("**/r/enterprise/jobs/*")
    bar = page.locator("#job-progress-bar .progress-bar")
    expect(bar).to_have_class(re.compile("progress-bar-success"))
    expect(page.locator("#job-written")).to_contain_text("新增 1 条")
    expect(bar).to_have_attribute("style", "width: 100%")
    page.click("#job-written + a")
    page.wait_for_url("**/r/enterprise/list/")
    expect(page.locator(".register-table")).to_contain_text("常州浏览器导入测试有限公司")
