"""The document (文书) screens of a register, run behind RegisterController: one PDF (numbered on first download),
the zip of a filtered list as a background job with progress, and the stamped scan uploaded back to the row."""
from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from celery import shared_task
from flask import abort, current_app, flash, g, redirect, request, send_file
from flask_babel import gettext as _
from sqlalchemy import select

from app.clock import today
from app.documents import (DocumentFailed, Made, Reading, assign_number, document_font, file_name, record_of,
                           render_pdf, zip_of)
from app.excel.jobs import dispatch, job_model, run_file_job
from app.excel.retention import purge_if_due
from app.i18n import current_locale, label_text
from app.security.actor import current_actor
from app.security.models import AppUser
from app.query import listing
from app.query.urls import register_url

SCAN_TYPES = (".pdf", ".jpg", ".jpeg", ".png")


def reading_for(svc: Any, actor: Any) -> Reading:
    policy = current_app.extensions["safety_policy"]
    return Reading(svc.registry, svc.dictionaries, lambda spec: policy.hidden_fields(spec, actor))


class NotIssued(Exception):
    """A numbered document (文号) no regulator has issued yet, asked for by someone who may not issue it."""


def may_issue(actor: Any) -> bool:
    """Whether the actor gives a numbered document its number (文号) by making it: the administrator or a
    regulator of an organisation. An enterprise user reads a document once a regulator has issued it."""
    return actor is not None and not actor.enterprise_key and (actor.is_admin or actor.organisation_id is not None)


def _organisation_name(svc: Any, organisation_id: int | None) -> str:
    org = svc.registry.organisations
    if org is None or not organisation_id:
        return ""
    model = svc.models[org.target]
    row = svc.session.execute(select(model).where(model.id == organisation_id)
                              .execution_options(unscoped_reason="the issuing organisation")).scalar_one_or_none()
    return str(row) if row is not None else ""


def issuer_name(svc: Any, actor: Any) -> str:
    """The name of the actor's organisation (the issuing 执法机关 printed above the seal), '' when none."""
    return _organisation_name(svc, actor.organisation_id if actor is not None else None)


def made_for(svc: Any, spec: Any, doc: Any, row: Any, actor: Any, issuer: str) -> Made:
    """The row's number (given now if it has none yet) and what else the document is filled with. Someone who
    may not issue it (an enterprise) gets the document as issued — its number, the issuing organisation — or
    NotIssued."""
    number = ""
    if doc.number is not None and may_issue(actor):
        number = assign_number(svc.db.engine, svc.models.engine, spec, doc, row.id,
                               actor.organisation_id if actor else None, actor.user_id if actor else None, today())
    elif doc.number is not None:
        record = record_of(svc.session, svc.models.engine, spec.name, row.id, doc.name)
        if record is None or not record.number:
            raise NotIssued(doc.name)
        number = record.number
        issuer = _organisation_name(svc, record.organisation_id) or _organisation_name(
            svc, getattr(svc.session.get(AppUser, record.numbered_by), "organisation_id", None)
            if record.numbered_by else None)
    return Made(number=number, issuer=issuer, today=today())


def download(controller: Any, pk: Any, name: str) -> Any:
    spec, svc = controller.register, controller.services
    doc = controller._document(name)
    row = controller._row(pk)
    actor = current_actor()
    reading = reading_for(svc, actor)
    try:
        made = made_for(svc, spec, doc, row, actor, issuer_name(svc, actor))
        pdf = render_pdf(spec, doc, row, reading, made)
    except NotIssued:
        flash(_("%(document)s has not been issued yet; it can be read here once the regulator has issued it.",
                document=label_text(doc.label)), "warning")
        return redirect(register_url(spec.name, "show", pk=row.id))
    except DocumentFailed:
        current_app.logger.exception("document %s of %s #%s", name, spec.name, row.id)
        flash(_("The document could not be made; tell the administrator (its template needs fixing)."), "danger")
        return redirect(register_url(spec.name, "show", pk=row.id))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{file_name(spec, doc, row, reading, made)}.pdf")


def start_zip(controller: Any, name: str) -> Any:
    """The documents of every row the list shows with these filters (in the actor's scope), as a zip made by a
    background job; the job page shows its progress and offers the zip when done."""
    spec, svc = controller.register, controller.services
    doc = controller._document(name)
    if doc.number is not None and not may_issue(current_actor()):
        # every listed row's document would be issued by this: the issuing regulators' own
        flash(_("%(document)s is issued by the regulator; open a record to read its issued document.",
                document=label_text(doc.label)), "warning")
        return redirect(register_url(spec.name, "list", **request.args))
    hidden = controller._hidden()
    req = listing.parse_list_args(spec, request.args, hidden=hidden)
    clauses = listing.where_clauses(spec, svc.models[spec.name], req, svc.dictionaries, svc.dictionary_item)
    limit = current_app.config.get("DOCUMENTS_ZIP_MAX", 5000)
    count, capped, _estimated = listing.count_rows(svc.session, svc.models[spec.name], clauses, limit)
    if capped or count > limit:
        flash(_("More than %(max)s records match: narrow the list with the filters, then download again.",
                max=limit), "warning")
        return redirect(register_url(spec.name, "list", **request.args))
    purge_if_due()
    arguments = {key: request.args.getlist(key) for key in request.args if key != "page"}
    job = job_model()(kind="documents", register=spec.name, user_id=g.user.id, locale=current_locale(),
                      mode=doc.name, status="queued", stage="queued", done=0, total=count,
                      arguments=json.dumps(arguments, ensure_ascii=False), created_at=datetime.now(),
                      file_name=f"{label_text(doc.label)}.zip")
    svc.session.add(job)
    svc.session.commit()
    dispatch("documents.zip", job.id)
    return redirect(register_url(spec.name, "job", job_id=job.id))


