"""An import streams its rows in chunks (read, checked and written chunk by chunk in one transaction), so memory
does not grow with the file; all or nothing still holds across chunks, and so do the checks that span them."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from tests.helpers import visible_text

from .test_import import _count, _upload
from .workbook import code, enterprise_row, fill


def _assert_nothing_written(db_app):
    """No enterprise, no audit row of one, and no account for row 5 (of the first chunk, written before the
    failure)."""
    assert _count(db_app, "enterprise") == 0
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        audit = svc.models.engine["AuditLog"]
        assert svc.session.execute(select(func.count()).select_from(audit)
                                   .where(audit.register == "enterprise")).scalar_one() == 0
        assert db_app.appbuilder.sm.find_user(username=code(5)) is None


def test_a_wrong_row_in_the_last_chunk_undoes_the_chunks_already_written(admin, db_app, monkeypatch):
    from app.excel import importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    template = admin.get("/r/enterprise/template").data
    rows = [enterprise_row(n) for n in range(1, 70)] + [enterprise_row(70, enterprise_type="燃气公司")]
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "1 行中发现 1 个问题，未写入任何数据" in page and "“燃气公司”不在可选范围内" in page
    _assert_nothing_written(db_app)
    # the same rows, corrected: every chunk is written, once
    rows[-1] = enterprise_row(70)
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "完成：新增 70 条" in page and _count(db_app, "enterprise") == 70


def test_a_duplicate_far_from_its_first_row_is_found_across_chunks(admin, db_app, monkeypatch):
    from app.excel import importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    template = admin.get("/r/enterprise/template").data
    rows = [enterprise_row(n) for n in range(1, 60)] + [enterprise_row(1, name="第二次出现")]
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "重复于文件第 2 行" in page and _count(db_app, "enterprise") == 0
    # a check-only run streams the same way and writes nothing
    job_url, page = _upload(admin, "enterprise", fill(template, rows[:-1]), dry_run=True)
    assert "全部 59 行校验通过；仅校验，未写入数据" in page
    assert _count(db_app, "enterprise") == 0


def test_add_or_update_across_chunks_updates_each_row_once(admin, db_app, monkeypatch):
    from app.excel import importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    template = admin.get("/r/enterprise/template").data
    _upload(admin, "enterprise", fill(template, [enterprise_row(n) for n in range(1, 51)]))
    changed = [enterprise_row(n, legal_representative="李娜") for n in range(1, 61)]
    _, page = _upload(admin, "enterprise", fill(template, changed), mode="upsert")
    assert "新增 10 条，更新 50 条" in page
    assert _count(db_app, "enterprise", legal_representative="李娜") == 60 and _count(db_app, "enterprise") == 60


def test_a_chunk_the_database_refuses_while_the_next_is_read_undoes_the_whole_import(admin, db_app, monkeypatch):
    """On PostgreSQL a chunk is written on a second thread while the next one is read and checked. A failure there
    (here a trigger that refuses one row of the third chunk, as a full disk or a lost connection would) fails the
    job with the database's reason and leaves nothing: no rows, no audit rows, no accounts."""
    from app.excel import importer
    from app.extensions import db
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    template = admin.get("/r/enterprise/template").data
    rows = [enterprise_row(n) for n in range(1, 71)]
    rows[54] = enterprise_row(55, name="写入时被数据库拒绝的企业")
    with db_app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_one_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.name = '写入时被数据库拒绝的企业' THEN RAISE EXCEPTION 'disk full (test)'; END IF; "
                "RETURN NEW; END $$")
            conn.exec_driver_sql("CREATE TRIGGER refuse_one_row BEFORE INSERT ON reg_enterprise "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse_one_row()")
    try:
        job_url, page = _upload(admin, "enterprise", fill(template, rows))
        status = admin.get(job_url + ".json").get_json()
        assert status["status"] == "failed" and "disk full (test)" in status["message"]
        assert "失败" in page
        _assert_nothing_written(db_app)
    finally:
        with db_app.app_context():
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TRIGGER refuse_one_row ON reg_enterprise")
                conn.exec_driver_sql("DROP FUNCTION refuse_one_row()")
    # the same connection pool serves the next import: written whole
    _, page = _upload(admin, "enterprise", fill(template, rows))
    assert "完成：新增 70 条" in page and _count(db_app, "enterprise") == 70


def test_rows_sent_to_copy_piece_by_piece_arrive_whole_and_in_order(admin, db_app, monkeypatch):
    """PostgreSQL's COPY gets each chunk's rows as they are formatted, a few rows per piece (here 7), the first
    chunk smaller than the others: every row arrives once, with its id, its audit row and its account, and texts
    that CSV must quote (commas, quotes, a line break) come back as typed (the line break, in a one-line text, as a
    space, as any import stores it)."""
    from app.excel import bulk, importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 40)
    monkeypatch.setattr(importer, "FIRST_CHUNK_ROWS", 15)
    monkeypatch.setattr(bulk, "ROWS_PER_READ", 7)
    template = admin.get("/r/enterprise/template").data
    awkward = ['春江街道"东"区, 3号', "一行\n二行", "逗号,引号\"和\\反斜杠", "单引号'与；分号"]
    rows = [enterprise_row(n, address=f"{awkward[n % 4]}{n}", phone="" if n % 3 else "0519-8512345")
            for n in range(1, 131)]
    _, page = _upload(admin, "enterprise", fill(template, rows))
    assert "完成：新增 130 条" in page
    svc = db_app.extensions["safety"]
    model = svc.models["enterprise"]
    with db_app.app_context():
        stored = svc.session.execute(select(model.id, model.uscc, model.address, model.phone).order_by(model.id)
                                     .execution_options(include_all_rows=True)).all()
        audit = svc.models.engine["AuditLog"]
        audited = svc.session.scalars(select(audit.row_id).where(audit.register == "enterprise")).all()
        accounts = [db_app.appbuilder.sm.find_user(username=code(n)) for n in (1, 15, 16, 56, 130)]
    assert [row.uscc for row in stored] == [code(n) for n in range(1, 131)]
    # as typed (a line break in a one-line text becomes a space)
    assert [row.address for row in stored] == [f"{awkward[n % 4].replace(chr(10), ' ')}{n}" for n in range(1, 131)]
    assert [row.phone for row in stored] == [None if n % 3 else "0519-8512345" for n in range(1, 131)]
    assert sorted(audited) == [row.id for row in stored]
    assert all(accounts)


