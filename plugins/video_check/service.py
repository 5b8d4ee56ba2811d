"""The verification's steps: who the two parties of an application are, the appointment, the signed 承诺书, the
check items with their snapshots or photo evidence, the end (the workflow's pass transition, or the problem list
for the enterprise) and the resumption after the rectification."""
from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.i18n import label_text
from app.security.actor import Actor
from app.workflow.engine import TransitionRefused, Upload

from .models import (APPOINTING, CONFIRMED, ENTERPRISE_PROPOSED, IN_PROGRESS, PASSED, PHOTO, RECTIFYING,
                     REGULATOR_PROPOSED, SCHEDULED, VIDEO)

REGULATOR, ENTERPRISE = "regulator", "enterprise"
IMAGE_TYPES = ("png", "jpg", "jpeg")
MAX_IMAGE = 10 * 1024 * 1024
MAX_RECORDING = 200 * 1024 * 1024
MAX_REMARK = 500
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"
PNG_MAGIC = b"\x89PNG"
JPEG_MAGIC = b"\xff\xd8\xff"
STORE = "video_check"


class NotParty(Exception):
    """The actor is not one of the two parties of the application (or cannot see it at all)."""


class CheckRefused(Exception):
    """A step that may not be taken now; the message says why, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class VideoCheckService:
    def __init__(self, svc: Any, settings: Any, model: type):
        self.svc, self.settings, self.Check = svc, settings, model

    # ---------------------------------------------------------------- the parties
    @property
    def spec(self) -> Any:
        return self.svc.registry.register(self.settings.application.target)

    @property
    def engine(self) -> Any:
        return current_app.extensions["safety_workflow"]

    def regulator_roles(self) -> set[str]:
        return set(self.spec.workflow.transition(self.settings.application.pass_).roles) \
            - set(self.settings.enterprise_roles)

    def side(self, row: Any, actor: Actor | None) -> str | None:
        """'regulator', 'enterprise' or None. The row was read through the actor's row scope; the regulator must
        also hold it in its write scope (a neighbouring county's regulator who may read it is not a party)."""
        if actor is None or actor.is_anonymous or actor.is_admin or row is None:
            return None
        if actor.enterprise_key and actor.roles & set(self.settings.enterprise_roles):
            return ENTERPRISE
        if not actor.enterprise_key and actor.roles & self.regulator_roles() \
                and self.engine.in_own_scope(self.spec, row, actor):
            return REGULATOR
        return None

    def application(self, application_id: int) -> Any:
        """The application as the signed-in actor may see it (the row scope applies), or None."""
        model = self.svc.models[self.spec.name]
        return self.svc.session.execute(select(model).where(model.id == application_id)).scalar_one_or_none()

    def party(self, application_id: int, actor: Actor | None) -> tuple[Any, str]:
        row = self.application(application_id)
        side = self.side(row, actor)
        if side is None:
            raise NotParty(application_id)
        return row, side

    def by_video(self, row: Any) -> bool:
        mode = self.settings.application.mode
        return mode is None or getattr(row, mode.field) == mode.value

    def check_of(self, row: Any, lock: bool = False) -> Any:
        stmt = select(self.Check).where(self.Check.application_id == row.id)
        if lock and self.svc.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.svc.session.execute(stmt).scalar_one_or_none()

    def _open(self, application_id: int, actor: Actor, side: str, lock: bool = True) -> tuple[Any, Any]:
        row, actual = self.party(application_id, actor)
        if actual != side:
            raise CheckRefused(_("Only the regulator may do this.") if side == REGULATOR
                               else _("Only the enterprise may do this."))
        check = self.check_of(row, lock=lock)
        return row, check

    # ---------------------------------------------------------------- appointment
    def propose(self, application_id: int, actor: Actor, when: datetime) -> Any:
        """The regulator proposes a time; or the enterprise proposes another one."""
        row, side = self.party(application_id, actor)
        check = self.check_of(row, lock=True)
        if when <= datetime.now():
            raise CheckRefused(_("The appointment must be in the future."))
        if side == REGULATOR:
            if not self.by_video(row):
                raise CheckRefused(_("This application is verified on site, not by video."))
            if getattr(row, self.spec.workflow.field) != self.settings.application.state:
                raise CheckRefused(_("The application is not waiting for its verification."))
            if check is None:
                check = self.Check(application_id=row.id, status=APPOINTING, items={}, signatures=[],
                                   recordings=[], appointment_log=[], round=1, mode=VIDEO)
                self.svc.session.add(check)
            elif check.status not in (APPOINTING, SCHEDULED):
                raise CheckRefused(_("The verification has already started."))
            state = REGULATOR_PROPOSED
        else:
            if check is None or check.appointment_state != REGULATOR_PROPOSED:
                raise CheckRefused(_("There is no proposed time to answer."))
            state = ENTERPRISE_PROPOSED
        check.appointment_at, check.appointment_state, check.status = when, state, APPOINTING
        check.reminded_on = None
        self._log(check, actor, side, "propose", when)
        self.svc.session.commit()
        return check

    def confirm(self, application_id: int, actor: Actor) -> Any:
        """The other party accepts the proposed time: the enterprise the regulator's, the regulator the
        enterprise's."""
        row, side = self.party(application_id, actor)
        check = self.check_of(row, lock=True)
        waiting = REGULATOR_PROPOSED if side == ENTERPRISE else ENTERPRISE_PROPOSED
        if check is None or check.appointment_state != waiting:
            raise CheckRefused(_("There is no proposed time to answer."))
        check.appointment_state, check.status = CONFIRMED, SCHEDULED
        self._log(check, actor, side, "confirm", check.appointment_at)
        self.svc.session.commit()
        return check

    @staticmethod
    def _log(check: Any, actor: Actor, side: str, action: str, when: datetime | None) -> None:
        check.appointment_log = [*(check.appointment_log or []), {
            "side": side, "user": actor.username, "action": action, "at": datetime.now().isoformat(timespec="seconds"),
            "time": when.isoformat(timespec="minutes") if when else None}]

    # ---------------------------------------------------------------- the day of the verification
    def start(self, application_id: int, actor: Actor) -> Any:
        row, check = self._open(application_id, actor, REGULATOR)
        if check is None or check.appointment_state != CONFIRMED:
            raise CheckRefused(_("Agree on the appointment first."))
        if getattr(row, self.spec.workflow.field) != self.settings.application.state:
            raise CheckRefused(_("The application is not waiting for its verification."))
        if check.status == SCHEDULED:
            check.status, check.started_by_id = IN_PROGRESS, actor.user_id
            check.items = {i.code: {"result": None, "history": []} for i in self.settings.checklist}
            self.svc.session.commit()
        return check

    def signed(self, check: Any) -> bool:
        """Whether the 承诺书 of the current round is signed (a rectification is signed for the next one)."""
        wanted = check.round + (1 if check.status == RECTIFYING else 0)
        return any(s["round"] == wanted for s in check.signatures or [])

    def sign(self, application_id: int, actor: Actor, signature: Upload, operator_photo: Upload) -> Any:
        """The legal representative's signature (PNG from the pad) and the 经办人's photo."""
        row, check = self._open(application_id, actor, ENTERPRISE)
        if check is None or check.status not in (IN_PROGRESS, RECTIFYING):
            raise CheckRefused(_("The verification has not started."))
        sig = self._store_image(signature, ("png",))
        photo = self._store_image(operator_photo, IMAGE_TYPES)
        wanted = check.round + (1 if check.status == RECTIFYING else 0)
        check.signatures = [s for s in check.signatures or [] if s["round"] != wanted] + [{
            "round": wanted, "file": sig, "operator_photo": photo, "user_id": actor.user_id, "user": actor.username,
            "at": datetime.now().isoformat(timespec="seconds")}]
        self.svc.session.commit()
        return check

    def record_item(self, application_id: int, actor: Actor, code: str, result: str, remark: str,
                    snapshot: Upload | None) -> dict:
        """符合 / 不符合 with a remark and a snapshot of the remote video (or the enterprise's photo evidence)."""
        row, check = self._open(application_id, actor, REGULATOR)
        item = self._item(check, code)
        if result not in ("pass", "fail"):
            raise CheckRefused(_("Choose 符合 or 不符合."))
        remark = (remark or "").strip()
        if len(remark) > MAX_REMARK:
            raise CheckRefused(_("The remark is longer than %(max)s characters.", max=MAX_REMARK))
        if result == "fail" and not remark:
            raise CheckRefused(_("Say what is wrong in the remark."))
        stored = self._store_image(snapshot, IMAGE_TYPES) if snapshot is not None else None
        if stored is None and not item.get("evidence"):
            raise CheckRefused(_("Take a snapshot of the video first (or switch to photo evidence)."))
        items = copy.deepcopy(check.items)
        items[code].update(result=result, remark=remark, snapshot=stored, by=actor.username,
                           at=datetime.now().isoformat(timespec="seconds"), round=check.round)
        check.items = items
        self.svc.session.commit()
        return items[code]

    def _item(self, check: Any, code: str) -> dict:
        if check is None or check.status != IN_PROGRESS:
            raise CheckRefused(_("The verification is not in progress."))
        if self.settings.item(code) is None or code not in check.items:
            raise CheckRefused(_("Unknown check item."))
        return check.items[code]

    def set_mode(self, application_id: int, actor: Actor, mode: str) -> Any:
        row, check = self._open(application_id, actor, REGULATOR)
        if check is None or check.status != IN_PROGRESS or mode not in (VIDEO, PHOTO):
            raise CheckRefused(_("The verification is not in progress."))
        check.mode = mode
        self.svc.session.commit()
        return check

    def add_evidence(self, application_id: int, actor: Actor, code: str, photos: Iterable[Upload],
                     remark: str) -> dict:
        """Photo evidence: the enterprise sends photos of one item (the regulator switched from the call)."""
        row, check = self._open(application_id, actor, ENTERPRISE)
        item = self._item(check, code)
        if check.mode != PHOTO:
            raise CheckRefused(_("The regulator has not asked for photo evidence."))
        if not self.signed(check):
            raise CheckRefused(_("Sign the letter of commitment first."))
        if item.get("result") is not None:
            raise CheckRefused(_("This item is already recorded."))
        stored = [self._store_image(p, IMAGE_TYPES) for p in photos]
        if not stored:
            raise CheckRefused(_("Choose at least one photo."))
        items = copy.deepcopy(check.items)
        items[code]["evidence"] = stored
        items[code]["evidence_remark"] = (remark or "").strip()[:MAX_REMARK]
        check.items = items
        self.svc.session.commit()
        return items[code]

    def finish(self, application_id: int, actor: Actor) -> Any:
        """Every item 符合: the application takes the pass transition. Otherwise the failed items go to the
        enterprise for rectification."""
        row, check = self._open(application_id, actor, REGULATOR)
        if check is None or check.status != IN_PROGRESS:
            raise CheckRefused(_("The verification is not in progress."))
        pending = [self._label(code) for code, item in check.items.items() if item.get("result") is None]
        if pending:
            raise CheckRefused(_("Items not recorded yet: %(items)s", items="、".join(pending)))
        if all(item["result"] == "pass" for item in check.items.values()):
            check.status, check.finished_at = PASSED, datetime.now()
            self.svc.session.flush()
            try:
                # the engine checks the role, scope and conditions again, writes the history and commits
                self.engine.take(self.spec, row, self.settings.application.pass_, actor,
                                 comment=_("Cloud verification: every item complies."), by_plugin=True)
            except TransitionRefused as exc:
                self.svc.session.rollback()
                raise CheckRefused(str(exc)) from exc
            return check
        check.status = RECTIFYING
        self._notify(row, self.settings.enterprise_roles,
                     ("云核查有不符合项，请整改后提交", "雲核查有不符合項，請整改後提交",
                      "The cloud verification found problems: rectify them and submit"))
        self.svc.session.commit()
        return check

    def rectify(self, application_id: int, actor: Actor, code: str, photos: Iterable[Upload], remark: str) -> dict:
        row, check = self._open(application_id, actor, ENTERPRISE)
        if check is None or check.status != RECTIFYING:
            raise CheckRefused(_("Nothing is waiting for a rectification."))
        item = check.items.get(code)
        if item is None or item.get("result") != "fail":
            raise CheckRefused(_("Only the items that do not comply are rectified."))
        remark = (remark or "").strip()
        if not remark:
            raise CheckRefused(_("Say what was done in the remark."))
        stored = [self._store_image(p, IMAGE_TYPES) for p in photos]
        if not stored:
            raise CheckRefused(_("Choose at least one photo."))
        items = copy.deepcopy(check.items)
        items[code]["rectification"] = {"photos": stored, "remark": remark[:MAX_REMARK], "by": actor.username,
                                        "at": datetime.now().isoformat(timespec="seconds")}
        check.items = items
        self.svc.session.commit()
        return items[code]

    def submit_rectification(self, application_id: int, actor: Actor) -> Any:
        """The rectification is complete and signed: the verification resumes at the failed items."""
        row, check = self._open(application_id, actor, ENTERPRISE)
        if check is None or check.status != RECTIFYING:
            raise CheckRefused(_("Nothing is waiting for a rectification."))
        missing = [self._label(c) for c, i in check.items.items() if i["result"] == "fail" and not i.get("rectification")]
        if missing:
            raise CheckRefused(_("Items not rectified yet: %(items)s", items="、".join(missing)))
        if not self.signed(check):
            raise CheckRefused(_("Sign the letter of commitment first."))
        items = copy.deepcopy(check.items)
        for item in items.values():
            if item["result"] == "fail":
                done = {k: item.get(k) for k in ("result", "remark", "snapshot", "by", "at", "round", "rectification")}
                item["history"] = [*item.get("history", []), done]
                for key in ("result", "remark", "snapshot", "by", "at", "evidence", "evidence_remark"):
                    item[key] = None
        check.items, check.round, check.status, check.mode = items, check.round + 1, IN_PROGRESS, VIDEO
        self._notify(row, self.regulator_roles(),
                     ("企业已提交整改，云核查可继续", "企業已提交整改，雲核查可繼續",
                      "The enterprise submitted its rectification: the verification can resume"))
        self.svc.session.commit()
        return check

    def save_recording(self, application_id: int, actor: Actor, upload: Upload) -> dict:
        row, check = self._open(application_id, actor, REGULATOR)
        if check is None or check.status != IN_PROGRESS:
            raise CheckRefused(_("The verification is not in progress."))
        head = upload.stream.read(4)
        upload.stream.seek(0)
        if head != WEBM_MAGIC:
            raise CheckRefused(_("The recording is not a WebM video."))
        record = self.svc.files.save(STORE, upload.filename or "recording.webm", upload.stream)
        if record["size"] > MAX_RECORDING:
            self.svc.files.delete(record)
            raise CheckRefused(_("The recording is too large."))
        check.recordings = [*(check.recordings or []), {**record, "by": actor.username, "round": check.round}]
        self.svc.session.commit()
        return record

    # ---------------------------------------------------------------- files, labels, notices
    def _store_image(self, upload: Upload | None, accept: tuple[str, ...]) -> dict:
        if upload is None or not upload.filename:
            raise CheckRefused(_("Choose a picture."))
        extension = upload.filename.rsplit(".", 1)[-1].lower()
        head = upload.stream.read(4)
        upload.stream.seek(0)
        if extension not in accept or not (head.startswith(PNG_MAGIC) or head.startswith(JPEG_MAGIC[:3])):
            raise CheckRefused(_("“%(name)s” is not an accepted picture (accepted: %(types)s).",
                                 name=upload.filename, types=", ".join(accept)))
        record = self.svc.files.save(STORE, upload.filename, upload.stream)
        if record["size"] > MAX_IMAGE:
            self.svc.files.delete(record)
            raise CheckRefused(_("“%(name)s” is too large.", name=upload.filename))
        return record

    def _label(self, code: str) -> str:
        item = self.settings.item(code)
        return label_text(item.label) if item else code

    def _notify(self, row: Any, roles: Iterable[str], texts: tuple[str, str, str]) -> int:
        Message = self.svc.models.engine["Message"]
        users = self.engine.recipients(self.spec, row, roles)
        for user_id in users:
            self.svc.session.add(Message(user_id=user_id, created_at=datetime.now(), register=self.spec.name,
                                         row_id=row.id, kind="notice", sender=None,
                                         text_zh=f"{texts[0]}：{row}", text_zh_hant=f"{texts[1]}：{row}",
                                         text_en=f"{texts[2]}: {row}"))
        return len(users)

    def file_record(self, check: Any, path: str) -> dict | None:
        """A file of this verification by its stored path (only files the row refers to are served)."""
        found: list[dict] = []
        for s in check.signatures or []:
            found += [s["file"], s["operator_photo"]]
        for item in (check.items or {}).values():
            for state in [item, *item.get("history", [])]:
                if state.get("snapshot"):
                    found.append(state["snapshot"])
                found += state.get("evidence") or []
                found += (state.get("rectification") or {}).get("photos", [])
        found += check.recordings or []
        return next((r for r in found if r and r.get("path") == path), None)

    # ---------------------------------------------------------------- what waits for whom
    def waiting_for(self, check: Any, side: str) -> str | None:
        """What this party must do now (shown in 待办), or None."""
        if check.status == APPOINTING:
            if side == ENTERPRISE and check.appointment_state == REGULATOR_PROPOSED:
                return _("Confirm the appointment")
            if side == REGULATOR and check.appointment_state == ENTERPRISE_PROPOSED:
                return _("Confirm the new time")
        if check.status == SCHEDULED and side == REGULATOR:
            return _("Start the verification")
        if check.status == IN_PROGRESS:
            if side == ENTERPRISE and not self.signed(check):
                return _("Sign the letter of commitment")
            if side == REGULATOR:
                return _("Record the check items")
        if check.status == RECTIFYING and side == ENTERPRISE:
            return _("Rectify the failed items")
        return None

    def listing(self, actor: Actor) -> list[dict]:
        """The verifications of the applications the actor is a party of, with what waits for it."""
        model = self.svc.models[self.spec.name]
        visible = select(model.id)  # the row scope reduces it to the actor's applications
        rows = self.svc.session.execute(select(self.Check, model).join(model, model.id == self.Check.application_id)
                                        .where(self.Check.application_id.in_(visible))
                                        .order_by(self.Check.appointment_at.desc().nulls_last(), self.Check.id)).all()
        found = []
        for check, row in rows:
            side = self.side(row, actor)
            if side is not None:
                found.append({"check": check, "row": row, "side": side, "todo": self.waiting_for(check, side)})
        # applications by video waiting for their verification with no appointment yet: the regulator proposes one
        conditions = [model.id.in_(visible), getattr(model, self.spec.workflow.field) == self.settings.application.state,
                      ~select(self.Check.id).where(self.Check.application_id == model.id).exists()]
        mode = self.settings.application.mode
        if mode is not None:  # by_video, in the statement
            conditions.append(getattr(model, mode.field) == mode.value)
        for row in self.svc.session.scalars(select(model).where(*conditions).order_by(model.id)):
            side = self.side(row, actor)
            if side is not None:
                found.append({"check": None, "row": row, "side": side,
                              "todo": _("Propose an appointment") if side == REGULATOR else None})
        return found

    def due_reminders(self, today: date) -> int:
        """The day before a confirmed appointment, a notice to both parties (once)."""
        tomorrow = today + timedelta(days=1)
        model = self.svc.models[self.spec.name]
        checks = self.svc.session.scalars(select(self.Check).where(
            self.Check.appointment_state == CONFIRMED, self.Check.status == SCHEDULED,
            self.Check.reminded_on.is_(None)).execution_options(unscoped_reason="reminder scan")).all()
        sent = 0
        for check in checks:
            if check.appointment_at.date() != tomorrow:
                continue
            row = self.svc.session.execute(select(model).where(model.id == check.application_id)
                                           .execution_options(unscoped_reason="reminder scan")).scalar_one()
            when = check.appointment_at.strftime("%Y-%m-%d %H:%M")
            parties = self.regulator_roles() | set(self.settings.enterprise_roles)
            sent += self._notify(row, parties, (f"明天 {when} 云核查", f"明天 {when} 雲核查",
                                                f"Cloud verification tomorrow at {when}"))
            check.reminded_on = today
        self.svc.session.commit()
        return sent
