"""Exports: the list's rows in the user's scope, titles and labels in the user's language, formulas neutralised."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.security import factory
from tests.security.test_writes import _client


def _rows(app, n_home=3, n_away=2, **extra):
    svc = app.extensions["safety"]
    with app.app_context():
        for i in range(n_home):
            factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency",
                                                 "grade": "A", "name": f"新北企业{i}", **extra})
        for i in range(n_away):
            factory.make_row(svc, "enterprise", {"region": factory.AWAY_TOWNSHIP, "department": "emergency",
                                                 "name": f"朝阳企业{i}"})


def _sheet(response):
    assert response.status_code == 200, response.status_code
    return [list(r) for r in openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(values_only=True)]


def test_a_county_regulators_export_holds_only_its_county(db_app):
    _rows(db_app)
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        regulator = factory.make_user(db_app, "regulator", factory.make_org(svc)).username
    client = _client(db_app, regulator)
    rows = _sheet(client.get("/r/enterprise/export?format=xlsx"))
    assert rows[0][:4] == ["企业名称", "统一社会信用代码", "企业类型", "属地"]
    names = sorted(r[0] for r in rows[1:])
    assert names == ["新北企业0", "新北企业1", "新北企业2"]
    # the ids of rows outside the county are ignored even when asked for by name
    with db_app.app_context():
        model = svc.models["enterprise"]
        away = [r.id for r in svc.session.query(model).execution_options(include_all_rows=True)
                if r.name.startswith("朝阳")]
    selected = _sheet(client.get("/r/enterprise/export?format=xlsx&" + "&".join(f"ids={i}" for i in away)))
    assert selected[1:] == []


def test_export_follows_filters_language_and_labels(admin, db_app):
    _rows(db_app, n_home=2, n_away=1)
    rows = _sheet(admin.get("/r/enterprise/export?format=xlsx&f.region=3204"))
    assert len(rows) == 3
    assert rows[1][2] == "危险物品类 / 危险化学品生产单位" or rows[1][2].endswith("单位")
    assert rows[1][3] == "江苏省 / 常州市 / 新北区 / 春江街道" and rows[1][9] == "A级"
    admin.get("/lang/en")
    english = _sheet(admin.get("/r/enterprise/export?format=xlsx&f.region=3204"))
    assert english[0][:2] == ["Enterprise name", "Unified social credit code"] and english[1][9] == "Grade A"
    text = admin.get("/r/enterprise/export?format=csv&f.region=3204").data.decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0][0] == "Enterprise name" and len(parsed) == 3


def test_formulas_are_neutralised(admin, db_app):
    _rows(db_app, n_home=1, n_away=0, address="=HYPERLINK(\"http://evil.example\",\"点击\")",
          legal_representative="+1+cmd|' /C calc'!A0")
    workbook = openpyxl.load_workbook(io.BytesIO(admin.get("/r/enterprise/export?format=xlsx").data))
    cell = workbook.worksheets[0]["E2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK") and cell.quotePrefix
    assert workbook.worksheets[0]["F2"].data_type == "s"
    text = admin.get("/r/enterprise/export?format=csv").data.decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[4].startswith("'=HYPERLINK") and row[5].startswith("'+1+cmd")


def test_a_large_export_runs_as_a_job_with_a_download_link(admin, db_app):
    _rows(db_app, n_home=12, n_away=0)
    db_app.config["EXPORT_INLINE_ROWS"] = 10
    try:
        response = admin.get("/r/enterprise/export?format=xlsx")
        assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
        status = admin.get(response.headers["Location"] + ".json").get_json()
        assert status["status"] == "done" and status["done"] == 12
        assert len(_sheet(admin.get(response.headers["Location"] + "/file"))) == 13
    finally:
        db_app.config["EXPORT_INLINE_ROWS"] = 10_000


def test_an_unfiltered_export_past_the_limit_runs_as_a_job_once_postgresql_has_statistics(admin, db_app):
    """Unfiltered, a count past the inline limit is PostgreSQL's estimate from its statistics (autovacuum keeps
    them): the export of the whole register is a job then too, not a file written inside the request."""
    from sqlalchemy import text

    _rows(db_app, n_home=12, n_away=0)
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        svc.session.execute(text("ANALYZE reg_enterprise"))
        svc.session.commit()
        assert svc.session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'reg_enterprise'")
                                   ).scalar() == 12
    db_app.config["EXPORT_INLINE_ROWS"] = 10
    try:
        response = admin.get("/r/enterprise/export?format=xlsx")
        assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
        assert admin.get(response.headers["Location"] + ".json").get_json()["done"] == 12
        assert len(_sheet(admin.get(response.headers["Location"] + "/file"))) == 13
        # filtered to fewer rows than the limit, the file comes at once
        assert len(_sheet(admin.get("/r/enterprise/export?format=xlsx&q=新北企业1"))) == 4  # 1, 10, 11
    finally:
        db_app.config["EXPORT_INLINE_ROWS"] = 10_000


def test_export_needs_the_export_permission(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP})
        factory.make_user(db_app, "enterprise_user", enterprise_key=row.uscc)
        code = row.uscc
    client = _client(db_app, code)
    assert client.get("/r/enterprise/export?format=xlsx").status_code == 403
    assert client.get("/r/enterprise/import").status_code == 403
    assert client.get("/r/enterprise/template").status_code == 403


def test_the_rust_writer_writes_what_xlsxwriter_writes(admin, db_app, monkeypatch):
    """The default writer (rustpy-xlsxwriter) and the fallback (xlsxwriter) give the same cells: values, types,
    date formats, bold titles, the frozen first row; formula-looking text stays text in both."""
    from app.excel.export import rust_writer_available
    _rows(db_app, n_home=3, n_away=1, established_on=__import__("datetime").date(2019, 5, 17),
          address="=HYPERLINK(\"http://evil.example\")")
    with db_app.app_context():
        assert rust_writer_available()
    books = {}
    for rust in (True, False):
        monkeypatch.setitem(db_app.config, "EXPORT_RUST_WRITER", rust)
        books[rust] = openpyxl.load_workbook(io.BytesIO(admin.get("/r/enterprise/export?format=xlsx").data))
    fast, slow = books[True].worksheets[0], books[False].worksheets[0]
    cells = lambda sheet: [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]  # noqa: E731
    differ = [(r, c, a, b) for r, (ra, rb) in enumerate(zip(cells(fast), cells(slow)), start=1)
              for c, (a, b) in enumerate(zip(ra, rb), start=1) if a != b]
    assert not differ and fast.max_row == slow.max_row == 5, differ[:5]
    assert fast.freeze_panes == slow.freeze_panes == "A2"
    assert all(c.font.b for c in fast[1]) and fast.title == slow.title
    dates = [c for c in fast[2] if c.data_type == "d"]
    assert dates and {c.number_format for c in dates} <= {"yyyy-mm-dd", "yyyy-mm-dd hh:mm"}
    assert [c.number_format for c in fast[2] if c.data_type == "d"] == \
        [c.number_format for c in slow[2] if c.data_type == "d"]
    address = next(c for row in fast.iter_rows(min_row=2) for c in row
                   if isinstance(c.value, str) and c.value.startswith("=HYPERLINK"))
    assert address.data_type == "s" and address.quotePrefix


@pytest.mark.parametrize("batch", [2000, 2])
def test_the_batched_cells_are_the_cells_row_by_row(db_app, monkeypatch, batch):
    """The export converts a batch column by column (labels by stored value, a region's path from its parent's):
    the same cells as ``_value`` reading each row, in either language, empty text and missing codes included.
    With batches of 2, the batches after the first are read from the driver's cursor: the first row, which the
    cursor result read ahead on execution, is still there, and no row comes twice."""
    from datetime import date

    from app.excel import export
    monkeypatch.setattr(export, "BATCH", batch)

    from flask_babel import force_locale

    from app.excel.export import _value, export_columns, row_batches, rows_to_export
    from app.i18n import current_locale
    from app.security.actor import acting_as, actor_for
    _rows(db_app, n_home=3, n_away=2, established_on=date(2019, 5, 17), phone="", licence_expires_on=date(2030, 1, 2))
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        factory.make_row(svc, "enterprise", {"region": "3204", "department": "emergency", "name": "市级企业"})
    with db_app.test_request_context():
        spec = svc.registry.register("enterprise")
        with acting_as(actor_for(db_app.appbuilder.sm.find_user(username="admin"))):
            for locale in ("zh_Hans", "en"):
                with force_locale(locale):
                    columns = export_columns(spec)
                    labels: dict = {}
                    expected = [tuple(_value(c, row, svc.dictionaries, current_locale(), labels) for c in columns)
                                for row in rows_to_export(spec, {"sort": ["id"]})]
                    batched = [row for batch in row_batches(spec, {"sort": ["id"]}, columns, svc.dictionaries,
                                                            current_locale()) for row in batch]
                    assert batched == expected and len(batched) == 6
                    assert any(None in row for row in batched)
    regions = {row[3] for row in batched}
    assert {r for r in regions if r and r.count(" / ") == 1}, regions  # the city's path: a node's, not a leaf's


def test_the_server_side_cursor_is_closed_when_the_export_ends_or_stops(db_app, monkeypatch):
    """Read to its end through the driver, or left after its first batch, the export's cursor is closed before the
    session goes on (PostgreSQL's pg_cursors, seen from the same transaction, is empty)."""
    from sqlalchemy import text as sql

    from app.excel import export
    from app.security.actor import acting_as, actor_for
    _rows(db_app, n_home=5, n_away=0)
    monkeypatch.setattr(export, "BATCH", 2)
    svc = db_app.extensions["safety"]
    with db_app.test_request_context():
        spec = svc.registry.register("enterprise")
        with acting_as(actor_for(db_app.appbuilder.sm.find_user(username="admin"))):
            columns = export.export_columns(spec)
            whole = [row for batch in export.row_batches(spec, {"sort": ["id"]}, columns, svc.dictionaries, "zh_Hans")
                     for row in batch]
            assert len(whole) == 5
            assert svc.session.execute(sql("SELECT count(*) FROM pg_cursors")).scalar() == 0
            batches = export.row_batches(spec, {"sort": ["id"]}, columns, svc.dictionaries, "zh_Hans")
            assert len(next(batches)) == 2
            assert svc.session.execute(sql("SELECT count(*) FROM pg_cursors")).scalar() == 1  # still being read
            batches.close()
            assert svc.session.execute(sql("SELECT count(*) FROM pg_cursors")).scalar() == 0