def test_checks_made_while_the_previous_chunk_is_written_report_as_checks_made_after_it(db_app, admin, run_import,
                                                                                        monkeypatch, tmp_path):
    """New rows on PostgreSQL: while a chunk is written, the next one's values are looked up in the register on a
    connection of its own, and its cross-field rules are checked. The outcome is that of checking after the write:
    a row already in the register is refused (the lookup found it), a repeat within the file is refused by its
    first row (which the lookup could not see), a broken rule is reported, and a row both repeated and breaking a
    rule gets the repeat only, as the rules skip a refused row."""
    from app.excel import importer
    monkeypatch.setattr(importer, "CHUNK_ROWS", 20)
    monkeypatch.setattr(importer, "JOIN_KEYS", 5)  # every chunk's values looked up by the join
    template = admin.get("/r/enterprise/template").data
    header = next(row for row in openpyxl.load_workbook(io.BytesIO(template)).worksheets[1].iter_rows(values_only=True)
                  if row and "*企业名称" in row)
    column = {str(title).lstrip("*"): i for i, title in enumerate(header) if title}

    def row(n, **more):
        values = enterprise_row(n) + [None] * (len(header) - 9)
        for title, value in more.items():
            values[column[title]] = value
        return values

    path = tmp_path / "首批.xlsx"
    path.write_bytes(fill(template, [row(n) for n in range(1, 6)]).getvalue())
    assert run_import("enterprise", "首批.xlsx", mode="insert", path=path, user="admin").inserted == 5
    backwards = {"经营期限自": "2026-05-01", "经营期限至": "2026-04-01"}
    rows = [row(n) for n in range(100, 160)]
    rows[30] = row(3)                      # file row 32: already in the register
    rows[45] = row(120)                    # file row 47: repeats file row 22 (an earlier chunk)
    rows[50] = row(150, **backwards)       # file row 52: a broken rule
    rows[55] = row(110, **backwards)       # file row 57: repeats file row 12 and breaks the rule
    path = tmp_path / "第二批.xlsx"
    path.write_bytes(fill(template, rows).getvalue())

    report = run_import("enterprise", "第二批.xlsx", mode="insert", path=path, user="admin")

    assert not report.written
    found = {(p.row, p.column): p.message for p in report.all_problems}
    assert sorted(found) == [(32, "uscc"), (47, "uscc"), (52, "operating_until"), (57, "uscc")]
    assert found[(32, "uscc")].startswith("系统中已存在：该统一社会信用代码已以相同的企业类型和地址登记")
    assert "重复于文件第 22 行" in found[(47, "uscc")] and "重复于文件第 12 行" in found[(57, "uscc")]
    assert "经营期限的截止日期不能早于起始日期" in found[(52, "operating_until")]
    assert _count(db_app, "enterprise") == 5


