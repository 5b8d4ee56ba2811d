"""The demo that `./scripts/run` loads, on PostgreSQL: `flask demo load` then `flask demo workflows`, as the
README describes them — the logins it prints work and each demo account finds its rows waiting."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.helpers import FormClient, login, visible_text


def _count(app, register: str, **where) -> int:
    svc = app.extensions["safety"]
    model = svc.models[register]
    with app.app_context():
        query = select(func.count()).select_from(model).execution_options(include_all_rows=True)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return svc.session.scalar(query)


def test_the_demo_loads_and_its_accounts_find_their_work(db_app):
    runner = db_app.test_cli_runner()
    loaded = runner.invoke(args=["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    assert _count(db_app, "enterprise") == 301 and _count(db_app, "law") > 0 and _count(db_app, "chemical") > 0

    flows = runner.invoke(args=["demo", "workflows"])
    assert flows.exit_code == 0, flows.output
    assert "1 self-registration" in flows.output
    assert _count(db_app, "hazard") > 0
    assert _count(db_app, "enterprise_application", state="submitted") == 1
    assert _count(db_app, "enterprise_change", state="pending") == 1
    # 危化品运输: vehicles with drivers, waybills along their steps, a violation
    assert _count(db_app, "transport_vehicle") == 2 and _count(db_app, "transport_driver") == 3
    assert _count(db_app, "waybill", state="delivered") == 2 and _count(db_app, "waybill", state="planned") == 2
    assert _count(db_app, "transport_violation") == 1
    assert _count(db_app, "enterprise_correction", state="pending") == 1
    # two staff and one health examination for each demo enterprise
    assert _count(db_app, "health_record") > 0
    assert _count(db_app, "enterprise_staff") == 2 * _count(db_app, "health_record")

    accounts = runner.invoke(args=["demo", "accounts"])
    logins = dict(re.findall(r"(\w+_\w+) / (\S+)", accounts.output))
    # the county administrator signs in with the printed password and finds the demo's waiting rows
    county = FormClient(db_app.test_client())
    login(county, "xb_admin", logins["xb_admin"])
    todo = visible_text(county.get("/workflow/todo").get_data(as_text=True))
    assert "常州新北恒泰精细化工有限公司" in todo and "清洁生产审核" in todo
    # the city administrator has the enterprise the county asked to add
    city = FormClient(db_app.test_client())
    login(city, "cz_admin", logins["cz_admin"])
    assert "常州新北示范化工有限公司" in visible_text(city.get("/workflow/todo").get_data(as_text=True))

    # run again (every `./scripts/run` does): nothing is added twice
    again = runner.invoke(args=["demo", "workflows"])
    assert again.exit_code == 0 and "already exist" in again.output
    assert _count(db_app, "enterprise_application") == 1
