"""The demo fills every 001 register on real places (常州市新北区) for the demo enterprise accounts, once."""
from __future__ import annotations

import re

from tests.helpers import FormClient, login, visible_text
from tests.test_demo import _count

REGISTERS = ("risk_object", "risk_unit", "risk_event", "risk_measure", "risk_patrol", "risk_identification",
             "risk_assessment", "major_hazard_source", "monitoring_point", "monitoring_reading", "self_check_standard",
             "custom_standard", "self_inspection_report", "grid", "grid_member", "training_course",
             "training_attendance", "special_work_permit", "overhaul_plan", "third_party_agency", "enterprise_branch")


def test_the_demo_fills_the_001_registers_for_the_demo_enterprises(db_app):
    runner = db_app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    flows = runner.invoke(args=["demo", "workflows"])
    assert flows.exit_code == 0, flows.output
    assert {name: _count(db_app, name) for name in REGISTERS if not _count(db_app, name)} == {}
    # each tank farm has one level above 8.5 m and one ammonia reading above 30 ppm
    assert _count(db_app, "monitoring_reading", over_limit=True) == 2 * _count(db_app, "major_hazard_source",
                                                                               kind="tank_farm") > 0
    assert _count(db_app, "custom_standard", state="approved") == 1
    assert _count(db_app, "special_work_permit", state="approved") == 1

    printed = runner.invoke(args=["demo", "accounts"]).output
    first = re.search(r"企业用户 .*?: (\S+) / (\S+)", printed)
    company = FormClient(db_app.test_client())
    login(company, first.group(1), first.group(2))
    assert "液氨储罐区" in visible_text(company.get("/r/risk_object/list/").get_data(as_text=True))
    assert "是" in visible_text(company.get("/r/monitoring_reading/list/?f.over_limit=1").get_data(as_text=True))

    again = runner.invoke(args=["demo", "workflows"])
    assert again.exit_code == 0 and "Demo risk grading: rows already exist" in again.output
