"""In a real headless Chromium, as a county regulator: a hazard's 限期整改通知书 is downloaded from its page as a PDF
whose text layer (pdftotext) holds the enterprise and the number the page then shows; the list's zip of the listed
hazards' notices goes through the job page to a download holding one PDF per hazard; a stamped scan is uploaded
back from the page."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.documents.pdf import pdf_text
from tests.security import factory

pytestmark = pytest.mark.browser

YEAR = date.today().year
NAME = "常州新北浏览测试化工有限公司"


@pytest.fixture
def regulator(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home_org = factory.make_org(svc)
        home = factory.make_row(svc, "enterprise", {"name": NAME, "region": factory.HOME_TOWNSHIP,
                                                    "address": "常州市新北区长江北路8号",
                                                    "department": factory.HOME_DEPARTMENT})
        ids = [factory.make_row(svc, "hazard", {"enterprise": home, "description": f"危化品仓库通风不良{n}号",
                                                "rectify_by": date(YEAR, 12, 31), "found_on": date.today()}).id
               for n in range(3)]
        return factory.make_user(db_app, "regulator", home_org).username, ids


def _sign_in(page, username):
    page.goto(page.base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", factory.PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")


def test_a_regulator_downloads_a_notice_then_the_zip_of_the_list(regulator, page, tmp_path: Path):
    username, hazards = regulator
    _sign_in(page, username)
    page.goto(f"{page.base_url}/r/hazard/show/{hazards[0]}")
    entry = page.locator(".document-entry[data-document=rectification_notice]")
    with page.expect_download() as got:
        entry.locator("a.document-link").click()
    download = got.value
    assert download.suggested_filename.endswith(".pdf") and "限期整改通知书" in download.suggested_filename
    text = pdf_text(Path(download.path()).read_bytes())
    number = f"常新应急限改〔{YEAR}〕1号"
    assert NAME in text and number in text and "危化品仓库通风不良0号" in text
    page.reload()
    expect(entry.locator(".document-number")).to_have_text(number)   # the page shows the number it was given

    # the stamped scan goes back to the row from its page
    entry.locator(".document-scan-toggle").click()
    scan = tmp_path / "盖章扫描件.pdf"
    scan.write_bytes(Path(download.path()).read_bytes())
    form = page.locator("#scan-rectification_notice")
    form.locator("input[type=file]").set_input_files(str(scan))
    form.locator("button[type=submit]").click()
    expect(page.locator(".document-entry[data-document=rectification_notice] .document-scan")).to_be_visible()

    # the zip of every listed hazard's notice: the job page, then its download
    page.goto(page.base_url + "/r/hazard/list/")
    page.locator(".documents-zip[data-document=rectification_notice]").click()
    page.wait_for_url(re.compile(r".*/jobs/.*"))
    link = page.locator("#job-download")
    expect(link).to_be_visible(timeout=30_000)
    expect(link).to_contain_text("3")
    with page.expect_download() as got:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes()))
    names = sorted(archive.namelist())
    assert len(names) == 3, names
    # the first hazard keeps the number it was given; the others get the next ones, each once
    assert sorted(int(re.search(r"〕(\d+)号", n)[1]) for n in names) == [1, 2, 3]
    assert all(NAME in pdf_text(archive.read(n)) for n in names)
