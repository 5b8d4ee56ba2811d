"""`flask demo load --scale N` on PostgreSQL: N enterprises and 5 × N hazards by COPY, valid codes, real townships,
hazards of those enterprises, the screens work on them and the row scope holds; a second run is refused
with a message saying what to do."""
from __future__ import annotations

import re

from sqlalchemy import func, select, text
from stdnum.cn import uscc

from tests.conftest import truncate_registers
from tests.helpers import FormClient, login
from tests.security import factory


def test_scale_fills_empty_registers_by_copy_and_the_screens_use_them(db_app):
    truncate_registers(db_app)
    runner = db_app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--scale", "2000"])
    assert result.exit_code == 0, result.output
    assert "Scale demo: 2,000 enterprises and 10,000 hazards" in result.output
    # the COPY ran with the hazard table's triggers off; the charts' summaries were refilled once afterwards
    assert "Chart summary hazards_per_enterprise: rebuilt from reg_hazard" in result.output
    svc = db_app.extensions["safety"]
    enterprise, hazard = svc.models["enterprise"], svc.models["hazard"]
    with db_app.app_context():
        session = svc.session
        assert session.scalar(select(func.count()).select_from(enterprise)
                              .execution_options(include_all_rows=True)) == 2000
        assert session.scalar(select(func.count()).select_from(hazard)
                              .execution_options(include_all_rows=True)) == 10000
        codes = session.scalars(select(enterprise.uscc).where(enterprise.uscc.like("91%"))
                                .execution_options(include_all_rows=True)).all()
        assert codes and len(set(codes)) == len(codes) and all(uscc.is_valid(c) for c in codes)
        townships = set(session.scalars(text("SELECT code FROM sys_dictionary_item "
                                             "WHERE dictionary = 'region' AND depth = 4")))
        regions = set(session.scalars(select(enterprise.region).execution_options(include_all_rows=True)))
        assert regions and regions <= townships
        orphans = session.scalar(select(func.count()).select_from(hazard).where(
            hazard.enterprise_id.not_in(select(enterprise.id))).execution_options(include_all_rows=True))
        assert orphans == 0
        from plugins.charts.summaries import differences
        from app.extensions import db
        kept = db_app.extensions["charts"].summaries
        assert {name: differences(db.engine, s) for name, s in kept.items()} == {
            "hazards_per_enterprise": 0, "hazards_per_enterprise_state": 0}
        assert session.scalar(text("SELECT sum(n) FROM chart_sum_hazards_per_enterprise")) == 10000
        triggers = session.scalar(text("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'reg_hazard'::regclass "
                                       "AND NOT tgisinternal AND tgenabled = 'O'"))
        assert triggers == 8  # both summaries' four triggers enabled again
        # a county regulator of the busiest county sees its own enterprises and hazards, nothing else
        key = func.left(enterprise.region, 6)
        county, count = session.execute(select(key, func.count()).group_by(key)
                                        .order_by(func.count().desc()).limit(1)
                                        .execution_options(include_all_rows=True)).one()
        regulator = factory.make_user(db_app, "regulator", factory.make_org(svc, region=county, department=None)).username
    client = FormClient(db_app.test_client())
    login(client, regulator, factory.PASSWORD)
    listing = client.get("/r/enterprise/list/").get_data(as_text=True)
    total = re.search(r'id="list-total">([^<]*)<', listing).group(1)
    assert re.sub(r"\D", "", total) == str(count), total
    api = client.client.get("/api/v1/hazard/?size=50").get_json()
    assert api["count"] > 0 and all(item["enterprise"] for item in api["items"])

    again = runner.invoke(args=["demo", "load", "--scale", "10"])
    assert again.exit_code != 0 and "already holds 2,000 rows" in again.output