@shared_task(name="documents.zip")
def zip_task(job_id: int) -> str:
    from werkzeug.datastructures import MultiDict

    svc = current_app.extensions["safety"]
    session = svc.session
    doc_name = session.get(job_model(), job_id).mode

    def write(spec: Any, actor: Any, arguments: dict[str, Any], target: Any, progress: Any) -> int:
        doc = next(d for d in spec.documents if d.name == doc_name)
        policy = current_app.extensions["safety_policy"]
        args = MultiDict([(k, v) for k, values in arguments.items() for v in values])
        req = listing.parse_list_args(spec, args, hidden=policy.hidden_fields(spec, actor))
        model = svc.models[spec.name]
        stmt = listing.select_matching(spec, model, req, svc.dictionaries, svc.dictionary_item)
        ids = list(session.scalars(stmt.with_only_columns(model.id)))
        total = len(ids)
        progress("documents", 0, total, force=True)
        reading = reading_for(svc, actor)
        issuer = issuer_name(svc, actor)

        def rows() -> Any:
            for start in range(0, total, 100):
                batch = ids[start:start + 100]
                found = {r.id: r for r in session.scalars(listing.select_matching(
                    spec, model, req, svc.dictionaries, svc.dictionary_item).where(model.id.in_(batch)))}
                yield from (found[i] for i in batch if i in found)

        def made(row: Any) -> Made:
            return made_for(svc, spec, doc, row, actor, issuer)

        return zip_of(spec, doc, rows(), reading, made, target, lambda done: progress("documents", done, total))

    return run_file_job(job_id, "documents", "zip", write)


# ---------------------------------------------------------------- stamped scans (盖章扫描件)

def may_upload_scan(controller: Any, row: Any) -> bool:
    """The issuing side's: a regulator who may edit the row (the scan is of the document it stamped)."""
    actor = current_actor()
    policy = controller.policy
    return may_issue(actor) and policy.can(controller.register, actor, "edit") and \
        policy.row_in_scope(controller.register, actor, row, "edit", old=True)


def records_of(controller: Any, row: Any) -> dict[str, Any]:
    """The document records of a row by document name (number given, scan uploaded), for its page."""
    svc = controller.services
    model = svc.models.engine["DocumentRecord"]
    return {r.document: r for r in svc.session.scalars(
        select(model).where(model.register == controller.register.name, model.row_id == row.id))}


def upload_scan(controller: Any, pk: Any, name: str) -> Any:
    spec, svc = controller.register, controller.services
    doc = controller._document(name)
    row = controller._row(pk)
    back = redirect(register_url(spec.name, "show", pk=row.id))
    if not doc.scan:
        abort(404)
    if not may_upload_scan(controller, row):
        abort(403)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the stamped scan first."), "warning")
        return back
    if Path(upload.filename).suffix.lower() not in SCAN_TYPES:
        flash(_("A stamped scan is a PDF, JPG or PNG file."), "warning")
        return back
    stored = svc.files.save(f"document_{spec.name}", upload.filename, upload.stream)
    tables = svc.models.engine
    record = record_of(svc.session, tables, spec.name, row.id, doc.name)
    if record is None:
        record = tables["DocumentRecord"](register=spec.name, row_id=row.id, document=doc.name)
        svc.session.add(record)
    old = (record.scan or {}).get("name")
    actor = current_actor()
    record.scan, record.scan_at, record.scan_by = stored, datetime.now(), actor.user_id
    svc.session.add(tables["AuditLog"](at=datetime.now(), user_id=actor.user_id, username=actor.username,
                                       organisation_id=actor.organisation_id, register=spec.name, row_id=row.id,
                                       action="scan", field=doc.name, old_value=old, new_value=stored.get("name")))
    svc.session.commit()
    flash(_("The stamped scan of %(document)s was uploaded.", document=label_text(doc.label)), "success")
    return back


def send_scan(controller: Any, pk: Any, name: str) -> Any:
    svc = controller.services
    doc = controller._document(name)
    row = controller._row(pk)
    record = record_of(svc.session, svc.models.engine, controller.register.name, row.id, doc.name)
    if record is None or not record.scan:
        abort(404)
    return svc.files.send(record.scan, inline=True)


def log_font_choice() -> None:
    """Chooses (and logs) the documents' font once at start-up, so a missing font shows in the log at once."""
    document_font(current_app.config.get("DOCUMENT_FONT"))
