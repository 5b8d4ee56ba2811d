"""`flask metadata migrate` gives every enterprise row without an account one (rows loaded before
enterprise_accounts was configured, or by COPY): chunk by chunk, each committed, so memory stays that of one chunk
on a register of millions and an interrupted run keeps what it wrote."""
from __future__ import annotations

import pytest
from sqlalchemy import text

ROWS = 45_000


def _load_enterprises(session, rows: int) -> None:
    """``rows`` enterprises by one INSERT … SELECT, with one credit code repeated (two branches of one company)."""
    session.execute(text(
        "INSERT INTO reg_enterprise (name, uscc, enterprise_type, region, address, legal_representative, department,"
        " created_at, updated_at) SELECT '企业' || n, CASE WHEN n = 2 THEN '91320000MA00000001' "
        " ELSE '91320000MA' || lpad(n::text, 8, '0') END, 'hazardous_chemicals', '320411', '常州市新北区' || n || '号',"
        " '张三', 'cz_yjj', now(), now() FROM generate_series(1, :rows) AS n"), {"rows": rows})
    session.commit()


def _accounts(session) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in session.execute(text(
        "SELECT u.username, u.first_name, u.must_change_password, r.name FROM ab_user u"
        " JOIN ab_user_role ur ON ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id"
        " WHERE u.enterprise_key IS NOT NULL"))}


def test_the_missing_accounts_are_made_chunk_by_chunk_and_an_interrupted_run_goes_on(db_app):
    from app.extensions import db
    from app.security.accounts import create_missing_enterprise_accounts

    with db_app.app_context():
        _load_enterprises(db.session, ROWS)
        seen: list[int] = []

        def interrupt(made: int) -> None:
            seen.append(made)
            if len(seen) == 2:
                raise KeyboardInterrupt  # the operator's Ctrl-C after the second chunk

        with pytest.raises(KeyboardInterrupt):
            create_missing_enterprise_accounts(db.session, interrupt, chunk=20_000)
        db.session.rollback()
        # two chunks of 20,000 rows, one code twice in the first: 39,999 accounts, kept
        assert seen == [19_999, 39_999]
        assert len(_accounts(db.session)) == 39_999

        seen.clear()
        assert create_missing_enterprise_accounts(db.session, seen.append, chunk=20_000) == ROWS - 1 - 39_999
        accounts = _accounts(db.session)
        assert len(accounts) == ROWS - 1
        assert accounts["91320000MA00045000"] == ("企业45000", True, "enterprise_user")
        assert accounts["91320000MA00000001"][0] == "企业1"  # the first row of a repeated code names the account
        assert create_missing_enterprise_accounts(db.session) == 0  # nothing left: nothing written
