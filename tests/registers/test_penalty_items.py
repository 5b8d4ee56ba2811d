"""处罚事项库 (001 §10, issue 13): each illegal act is kept with the provision it breaks and the one punishing it;
both are required, searchable, shown on the row's page; an organisation's administrator keeps them, regulators
read them and cannot add."""
from __future__ import annotations

from sqlalchemy import select

from tests.helpers import visible_text
from tests.security import factory
from tests.workflow.helpers import client_for


def test_a_penalty_item_keeps_its_legal_basis(db_app) -> None:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        org = factory.make_org(svc)
        admin = factory.make_user(db_app, "org_admin", org).username
        regulator = factory.make_user(db_app, "regulator", org).username
    client = client_for(db_app, admin)
    form = {"code": "AQSC-024", "name": "未按照规定设置安全生产管理机构", "department": "emergency",
            "violated_provision": "", "penalty_provision": "《中华人民共和国安全生产法》第九十七条第一项",
            "penalty": "责令限期改正，处十万元以下的罚款"}
    refused = client.post_form("/r/penalty_item/add", form)
    assert refused.status_code == 200 and "违法依据" in visible_text(refused.get_data(as_text=True))
    saved = client.post_form("/r/penalty_item/add", {**form, "violated_provision": "《中华人民共和国安全生产法》第二十四条"})
    assert saved.status_code == 302
    with db_app.app_context():
        model = svc.models["penalty_item"]
        row_id = svc.session.execute(select(model.id).where(model.code == "AQSC-024")
                                     .execution_options(include_all_rows=True)).scalar_one()
    page = visible_text(client.get(f"/r/penalty_item/show/{row_id}").get_data(as_text=True))
    assert "《中华人民共和国安全生产法》第二十四条" in page and "第九十七条第一项" in page
    reader = client_for(db_app, regulator)
    found = visible_text(reader.get("/r/penalty_item/list/?q=第二十四条").get_data(as_text=True))
    assert "未按照规定设置安全生产管理机构" in found
    assert reader.get("/r/penalty_item/add").status_code == 403
