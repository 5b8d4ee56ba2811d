"""Documents (文书): pages per second of the zip of a list's documents.

1. Database ``safety_bench_docs`` on 127.0.0.1:5432 (BENCH_DOCS_DATABASE_URL overrides): created if missing,
   migrated with the shipped metadata; its hazards, document numbers and counters are emptied at each run.
2. N hazards (default 200) of one enterprise, each with its 限期整改通知书 (metadata/documents/
   hazard_rectification_notice.html, WenQuanYi Micro Hei embedded).
3. Timed: (a) xhtml2pdf alone, one PDF per row (template filled, font subset, no database); (b) the zip job as the
   list's button starts it (the job run inline in the request, as the embedded default does; on a server a Celery
   worker runs the same code), first run (every row numbered: a counter transaction per row) and second run (numbers
   already given).

    .venv/bin/python bench/documents.py [--rows 200]

Target: ≥ 4 pages/s for the zip (the issue's 0.13–0.25 s per page), on an idle machine."""
from __future__ import annotations

import argparse
import importlib
import io
import os
import re
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
listbench = importlib.import_module("list")  # bench/list.py: database, migration, admin, login

DATABASE_URL = os.environ.get("BENCH_DOCS_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1/safety_bench_docs")


def make_app():
    from app import create_app
    from config import TestConfig
    eager = {**TestConfig.CELERY, "task_always_eager": True, "task_eager_propagates": True,
             "broker_url": "memory://", "result_backend": "cache+memory://"}
    return create_app("test", SQLALCHEMY_DATABASE_URI=DATABASE_URL, UPLOAD_FOLDER=Path("/tmp/safety-bench-docs"),
                      CELERY=eager)


def prepare(flask_app, rows: int) -> None:
    from sqlalchemy import text
    svc = flask_app.extensions["safety"]
    with flask_app.app_context():
        svc.session.execute(text("TRUNCATE reg_hazard, sys_document, sys_document_counter, sys_job RESTART IDENTITY "
                                 "CASCADE"))
        svc.session.commit()
        enterprise_model = svc.models["enterprise"]
        enterprise = svc.session.execute(text("SELECT id FROM reg_enterprise LIMIT 1")).scalar()
        if enterprise is None:
            row = enterprise_model(name="常州新北基准化工有限公司", uscc="91320411MA1BENCH0X", region="320411004",
                                   address="常州市新北区长江北路1号", department="emergency",
                                   legal_representative="王明", phone="0519-85000000")
            for field in svc.registry.register("enterprise").stored_fields:  # the other required fields
                if not field.required or field.type == "reference" or getattr(row, field.name, None) is not None:
                    continue
                if field.type == "enum":
                    setattr(row, field.name, svc.dictionaries.choices(field.dictionary)[0][0])
                elif field.type == "tree":
                    tree = svc.dictionaries.tree(field.dictionary)
                    setattr(row, field.name, next(c for c, node in tree.nodes.items() if not node.children))
                elif field.type == "date":
                    setattr(row, field.name, date.today())
                elif field.type in ("integer", "decimal"):
                    setattr(row, field.name, 1)
                else:
                    setattr(row, field.name, "示例")
            svc.session.add(row)
            svc.session.commit()
            enterprise = row.id
        hazard = svc.models["hazard"]
        level = svc.dictionaries.choices(svc.registry.register("hazard").field("level").dictionary)[0][0]
        source_field = svc.registry.register("hazard").field("source")
        source = svc.dictionaries.choices(source_field.dictionary)[0][0]
        for n in range(rows):
            svc.session.add(hazard(enterprise_id=enterprise, description=f"配电室未设置挡鼠板（第{n + 1}处）",
                                   level=level, source=source, found_on=date.today(), rectify_by=date.today(),
                                   location="配电室", requirement="设置不低于50厘米的挡鼠板"))
        svc.session.commit()


def bench_render(flask_app) -> tuple[int, float]:
    from app.documents import Made, Reading, render_pdf
    svc = flask_app.extensions["safety"]
    spec = svc.registry.register("hazard")
    doc = next(d for d in spec.documents if d.name == "rectification_notice")
    with flask_app.app_context():
        rows = list(svc.session.scalars(__import__("sqlalchemy").select(svc.models["hazard"])
                                        .execution_options(include_all_rows=True)))
        reading = Reading(svc.registry, svc.dictionaries, lambda s: frozenset())
        render_pdf(spec, doc, rows[0], reading, Made(number="warm-up"))
        pages = 0
        started = time.perf_counter()
        for i, row in enumerate(rows):
            pdf = render_pdf(spec, doc, row, reading, Made(number=f"常新应急限改〔2026〕{i + 1}号", today=date.today()))
            pages += len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        return pages, time.perf_counter() - started


def bench_zip(flask_app) -> tuple[int, int, float]:
    client = flask_app.test_client()
    listbench.login(client, listbench.ADMIN_USER, listbench.ADMIN_PASSWORD)
    started = time.perf_counter()
    response = client.get("/r/hazard/documents/rectification_notice.zip")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"], response.status_code
    job = response.headers["Location"]
    status = client.get(job + ".json").get_json()
    assert status["status"] == "done", status
    elapsed = time.perf_counter() - started
    archive = zipfile.ZipFile(io.BytesIO(client.get(job + "/file").data))
    pages = sum(len(re.findall(rb"/Type\s*/Page[^s]", archive.read(n))) for n in archive.namelist())
    return len(archive.namelist()), pages, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=200)
    args = parser.parse_args()
    listbench.ensure_database(DATABASE_URL)
    flask_app = make_app()
    listbench.migrate(flask_app)
    listbench.ensure_admin(flask_app)
    prepare(flask_app, args.rows)
    with flask_app.app_context():
        from app.documents import document_font
        print(f"font: {document_font(flask_app.config.get('DOCUMENT_FONT'))}; load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    pages, seconds = bench_render(flask_app)
    print(f"render only      : {pages} pages in {seconds:.1f} s = {pages / seconds:.2f} pages/s "
          f"({1000 * seconds / pages:.0f} ms per page)")
    results = []
    for label in ("zip, numbering", "zip, numbered"):
        documents, pages, seconds = bench_zip(flask_app)
        results.append(pages / seconds)
        print(f"{label:17s}: {documents} documents, {pages} pages in {seconds:.1f} s = {pages / seconds:.2f} pages/s")
    print(f"VERDICT: {'MET' if min(results) >= 4 else 'NOT MET'} (target ≥ 4 pages/s for the zip; "
          f"slowest run {min(results):.2f} pages/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
