"""The import and export screens of a register (下载模板, 导入, 导出), run behind RegisterController."""
from __future__ import annotations

import io
import json
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, request, send_file
from flask_babel import gettext as _, ngettext

from app.i18n import current_locale, label_text, list_separator
from app.i18n.deferred import render
from app.security.actor import current_actor
from app.query import listing
from app.query.urls import register_url
from app.views.pickers import jurisdiction_dictionary, picker_root

from .columns import import_columns, import_read_only
from .errors import in_current_language, texts_path
from .export import write_export
from .jobs import dispatch, job_model, jobs_folder, refresh_state, user_jobs
from .reader import EXCEL_TYPES
from .retention import fetch, publish, purge_if_due
from .runner import thread_runner
from .template import blank_note, build_template

MODES = ("insert", "upsert")


def _read_only(controller: Any) -> frozenset[str]:
    """The fields the current user's role may not set by import: left out of its template and its import."""
    return import_read_only(current_app.extensions["safety_policy"], controller.services.registry,
                            controller.register, current_actor())

def download_template(controller: Any) -> Any:
    svc = controller.services
    dictionary = jurisdiction_dictionary(svc)
    # the region lists hold the user's jurisdiction only: a place outside it would be refused by the import
    within = {dictionary: picker_root(svc, dictionary)} if dictionary else {}
    data = build_template(svc, controller.register, _read_only(controller), within)
    name = _("%(register)s import template", register=label_text(controller.register.label)) + ".xlsx"
    # from memory: a file on disk (and its descriptor) would outlive the response
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def import_page(controller: Any) -> Any:
    spec = controller.register
    has_key = bool(spec.import_ and spec.import_.key)
    if request.method == "POST":
        upload = request.files.get("file")
        mode = request.form.get("mode", "insert")
        if mode not in MODES or (mode == "upsert" and not has_key):
            abort(400)
        if upload is None or not upload.filename:
            flash(_("Choose the filled template first."), "warning")
        else:
            purge_if_due()
            suffix = Path(upload.filename).suffix.lower()
            stored = jobs_folder("uploads") / f"{uuid.uuid4().hex}{suffix if suffix in EXCEL_TYPES else '.bin'}"
            upload.save(stored)
            publish(stored)  # FILE_STORE=s3: the worker may run on another machine
            model = job_model()
            job = model(kind="import", register=spec.name, user_id=g.user.id, locale=current_locale(), mode=mode,
                        status="queued", stage="queued", done=0, total=0, file_name=Path(upload.filename).name,
                        stored=str(stored), created_at=datetime.now(),
                        arguments=json.dumps({"dry_run": bool(request.form.get("dry_run"))}))
            session = controller.services.session
            session.add(job)
            session.commit()
            job_id = job.id
            dispatch("excel.import", job_id)
            return redirect(register_url(spec.name, "job", job_id=job_id))
    columns = import_columns(controller.services.registry, spec, _read_only(controller))
    return controller.render_template(
        "register/import.html", title=_("Import into %(register)s", register=label_text(spec.label)), spec=spec,
        columns=columns, column_titles=list_separator().join(("*" if c.required else "") + c.title() for c in columns),
        has_key=has_key, jobs=user_jobs(g.user.id, spec.name),
        blank_note=blank_note(spec) if has_key else "",
        key_titles=list_separator().join(label_text(spec.field(n).label) for n in (spec.import_.key if has_key else ())),
        label=label_text)


def _own_job(controller: Any, job_id: int) -> Any:
    job = controller.services.session.get(job_model(), job_id)
    actor = current_actor()
    if job is None or job.register != controller.register.name:
        abort(404)
    if job.user_id != actor.user_id and not actor.is_admin:
        abort(403)
    job = refresh_state(job)
    runner = thread_runner()
    live = runner.progress(job.id) if runner is not None else None
    if live is not None:
        # progress kept in memory by this process's job thread: shown, never written back by this request
        controller.services.session.expunge(job)
        job.stage, job.done, job.total = live
        if job.status == "queued" and live[0] != "queued":
            job.status = "running"
    return job


