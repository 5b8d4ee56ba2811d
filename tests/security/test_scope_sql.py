"""How the row scope reaches the SQL (app/security/row_scope.py): a statement carries the criteria of the registers
it reads, and a register whose rows can be handed to the actor (`reveals`) adds those rows only while one is: the
same rows either way, and an index can serve the list of an actor that has none (a county's hazard list on
5,000,000 hazards: bench/scale.py)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import event

from tests.helpers import FormClient, login
from tests.security.factory import (AWAY_TOWNSHIP, HOME_DEPARTMENT, HOME_TOWNSHIP, PASSWORD, make_org, make_row,
                                    make_user)


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    from app.extensions import db
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def hazard_page(client: FormClient, app: Any) -> tuple[str, list[str]]:
    with statements(app) as seen:
        html = client.get("/r/hazard/list/").get_data(as_text=True)
    # the statements that read hazards for the list (the count and the page), not the scope's own check
    return html, [s for s in seen if re.match(r"\s*(SELECT|WITH)\b", s) and "FROM reg_hazard " in s
                  and not s.lstrip().startswith("SELECT EXISTS")]


def test_a_handed_over_hazard_joins_the_list_and_the_sql_only_once_there_is_one(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = make_org(svc)
        username = make_user(db_app, "regulator", home).username
        mine = make_row(svc, "enterprise", {"region": HOME_TOWNSHIP, "department": HOME_DEPARTMENT})
        away = make_row(svc, "enterprise", {"region": AWAY_TOWNSHIP, "department": HOME_DEPARTMENT})
        make_row(svc, "hazard", {"enterprise": mine, "description": "本县配电箱未接地"})
        theirs = make_row(svc, "hazard", {"enterprise": away, "description": "外县储罐区未设围堰"})
        svc.session.commit()
        theirs_id, home_id = theirs.id, home.id
    client = FormClient(db_app.test_client())
    login(client, username, PASSWORD)

    html, reads = hazard_page(client, db_app)
    assert "本县配电箱未接地" in html and "外县储罐区未设围堰" not in html
    assert reads and not any("reg_hazard_transfer" in s for s in reads), reads

    with db_app.app_context():
        make_row(svc, "hazard_transfer", {"hazard": svc.session.get(svc.models["hazard"], theirs_id),
                                          "to_organisation": svc.session.get(svc.models["organisation"], home_id)})
        svc.session.commit()
    html, reads = hazard_page(client, db_app)
    assert "本县配电箱未接地" in html and "外县储罐区未设围堰" in html
    assert any("reg_hazard_transfer" in s for s in reads)
    # and the handed-over hazard opens, read only
    page = client.get(f"/r/hazard/show/{theirs_id}")
    assert page.status_code == 200 and "外县储罐区未设围堰" in page.get_data(as_text=True)


def test_a_statement_carries_the_criteria_of_the_registers_it_reads(db_app):
    from app.security.actor import acting_as, actor_for
    from app.security.row_scope import loader_criteria, tables_in
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        username = make_user(db_app, "regulator", make_org(svc)).username
        svc.session.commit()
    with db_app.test_request_context():
        actor = actor_for(db_app.appbuilder.sm.find_user(username=username))
        with acting_as(actor):
            criteria = loader_criteria(actor)
            hazard, enterprise = svc.models["hazard"], svc.models["enterprise"]
            from sqlalchemy import select
            # a hazard's scope reads the enterprise table: both criteria; an enterprise list: its own only
            chosen = criteria.for_tables(tables_in(select(hazard.id)), lambda table, check: False)
            assert {o.entity.mapper.local_table.name for o in chosen} == {"reg_hazard", "reg_enterprise"}
            chosen = criteria.for_tables(tables_in(select(enterprise.id)), lambda table, check: False)
            assert {o.entity.mapper.local_table.name for o in chosen} == {"reg_enterprise"}
            # the scope still holds: the regulator's enterprise query sees only its county's rows
            rows = svc.session.scalars(select(enterprise.region)).all()
            assert all(r.startswith("320411") for r in rows)
