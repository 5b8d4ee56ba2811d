"""The verification table (plugin_video_check): one row per application verified by video, with its appointment,
signatures, check item results, evidence, rectifications and recordings.

Not a register: it is written only by the verification service, which first proves the actor is one of the two
parties of the application (its row, read through the row scope). The files it refers to are kept by the
engine's attachment store (UPLOAD_FOLDER/video_check/…)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, registry as orm_registry

# the verification's own steps (the application's workflow state stays the engine's)
APPOINTING, SCHEDULED, IN_PROGRESS, RECTIFYING, PASSED = "appointing", "scheduled", "in_progress", "rectifying", "passed"
# who must answer the proposed appointment time
REGULATOR_PROPOSED, ENTERPRISE_PROPOSED, CONFIRMED = "regulator_proposed", "enterprise_proposed", "confirmed"
VIDEO, PHOTO = "video", "photo"


def build_check_table(metadata: Any) -> type:
    mapper = orm_registry(metadata=metadata)

    @mapper.mapped
    class VideoCheck:
        __tablename__ = "plugin_video_check"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        application_id: Mapped[int] = mapped_column(Integer, unique=True)
        status: Mapped[str] = mapped_column(String(16), default=APPOINTING)
        #: video call or photo evidence (the fallback when the call does not hold)
        mode: Mapped[str] = mapped_column(String(8), default=VIDEO)
        #: 1 for the first verification, +1 each time it resumes after a rectification
        round: Mapped[int] = mapped_column(Integer, default=1)
        appointment_at: Mapped[datetime | None] = mapped_column(DateTime)
        appointment_state: Mapped[str | None] = mapped_column(String(24))
        #: every proposal and confirmation: [{"by", "side", "at", "action", "time"}]
        appointment_log: Mapped[list] = mapped_column(JSON, default=list)
        reminded_on: Mapped[date | None] = mapped_column(Date)
        #: the 承诺书 signatures (one per round): [{"round", "file", "user_id", "user", "at", "operator_photo"}]
        signatures: Mapped[list] = mapped_column(JSON, default=list)
        #: item code → {"result": "pass"|"fail"|None, "remark", "snapshot", "by", "at", "evidence": [...],
        #: "rectification": {...}, "history": [...]}
        items: Mapped[dict] = mapped_column(JSON, default=dict)
        recordings: Mapped[list] = mapped_column(JSON, default=list)
        started_by_id: Mapped[int | None] = mapped_column(Integer)
        created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), default=datetime.now)
        finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    return VideoCheck
