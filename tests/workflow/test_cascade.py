"""Multi-level campaigns (002 清洁生产审核, 004 燃气专项) through the screens: province → city → counties →
enterprises, each level's copy carrying everything from above, routing by 管理层级, enterprise lists verified
(是 / 否 with reason and evidence, missing ones added, corrections written back), stamped reports upward,
sending back and approving, progress seen from above, the notices downloaded as a zip."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

from tests.helpers import visible_text
from tests.security import factory

from .campaign import XB_TOWN, province, _rows, _task_of  # noqa: F401 (province is a fixture)
from .helpers import PDF, alerts, client_for, history, inbox, state_of, stored, take


def test_the_cleaner_production_cascade_from_province_to_enterprises_and_back(db_app, province):
    p, ent = province["people"], province["enterprises"]
    js, cz, xb, zl = (client_for(db_app, p[k]) for k in ("js", "cz", "xb", "zl"))
    deadline = (date.today() + timedelta(days=30)).isoformat()
    assert js.post_form("/r/cp_task/add", {"title": "2026年度清洁生产审核", "year": "2026", "region": "32",
                                           "deadline": deadline, "requirements": "省级要求：11月底前完成企业名单核实"}
                        ).status_code == 302
    root = _rows(db_app, "cp_task")[0].id
    take(js, "cp_task", root, "issue")

    # the city gets its copy (its region, the province's requirements); the 省直管 enterprise stays at the province
    city_task = _task_of(db_app, "cp_task", province["orgs"]["cz"])
    assert (city_task.region, city_task.level, city_task.parent_task_id, city_task.state) == \
        ("3204", "city", root, "received")
    assert city_task.received_requirements == "省级要求：11月底前完成企业名单核实"
    assert [r.enterprise_id for r in _rows(db_app, "cp_enterprise", task_id=root)] == [ent["provincial"]]
    assert "cp_task" in cz.get("/workflow/todo").get_data(as_text=True)
    # a county sees nothing yet, and cannot open the province's task
    assert "todo-cp_task" not in xb.get("/workflow/todo").get_data(as_text=True)
    assert xb.get(f"/r/cp_task/show/{root}").status_code == 403

    # the city adds its own requirements and issues to its two counties; the 市直管 enterprise is its own to verify
    form = {"title": city_task.title, "year": "2026", "region": "3204", "deadline": deadline,
            "requirements": "市级要求：附企业承诺书"}
    assert cz.post_form(f"/r/cp_task/edit/{city_task.id}", form).status_code == 302
    take(cz, "cp_task", city_task.id, "issue")
    xb_task = _task_of(db_app, "cp_task", province["orgs"]["xb"])
    zl_task = _task_of(db_app, "cp_task", province["orgs"]["zl"])
    assert xb_task.received_requirements == "省级要求：11月底前完成企业名单核实\n市级要求：附企业承诺书"
    assert [r.enterprise_id for r in _rows(db_app, "cp_enterprise", task_id=city_task.id)] == [ent["municipal"]]

    take(xb, "cp_task", xb_task.id, "issue")
    take(zl, "cp_task", zl_task.id, "issue")
    xb_list = {r.enterprise_id: r for r in _rows(db_app, "cp_enterprise", task_id=xb_task.id)}
    assert set(xb_list) == {ent["xb_a"], ent["xb_b"]}  # the shut-down one is not listed
    assert [r.enterprise_id for r in _rows(db_app, "cp_enterprise", task_id=zl_task.id)] == [ent["zl_a"]]

    # the enterprise downloads its notice, stamps it and uploads it back
    company = client_for(db_app, p["company"])
    mine = xb_list[ent["xb_a"]].id
    notice = company.get(f"/r/cp_enterprise/document/{mine}/notice")
    assert notice.status_code == 200 and notice.mimetype == "application/pdf" and notice.data.startswith(b"%PDF")
    assert "清洁生产审核告知书" in notice.headers["Content-Disposition"] or "filename*" in notice.headers[
        "Content-Disposition"]
    assert company.get(f"/r/cp_enterprise/show/{xb_list[ent['xb_b']].id}").status_code == 403
    take(company, "cp_enterprise", mine, "upload_notice", files=[("告知书（盖章）.pdf", PDF)])
    assert stored(db_app, "cp_enterprise", mine).notice[0]["name"] == "告知书（盖章）.pdf"

    # the county: the county cannot report before its list is verified; 否 needs a reason and evidence
    page = take(xb, "cp_task", xb_task.id, "submit", files=[("上报.pdf", PDF)]).get_data(as_text=True)
    assert "已核实（是）" in alerts(page)
    other = xb_list[ent["xb_b"]].id
    assert "意见" in alerts(take(xb, "cp_enterprise", other, "exclude", files=[("证明.pdf", PDF)]).get_data(
        as_text=True))
    take(xb, "cp_enterprise", other, "exclude", comment="企业已搬迁至外省", files=[("迁出证明.pdf", PDF)])
    # a correction on the list reaches the enterprise register when the enterprise is confirmed
    row = stored(db_app, "cp_enterprise", mine)
    xb.post_form(f"/r/cp_enterprise/edit/{mine}", {"task": str(xb_task.id), "enterprise": str(ent["xb_a"]),
                                                   "enterprise_name": row.enterprise_name, "region": row.region,
                                                   "address": "常州市新北区更正后路9号"})
    take(xb, "cp_enterprise", mine, "confirm")
    assert stored(db_app, "enterprise", ent["xb_a"]).address == "常州市新北区更正后路9号"

    assert "附件" in alerts(take(xb, "cp_task", xb_task.id, "submit").get_data(as_text=True))  # the stamped scan
    take(xb, "cp_task", xb_task.id, "submit", files=[("新北区上报（盖章）.pdf", PDF)])
    assert state_of(db_app, "cp_task", xb_task.id) == "submitted"
    assert "下级单位已上报清洁生产审核任务" in inbox(cz)

    # the city sees each county's progress on its task page
    page = cz.get(f"/r/cp_task/show/{city_task.id}").get_data(as_text=True)
    counts = dict(re.findall(r'class="label progress-count" data-state="(\w+)"[^>]*>[^<]*?(\d+)</span>', page))
    assert counts["submitted"] == "1" and counts["issued"] == "1" and counts["approved"] == "0"
    # the city cannot report before its counties are approved
    page = take(cz, "cp_task", city_task.id, "submit", files=[("市.pdf", PDF)]).get_data(as_text=True)
    assert "已通过" in alerts(page)

    # sent back with a comment, corrected, submitted again, approved
    take(cz, "cp_task", xb_task.id, "send_back", comment="请补充企业承诺书")
    assert state_of(db_app, "cp_task", xb_task.id) == "returned"
    assert "被上级退回" in inbox(xb)
    assert "请补充企业承诺书" in visible_text(xb.get(f"/r/cp_task/show/{xb_task.id}").get_data(as_text=True))
    # only the level above approves: the county cannot approve itself
    take(xb, "cp_task", xb_task.id, "submit", files=[("新北区上报（补充）.pdf", PDF)])
    assert take(zl, "cp_task", xb_task.id, "approve").status_code == 403  # a sibling county does not even see it
    assert "上级单位" in alerts(take(xb, "cp_task", xb_task.id, "approve").get_data(as_text=True))
    take(cz, "cp_task", xb_task.id, "approve")

    only = _rows(db_app, "cp_enterprise", task_id=zl_task.id)[0].id
    take(zl, "cp_enterprise", only, "confirm")
    take(zl, "cp_task", zl_task.id, "submit", files=[("钟楼区上报.pdf", PDF)])
    take(cz, "cp_task", zl_task.id, "approve")

    municipal = _rows(db_app, "cp_enterprise", task_id=city_task.id)[0].id
    take(cz, "cp_enterprise", municipal, "confirm")
    take(cz, "cp_task", city_task.id, "submit", files=[("常州市上报.pdf", PDF)])
    take(js, "cp_task", city_task.id, "approve")

    provincial = _rows(db_app, "cp_enterprise", task_id=root)[0].id
    assert "已核实" in alerts(take(js, "cp_task", root, "complete").get_data(as_text=True))
    take(js, "cp_enterprise", provincial, "confirm")
    take(js, "cp_task", root, "complete")
    assert state_of(db_app, "cp_task", root) == "completed"
    assert [h.transition for h in history(db_app, "cp_task", xb_task.id)] == \
        ["issue", "submit", "send_back", "submit", "approve"]


def test_the_notices_of_a_list_download_as_one_zip(db_app, province):
    p = province["people"]
    js, cz, xb = (client_for(db_app, p[k]) for k in ("js", "cz", "xb"))
    js.post_form("/r/cp_task/add", {"title": "清洁生产审核", "year": "2026", "region": "32",
                                    "deadline": date.today().isoformat()})
    take(js, "cp_task", _rows(db_app, "cp_task")[0].id, "issue")
    take(cz, "cp_task", _task_of(db_app, "cp_task", province["orgs"]["cz"]).id, "issue")
    xb_task = _task_of(db_app, "cp_task", province["orgs"]["xb"])
    take(xb, "cp_task", xb_task.id, "issue")
    listing = xb.get(f"/r/cp_enterprise/list/?f.task={xb_task.id}").get_data(as_text=True)
    link = re.search(r'class="btn btn-default btn-sm documents-zip"[^>]*href="([^"]+)"', listing).group(1)
    response = zipped(xb, link.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = sorted(archive.namelist())
    expected = sorted(r.enterprise_name for r in _rows(db_app, "cp_enterprise", task_id=xb_task.id))
    assert names == [f"{name}清洁生产审核告知书.pdf" for name in expected]
    pdf = archive.read(names[0])
    # the name is set in the PDF's text (UCS-2 codes of the CID font), not only in the file name
    assert expected[0] in pdf_text(pdf)
    # another county's user gets only its own rows: nothing of 新北区
    zl = client_for(db_app, p["zl"])
    response = zipped(zl, link.replace("&amp;", "&"))
    assert response.status_code == 200 and zipfile.ZipFile(io.BytesIO(response.data)).namelist() == []


def test_the_gas_campaign_list_takes_additions_exclusions_and_corrections(db_app, province):
    p, ent = province["people"], province["enterprises"]
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        for key in ("xb_a", "xb_b"):
            row = svc.session.get(svc.models["enterprise"], ent[key])
            row.department = "housing"
        missing = factory.make_row(svc, "enterprise", {"region": XB_TOWN, "department": "housing",
                                                       "management_level": "county", "status": "producing"})
        svc.session.commit()
        missing_id = missing.id
        # it was registered after the campaign went out: added by hand below
    js, cz, xb = (client_for(db_app, p[k]) for k in ("js", "cz", "xb"))
    js.post_form("/r/gas_task/add", {"title": "城镇燃气安全专项整治", "year": "2026", "region": "32",
                                     "deadline": (date.today() + timedelta(days=20)).isoformat()})
    take(js, "gas_task", _rows(db_app, "gas_task")[0].id, "issue")
    take(cz, "gas_task", _task_of(db_app, "gas_task", province["orgs"]["cz"]).id, "issue")
    xb_task = _task_of(db_app, "gas_task", province["orgs"]["xb"])
    with db_app.app_context():
        row = svc.session.get(svc.models["enterprise"], missing_id)
        row.department = "emergency"  # not a gas enterprise at issue time
        svc.session.commit()
    take(xb, "gas_task", xb_task.id, "issue")
    listed = {r.enterprise_id: r for r in _rows(db_app, "gas_check", task_id=xb_task.id)}
    assert set(listed) == {ent["xb_a"], ent["xb_b"]}

    # add the missing one, correct a licence number, exclude one with evidence
    target = stored(db_app, "enterprise", missing_id)
    assert xb.post_form("/r/gas_check/add", {"task": str(xb_task.id), "enterprise": str(missing_id),
                                             "enterprise_name": target.name, "region": target.region,
                                             "gas_kind": "bottled"}).status_code == 302
    added = [r for r in _rows(db_app, "gas_check", task_id=xb_task.id) if r.enterprise_id == missing_id][0]
    assert added.state == "pending"
    first = listed[ent["xb_a"]]
    xb.post_form(f"/r/gas_check/edit/{first.id}", {"task": str(xb_task.id), "enterprise": str(ent["xb_a"]),
                                                   "enterprise_name": first.enterprise_name, "region": first.region,
                                                   "licence_number": "常燃经字〔2026〕0088号", "gas_kind": "piped"})
    take(xb, "gas_check", first.id, "confirm")
    assert stored(db_app, "enterprise", ent["xb_a"]).licence_number == "常燃经字〔2026〕0088号"
    take(xb, "gas_check", listed[ent["xb_b"]].id, "exclude", comment="已停止燃气经营", files=[("注销证明.pdf", PDF)])
    take(xb, "gas_check", added.id, "confirm")
    take(xb, "gas_task", xb_task.id, "submit", files=[("燃气专项上报.pdf", PDF)])
    # the province sees the city's copy and, below it, the counties (two levels down) with their states
    js_page = js.get(f"/r/gas_task/show/{_task_of(db_app, 'gas_task', province['orgs']['cz']).id}").get_data(
        as_text=True)
    assert "已上报" in visible_text(js_page)


def zipped(client, link: str):
    """The zip of a list's documents: made by a background job (inline here), downloaded from the job's page."""
    started = client.get(link)
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"], started.status_code
    job = started.headers["Location"]
    assert client.get(job + ".json").get_json()["status"] == "done"
    return client.get(job + "/file")


def pdf_text(pdf: bytes) -> str:
    """The PDF's text layer as a reader copies it (pdftotext of Debian's poppler-utils)."""
    from tests.documents.pdf import pdf_text as text_of
    return text_of(pdf)
