"""Path × role matrix, generated from the metadata: for every register and every role of its access rules,
rows inside and outside the role's scope are read and written through every path (list, count, show, lookup,
edit, delete, attachment, REST API). Outside rows are never returned and never written.

Run on the shipped metadata and on tests/fixtures/metadata/scoped (a register per scope kind)."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.metadata import load_registry
from tests.conftest import FIXTURES, ROOT
from tests.helpers import FormClient, login, visible_text

from . import factory

READ_KINDS = ("jurisdiction", "department", "own_enterprise", "own_records")


def _cases(root: Path, app_fixture: str) -> list:
    registry = load_registry([root])
    cases = []
    for spec in registry.registers.values():
        if not spec.menu:
            continue
        for rule in spec.access:
            for role in rule.roles:
                cases.append(pytest.param(app_fixture, spec.name, role, id=f"{app_fixture}-{spec.name}-{role}"))
        ruled = {r for rule in spec.access for r in rule.roles}
        for role in sorted(set(registry.roles) - ruled)[:1]:
            cases.append(pytest.param(app_fixture, spec.name, role, id=f"{app_fixture}-{spec.name}-{role}-none"))
    return cases


CASES = _cases(ROOT / "metadata", "app") + _cases(FIXTURES / "metadata" / "scoped", "scoped_app")


@pytest.fixture(scope="session")
def scoped_app(tmp_path_factory):
    from tests.conftest import make_app
    from sqlalchemy.engine import make_url
    from tests.conftest import PG_BASE
    return make_app(make_url(PG_BASE).database + "_scoped", tmp_path_factory.mktemp("scoped"),
                    metadata_dirs=[FIXTURES / "metadata" / "scoped"])


class Row:
    def __init__(self, row_id: int):
        self.id = row_id


class Case:
    """One register, one role: the actor, its rows inside the scope and one row outside per scope kind."""

    def __init__(self, app, register: str, role: str):
        self.app, self.register = app, register
        svc = self.svc = app.extensions["safety"]
        self.spec = svc.registry.register(register)
        self.rules = [r for r in self.spec.access if role in r.roles]
        self.actions = set().union(*(r.action_set for r in self.rules)) if self.rules else set()
        with app.app_context():  # outside a request the engine acts as the system: no scope
            self.home = factory.make_org(svc)
            self.other_org = factory.make_org(svc, region="2113", department=factory.AWAY_DEPARTMENT)
            kind = svc.registry.roles[role].kind
            self.key = None
            if kind == "enterprise":
                accounts = svc.registry.enterprise_accounts
                company = factory.make_row(svc, accounts.target, self._anchors(accounts.target, {}, factory.make_uscc()))
                self.key = getattr(company, accounts.login)
            self.user = factory.make_user(app, role, self.home if kind != "enterprise" else None, self.key)
            anchors, system = self._row_anchors({})
            self.inside = factory.make_row(svc, register, anchors, **system)
            kinds = {k for rule in self.rules for k in rule.scope}
            self.outside = {}
            for k in sorted(kinds):
                if k in READ_KINDS + ("own_organisation_edits",):
                    anchors, system = self._row_anchors({k: False})
                    self.outside[k] = factory.make_row(svc, register, anchors, **system)
            # plain ids: the rows and the account outlive this session
            self.inside = Row(self.inside.id)
            self.outside = {k: Row(r.id) for k, r in self.outside.items()}
            self.username = self.user.username
        self.client = FormClient(app.test_client())
        login(self.client, self.username, factory.PASSWORD)
        auth = base64.b64encode(f"{self.username}:{factory.PASSWORD}".encode()).decode()
        self.api_headers = {"Authorization": f"Basic {auth}"}

    def _anchors(self, register: str, inside: dict[str, bool], key: str | None) -> dict:
        svc = self.svc
        spec = svc.registry.register(register)
        own = spec.ownership
        direct: dict = {}
        through: dict[str, dict] = {}

        def put(path: str, value) -> None:
            head, _, tail = path.partition(".")
            (through.setdefault(head, {}).__setitem__(tail, value) if tail else direct.__setitem__(head, value))

        if own.region:
            put(own.region, factory.HOME_TOWNSHIP if inside.get("jurisdiction", True) else factory.AWAY_TOWNSHIP)
        if own.department:
            put(own.department, factory.HOME_DEPARTMENT if inside.get("department", True) else factory.AWAY_DEPARTMENT)
        if own.enterprise:
            login_field = svc.registry.enterprise_accounts.login
            value = key if inside.get("own_enterprise", True) and key else factory.make_uscc()
            if own.enterprise == "self":
                direct[login_field] = value
            else:
                through.setdefault(own.enterprise, {})[login_field] = value
        for ref, values in through.items():
            target = spec.field(ref).target
            direct[ref] = factory.make_row(svc, target, {**self._anchors(target, inside, key), **values})
        return direct

    def _row_anchors(self, inside: dict[str, bool]) -> tuple[dict, dict]:
        system = {"created_by_id": self.user.id if inside.get("own_records", True) else 0,
                  "organisation_id": self.home.id if inside.get("own_organisation_edits", True)
                  else self.other_org.id}
        return self._anchors(self.register, inside, self.key), system

    # ---------------------------------------------------------------- paths
    def listed(self) -> tuple[int, set[int], str]:
        response = self.client.get(f"/r/{self.register}/list/?size=500")
        html = response.get_data(as_text=True)
        return response.status_code, {int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)}, visible_text(html)

    def listed_by_id(self, ids: list[int]) -> set[int]:
        """The list asked for explicit rows (a filter: the page is chosen among the matches)."""
        query = "&".join(f"ids={i}" for i in ids)
        html = self.client.get(f"/r/{self.register}/list/?size=500&{query}").get_data(as_text=True)
        return {int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)}

    def looked_up(self) -> tuple[int, set[int]]:
        response = self.client.get(f"/r/{self.register}/lookup?q=")
        return response.status_code, {r["id"] for r in (response.get_json() or {}).get("results", [])}

    def api_listed(self) -> tuple[int, set[int]]:
        response = self.client.get(f"/api/v1/{self.register}/?size=500", headers=self.api_headers)
        return response.status_code, {item["id"] for item in (response.get_json() or {}).get("items", [])}

    def stored(self, row_id: int) -> dict:
        model = self.svc.models[self.register]
        with self.app.app_context():
            row = self.svc.session.execute(select(model).where(model.id == row_id)
                                           .execution_options(include_all_rows=True)).scalar_one_or_none()
            return {} if row is None else {c.name: getattr(row, c.name) for c in model.__table__.columns}

    def audit_count(self, row_id: int) -> int:
        audit = self.svc.models.engine["AuditLog"]
        with self.app.app_context():
            return len(self.svc.session.scalars(select(audit.id).where(audit.register == self.register,
                                                                       audit.row_id == row_id)).all())


@pytest.mark.parametrize("app_fixture,register,role", CASES)
def test_rows_outside_the_scope_are_never_read_nor_written(request, app_fixture, register, role):
    app = request.getfixturevalue(app_fixture)
    case = Case(app, register, role)

    if "view" not in case.actions:
        assert case.listed()[0] == 403
        assert case.looked_up()[0] == 403
        assert case.api_listed()[0] == 403
        assert case.client.get(f"/r/{register}/show/{case.inside.id}").status_code == 403
        return

    status, listed, text = case.listed()
    assert status == 200 and case.inside.id in listed
    count = re.search(r"(?:共|about|more than)?\s*([\d,]+)\s*(?:条|records)", text)
    assert count and int(count.group(1).replace(",", "")) == len(listed), "the count includes hidden rows"
    assert case.inside.id in case.looked_up()[1]
    asked = [case.inside.id] + [row.id for row in case.outside.values()]
    readable = {case.inside.id} | {row.id for kind, row in case.outside.items() if kind not in READ_KINDS}
    assert case.listed_by_id(asked) == readable
    assert case.inside.id in case.api_listed()[1]

    for kind, row in case.outside.items():
        before = case.stored(row.id)
        audits = case.audit_count(row.id)
        if kind in READ_KINDS:
            assert row.id not in listed, f"{kind}: listed"
            assert row.id not in case.looked_up()[1], f"{kind}: lookup"
            assert row.id not in case.api_listed()[1], f"{kind}: api list"
            assert case.client.get(f"/r/{register}/show/{row.id}").status_code == 403, kind
            # the API answers a row outside the scope as a row that does not exist
            assert case.client.get(f"/api/v1/{register}/{row.id}", headers=case.api_headers).status_code == 404
            assert case.client.get(f"/r/{register}/attachment/{row.id}/x/0").status_code in (403, 404)
        else:  # own_organisation_edits: every organisation's rows are read, only the own ones written
            assert row.id in listed

        if "edit" in case.actions:
            edit = case.client.post_form(f"/r/{register}/edit/{row.id}", {},
                                         page_url=f"/r/{register}/edit/{case.inside.id}")
            assert edit.status_code == 403, f"{kind}: edit answered {edit.status_code}"
            put = case.client.client.put(f"/api/v1/{register}/{row.id}", json={}, headers=case.api_headers)
            assert put.status_code == (404 if kind in READ_KINDS else 403), f"{kind}: api put answered {put.status_code}"
        if "delete" in case.actions:
            delete = case.client.post_form(f"/r/{register}/delete/{row.id}", {}, page_url=f"/r/{register}/list/")
            assert delete.status_code == 403, f"{kind}: delete answered {delete.status_code}"
            gone = case.client.client.delete(f"/api/v1/{register}/{row.id}", headers=case.api_headers)
            assert gone.status_code == (404 if kind in READ_KINDS else 403)
        assert case.stored(row.id) == before, f"{kind}: the row changed"
        assert case.audit_count(row.id) == audits, f"{kind}: a refused write left an audit row"

    if "edit" in case.actions:
        assert case.client.get(f"/r/{register}/edit/{case.inside.id}").status_code == 200
    else:
        assert case.client.get(f"/r/{register}/edit/{case.inside.id}").status_code == 403
    if "add" not in case.actions:
        assert case.client.get(f"/r/{register}/add").status_code == 403
        assert case.client.client.post(f"/api/v1/{register}/", json={}, headers=case.api_headers).status_code == 403
