"""A dictionary written by migrate is analysed at once on PostgreSQL: the lists' subtree filters select region codes
by path, and with no statistics the planner took a province's 2,567 townships for 1 (a server whose autovacuum is
off, or has not come round yet)."""
from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import text


def _last_analyze(session):
    return session.execute(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'sys_dictionary_item'")
                           ).scalar()


def test_a_written_dictionary_is_analysed(db_app):
    from app.dictionaries.sync import sync_dictionaries
    from app.extensions import db
    from app.services import services

    with db_app.app_context():
        svc = services()
        before = _last_analyze(db.session)
        db.session.commit()
        # an unchanged dictionary is not written, so not analysed either
        assert sync_dictionaries(db.session, svc.registry, svc.models.engine, current_app.config["REGION_DATA_DIR"],
                                 names=["hazard_level"]) == {}
        db.session.execute(text("DELETE FROM sys_dictionary WHERE name = 'hazard_level'"))
        db.session.commit()
        written = sync_dictionaries(db.session, svc.registry, svc.models.engine,
                                    current_app.config["REGION_DATA_DIR"], names=["hazard_level"])
        assert written == {"hazard_level": len(svc.registry.dictionary("hazard_level").items)}
        for _ in range(20):  # the statistics view is refreshed by the server's stats flush
            db.session.commit()
            after = _last_analyze(db.session)
            if after is not None and (before is None or after > before):
                break
            time.sleep(0.1)
        assert after is not None and (before is None or after > before), (before, after)