def test_a_large_import_folds_the_trigram_indexes_pending_list_in_large_steps_and_leaves_it_folded(admin, db_app,
                                                                                                   monkeypatch):
    """A trigram (GIN) index takes new entries into a pending list and folds it into the index past
    gin_pending_list_limit. The chunks before the last are written under the import's larger limit and work_mem
    (one large fold costs much less than many small ones), the last under the server's own limit, so its first row
    folds what the others left: afterwards the pending list holds no more than the last chunk, and the rows are
    found by the quick search. Here the server's limit is PostgreSQL's smallest (64 kB) and the import's 4 MB."""
    from app.excel import importer
    from app.extensions import db
    monkeypatch.setattr(importer, "CHUNK_ROWS", 100)
    monkeypatch.setattr(importer, "GIN_PENDING_LIST_LIMIT", "4MB")
    template = admin.get("/r/enterprise/template").data
    streets = ["龙虎塘街道通江中路", "河海街道汉江西路", "三井街道太湖东路", "罗溪镇空港大道", "孟河镇小河老街"]
    rows = [enterprise_row(n, address=f"江苏省常州市新北区{streets[n % 5]}{n}号{n % 7}幢") for n in range(1, 451)]
    with db_app.app_context():
        with db.engine.begin() as conn:
            database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgstattuple")
            conn.exec_driver_sql(f'ALTER DATABASE "{database}" SET gin_pending_list_limit = 64')
            conn.exec_driver_sql("CREATE TABLE written_under (uscc text, pending_limit text, work_mem text)")
            conn.exec_driver_sql(
                "CREATE FUNCTION log_settings() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "INSERT INTO written_under VALUES (NEW.uscc, current_setting('gin_pending_list_limit'), "
                "current_setting('work_mem')); RETURN NEW; END $$")
            conn.exec_driver_sql("CREATE TRIGGER log_settings BEFORE INSERT ON reg_enterprise "
                                 "FOR EACH ROW EXECUTE FUNCTION log_settings()")
        db.engine.dispose()  # new connections: the database's 64 kB
    try:
        _, page = _upload(admin, "enterprise", fill(template, rows))
        assert "完成：新增 450 条" in page
        with db_app.app_context():
            with db.engine.connect() as conn:
                under = dict(((uscc, (limit, mem)) for uscc, limit, mem in
                              conn.exec_driver_sql("SELECT * FROM written_under")))
                pending = dict(conn.exec_driver_sql(
                    "SELECT c.relname, (pgstatginindex(c.oid)).pending_tuples FROM pg_class c "
                    "WHERE c.relname IN ('ix_trgm_reg_enterprise_address', 'ix_trgm_reg_enterprise_name')").all())
                after = conn.exec_driver_sql("SHOW gin_pending_list_limit").scalar_one()
    finally:
        with db_app.app_context():
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TRIGGER log_settings ON reg_enterprise")
                conn.exec_driver_sql("DROP FUNCTION log_settings()")
                conn.exec_driver_sql("DROP TABLE written_under")
                conn.exec_driver_sql(f'ALTER DATABASE "{database}" RESET gin_pending_list_limit')
            db.engine.dispose()
    assert {under[code(n)] for n in range(1, 401)} == {("4MB", "128MB")}
    assert {under[code(n)] for n in range(401, 451)} == {("64kB", "128MB")}
    # 400 rows' entries were folded by the last chunk's first row; at most its 50 rows are pending
    assert set(pending) == {"ix_trgm_reg_enterprise_address", "ix_trgm_reg_enterprise_name"}
    assert all(tuples <= 50 for tuples in pending.values()), pending
    assert after == "64kB"  # the settings were the import transaction's own
    page = visible_text(admin.get("/r/enterprise/list/?q=太湖东路12号").get_data(as_text=True))
    assert "常州测试化工12有限公司" in page and "常州测试化工22有限公司" not in page
