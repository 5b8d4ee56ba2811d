"""`flask metadata cluster` on PostgreSQL: the enterprise register's rows rewritten in region order (a county's
rows on neighbouring pages), the hazard register's grouped by enterprise, the index CLUSTER follows remembered;
a register that cannot be clustered is named with the reason."""
from __future__ import annotations

from sqlalchemy import text

from app.operations.cluster import plan
from tests.security import factory

TOWNSHIPS = [factory.HOME_TOWNSHIP, factory.AWAY_TOWNSHIP, "320411001", "211302002"]


def test_cluster_orders_the_enterprises_by_region_and_keeps_every_row(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        # written interleaved, as a province's enterprises arrive over the years
        made = [factory.make_row(svc, "enterprise", {"region": TOWNSHIPS[n % 4], "name": f"企业{n:02d}"})
                for n in range(24)]
        svc.session.commit()
        before = svc.session.execute(text("SELECT region FROM reg_enterprise ORDER BY ctid")).scalars().all()
        assert before != sorted(before)
        names = dict(svc.session.execute(text("SELECT id, name FROM reg_enterprise")).all())
        started = svc.session.execute(text("SELECT clock_timestamp()")).scalar_one()
        svc.session.rollback()

    result = db_app.test_cli_runner().invoke(args=["metadata", "cluster", "enterprise"])

    assert result.exit_code == 0, result.output
    assert "enterprise: 24 rows of reg_enterprise ordered by region in" in result.output
    assert "1 register table(s) clustered." in result.output
    with db_app.app_context():
        after = svc.session.execute(text("SELECT region FROM reg_enterprise ORDER BY ctid")).scalars().all()
        assert after == sorted(before)   # one township's rows next to each other, nothing lost
        assert dict(svc.session.execute(text("SELECT id, name FROM reg_enterprise")).all()) == names
        clustered = svc.session.execute(text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'reg_enterprise'::regclass AND i.indisclustered")).scalars().all()
        assert len(clustered) == 1 and clustered[0].startswith("ix_reg_enterprise_region")
        # vacuumed after the rewrite (its visibility map is what index-only walks of deep pages need)
        vacuumed = svc.session.execute(text("SELECT last_vacuum, last_analyze FROM pg_stat_user_tables "
                                            "WHERE relname = 'reg_enterprise'")).one()
        assert vacuumed[0] > started and vacuumed[1] > started
        assert len(made) == 24


def test_hazards_are_grouped_by_their_enterprise_and_registers_without_a_region_are_left(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        plans = {p.register: p for p in plan(svc.session.get_bind(), svc.registry, ())}
    assert plans["enterprise"].column == "region" and plans["enterprise"].through == ""
    assert plans["hazard"].column == "enterprise_id" and plans["hazard"].through == "enterprise"
    assert "law" not in plans  # no ownership.region: nothing to order its rows by


def test_a_register_that_cannot_be_clustered_is_named_with_the_reason(db_app):
    runner = db_app.test_cli_runner()
    unknown = runner.invoke(args=["metadata", "cluster", "enterprize"])
    assert unknown.exit_code == 1 and "No register named enterprize" in unknown.output
    regionless = runner.invoke(args=["metadata", "cluster", "law"])
    assert regionless.exit_code == 1 and "Register law has no ownership.region" in regionless.output
