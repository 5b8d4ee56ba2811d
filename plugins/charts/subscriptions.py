"""Subscriptions to dashboards (系统订阅, 001 §7.4): the tables, who may subscribe to what, and the snapshots the
beat task takes of a dashboard as its subscriber sees it (their row scope, their language), read later in
个人中心 → 我的订阅 and announced in the inbox.

Not a register: the dashboards offered depend on the reader's roles and on the charts' YAML (no dictionary holds
them), and a subscription is never anyone else's business — not even an administrator's — so the tables are the
plugin's own, written only by this service after it checked the owner."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, registry as orm_registry

from app import clock
from app.i18n import label_text
from app.security.actor import acting_as, actor_for

from .spec import DashboardSpec

DAILY, MONTHLY = "daily", "monthly"
FREQUENCIES = (DAILY, MONTHLY)
#: the inbox messages announcing a snapshot (app.plugins.add_message_link leads them to it)
MESSAGE_KIND = "subscription"
#: how a frequency is written in the three languages, in the inbox and the mails
FREQUENCY_TEXT = {DAILY: ("每日统计", "每日統計", "daily"), MONTHLY: ("每月统计", "每月統計", "monthly")}


def build_tables(metadata: Any) -> tuple[type, type]:
    """The subscriptions and the snapshots, in the engine's MetaData (`flask metadata migrate` creates them)."""
    mapper = orm_registry(metadata=metadata)

    @mapper.mapped
    class Subscription:
        __tablename__ = "plugin_chart_subscription"
        __table_args__ = (UniqueConstraint("user_id", "dashboard", "frequency",
                                           name="uq_plugin_chart_subscription_user"),)
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        user_id: Mapped[int] = mapped_column(Integer, index=True)
        #: a dashboard of metadata/dashboards/ (by name)
        dashboard: Mapped[str] = mapped_column(String(40))
        frequency: Mapped[str] = mapped_column(String(8))
        enabled: Mapped[bool] = mapped_column(Boolean, default=True)
        #: 排序: the subscriber's own order of its subscriptions
        position: Mapped[int] = mapped_column(Integer, default=0)
        #: also by e-mail, when a mail server is configured and the account has an address
        email: Mapped[bool] = mapped_column(Boolean, default=False)
        created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)

    @mapper.mapped
    class Snapshot:
        __tablename__ = "plugin_chart_snapshot"
        # one per subscriber, dashboard, frequency and day (daily) or month (monthly): a second run makes none
        __table_args__ = (UniqueConstraint("user_id", "dashboard", "frequency", "period",
                                           name="uq_plugin_chart_snapshot_period"),
                          Index("ix_plugin_chart_snapshot_user", "user_id", "id"))
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        user_id: Mapped[int] = mapped_column(Integer)
        #: the subscription it was taken for (kept when the subscription is deleted: the snapshot stays readable)
        subscription_id: Mapped[int | None] = mapped_column(Integer)
        dashboard: Mapped[str] = mapped_column(String(40))
        frequency: Mapped[str] = mapped_column(String(8))
        #: 2026-06-01 for a daily snapshot, 2026-06 for a monthly one
        period: Mapped[str] = mapped_column(String(10))
        as_of: Mapped[date] = mapped_column(Date)
        taken_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
        #: the dashboard's name and its tables, in the subscriber's language when taken
        title: Mapped[str] = mapped_column(String(200))
        locale: Mapped[str] = mapped_column(String(10))
        tables: Mapped[list] = mapped_column(JSON, default=list)

    return Subscription, Snapshot


class NotOffered(Exception):
    """A dashboard the actor may not subscribe to (not one of its roles'), or a subscription not its own."""


@dataclass
class Choice:
    dashboard: str
    frequency: str
    enabled: bool = True
    position: int = 0
    email: bool = False


def period_of(frequency: str, day: date) -> tuple[str, date] | None:
    """The period a snapshot taken on ``day`` reports and the day its figures are counted as of: a daily report the
    day that ended (``day`` − 1), a monthly one, taken on the 1st, the month that ended (as of its last day); None
    when the frequency takes none that day."""
    ended = day - timedelta(days=1)
    if frequency == DAILY:
        return ended.isoformat(), ended
    if frequency == MONTHLY and day.day == 1:
        return ended.strftime("%Y-%m"), ended
    return None