def _result(job: Any) -> dict[str, Any] | None:
    """The stored report with its texts made again in the current language (the user may have switched since the
    import ran), and the count of problems in words."""
    if not job.result:
        return None
    result = json.loads(job.result)
    if result.get("refused_i18n"):
        result["refused"] = render(result["refused_i18n"])
    problems = result.get("problems") or []
    for problem in problems:
        texts = problem.get("i18n") or {}
        problem["title"] = render(texts.get("title", problem.get("title")))
        problem["message"] = render(texts.get("message", problem.get("message")))
    if result.get("problem_count"):
        rows = result.get("problem_rows") or len({p["row"] for p in problems})
        result["summary"] = _("%(problems)s in %(rows)s; nothing was written.",
                              problems=ngettext("%(num)s problem", "%(num)s problems", result["problem_count"]),
                              rows=ngettext("%(num)s row", "%(num)s rows", rows))
    return result


def job_page(controller: Any, job_id: int) -> Any:
    job = _own_job(controller, job_id)
    return controller.render_template("register/job.html", title=label_text(controller.register.label),
                                      spec=controller.register, job=job, result=_result(job), label=label_text)


def job_json(controller: Any, job_id: int) -> Any:
    job = _own_job(controller, job_id)
    result = _result(job) or {}
    return jsonify(id=job.id, kind=job.kind, status=job.status, stage=job.stage, done=job.done, total=job.total,
                   message=job.message, problems=result.get("problem_count"), inserted=result.get("inserted"),
                   updated=result.get("updated"), refused=result.get("refused"), output=bool(job.output))


def job_download(controller: Any, job_id: int) -> Any:
    job = _own_job(controller, job_id)
    output = fetch(job.output) if job.output else None  # written by a worker, maybe on another machine
    if output is None:
        abort(404)
    spec = controller.register
    if job.kind == "import":
        name = f"{Path(job.file_name).stem}-{_('errors')}.xlsx"
        fetch(texts_path(Path(job.output)))  # its messages in every language, when kept
        relabelled = in_current_language(output)
        if relabelled is not None:
            return send_file(relabelled, as_attachment=True, download_name=name)
    elif job.kind == "documents":
        name = f"{Path(job.file_name or 'documents.zip').stem}-{job.created_at:%Y%m%d%H%M}.zip"
    else:
        name = f"{label_text(spec.label)}-{job.created_at:%Y%m%d%H%M}.{job.mode}"
    return send_file(output, as_attachment=True, download_name=name)


def export(controller: Any) -> Any:
    """The list's rows as a file: small exports at once, large ones in the background with progress."""
    spec = controller.register
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(400)
    arguments = {key: request.args.getlist(key) for key in request.args if key not in ("format", "page")}
    svc = controller.services
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    req = listing.parse_list_args(spec, request.args, hidden=hidden)
    clauses = listing.where_clauses(spec, svc.models[spec.name], req, svc.dictionaries, svc.dictionary_item)
    inline = current_app.config["EXPORT_INLINE_ROWS"]
    count, capped, estimated = listing.count_rows(svc.session, svc.models[spec.name], clauses, inline)
    # past the limit an unfiltered count is PostgreSQL's estimate (not "capped"): a job as well
    if not capped and not estimated:
        # at most EXPORT_INLINE_ROWS rows: written to a folder that is gone before the response leaves
        with tempfile.TemporaryDirectory(prefix="export-") as folder:
            target = Path(folder) / f"export.{fmt}"
            write_export(spec, arguments, fmt, target)
            data = target.read_bytes()
        name = f"{label_text(spec.label)}-{datetime.now():%Y%m%d%H%M}.{fmt}"
        return send_file(io.BytesIO(data), as_attachment=True, download_name=name)
    purge_if_due()
    model = job_model()
    job = model(kind="export", register=spec.name, user_id=g.user.id, locale=current_locale(), mode=fmt,
                status="queued", stage="queued", done=0, total=0, arguments=json.dumps(arguments, ensure_ascii=False),
                created_at=datetime.now())
    svc.session.add(job)
    svc.session.commit()
    dispatch("excel.export", job.id)
    return redirect(register_url(spec.name, "job", job_id=job.id))
