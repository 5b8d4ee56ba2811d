"""The cloud verification screens: the list of a party's verifications (待办 included), the page of one
application's verification (appointment, 承诺书, call with the check items, photo evidence, rectification), its
JSON steps, its files, the short-lived TURN credentials and the signalling socket."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, jsonify, redirect, request, send_from_directory, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from app.i18n import label_text, lazy_label
from app.security.actor import current_actor
from app.query.urls import register_url
from app.workflow.engine import Upload

from . import ROOT
from .models import PHOTO, VIDEO
from .service import REGULATOR, CheckRefused, NotParty
from .signalling import refuse, relay

TEMPLATES = str(ROOT / "templates")


def check_service() -> Any:
    return current_app.extensions["video_check"]


def _actor() -> Any:
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        abort(401)
    return actor


def _upload(name: str) -> Upload | None:
    f = request.files.get(name)
    if f is None or not f.filename:
        return None
    return Upload(f.filename, f.stream, f.content_length or None)


def _uploads(name: str) -> list[Upload]:
    return [Upload(f.filename, f.stream) for f in request.files.getlist(name) if f and f.filename]


def turn_credentials(user_id: int) -> list[dict]:
    """The configured intranet TURN server with TURN-REST credentials (coturn `use-auth-secret`): the user name
    is the expiry time and the user, the password its HMAC-SHA1 under the shared secret. None configured: []."""
    urls = [u for u in current_app.config.get("VIDEO_TURN_URLS", []) if u]
    secret = current_app.config.get("VIDEO_TURN_SECRET") or ""
    if not urls or not secret:
        return []
    expiry = int(time.time()) + int(current_app.config.get("VIDEO_TURN_TTL", 600))
    username = f"{expiry}:{user_id}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return [{"urls": urls, "username": username, "credential": password}]


class VideoCheckView(BaseView):
    route_base = "/video_check"
    default_view = "index"
    template_folder = TEMPLATES

    @expose("/static/<path:filename>")
    def script(self, filename: str) -> Any:
        """The page's own script (FAB's views have no static folder of their own)."""
        return send_from_directory(ROOT / "static", filename, max_age=3600)

    @expose("/")
    def index(self) -> Any:
        actor = _actor()
        return self.render_template("video_check/index.html", checks=check_service().listing(actor),
                                    label=label_text)

    def _party(self, application_id: int) -> tuple[Any, str]:
        try:
            return check_service().party(application_id, _actor())
        except NotParty:
            abort(404)

    @expose("/<int:application_id>")
    def page(self, application_id: int) -> Any:
        service = check_service()
        row, side = self._party(application_id)
        check = service.check_of(row)
        items = [{"code": i.code, "label": label_text(i.label), **((check.items or {}).get(i.code, {}) if check else {})}
                 for i in service.settings.checklist]
        signature = None
        if check is not None:
            signature = next((s for s in reversed(check.signatures or [])), None)
        state_field = service.spec.workflow.field
        config = {"side": side, "application": application_id,
                  # a WebSocket route is built as a full ws:// URL; the page adds its own scheme and host (ws or wss)
                  "signal": urlsplit(url_for("video_check_signal", application_id=application_id)).path,
                  "ice": url_for("VideoCheckView.ice", application_id=application_id),
                  "item": url_for("VideoCheckView.record_item", application_id=application_id),
                  "recording": url_for("VideoCheckView.recording", application_id=application_id),
                  "sign": url_for("VideoCheckView.sign", application_id=application_id),
                  "texts": {"new": _("Not connected"), "starting": _("Starting the camera…"),
                            "waiting": _("Waiting for the other party…"), "connecting": _("Connecting…"),
                            "connected": _("Connected"), "disconnected": _("Connection interrupted, retrying…"),
                            "failed": _("Connection failed, restarting…"), "closed": _("Call ended"),
                            "refused": _("Refused: you are not a party of this verification."),
                            "peer-left": _("The other party left the call"),
                            "no-camera": _("The camera or microphone cannot be used."),
                            "recording": _("This call is being recorded."), "saved": _("Saved"),
                            "snapshot-first": _("Take a snapshot first."),
                            "signature-empty": _("Sign in the box first.")}}
        return self.render_template("video_check/page.html", row=row, side=side, check=check, items=items,
                                    service=service, config=config, signature=signature,
                                    state=getattr(row, state_field), by_video=service.by_video(row),
                                    in_state=getattr(row, state_field) == service.settings.application.state,
                                    waiting=service.waiting_for(check, side) if check else None,
                                    signed=service.signed(check) if check else False, VIDEO=VIDEO, PHOTO=PHOTO,
                                    REGULATOR=REGULATOR,
                                    application_url=register_url(service.spec.name, "show", pk=row.id))

    # ---------------------------------------------------------------- form steps (redirect back to the page)
    def _step(self, application_id: int, do: Any, done: str) -> Any:
        try:
            do()
            flash(done, "success")
        except NotParty:
            abort(404)
        except CheckRefused as exc:
            flash(exc.message, "danger")
        return redirect(url_for("VideoCheckView.page", application_id=application_id))

    @expose("/<int:application_id>/appointment", methods=["POST"])
    def appointment(self, application_id: int) -> Any:
        try:
            when = datetime.strptime(request.form.get("at", "").strip().replace("T", " "), "%Y-%m-%d %H:%M")
        except ValueError:
            flash(_("Give the date and time as YYYY-MM-DD HH:MM."), "danger")
            return redirect(url_for("VideoCheckView.page", application_id=application_id))
        return self._step(application_id, lambda: check_service().propose(application_id, _actor(), when),
                          _("The time was proposed to the other party."))

    @expose("/<int:application_id>/appointment/confirm", methods=["POST"])
    def confirm(self, application_id: int) -> Any:
        return self._step(application_id, lambda: check_service().confirm(application_id, _actor()),
                          _("The appointment is confirmed."))

    @expose("/<int:application_id>/start", methods=["POST"])
    def start(self, application_id: int) -> Any:
        return self._step(application_id, lambda: check_service().start(application_id, _actor()),
                          _("The verification has started."))

    @expose("/<int:application_id>/mode", methods=["POST"])
    def mode(self, application_id: int) -> Any:
        mode = PHOTO if request.form.get("mode") == PHOTO else VIDEO
        return self._step(application_id, lambda: check_service().set_mode(application_id, _actor(), mode),
                          _("The enterprise now sends photos item by item.") if mode == PHOTO
                          else _("Back to the video call."))

    @expose("/<int:application_id>/finish", methods=["POST"])
    def finish(self, application_id: int) -> Any:
        return self._step(application_id, lambda: check_service().finish(application_id, _actor()),
                          _("The verification is finished."))

    @expose("/<int:application_id>/evidence/<code>", methods=["POST"])
    def evidence(self, application_id: int, code: str) -> Any:
        return self._step(application_id, lambda: check_service().add_evidence(
            application_id, _actor(), code, _uploads("photos"), request.form.get("remark", "")),
            _("The photos were sent."))

    @expose("/<int:application_id>/rectify/<code>", methods=["POST"])
    def rectify(self, application_id: int, code: str) -> Any:
        return self._step(application_id, lambda: check_service().rectify(
            application_id, _actor(), code, _uploads("photos"), request.form.get("remark", "")),
            _("The rectification of this item was saved."))

    @expose("/<int:application_id>/rectify", methods=["POST"])
    def submit_rectification(self, application_id: int) -> Any:
        return self._step(application_id, lambda: check_service().submit_rectification(application_id, _actor()),
                          _("The rectification was submitted; the verification resumes."))

    # ---------------------------------------------------------------- JSON steps (the page's script)
    def _json(self, do: Any) -> Any:
        try:
            return jsonify(ok=True, result=do())
        except NotParty:
            abort(404)
        except CheckRefused as exc:
            return jsonify(ok=False, error=exc.message), 409

    @expose("/<int:application_id>/sign", methods=["POST"])
    def sign(self, application_id: int) -> Any:
        return self._json(lambda: check_service().sign(application_id, _actor(), _upload("signature"),
                                                        _upload("operator_photo")) and True)

    @expose("/<int:application_id>/item", methods=["POST"])
    def record_item(self, application_id: int) -> Any:
        return self._json(lambda: check_service().record_item(
            application_id, _actor(), request.form.get("code", ""), request.form.get("result", ""),
            request.form.get("remark", ""), _upload("snapshot")))

    @expose("/<int:application_id>/recording", methods=["POST"])
    def recording(self, application_id: int) -> Any:
        upload = _upload("recording")
        if upload is None:
            return jsonify(ok=False, error=_("The recording is empty.")), 409
        return self._json(lambda: check_service().save_recording(application_id, _actor(), upload))

    @expose("/<int:application_id>/ice", methods=["POST"])
    def ice(self, application_id: int) -> Any:
        """ICE servers for this call: none on one LAN, else the intranet TURN with credentials for the parties."""
        self._party(application_id)
        servers = turn_credentials(_actor().user_id)
        # 'relay' (VIDEO_ICE_TRANSPORT_POLICY) sends every call through the TURN server, never host to host
        policy = "relay" if servers and current_app.config.get("VIDEO_ICE_TRANSPORT_POLICY") == "relay" else "all"
        return jsonify(iceServers=servers, iceTransportPolicy=policy)

    @expose("/<int:application_id>/file/<path:path>")
    def file(self, application_id: int, path: str) -> Any:
        row, _side = self._party(application_id)
        check = check_service().check_of(row)
        record = check_service().file_record(check, path) if check else None
        if record is None:
            abort(404)
        return check_service().svc.files.send(record, inline=True)


def signal(ws: Any, application_id: int) -> None:
    """The signalling socket: only the two parties of the application join its room."""
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        refuse(ws, "origin")
        return
    service = check_service()
    try:
        row, side = service.party(application_id, current_actor())
    except NotParty:
        refuse(ws, "not a party")
        return
    finally:
        # a call lasts long: give the database connection back now
        service.svc.db.session.remove()
    relay(ws, current_app.extensions["video_check_hub"], str(application_id), side)


def register_views(app: Any, registry: Any, category: str) -> None:
    from flask_sock import Sock

    menu = registry.menus.get(category)
    app.appbuilder.add_view(VideoCheckView, "menu_video_check", label=lazy_gettext("Cloud verification"),
                            icon="fa-video-camera", category=category,
                            category_label=lazy_label(menu.label) if menu else "",
                            category_icon=menu.icon if menu else "")
    sock = app.extensions.get("sock") or Sock(app)
    app.extensions["sock"] = sock
    sock.route("/video_check/<int:application_id>/signal", endpoint="video_check_signal")(signal)


def row_links(spec: Any, row: Any, actor: Any) -> list[dict]:
    """On the application's page: the way into its cloud verification, for its two parties."""
    service = check_service()
    if spec.name != service.spec.name or not service.by_video(row) or service.side(row, actor) is None:
        return []
    return [{"label": _("Cloud verification"), "icon": "fa-video-camera", "id": "video-check-link",
             "url": url_for("VideoCheckView.page", application_id=row.id)}]


def todo_entries(actor: Any) -> list[dict]:
    """待办: the verifications waiting for this party (an appointment to answer, a call to start, items to sign
    or rectify)."""
    waiting = [c for c in check_service().listing(actor) if c["todo"]]
    if not waiting:
        return []
    return [{"label": _("Cloud verification"), "count": len(waiting), "url": url_for("VideoCheckView.index"),
             "register": "video_check"}]