class SubscriptionService:
    def __init__(self, charts: Any, subscription: type, snapshot: type):
        self.charts, self.Subscription, self.Snapshot = charts, subscription, snapshot
        self.svc = charts.svc

    @property
    def session(self) -> Any:
        return self.svc.session

    # ---------------------------------------------------------------- what may be subscribed
    def boards(self, actor: Any) -> list[DashboardSpec]:
        """The dashboards the actor may open — the 统计分析 pages of its roles and its home page's — with at
        least one chart it may see."""
        if actor is None or actor.is_anonymous:
            return []
        found = list(self.charts.dashboards(actor))
        home = self.charts.home_dashboard(actor)
        if home is not None:
            found.append(home)
        return sorted((b for b in found if any(self.charts.board(b, actor))), key=lambda b: (b.order, b.name))

    def board(self, name: str, actor: Any) -> DashboardSpec | None:
        return next((b for b in self.boards(actor) if b.name == name), None)

    # ---------------------------------------------------------------- the subscriber's own rows
    def of(self, actor: Any) -> list[Any]:
        S = self.Subscription
        return list(self.session.scalars(select(S).where(S.user_id == actor.user_id)
                                         .order_by(S.position, S.id)))

    def get(self, actor: Any, subscription_id: int) -> Any | None:
        row = self.session.get(self.Subscription, subscription_id)
        return row if row is not None and row.user_id == actor.user_id else None

    def save(self, actor: Any, choice: Choice, row: Any | None = None) -> Any:
        """Add (``row`` None) or change one of the actor's subscriptions; commits. NotOffered for a dashboard
        outside its roles; ValueError (a message) for a wrong frequency or the same subscription twice."""
        if self.board(choice.dashboard, actor) is None:
            raise NotOffered(choice.dashboard)
        if choice.frequency not in FREQUENCIES:
            raise ValueError(_("Choose daily or monthly."))
        if row is not None and row.user_id != actor.user_id:
            raise NotOffered(row.id)
        S = self.Subscription
        twin = self.session.scalar(select(S.id).where(S.user_id == actor.user_id, S.dashboard == choice.dashboard,
                                                      S.frequency == choice.frequency))
        if twin is not None and (row is None or twin != row.id):
            raise ValueError(_("You have subscribed to this dashboard with this frequency already."))
        if row is None:
            row = S(user_id=actor.user_id, created_at=datetime.now())
            self.session.add(row)
        row.dashboard, row.frequency = choice.dashboard, choice.frequency
        row.enabled, row.position, row.email = choice.enabled, choice.position, choice.email
        self.session.commit()
        return row

    def delete(self, actor: Any, ids: list[int]) -> int:
        """Delete those of ``ids`` that are the actor's (others' ids are ignored); commits. Their snapshots stay."""
        rows = [r for r in (self.get(actor, i) for i in set(ids)) if r is not None]
        for row in rows:
            self.session.delete(row)
        self.session.commit()
        return len(rows)

    def snapshots(self, actor: Any, limit: int = 50, offset: int = 0) -> tuple[list[Any], int]:
        """The actor's snapshots, newest first, and how many there are."""
        N = self.Snapshot
        total = self.session.scalar(select(func.count()).where(N.user_id == actor.user_id)) or 0
        rows = list(self.session.scalars(select(N).where(N.user_id == actor.user_id)
                                         .order_by(N.taken_at.desc(), N.id.desc()).limit(limit).offset(offset)))
        return rows, total

    def snapshot(self, actor: Any, snapshot_id: int) -> Any | None:
        row = self.session.get(self.Snapshot, snapshot_id)
        return row if row is not None and row.user_id == actor.user_id else None

    # ---------------------------------------------------------------- snapshots
    def tables(self, board: DashboardSpec, actor: Any) -> list[dict]:
        """The dashboard's figures and charts as the actor sees them now: plain values, no links."""
        from .settings import field_of
        figures, charts = self.charts.board(board, actor)
        found = []
        for chart in [*figures, *charts]:
            data = self.charts.data(chart, actor, links=False)
            by = ""
            if chart.by is not None:
                by = label_text(field_of(self.svc.registry, chart.source, chart.by.field).label)
            found.append({"name": chart.name, "kind": chart.kind, "title": data.title, "by": by,
                          "measure": data.measure_label, "percent": data.percent, "total": data.total,
                          "stacks": [{"key": k, "label": v} for k, v in data.stack_labels.items()],
                          "stack_totals": data.stack_totals,
                          "slices": [{"key": s.key, "label": s.label, "value": s.value, "url": None,
                                      "stacks": s.stacks} for s in data.slices]})
        return found

    def take_due(self, today: date) -> int:
        """One snapshot per enabled subscription due ``today`` (daily: every day; monthly: the 1st) that has none
        for its period yet, each computed as its subscriber and announced in its inbox; returns how many were
        taken. A subscriber no longer active, or whose roles no longer offer the dashboard, gets none."""
        S, N = self.Subscription, self.Snapshot
        User = current_app.appbuilder.sm.user_model
        default_locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")
        taken, mails = 0, []
        due = list(self.session.scalars(select(S).where(S.enabled.is_(True)).order_by(S.user_id, S.position, S.id)))
        for sub in due:
            due_period = period_of(sub.frequency, today)
            if due_period is None:
                continue
            period, as_of = due_period
            if self.session.scalar(select(N.id).where(
                    N.user_id == sub.user_id, N.dashboard == sub.dashboard, N.frequency == sub.frequency,
                    N.period == period)) is not None:
                continue
            user = self.session.get(User, sub.user_id)
            if user is None or not user.active:
                continue
            actor = actor_for(user)
            board = self.board(sub.dashboard, actor)
            if board is None:
                continue
            locale = user.locale or default_locale
            with acting_as(actor), force_locale(locale), clock.as_of(as_of):   # "this month": the month reported
                tables = self.tables(board, actor)
            snapshot = N(user_id=sub.user_id, subscription_id=sub.id, dashboard=sub.dashboard,
                         frequency=sub.frequency, period=period, as_of=as_of, taken_at=datetime.now(),
                         title=board.label.text(locale)[:200], locale=locale, tables=tables)
            try:
                with self.session.begin_nested():
                    self.session.add(snapshot)
            except IntegrityError:  # another run took it meanwhile
                continue
            texts = self.message_texts(board, sub.frequency, period)
            Message = self.svc.models.engine["Message"]
            self.session.add(Message(user_id=sub.user_id, created_at=datetime.now(), register=None,
                                     row_id=snapshot.id, kind=MESSAGE_KIND, sender=None,
                                     dedup_key=f"subscription:{snapshot.id}", **texts))
            self.session.commit()
            taken += 1
            if sub.email and user.email:
                mails.append((user.email, texts, tables))
        self.session.commit()
        if mails and current_app.config.get("MAIL_SERVER"):
            from app.alerts.mail import deliver
            deliver([self.mail(to, texts, tables) for to, texts, tables in mails])
        return taken

    @staticmethod
    def message_texts(board: DashboardSpec, frequency: str, period: str) -> dict[str, str]:
        zh, hant, en = FREQUENCY_TEXT[frequency]
        return {"text_zh": f"【订阅】{board.label.text('zh_Hans')}（{zh}）：{period}",
                "text_zh_hant": f"【訂閱】{board.label.text('zh_Hant')}（{hant}）：{period}",
                "text_en": f"[Subscription] {board.label.text('en')} ({en}): {period}"}

    @staticmethod
    def mail(to: str, texts: dict[str, str], tables: list[dict]) -> Any:
        """The inbox message by mail, with the snapshot's totals beneath (the tables are read in 我的订阅)."""
        from app.alerts.mail import message_mail
        mail = message_mail(to, texts["text_zh"], texts["text_en"])
        lines = [f"{t['title']}：{_number(t['total'], t['percent'])}" for t in tables]
        mail.set_content(f"{texts['text_zh']}\n\n" + "\n".join(lines) + f"\n\n{texts['text_en']}\n")
        return mail

    def workbook(self, snapshot: Any) -> bytes:
        """The snapshot as an .xlsx: the figures on the first sheet, then one sheet per chart (its slices, the
        stacks as columns, the total)."""
        from openpyxl import Workbook  # on first use: 0.4 s of every start
        from openpyxl.styles import Font
        book = Workbook()
        sheet = book.active
        sheet.title = _("Figures")[:31]
        figures = [t for t in snapshot.tables if t["kind"] == "figure"]
        sheet.append([snapshot.title, f"{snapshot.period}"])
        sheet["A1"].font = Font(bold=True)
        for t in figures:
            sheet.append([t["title"], t["total"]])
        sheet.column_dimensions["A"].width = 32
        used = {sheet.title}
        for t in snapshot.tables:
            if t["kind"] == "figure":
                continue
            name = _sheet_name(t["title"] or t["name"], used)
            page = book.create_sheet(name)
            page.append([t["by"]] + [s["label"] for s in t["stacks"]] + [t["measure"]])
            for cell in page[1]:
                cell.font = Font(bold=True)
            for s in t["slices"]:
                page.append([s["label"]] + [s["stacks"].get(k["key"], 0) for k in t["stacks"]] + [s["value"]])
            page.append([_("Total")] + [t["stack_totals"].get(k["key"], 0) for k in t["stacks"]] + [t["total"]])
            page.column_dimensions["A"].width = 24
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _sheet_name(title: str, used: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the book."""
    name = "".join("_" if c in "[]:*?/\\" else c for c in title)[:31] or "Sheet"
    candidate, n = name, 2
    while candidate in used:
        candidate = f"{name[:27]} ({n})"
        n += 1
    used.add(candidate)
    return candidate


def _number(value: float, percent: bool) -> str:
    return f"{value:,.1f}%" if percent else f"{value:,.0f}" if float(value) == int(value) else f"{value:,}"
