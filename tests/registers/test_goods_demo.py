"""The demo fills every 003 goods-flow register on Fujian enterprises, once; its stock-taking that differs opens
库存差异预警 at the next scan."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.test_demo import _count

REGISTERS = ("warehouse", "goods_product", "goods_batch", "stock_movement", "stock_take", "goods_return",
             "consignment_note", "fireworks_retail_point")


def test_the_demo_fills_the_goods_flow_on_fujian_enterprises(db_app):
    runner = db_app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    flows = runner.invoke(args=["demo", "workflows"])
    assert flows.exit_code == 0, flows.output
    assert {name: _count(db_app, name) for name in REGISTERS if not _count(db_app, name)} == {}
    assert re.search(r"Demo goods flow: .* traced from \S+ to \S+", flows.output), flows.output
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        enterprise = svc.models["enterprise"]
        regions = {r for (r,) in svc.session.execute(select(enterprise.region).join(
            svc.models["warehouse"], svc.models["warehouse"].enterprise_id == enterprise.id))}
        assert regions and all(r.startswith("35") for r in regions)  # 福建
    assert _count(db_app, "stock_take", has_difference=True) == 1
    from app.workflow.warnings import scan_deadlines
    with db_app.app_context():
        scan_deadlines()
        model = svc.models.engine["Warning"]
        assert [w.state for w in svc.session.scalars(select(model).filter_by(rule="stock_difference"))] == ["open"]
    again = runner.invoke(args=["demo", "workflows"])
    assert again.exit_code == 0 and "Demo goods flow: rows already exist" in again.output
