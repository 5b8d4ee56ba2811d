"""Path × role matrix, generated from the metadata: for every register and every role of its access rules,
rows inside and outside the role's scope are read and written through every path (list, count, show, lookup,
edit, delete, stored files, REST API, export as xlsx and csv, documents as PDF and zip, workflow transitions,
import by key, history, the resource map's layer, radius search and popups, the charts plugin's chart data,
warnings, the random draw's pool and the enterprise under review of its people draws). Outside rows are never returned and never written.

Run on the shipped metadata and on tests/fixtures/metadata/scoped (a register per scope kind, and `permit`
with every path). Each path reports what leaked instead of stopping at the first assertion, so that
test_the_matrix_detects_leaks can switch the row scope off and see every path fail."""
from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from app.metadata import load_registry
from tests.conftest import FIXTURES, ROOT
from tests.helpers import FormClient, login, visible_text

from . import factory

READ_KINDS = ("jurisdiction", "department", "own_enterprise", "own_records", "goods_class")
#: where the rows of a register on the resource map are placed (常州市新北区)
MAP_POINT = (31.9, 119.9)


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
    from config import TestConfig
    from sqlalchemy.engine import make_url
    from tests.conftest import EAGER, PG_BASE, make_app
    return make_app(make_url(PG_BASE).database + "_scoped", tmp_path_factory.mktemp("scoped"),
                    metadata_dirs=[FIXTURES / "metadata" / "scoped"], CELERY={**TestConfig.CELERY, **EAGER})


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
            if svc.registry.register(register).ownership.organisation:
                factory.make_org(svc, region=factory.HOME_REGION[:4], level="city")  # a city 审核机关 exists too
            self.inside = factory.make_row(svc, register, anchors, **system)
            own_org = svc.registry.register(register).ownership.organisation
            if own_org:
                # the engine assigns the row to the organisation of its place, department and level (审核机关,
                # organisation_of): the account belongs to the one the inside row was given
                assigned = getattr(self.inside, f"{own_org}_id")
                assert assigned is not None, f"{register}: the inside row was assigned no organisation"
                self.user.organisation_id = assigned
                svc.session.commit()
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
            self.files = self._store_files()
            self.mapped = self._place_points()
            self.history_entries = self._history_entries()
            self.warnings = self._warnings()
        self.client = FormClient(app.test_client())
        login(self.client, self.username, factory.PASSWORD)
        auth = base64.b64encode(f"{self.username}:{factory.PASSWORD}".encode()).decode()
        self.api_headers = {"Authorization": f"Basic {auth}"}
        self.leaks: dict[str, list[str]] = {}

    def expect(self, path: str, holds: bool, what: str) -> None:
        """Record a leak (or a path that stopped working) of ``path`` instead of stopping at the first one."""
        if not holds:
            self.leaks.setdefault(path, []).append(what)

    def _store_files(self) -> dict[str, bytes]:
        """A real stored file on the first attachment field of every row made here (the download must be able to
        find it: a missing field or file would answer 404 before the row is looked up)."""
        field = next((f for f in self.spec.stored_fields if f.type in ("attachment", "image")), None)
        if field is None:
            return {}
        model, files = self.svc.models[self.register], {}
        for row in [self.inside, *self.outside.values()]:
            content = f"%PDF-1.4 stored file of {self.register} #{row.id}".encode()
            record = self.svc.files.save(self.register, f"file-{row.id}.pdf", io.BytesIO(content))
            self.svc.session.execute(update(model).where(model.id == row.id).values({field.name: [record]}))
            files[row.id] = content
        self.svc.session.commit()
        self.file_field = field.name
        return files

    def _place_points(self) -> bool:
        """Every row made here at one point, when the register is a layer of the resource map (plugins/gis_map)."""
        point = self.spec.map_point
        if not point or "gis_map" not in self.app.extensions:
            return False
        model = self.svc.models[self.register]
        ids = [self.inside.id] + [row.id for row in self.outside.values()]
        self.svc.session.execute(update(model).where(model.id.in_(ids)).values(
            {f"{point}_lat": MAP_POINT[0], f"{point}_lng": MAP_POINT[1]}))
        self.svc.session.commit()
        return True

    def mapped_ids(self) -> tuple[int, set[int], set[int]]:
        """(status, ids on the map layer, ids found by a 1 km radius search around the rows' point)."""
        layer = self.client.get(f"/gis_map/layer/{self.register}.json")
        on_layer = {row[0] for row in (layer.get_json() or {}).get("rows", [])} if layer.status_code == 200 else set()
        search = self.client.get(f"/gis_map/search.json?lat={MAP_POINT[0]}&lng={MAP_POINT[1]}&radius=1"
                                 f"&layer={self.register}")
        found = {r["id"] for r in (search.get_json() or {}).get("rows", []) if r["layer"] == self.register} \
            if search.status_code == 200 else set()
        return layer.status_code, on_layer, found

    def _history_entries(self) -> dict[int, int]:
        """A step of the row's timeline (办理流程) with a file, for rows of a register with a workflow."""
        if self.spec.workflow is None:
            return {}
        history = self.svc.models.engine["WorkflowHistory"]
        found = {}
        for row in [self.inside, *self.outside.values()]:
            record = self.svc.files.save(f"workflow_{self.register}", "step.pdf", io.BytesIO(b"%PDF-1.4 step"))
            entry = history(register=self.register, row_id=row.id, transition="test", from_state="a", to_state="b",
                            at=datetime.now(), username="system", attachments=[record])
            self.svc.session.add(entry)
            self.svc.session.flush()
            found[row.id] = entry.id
        self.svc.session.commit()
        return found

    def _warnings(self) -> dict[int, int]:
        """An open warning (预警) on every row made here, for registers that warnings watch: row id → warning id."""
        rules = self.svc.registry.warnings_of(self.register)
        if not rules:
            return {}
        model = self.svc.models.engine["Warning"]
        found = {}
        for row in [self.inside, *self.outside.values()]:
            warning = model(rule=rules[0].name, register=self.register, row_id=row.id, cause="", level=rules[0].level,
                            state="open", opened_at=datetime.now())
            self.svc.session.add(warning)
            self.svc.session.flush()
            found[row.id] = warning.id
        self.svc.session.commit()
        return found

    def warned(self) -> set[int]:
        """The rows whose warning the warning list (/warnings/) shows."""
        html = self.client.get(f"/warnings/?register={self.register}&state=all").get_data(as_text=True)
        shown = {int(i) for i in re.findall(r'<tr class="warning-row" data-id="(\d+)"', html)}
        return {row_id for row_id, warning_id in self.warnings.items() if warning_id in shown}

    def warning_state(self, row_id: int) -> str:
        model = self.svc.models.engine["Warning"]
        with self.app.app_context():
            return self.svc.session.get(model, self.warnings[row_id]).state

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
        if own.goods_class:
            inside_class, outside_class = factory.goods_classes(svc)
            put(own.goods_class, inside_class if inside.get("goods_class", True) else outside_class)
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
        if key:
            # an enterprise's row refers to its own rows (a waybill to its own vehicle and driver): a required
            # reference to a register of enterprises' own rows is made for the same enterprise
            # (a reference with ``match`` is left to the factory, which makes it agree with this row's enterprise,
            # inside or outside the scope)
            for field in spec.stored_fields:
                if field.type == "reference" and field.required and field.name not in direct and not field.match \
                        and field.target != register and svc.registry.register(field.target).ownership.enterprise:
                    direct[field.name] = factory.make_row(svc, field.target, self._anchors(field.target, {}, key))
        return direct

    def _row_anchors(self, inside: dict[str, bool]) -> tuple[dict, dict]:
        system = {"created_by_id": self.user.id if inside.get("own_records", True) else 0,
                  "organisation_id": self.home.id if inside.get("own_organisation_edits", True)
                  else self.other_org.id}
        return self._anchors(self.register, inside, self.key), system

    # ---------------------------------------------------------------- paths
    def charts(self) -> list[str]:
        """The charts plugin's counting charts of this register without filters of their own (their total is the
        number of rows the user reads), when the plugin is loaded."""
        service = self.app.extensions.get("charts")
        if service is None:
            return []
        return [c.name for c in service.settings.charts.values() if c.source == self.register and not c.filters
                and not c.roles and c.measure.kind == "count" and c.rollup is None]

    def rollups(self) -> list[str]:
        """The charts plugin's roll-ups of this register (campaigns): they count the rows below the tree rows the
        user reads, so their total is at most the rows it reads."""
        service = self.app.extensions.get("charts")
        return [] if service is None else [c.name for c in service.settings.charts.values()
                                           if c.source == self.register and c.rollup is not None]

    def listed(self) -> tuple[int, set[int], str]:
        response = self.client.get(f"/r/{self.register}/list/?size=500")
        html = response.get_data(as_text=True)
        return response.status_code, {int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)}, visible_text(html)

    def listed_by_id(self, ids: list[int]) -> set[int]:
        """The list asked for explicit rows (a filter: the page is chosen among the matches)."""
        query = "&".join(f"ids={i}" for i in ids)
        html = self.client.get(f"/r/{self.register}/list/?size=500&{query}").get_data(as_text=True)
        return {int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)}

    def draw_pools(self) -> list[str]:
        """The random draw's pages (plugins/random_draw) whose rows come from this register: the enterprise pool
        (``pool``) and the enterprise under review of each people draw (``subject:<draw>``)."""
        service = self.app.extensions.get("random_draw")
        if service is None:
            return []
        settings = service.settings
        return (["pool"] if settings.pool.target == self.register else []) + \
            [f"subject:{p.name}" for p in settings.people if p.subject == self.register]

    def drawn_from(self, page: str, ids: list[int]) -> tuple[int, int | None]:
        """What a draw page makes of these rows: the pool size it shows for them asked by id (the enterprise pool)
        or how many of them it accepts as the enterprise under review (people draws); with the page's status."""
        if page == "pool":
            response = self.client.get("/random_draw/?preview=1&" + "&".join(f"ids={i}" for i in ids))
            size = re.search(r'id="pool-size">\D*([\d,]+)', response.get_data(as_text=True))
            return response.status_code, int(size.group(1).replace(",", "")) if size else None
        accepted = 0
        for row_id in ids:
            response = self.client.get(f"/random_draw/people/{page.split(':')[1]}/?subject={row_id}")
            if response.status_code != 200:
                return response.status_code, None
            accepted += f'<option value="{row_id}" selected>' in response.get_data(as_text=True)
        return 200, accepted

    def looked_up(self) -> tuple[int, set[int]]:
        response = self.client.get(f"/r/{self.register}/lookup?q=")
        return response.status_code, {r["id"] for r in (response.get_json() or {}).get("results", [])}

    def api_listed(self) -> tuple[int, set[int]]:
        response = self.client.get(f"/api/v1/{self.register}/?size=500", headers=self.api_headers)
        return response.status_code, {item["id"] for item in (response.get_json() or {}).get("items", [])}

    def exported(self, fmt: str, ids: list[int]) -> tuple[int, int]:
        """(status, data rows) of the export of these rows (the ticked rows of the list) as xlsx or csv."""
        query = "&".join(f"ids={i}" for i in ids)
        response = self.client.get(f"/r/{self.register}/export?format={fmt}&{query}")
        if response.status_code != 200:
            return response.status_code, 0
        data = response.get_data()
        if fmt == "csv":
            rows = [r for r in csv.reader(io.StringIO(data.decode("utf-8-sig"))) if any(c.strip() for c in r)]
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
            rows = [r for r in sheet.iter_rows(values_only=True) if any(c not in (None, "") for c in r)]
        return 200, len(rows) - 1  # the title row

    def numbered(self, row_id: int, document: str) -> bool:
        """Whether the row's document has been given its number (文号)."""
        record = self.svc.models.engine["DocumentRecord"]
        with self.app.app_context():
            return self.svc.session.scalar(select(record.number).where(
                record.register == self.register, record.row_id == row_id, record.document == document)) is not None

    def zipped(self, document: str, ids: list[int]) -> tuple[int, int]:
        query = "&".join(f"ids={i}" for i in ids)
        response = self.client.get(f"/r/{self.register}/documents/{document}.zip?{query}")
        job = re.search(r"/jobs/(\d+)$", response.headers.get("Location", "")) if response.status_code == 302 else None
        if job is None:
            return response.status_code, 0
        # made by a background job (inline in these tests), downloaded from its page
        response = self.client.get(f"/r/{self.register}/jobs/{job.group(1)}/file")
        if response.status_code != 200 or response.mimetype != "application/zip":
            return response.status_code, 0
        return 200, len(zipfile.ZipFile(io.BytesIO(response.get_data())).namelist())

    def transition_for(self, row_id: int) -> str | None:
        """A step that leaves the row's current state, one the role may take if there is one."""
        wf = self.spec.workflow
        state = self.stored(row_id).get(wf.field)
        steps = [t for t in wf.transitions if state in t.from_]
        mine = [t for t in steps if set(t.roles) & {r for rule in self.rules for r in rule.roles}]
        return (mine or steps)[0].name if (mine or steps) else None

    def imported(self, row_id: int, remark: str) -> dict:
        """Upload, in 'add or update' mode, a sheet holding the row with ``row_id`` found by its key (one text
        column changed to ``remark``); returns the job's result."""
        from app.excel.columns import import_columns
        from tests.excel.workbook import fill
        with self.app.app_context():
            columns = import_columns(self.svc.registry, self.spec)
        stored = self.stored(row_id)
        key = set(self.spec.import_.key)
        free = next((c.name for c in columns if c.name not in key and c.field.type in ("string", "text")
                     and not c.field.validators and not getattr(c.field, "unique", False)
                     and (getattr(c.field, "length", None) or 1000) >= len(remark)), None)
        with self.app.test_request_context():
            cells = [remark if c.name == free else self._cell(c.field, stored) for c in columns]
        template = self.client.get(f"/r/{self.register}/template").get_data()
        upload = fill(template, [cells])
        response = self.client.post_form(f"/r/{self.register}/import", {
            "mode": "upsert", "file": (upload, "upsert.xlsx")}, content_type="multipart/form-data")
        job_id = re.search(r"/jobs/(\d+)", response.headers.get("Location", ""))
        assert job_id, f"the import was not started ({response.status_code})"
        model = self.svc.models.engine["Job"]
        with self.app.app_context():
            found = self.svc.session.execute(select(model).where(model.id == int(job_id.group(1)))).scalar_one()
            return {"status": found.status, **json.loads(found.result or "{}")}

    def _cell(self, field, stored: dict):
        """The stored value as a person writes it in the template."""
        dictionaries = self.svc.dictionaries
        if field.type == "reference":
            value = stored.get(f"{field.name}_id")
            return f"#{value}" if value else None
        value = stored.get(field.name)
        if value is None:
            return None
        if field.type == "enum":
            codes = value if isinstance(value, list) else [value]
            return "、".join(dictionaries.label(field.dictionary, c) for c in codes)
        if field.type == "boolean":
            return "是" if value else "否"
        if field.type in ("date", "datetime"):
            return value.isoformat(sep=" ") if field.type == "datetime" else value.isoformat()
        if field.type == "geo":
            return None
        return str(value)

    def stored(self, row_id: int) -> dict:
        model = self.svc.models[self.register]
        with self.app.app_context():
            row = self.svc.session.execute(select(model).where(model.id == row_id)
                                           .execution_options(include_all_rows=True)).scalar_one_or_none()
            return {} if row is None else {c.name: getattr(row, c.name) for c in model.__table__.columns
                                           if hasattr(row, c.name)}  # not a generated *_geog column (PostGIS)

    def audit_count(self, row_id: int) -> int:
        audit = self.svc.models.engine["AuditLog"]
        with self.app.app_context():
            return len(self.svc.session.scalars(select(audit.id).where(audit.register == self.register,
                                                                       audit.row_id == row_id)).all())

    # ---------------------------------------------------------------- the matrix of one case
    def check(self) -> dict[str, list[str]]:
        """Every path, for the inside row and each outside row; returns the leaks by path (empty: none)."""
        if "view" not in self.actions:
            self.check_without_view()
        else:
            self.check_reads()
            for kind, row in self.outside.items():
                self.check_outside(kind, row)
            self.check_inside_writes()
        return self.leaks

    def check_without_view(self) -> None:
        register, inside = self.register, self.inside.id
        expect = self.expect
        expect("list", self.listed()[0] == 403, "list answered")
        expect("lookup", self.looked_up()[0] == 403, "lookup answered")
        expect("api", self.api_listed()[0] == 403, "api list answered")
        expect("show", self.client.get(f"/r/{register}/show/{inside}").status_code == 403, "show answered")
        expect("export", self.client.get(f"/r/{register}/export?format=csv").status_code == 403, "export answered")
        for chart in self.charts() + self.rollups():
            status = self.client.get(f"/charts/{chart}/data").status_code
            expect("chart", status == 404, f"chart {chart} answered {status}")
        for page in self.draw_pools():
            status, counted = self.drawn_from(page, [inside])
            expect("draw", status in (403, 404) or counted == 0, f"{page}: a row it may not view taken ({status})")
        for doc in self.spec.documents[:1]:
            expect("documents", self.client.get(f"/r/{register}/document/{inside}/{doc.name}").status_code == 403,
                   "document answered")
            expect("documents", self.client.get(f"/r/{register}/document/{inside}/{doc.name}/scan").status_code
                   == 403, "the document's stamped scan answered")
        if self.warnings:
            expect("warnings", not self.warned(), "the warning list shows warnings of a register the role may not view")
        if self.files:
            expect("attachment", self.client.get(
                f"/r/{register}/attachment/{inside}/{self.file_field}/0").status_code == 403, "file answered")
        if self.mapped:
            expect("map", self.mapped_ids()[0] == 404, "the map layer answered")

    def check_reads(self) -> None:
        register, inside, expect = self.register, self.inside.id, self.expect
        status, listed, text = self.listed()
        expect("list", status == 200 and inside in listed, f"the inside row is not listed ({status})")
        count = re.search(r"(?:共|about|more than)?\s*([\d,]+)\s*(?:条|records)", text)
        expect("count", bool(count) and int(count.group(1).replace(",", "")) == len(listed),
               "the count includes hidden rows")
        lookup = self.looked_up()[1]
        expect("lookup", inside in lookup, "the inside row is not offered")
        asked = [inside] + [row.id for row in self.outside.values()]
        readable = {inside} | {row.id for kind, row in self.outside.items() if kind not in READ_KINDS}
        by_id = self.listed_by_id(asked)
        expect("list", by_id == readable, f"rows asked by id: {sorted(by_id)}, readable {sorted(readable)}")
        api = self.api_listed()[1]
        expect("api", inside in api, "the inside row is not in the API list")
        for chart in self.charts():
            response = self.client.get(f"/charts/{chart}/data?" + "&".join(f"ids={i}" for i in asked))
            total = (response.get_json() or {}).get("total") if response.status_code == 200 else None
            expect("chart", total == len(readable),
                   f"chart {chart} of {len(asked)} rows asked by id counts {total} ({response.status_code}); "
                   f"{len(readable)} are readable")
        hidden = [row.id for kind, row in self.outside.items() if kind in READ_KINDS]
        charts = self.app.extensions["charts"].settings.charts if self.rollups() else {}
        for chart in self.rollups():
            if charts[chart].by.field in self._hidden():  # grouped by a field the role may not read: refused
                status = self.client.get(f"/charts/{chart}/data").status_code
                expect("chart", status in (403, 404), f"roll-up {chart} by a hidden field answered {status}")
                continue
            counted = []
            for ids in (asked, hidden):
                response = self.client.get(f"/charts/{chart}/data?" + "&".join(f"ids={i}" for i in ids))
                counted.append((response.get_json() or {}).get("total") if response.status_code == 200 else None)
            expect("chart", counted[0] is not None and counted[0] <= len(readable) and counted[1] == 0,
                   f"roll-up {chart}: {counted[0]} of {len(asked)} rows asked ({len(readable)} readable), "
                   f"{counted[1]} of the {len(hidden)} it may not read")
        for page in self.draw_pools():
            status, counted = self.drawn_from(page, asked)
            if status == 200:  # an account that may draw: the rows it may read, never one it may not
                expect("draw", counted == len(readable),
                       f"{page}: {counted} of {len(asked)} rows asked taken; {len(readable)} are readable")
                expect("draw", self.drawn_from(page, hidden)[1] == 0, f"{page}: a row it may not read taken")
            else:
                expect("draw", status in (403, 404), f"{page} answered {status}")
        for kind, row in self.outside.items():
            if kind in READ_KINDS:
                expect("list", row.id not in listed, f"{kind}: listed")
                expect("lookup", row.id not in lookup, f"{kind}: offered by the lookup")
                expect("api", row.id not in api, f"{kind}: in the API list")
        if "export" in self.actions:
            for fmt in ("xlsx", "csv"):
                status, count = self.exported(fmt, asked)
                expect("export", status == 200 and count == len(readable),
                       f"{fmt} export of {len(asked)} ticked rows holds {count} rows ({status}); "
                       f"{len(readable)} are readable")
        else:
            expect("export", self.client.get(f"/r/{register}/export?format=csv").status_code == 403,
                   "export without the right answered")
        for doc in self.spec.documents[:1]:
            response = self.client.get(f"/r/{register}/document/{inside}/{doc.name}")
            if doc.number is not None and self.key is not None:
                # an enterprise reads a numbered document once a regulator has issued it (its 文号): before that
                # it is told so and nothing is numbered; the zip of such documents is the issuing side's
                expect("documents", response.status_code == 302 and not self.numbered(inside, doc.name),
                       f"a document no regulator issued answered {response.status_code} and was numbered")
                expect("documents", self.zipped(doc.name, asked)[1] == 0, "a zip of documents no one issued")
                continue
            expect("documents", response.status_code == 200 and response.mimetype == "application/pdf",
                   f"the inside row's PDF answered {response.status_code}")
            status, count = self.zipped(doc.name, asked)
            expect("documents", status == 200 and count == len(readable),
                   f"the zip of {len(asked)} ticked rows holds {count} PDFs ({status}); {len(readable)} readable")
        if self.files and self.file_field not in self._hidden():
            response = self.client.get(f"/r/{register}/attachment/{inside}/{self.file_field}/0")
            expect("attachment", response.status_code == 200 and response.get_data() == self.files[inside],
                   f"the inside row's file answered {response.status_code}")
        if self.mapped and self.spec.map_point not in self._hidden():
            status, on_layer, found = self.mapped_ids()
            expect("map", status == 200 and inside in on_layer and inside in found,
                   f"the inside row is not on the map ({status})")
            for kind, row in self.outside.items():
                if kind in READ_KINDS:
                    expect("map", row.id not in on_layer, f"{kind}: on the map layer")
                    expect("map", row.id not in found, f"{kind}: found by the radius search")
                    popup = self.client.get(f"/gis_map/popup/{register}/{row.id}.json").status_code
                    expect("map", popup == 404, f"{kind}: the popup answered {popup}")
        if self.warnings:
            warned = self.warned()
            expect("warnings", inside in warned, "the inside row's warning is not listed")
            for kind, row in self.outside.items():
                if kind in READ_KINDS:
                    expect("warnings", row.id not in warned, f"{kind}: its warning is listed")
        if self.history_entries:
            entry = self.history_entries[inside]
            expect("history", self.client.get(f"/r/{register}/history/{inside}/{entry}/0").status_code == 200,
                   "the inside row's step file is not served")

    def _hidden(self) -> frozenset[str]:
        hidden = [set(rule.hidden) for rule in self.rules if "view" in rule.action_set]
        return frozenset(set.intersection(*hidden)) if hidden else frozenset()

    def check_outside(self, kind: str, row: Row) -> None:
        register, expect, client = self.register, self.expect, self.client
        before = self.stored(row.id)
        audits = self.audit_count(row.id)
        if kind in READ_KINDS:
            show = client.get(f"/r/{register}/show/{row.id}")
            expect("show", show.status_code == 403, f"{kind}: show answered {show.status_code}")
            # 修改记录 is a tab of the row's page: refused with it, and nothing of the row's history is shown
            title = before.get(self.spec.title_field)
            shown = isinstance(title, str) and len(title) > 3 and title in visible_text(show.get_data(as_text=True))
            expect("history", show.status_code == 403 and not shown,
                   f"{kind}: the row's page and its 修改记录 answered {show.status_code}")
            if row.id in self.history_entries:
                step = client.get(f"/r/{register}/history/{row.id}/{self.history_entries[row.id]}/0")
                expect("history", step.status_code == 403, f"{kind}: a step file answered {step.status_code}")
                steps = client.get(f"/api/v1/{register}/{row.id}/transitions", headers=self.api_headers)
                expect("history", steps.status_code in (403, 404), f"{kind}: api timeline answered {steps.status_code}")
            # the API answers a row outside the scope as a row that does not exist
            api = client.get(f"/api/v1/{register}/{row.id}", headers=self.api_headers)
            expect("api", api.status_code == 404, f"{kind}: api get answered {api.status_code}")
            if self.files:
                download = client.get(f"/r/{register}/attachment/{row.id}/{self.file_field}/0")
                expect("attachment", download.status_code == 403,
                       f"{kind}: the stored file answered {download.status_code}")
            for doc in self.spec.documents[:1]:
                pdf = client.get(f"/r/{register}/document/{row.id}/{doc.name}")
                expect("documents", pdf.status_code == 403, f"{kind}: the PDF answered {pdf.status_code}")
                scan = client.get(f"/r/{register}/document/{row.id}/{doc.name}/scan")
                expect("documents", scan.status_code == 403, f"{kind}: its stamped scan answered {scan.status_code}")
                if doc.scan:
                    sent = client.post_form(f"/r/{register}/document/{row.id}/{doc.name}/scan",
                                            {"file": (io.BytesIO(b"%PDF-1.4 leak"), "leak.pdf")},
                                            page_url="/workflow/inbox", content_type="multipart/form-data")
                    expect("documents", sent.status_code == 403,
                           f"{kind}: uploading a stamped scan answered {sent.status_code}")
            if self.warnings:
                closed = client.post_form(f"/warnings/{self.warnings[row.id]}/close", {"reason": "leak"},
                                          page_url="/workflow/inbox")
                expect("warnings", closed.status_code in (403, 404) and self.warning_state(row.id) == "open",
                       f"{kind}: closing its warning answered {closed.status_code}")
        if "edit" in self.actions:
            edit = client.post_form(f"/r/{register}/edit/{row.id}", {},
                                    page_url=f"/r/{register}/edit/{self.inside.id}")
            expect("edit", edit.status_code == 403, f"{kind}: edit answered {edit.status_code}")
            put = client.client.put(f"/api/v1/{register}/{row.id}", json={}, headers=self.api_headers)
            expect("edit", put.status_code == (404 if kind in READ_KINDS else 403),
                   f"{kind}: api put answered {put.status_code}")
        if "delete" in self.actions:
            delete = client.post_form(f"/r/{register}/delete/{row.id}", {}, page_url=f"/r/{register}/list/")
            expect("delete", delete.status_code == 403, f"{kind}: delete answered {delete.status_code}")
            gone = client.client.delete(f"/api/v1/{register}/{row.id}", headers=self.api_headers)
            expect("delete", gone.status_code == (404 if kind in READ_KINDS else 403),
                   f"{kind}: api delete answered {gone.status_code}")
        if self._imports_by_key():
            result = self.imported(row.id, "leak by import")
            expect("import", not result.get("written") and not result.get("updated"),
                   f"{kind}: the import by key wrote {result}")
        if kind in READ_KINDS:  # last: a step taken would freeze the row for the paths above
            step = self.transition_for(row.id) if self.spec.workflow else None
            if step:
                taken = client.post_form(f"/r/{register}/transition/{row.id}/{step}", {"comment": "leak"},
                                         page_url="/workflow/inbox")  # a page with a token for every account
                expect("transition", taken.status_code == 403, f"{kind}: {step} answered {taken.status_code}")
                api_step = client.client.post(f"/api/v1/{register}/{row.id}/transitions/{step}",
                                              json={"comment": "leak"}, headers=self.api_headers)
                expect("transition", api_step.status_code in (403, 404),
                       f"{kind}: api {step} answered {api_step.status_code}")
        expect("write", self.stored(row.id) == before, f"{kind}: the row changed")
        expect("write", self.audit_count(row.id) == audits, f"{kind}: a refused write left an audit row")

    def _imports_by_key(self) -> bool:
        imp = self.spec.import_
        return "import" in self.actions and imp is not None and bool(imp.key) and not imp.into

    def check_inside_writes(self) -> None:
        """The write paths work on the inside row: a refusal of an outside row is the scope, not a broken path."""
        register, inside = self.register, self.inside.id
        edit = self.client.get(f"/r/{register}/edit/{inside}").status_code
        self.expect("edit", edit == (200 if "edit" in self.actions else 403), f"the inside row's edit answered {edit}")
        if "add" not in self.actions:
            self.expect("add", self.client.get(f"/r/{register}/add").status_code == 403, "add answered")
            post = self.client.client.post(f"/api/v1/{register}/", json={}, headers=self.api_headers)
            self.expect("add", post.status_code == 403, f"api add answered {post.status_code}")
        if self._imports_by_key():
            result = self.imported(inside, "changed by import")
            self.expect("import", result.get("written") and result.get("updated") == 1,
                        f"the import by key of the inside row did not update it: {result.get('problems') or result}")


