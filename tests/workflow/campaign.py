"""The four-level campaign fixture (江苏省 → 常州市 → 新北区, 钟楼区, each with an org_admin account, and
enterprises of each 管理层级) and small readers of the rows the campaigns make."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.security import factory

XB, ZL = "320411", "320404"            # 常州市新北区, 钟楼区
XB_TOWN, ZL_TOWN = "320411004", "320404001"


@pytest.fixture
def province(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        def org(region, level, parent=None, department="emergency"):
            return factory.make_row(svc, "organisation", {"region": region, "department": department, "level": level,
                                                          **({"parent": parent} if parent else {})})

        def enterprise(town, level, **extra):
            return factory.make_row(svc, "enterprise", {"region": town, "department": "emergency",
                                                        "management_level": level, "status": "producing", **extra})

        js = org("32", "province")
        cz = org("3204", "city", js)
        xb = org(XB, "county", cz)
        zl = org(ZL, "county", cz)
        e = {"provincial": enterprise(XB_TOWN, "province"), "municipal": enterprise(ZL_TOWN, "city"),
             "xb_a": enterprise(XB_TOWN, "county"), "xb_b": enterprise(XB_TOWN, "county"),
             "xb_closed": enterprise(XB_TOWN, "county", status="shut_down"), "zl_a": enterprise(ZL_TOWN, "county")}
        people = {"js": factory.make_user(db_app, "org_admin", js).username,
                  "cz": factory.make_user(db_app, "org_admin", cz).username,
                  "xb": factory.make_user(db_app, "org_admin", xb).username,
                  "zl": factory.make_user(db_app, "org_admin", zl).username,
                  "company": factory.make_user(db_app, "enterprise_user", enterprise_key=e["xb_a"].uscc).username}
        return {"people": people, "enterprises": {k: v.id for k, v in e.items()},
                "orgs": {"js": js.id, "cz": cz.id, "xb": xb.id, "zl": zl.id}}


def _rows(app, register, **where):
    svc = app.extensions["safety"]
    model = svc.models[register]
    with app.app_context():
        stmt = select(model).order_by(model.id).execution_options(include_all_rows=True)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        rows = list(svc.session.scalars(stmt))
        svc.session.expunge_all()
        return rows


def _task_of(app, register, organisation_id):
    return next(t for t in _rows(app, register) if t.organisation_id == organisation_id)
