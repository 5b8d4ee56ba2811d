"""Documents (文书): PDFs whose text layer holds the enterprise and the number, numbers given once and in order (also
under concurrent requests), the zip of a list made by a real Celery worker, the row scope of every document URL, and
the stamped scan uploaded back to the row."""
from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from datetime import date
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from tests.conftest import truncate_registers
from tests.helpers import FormClient, login, visible_text
from tests.security import factory

from .pdf import fonts_of, pdf_text

YEAR = date.today().year
HOME_NAME = "常州新北测试化工有限公司"
AWAY_NAME = "朝阳双塔测试机械有限公司"


def _client(app, username: str) -> FormClient:
    client = FormClient(app.test_client())
    login(client, username, factory.PASSWORD)
    return client


def _world(app, hazards: int = 2):
    """A county regulator of 新北区 with its enterprise and hazards; another county's regulator and enterprise."""
    svc = app.extensions["safety"]
    with app.app_context():
        home_org = factory.make_org(svc)
        away_org = factory.make_org(svc, region="211302")
        home = factory.make_row(svc, "enterprise", {"name": HOME_NAME, "region": factory.HOME_TOWNSHIP,
                                                    "address": "常州市新北区长江北路1号",
                                                    "department": factory.HOME_DEPARTMENT})
        away = factory.make_row(svc, "enterprise", {"name": AWAY_NAME, "region": factory.AWAY_TOWNSHIP,
                                                    "department": factory.HOME_DEPARTMENT})
        ids = [factory.make_row(svc, "hazard", {"enterprise": home, "description": f"配电室未设置挡鼠板{n}号",
                                                "rectify_by": date(YEAR, 12, 31), "found_on": date.today()}).id
               for n in range(hazards)]
        away_hazard = factory.make_row(svc, "hazard", {"enterprise": away, "description": "消防通道堵塞"}).id
        home_user = factory.make_user(app, "regulator", home_org).username
        away_user = factory.make_user(app, "regulator", away_org).username
        world = {"hazards": ids, "away_hazard": away_hazard, "home_org": str(home_org), "home_enterprise": home.id}
    return {**world, "home": _client(app, home_user), "away": _client(app, away_user)}


def _numbers(app) -> dict[int, str]:
    svc = app.extensions["safety"]
    model = svc.models.engine["DocumentRecord"]
    with app.app_context():
        return {r.row_id: r.number for r in svc.session.scalars(select(model).where(
            model.register == "hazard", model.document == "rectification_notice"))}


def test_a_notice_is_a_pdf_with_the_enterprise_and_its_number_in_its_text(db_app):
    world = _world(db_app)
    response = world["home"].get(f"/r/hazard/document/{world['hazards'][0]}/rectification_notice")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert HOME_NAME in text and f"常新应急限改〔{YEAR}〕1号" in text
    assert "限期整改通知书" in text and "配电室未设置挡鼠板0号" in text
    assert f"{YEAR}年12月31日" in text  # the date as Chinese documents write it (cn_date)
    assert world["home_org"] in text  # the issuing organisation above the seal
    # the Chinese font is a TrueType font embedded in the file, not one the reader must have
    embedded = [line for line in fonts_of(response.data).splitlines() if "WenQuanYi" in line]
    assert embedded and " yes " in embedded[0]
    # the file is named after the enterprise and the number
    assert "限期整改通知书" in unquote(response.headers["Content-Disposition"])
    # the row's page shows the number beside the document's button
    page = visible_text(world["home"].get(f"/r/hazard/show/{world['hazards'][0]}").get_data(as_text=True))
    assert f"常新应急限改〔{YEAR}〕1号" in page