@pytest.mark.parametrize("app_fixture,register,role", CASES)
def test_rows_outside_the_scope_are_never_read_nor_written(request, app_fixture, register, role):
    app = request.getfixturevalue(app_fixture)
    assert Case(app, register, role).check() == {}


# ---------------------------------------------------------------- the matrix can fail
READ_PATHS = {"list", "lookup", "api", "show", "export", "documents", "attachment", "history", "transition",
              "warnings"}
WRITE_PATHS = {"edit", "delete", "import", "write"}
SAMPLE = [("permit", "chief"), ("permit", "officer"), ("permit", "owner")]


def _leaks_of_sample(app) -> dict[str, list[str]]:
    leaks: dict[str, list[str]] = {}
    for register, role in SAMPLE:
        for path, found in Case(app, register, role).check().items():
            leaks.setdefault(path, []).extend(found)
    return leaks


@pytest.fixture
def query_scope_off():
    """The row scope's query hook (do_orm_execute) removed for one test."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.security import row_scope
    event.remove(Session, "do_orm_execute", row_scope._scope_query)
    yield
    event.listen(Session, "do_orm_execute", row_scope._scope_query)


def test_the_matrix_detects_leaks_when_the_query_hook_is_off(scoped_app, query_scope_off):
    leaks = _leaks_of_sample(scoped_app)
    assert READ_PATHS <= set(leaks), f"paths that saw no leak with the row scope off: {READ_PATHS - set(leaks)}"


def test_the_matrix_detects_writes_when_the_write_scope_is_off(scoped_app, query_scope_off, monkeypatch):
    from app.security.policy import AccessPolicy
    monkeypatch.setattr(AccessPolicy, "row_in_scope", lambda *args, **kwargs: True)
    monkeypatch.setattr(AccessPolicy, "write_condition", lambda *args, **kwargs: None)
    leaks = _leaks_of_sample(scoped_app)
    assert WRITE_PATHS <= set(leaks), f"paths that saw no leak with the write scope off: {WRITE_PATHS - set(leaks)}"
