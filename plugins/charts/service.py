"""Which charts and dashboards an actor may see, their figures (query.py) and their export to Excel."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.i18n import label_text

from . import summaries
from .query import ChartData, ChartQuery
from .settings import Charts, field_of
from .spec import ChartSpec, DashboardSpec


class ChartService:
    def __init__(self, svc: Any, policy: Any, charts: Charts):
        self.svc, self.policy, self.settings = svc, policy, charts
        self.summaries = summaries.build(charts.summaries.values(), svc.models, svc.registry)
        self._ready: dict[str, summaries.Summary] | None = None

    def ready_summaries(self) -> dict[str, summaries.Summary]:
        """The summaries installed as declared (checked once per process; `flask metadata migrate` resets it)."""
        if self._ready is None:
            self._ready = summaries.ready(self.svc.db.engine, self.summaries)
        return self._ready

    def install_summaries(self, echo: Any = print) -> list[str]:
        built = summaries.install(self.svc.db.engine, self.summaries, echo)
        self._ready = None
        return built

    def rebuild_summaries(self, tables: list[str], echo: Any = print) -> list[str]:
        """Refill from their registers the installed summaries kept on ``tables`` (after a load that bypassed their
        triggers); returns their names."""
        rebuilt = []
        for name, summary in self.ready_summaries().items():
            if summary.base.name in tables:
                rows = summaries.rebuild(self.svc.db.engine, summary)
                echo(f"Chart summary {name}: rebuilt from {summary.base.name} ({rows:,} rows).")
                rebuilt.append(name)
        return rebuilt

    def summaries_of(self, register: str) -> list[summaries.Summary]:
        """The installed summaries of a register, smallest (fewest dimensions) first."""
        return sorted((s for s in self.ready_summaries().values() if s.spec.source == register),
                      key=lambda s: (len(s.spec.dimensions), s.name))

    def may_see(self, chart: ChartSpec, actor: Any) -> bool:
        """The actor may open the source register, is one of the chart's roles (when it names some), and none of
        the fields the chart groups, measures or filters by is hidden from it."""
        if actor is None or actor.is_anonymous:
            return False
        spec = self.svc.registry.register(chart.source)
        if not self.policy.can(spec, actor, "view"):
            return False
        if chart.roles and not actor.is_admin and not set(chart.roles) & set(actor.roles):
            return False
        used = {g.field.partition(".")[0] for g in (chart.by, chart.stack) if g is not None}
        used |= set(chart.filters) | set(chart.measure.part)
        if chart.measure.field:
            used.add(chart.measure.field.partition(".")[0])
        return not used & self.policy.hidden_fields(spec, actor)

    def charts(self, actor: Any) -> list[ChartSpec]:
        return [c for c in self.settings.charts.values() if c.kind != "figure" and self.may_see(c, actor)]

    def chart(self, name: str, actor: Any) -> ChartSpec | None:
        chart = self.settings.charts.get(name)
        return chart if chart is not None and self.may_see(chart, actor) else None

    def dashboards(self, actor: Any) -> list[DashboardSpec]:
        """The dashboards with a page (not the home ones) made for the actor's roles."""
        return [b for b in self.settings.dashboards.values() if not b.home and self._for(b, actor)]

    def _for(self, board: DashboardSpec, actor: Any) -> bool:
        return actor.is_admin or not board.roles or bool(set(board.roles) & set(actor.roles))

    def home_dashboard(self, actor: Any) -> DashboardSpec | None:
        if actor is None or actor.is_anonymous:
            return None
        return next((b for b in self.settings.dashboards.values() if b.home and (
            set(b.roles) & set(actor.roles) or (actor.is_admin and not actor.roles))), None) \
            or next((b for b in self.settings.dashboards.values() if b.home and actor.is_admin), None)

    def board(self, board: DashboardSpec, actor: Any) -> tuple[list[ChartSpec], list[ChartSpec]]:
        """(figures, charts) of a dashboard the actor may see."""
        charts = self.settings.charts
        return ([charts[n] for n in board.figures if self.may_see(charts[n], actor)],
                [charts[n] for n in board.charts if self.may_see(charts[n], actor)])

    def data(self, chart: ChartSpec, actor: Any, extra: MultiDict | None = None,
             use_summaries: bool = True, links: bool = True) -> ChartData:
        """The chart's figures for the actor; from a summary where one fits (``use_summaries=False``: always from
        the register, as the tests compare; ``links=False``: without the drill-down URLs, outside a request)."""
        found = self.summaries_of(chart.source) if use_summaries else []
        return ChartQuery(self.svc, chart, actor, extra, found, links).run()

    def workbook(self, data: ChartData) -> bytes:
        """The chart's table as an .xlsx: the slices (with the stacks as columns), then the total."""
        from openpyxl import Workbook  # on first use: 0.4 s of every start
        from openpyxl.styles import Font
        book = Workbook()
        sheet = book.active
        sheet.title = data.title[:31] or data.chart.name
        by = data.chart.by
        head_label = ""
        if by is not None:
            head_label = label_text(field_of(self.svc.registry, data.chart.source, by.field).label)
        header = [head_label] + list(data.stack_labels.values()) + [data.measure_label]
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for s in data.slices:
            sheet.append([s.label] + [s.stacks.get(k, 0) for k in data.stack_labels] + [s.value])
        sheet.append([_("Total")] + [data.stack_totals.get(k, 0) for k in data.stack_labels]
                     + [data.total])
        sheet.column_dimensions["A"].width = 24
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