def test_numbers_are_given_in_order_once_per_row_and_shared_by_a_sequence(db_app):
    world = _world(db_app, hazards=3)
    home = world["home"]
    first, second, third = world["hazards"]
    for row in (second, first, third, first, second):
        assert home.get(f"/r/hazard/document/{row}/rectification_notice").status_code == 200
    assert _numbers(db_app) == {second: f"常新应急限改〔{YEAR}〕1号", first: f"常新应急限改〔{YEAR}〕2号",
                                third: f"常新应急限改〔{YEAR}〕3号"}
    # downloaded again: the same number in the text
    assert f"常新应急限改〔{YEAR}〕2号" in pdf_text(home.get(f"/r/hazard/document/{first}/rectification_notice").data)
    # another document of the same row has a sequence of its own
    order = pdf_text(home.get(f"/r/hazard/document/{first}/rectification_order").data)
    assert f"常新应急责改〔{YEAR}〕1号" in order and "责令限期整改指令书" in order
    # per organisation: another county's regulator numbers its own documents from 1
    away = pdf_text(world["away"].get(f"/r/hazard/document/{world['away_hazard']}/rectification_notice").data)
    assert AWAY_NAME in away and f"常新应急限改〔{YEAR}〕1号" in away


def test_concurrent_requests_never_get_the_same_number(db_app):
    world = _world(db_app, hazards=8)
    clients = [world["home"]] + [FormClient(db_app.test_client()) for _ in range(11)]
    username = _home_username(db_app)
    for client in clients[1:]:
        login(client, username, factory.PASSWORD)
    barrier = threading.Barrier(12)
    statuses: list[int] = []
    # 8 requests for 8 different hazards and 4 more for the first one, all at once
    targets = world["hazards"] + [world["hazards"][0]] * 4

    def download(client, row):
        barrier.wait()
        statuses.append(client.get(f"/r/hazard/document/{row}/rectification_notice").status_code)

    threads = [threading.Thread(target=download, args=(c, r)) for c, r in zip(clients, targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses == [200] * 12
    numbers = _numbers(db_app)
    assert len(numbers) == 8
    assert sorted(numbers.values(), key=lambda n: int(re.search(r"〕(\d+)号", n)[1])) == [
        f"常新应急限改〔{YEAR}〕{n}号" for n in range(1, 9)]  # no number twice, none skipped


def _home_username(app) -> str:
    """The first regulator made (the home county's): the regulators share the factory's password."""
    with app.app_context():
        users = [u for u in app.appbuilder.sm.get_all_users() if u.username.startswith("regulator_")]
        return min(users, key=lambda u: u.id).username


def test_another_countys_regulator_gets_none_of_its_documents(db_app):
    world = _world(db_app)
    row = world["hazards"][0]
    away = world["away"]
    assert away.get(f"/r/hazard/document/{row}/rectification_notice").status_code == 403
    assert away.get(f"/r/hazard/document/{row}/rectification_notice/scan").status_code == 403
    scan = away.post_form(f"/r/hazard/document/{row}/rectification_notice/scan",
                          {"file": (io.BytesIO(b"%PDF-1.4 scan"), "盖章.pdf")},
                          page_url="/r/hazard/list/", content_type="multipart/form-data")
    assert scan.status_code == 403
    # the zip of the ticked rows holds only what the user may see; nothing was numbered for it
    job = away.get(f"/r/hazard/documents/rectification_notice.zip?ids={row}&ids={world['away_hazard']}")
    assert job.status_code == 302
    archive = zipfile.ZipFile(io.BytesIO(away.get(job.headers["Location"] + "/file").data))
    assert len(archive.namelist()) == 1 and AWAY_NAME in archive.namelist()[0]
    assert row not in _numbers(db_app)
    # nor another user's job
    assert world["home"].get(job.headers["Location"]).status_code == 403


def test_the_stamped_scan_is_uploaded_shown_and_audited(db_app):
    world = _world(db_app)
    home, row = world["home"], world["hazards"][0]
    page_url = f"/r/hazard/show/{row}"
    assert "上传盖章扫描件" in visible_text(home.get(page_url).get_data(as_text=True))
    refused = home.post_form(f"/r/hazard/document/{row}/rectification_notice/scan",
                             {"file": (io.BytesIO(b"MZ"), "notice.exe")}, page_url=page_url,
                             content_type="multipart/form-data", follow_redirects=True)
    assert "PDF、JPG 或 PNG" in visible_text(refused.get_data(as_text=True))
    scan = b"%PDF-1.4 the stamped notice"
    done = home.post_form(f"/r/hazard/document/{row}/rectification_notice/scan",
                          {"file": (io.BytesIO(scan), "限期整改通知书（盖章）.pdf")}, page_url=page_url,
                          content_type="multipart/form-data", follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "盖章扫描件" in visible_text(page)
    link = re.search(r'class="btn btn-link btn-sm document-scan" href="([^"]+)"', page).group(1)
    assert home.get(link).data == scan
    # in the row's change history: who uploaded which scan of which document
    svc = db_app.extensions["safety"]
    audit = svc.models.engine["AuditLog"]
    with db_app.app_context():
        entry = svc.session.scalars(select(audit).where(audit.register == "hazard", audit.row_id == row,
                                                        audit.action == "scan")).one()
        assert entry.field == "rectification_notice" and entry.new_value == "限期整改通知书（盖章）.pdf"
    assert "上传盖章扫描件" in visible_text(home.get(page_url).get_data(as_text=True))


def test_a_template_reads_related_rows_and_nothing_else(db_app):
    """The inspection record lists the inspection's items (children) and its enterprise (a reference); the sandbox
    keeps a template away from the row's internals."""
    from jinja2.exceptions import SecurityError

    from app.documents import Reading, RowView, environment

    svc = db_app.extensions["safety"]
    world = _world(db_app, hazards=0)
    with db_app.app_context():
        enterprise = svc.session.get(svc.models["enterprise"], world["home_enterprise"])
        item = svc.models["inspection_item"](content="安全出口是否畅通", problem="安全出口堆放杂物")
        inspection = factory.make_row(svc, "inspection", {"enterprise": enterprise, "inspectors": "张三、李四"})
        inspection.items.append(item)
        svc.session.commit()
        inspection_id = inspection.id
        reading = Reading(svc.registry, svc.dictionaries, lambda spec: frozenset({"uscc"}))
        view = RowView(svc.registry.register("inspection"), inspection, reading)
        env = environment(tuple(svc.registry.document_folders))
        assert env.from_string("{{ row.enterprise.uscc }}|{{ row.enterprise.name }}").render(row=view) == \
            f"|{HOME_NAME}"  # a hidden field reads as ''
        assert env.from_string("{{ row._row }}{{ row.enterprise.__init__ }}").render(row=view) == ""
        with pytest.raises(SecurityError):
            env.from_string("{{ row._row.id }}").render(row=view)
        with pytest.raises(SecurityError):
            env.from_string("{{ row._reading.registry }}").render(row=view)
    record = pdf_text(world["home"].get(f"/r/inspection/document/{inspection_id}/record").data)
    assert "现场检查记录" in record and HOME_NAME in record and "安全出口是否畅通" in record
    order = pdf_text(world["home"].get(f"/r/inspection/document/{inspection_id}/rectification_order").data)
    assert "安全出口堆放杂物" in order and f"常新应急责改〔{YEAR}〕1号" in order


def _wait(client, job_url, timeout=300):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = client.get(job_url + ".json").get_json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    pytest.fail(f"job {job_url} did not finish in {timeout} s: {status}")


def test_a_zip_of_200_documents_is_made_by_the_worker_with_progress(worker_app, celery_worker):
    truncate_registers(worker_app)
    world = _world(worker_app, hazards=200)
    home = world["home"]
    listing = home.get("/r/hazard/list/?f.level=").get_data(as_text=True)
    link = re.search(r'class="btn btn-default btn-sm documents-zip" data-document="rectification_notice" '
                     r'href="([^"]+)"', listing).group(1).replace("&amp;", "&")
    started = time.monotonic()
    response = home.get(link)
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job_url = response.headers["Location"]
    first = home.get(job_url + ".json").get_json()
    assert first["status"] in ("queued", "running") and first["total"] == 200  # not made in the request
    page = visible_text(home.get(job_url).get_data(as_text=True))
    assert "文书" in page
    done = _wait(home, job_url)
    assert done["status"] == "done" and done["done"] == 200, done
    elapsed = time.monotonic() - started
    archive = zipfile.ZipFile(io.BytesIO(home.get(job_url + "/file").data))
    names = archive.namelist()
    assert len(names) == 200 and len(set(names)) == 200
    numbers = sorted(int(re.search(r"〕(\d+)号", n)[1]) for n in names)
    assert numbers == list(range(1, 201))
    text = pdf_text(archive.read(names[0]))
    assert HOME_NAME in text and re.search(rf"常新应急限改〔{YEAR}〕\d+号", text)
    assert "下载 200 份文书" in visible_text(home.get(job_url).get_data(as_text=True))
    print(f"200 documents zipped by the worker in {elapsed:.1f} s")


def test_the_list_finds_a_row_by_the_number_printed_on_its_document(db_app):
    """A regulator holding a paper notice types its number into the quick search; another county finds nothing."""
    world = _world(db_app, hazards=3)
    home = world["home"]
    for hazard in world["hazards"][1:]:  # numbers 1 and 2, the first hazard has none
        assert home.get(f"/r/hazard/document/{hazard}/rectification_notice").status_code == 200
    listing = home.get("/r/hazard/list/?q=" + f"限改〔{YEAR}〕2号").get_data(as_text=True)
    shown = {int(i) for i in re.findall(r'<tr data-id="(\d+)"', listing)}
    assert shown == {world["hazards"][2]}
    assert "文书编号" in re.search(r'id="quick-search"[^>]*placeholder="([^"]*)"', listing).group(1)
    # the API's q is the same search
    api = home.client.get("/api/v1/hazard/?q=" + f"限改〔{YEAR}〕1号").get_json()
    assert [item["id"] for item in api["items"]] == [world["hazards"][1]]
    # the other county's regulator: the number is not a way around the row scope
    away = world["away"].get("/r/hazard/list/?q=" + f"限改〔{YEAR}〕2号").get_data(as_text=True)
    assert not re.findall(r'<tr data-id="(\d+)"', away)


def test_an_enterprise_reads_a_document_once_issued_and_never_issues_one(db_app):
    """An enterprise may open its hazards, but a document's number (文号) is the regulator's to give: before that
    the enterprise is told it is not issued yet (nothing numbered), after it reads the document as issued —
    the number and the issuing organisation — and it uploads no stamped scan and starts no zip."""
    world = _world(db_app)
    row = world["hazards"][0]
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        uscc = svc.session.get(svc.models["enterprise"], world["home_enterprise"]).uscc
        enterprise = _client(db_app, factory.make_user(db_app, "enterprise_user", None, uscc).username)
    page_url = f"/r/hazard/show/{row}"
    page = visible_text(enterprise.get(page_url).get_data(as_text=True))
    assert "配电室未设置挡鼠板0号" in page and "限期整改通知书" not in page and "上传盖章扫描件" not in page
    refused = enterprise.get(f"/r/hazard/document/{row}/rectification_notice", follow_redirects=True)
    assert "限期整改通知书尚未出具" in visible_text(refused.get_data(as_text=True))
    assert _numbers(db_app) == {}
    listed = enterprise.get("/r/hazard/documents/rectification_notice.zip", follow_redirects=True)
    assert "由监管部门出具" in visible_text(listed.get_data(as_text=True))
    assert "批量下载限期整改通知书" not in visible_text(enterprise.get("/r/hazard/list/").get_data(as_text=True))
    scan = enterprise.post_form(f"/r/hazard/document/{row}/rectification_notice/scan",
                                {"file": (io.BytesIO(b"%PDF-1.4 scan"), "盖章.pdf")}, page_url=page_url,
                                content_type="multipart/form-data")
    assert scan.status_code == 403

    assert world["home"].get(f"/r/hazard/document/{row}/rectification_notice").status_code == 200  # issued
    assert f"常新应急限改〔{YEAR}〕1号" in visible_text(enterprise.get(page_url).get_data(as_text=True))
    issued = enterprise.get(f"/r/hazard/document/{row}/rectification_notice")
    assert issued.status_code == 200 and issued.mimetype == "application/pdf"
    text = pdf_text(issued.data)
    assert f"常新应急限改〔{YEAR}〕1号" in text and world["home_org"] in text  # as the regulator issued it
    assert _numbers(db_app) == {row: f"常新应急限改〔{YEAR}〕1号"}
