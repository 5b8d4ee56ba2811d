"""Signing in and an enterprise's page find the account by lower(username) (FAB's case-insensitive logins): an
expression index serves that lookup, so it stays an index probe with a province's million enterprise accounts
(bench/load.py found it reading the whole table: 0.6–0.9 s per sign-in and per enterprise page)."""
from __future__ import annotations

from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import FormClient, login


def test_the_login_lookup_uses_the_lower_username_index_and_the_plan_stays_clean(db_app):
    from app.extensions import db
    from app.schema import plan_migration
    from flask_appbuilder import Model as FabModel
    with db_app.app_context():
        definition = db.session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'ab_user' AND indexname = 'ix_ab_user_username_lower'"
        )).scalar_one()
        assert "lower((username)::text)" in definition
        # the planner takes it even on a small table once a full read is ruled out, i.e. the lookup can use it
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in db.session.execute(text(
            "EXPLAIN SELECT id FROM ab_user WHERE lower(username) = lower('913204110K6FF5J5Y6')")))
        assert "ix_ab_user_username_lower" in plan, plan
        db.session.rollback()
        # migrating again finds nothing to do: the index is compared, not created twice
        with db.engine.connect() as conn:
            again = plan_migration(conn, [FabModel.metadata, db_app.extensions["safety"].models.metadata])
        assert not [s.text for s in again.steps if "ab_user" in s.text], again.describe()
    # and the case-insensitive sign-in still works
    client = FormClient(db_app.test_client())
    assert login(client, "ADMIN", ADMIN_PASSWORD).status_code == 302
