"""The draw table (plugin_random_draw): every draw made, confirmed or not, with its full record.

Not a register: a draw is written once by the draw service and changed only by its confirmation (a row lock and
the state check make a second confirmation fail), so it has no generic add/edit screens. Its table lives in the
engine's MetaData, so `flask metadata migrate` creates it with the registers' tables."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, registry as orm_registry

PREPARED, DRAWN, CONFIRMED = "prepared", "drawn", "confirmed"


def build_draw_table(metadata: Any) -> type:
    mapper = orm_registry(metadata=metadata)

    @mapper.mapped
    class Draw:
        __tablename__ = "plugin_random_draw"
        __table_args__ = (Index("ix_plugin_random_draw_state", "state", "confirmed_at"),
                          Index("ix_plugin_random_draw_region", "region_path", "id"),
                          Index("ix_plugin_random_draw_kind", "kind", "state", "confirmed_at"))
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        number: Mapped[str] = mapped_column(String(40), unique=True)
        state: Mapped[str] = mapped_column(String(12), default=PREPARED)
        #: empty for an enterprise draw; the name of a people draw of draw.yaml (``people``) otherwise
        kind: Mapped[str | None] = mapped_column(String(40))
        created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), default=datetime.now)
        created_by_id: Mapped[int | None] = mapped_column(Integer)
        organisation_id: Mapped[int | None] = mapped_column(Integer)
        #: the drawing user's jurisdiction ('/32/3204/'): who may see and confirm the draw
        region_path: Mapped[str | None] = mapped_column(String(700))
        #: what the user asked for (filters, quotas, officers per enterprise) as JSON, fixed when prepared
        parameters: Mapped[str] = mapped_column(Text)
        #: made by the server when the draw is prepared; shown only once drawn (its SHA-256 is shown before)
        seed: Mapped[str] = mapped_column(String(64))
        commitment: Mapped[str] = mapped_column(String(64))
        drawn_at: Mapped[datetime | None] = mapped_column(DateTime)
        pool_hash: Mapped[str | None] = mapped_column(String(64))
        pool_size: Mapped[int | None] = mapped_column(Integer)
        enterprise_count: Mapped[int | None] = mapped_column(Integer)
        #: the whole draw record (algorithm.py's input and result) as JSON, once drawn
        record: Mapped[str | None] = mapped_column(Text)
        #: the publishable summary (enterprise names, officer names or codes) shown on the public page
        summary: Mapped[str | None] = mapped_column(Text)
        confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
        confirmed_by_id: Mapped[int | None] = mapped_column(Integer)

    return Draw
