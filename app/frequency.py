"""Inspection frequency (metadata/frequencies/): per group (township), what each rule asks, what is done and the
subjects not visited in time, among the subjects the user may see; visits by any organisation count."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, or_, select, true

from app.workflow.conditions import conditions_sql

LIST_ROWS = 500  # subjects listed per rule or list; the counts cover all


@dataclass
class RuleProgress:
    code: str
    share: int | None
    every_months: int | None
    since: date
    total: int = 0
    done: int = 0

    @property
    def required(self) -> int:
        return math.ceil(self.total * self.share / 100) if self.share else self.total

    @property
    def met(self) -> bool:
        return self.done >= self.required


@dataclass
class GroupProgress:
    code: Any
    rules: list[RuleProgress] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rules)

    @property
    def met(self) -> int:
        return sum(1 for r in self.rules if r.total and r.met)

    @property
    def counted(self) -> int:
        return sum(1 for r in self.rules if r.total)


def months_before(day: date, months: int) -> date:
    month = day.year * 12 + day.month - 1 - months
    year, month = divmod(month, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError(day)


def rule_since(rule: Any, today: date) -> date:
    """A share is counted over the calendar year; an interval over the last months."""
    return date(today.year, 1, 1) if rule.share else months_before(today, rule.every_months)


class FrequencyReport:
    """The queries of one rule set for one user (the subjects' read scope applied explicitly)."""

    def __init__(self, svc: Any, policy: Any, actor: Any, spec: Any, today: date | None = None):
        self.svc, self.spec, self.today = svc, spec, today or date.today()
        self.subjects_spec = svc.registry.register(spec.subjects)
        self.model = svc.models[spec.subjects]
        self.scope = policy.read_condition(self.subjects_spec, actor)
        visits = svc.models[spec.visits.target]
        visits_spec = svc.registry.register(spec.visits.target)
        ref = getattr(visits, f"{spec.visits.reference}_id")
        where = [ref.is_not(None)]
        if spec.visits.states:
            where.append(getattr(visits, visits_spec.workflow.field).in_(spec.visits.states))
        self.last = select(ref.label("subject_id"), func.max(getattr(visits, spec.visits.date)).label("last_visit")) \
            .where(*where).group_by(ref).subquery()

    def _base(self, *columns: Any) -> Any:
        stmt = select(*columns).select_from(self.model).outerjoin(self.last, self.last.c.subject_id == self.model.id)
        stmt = stmt.where(conditions_sql(self.svc, self.subjects_spec, self.model, self.spec.where, None))
        if self.scope is not None:
            stmt = stmt.where(self.scope)
        return stmt.execution_options(unscoped_reason="the subjects' read scope is in the WHERE; visits of any "
                                                      "organisation count")

    def _column(self, name: str) -> Any:
        return getattr(self.model, name)

    def groups(self, only: Any = None) -> list[GroupProgress]:
        group, by = self._column(self.spec.group_by), self._column(self.spec.by)
        since = case(*[(by == r.equals, literal(rule_since(r, self.today))) for r in self.spec.rules], else_=None)
        visited = func.count(case((self.last.c.last_visit >= since, 1)))
        stmt = self._base(group, by, func.count(), visited).where(by.in_([r.equals for r in self.spec.rules]))
        if only is not None:
            stmt = stmt.where(group == only)
        counts: dict[Any, dict[str, tuple[int, int]]] = {}
        for code, grade, total, done in self.svc.session.execute(stmt.group_by(group, by)):
            counts.setdefault(code, {})[grade] = (total, done)
        out = []
        for code in sorted(counts, key=lambda c: (c is None, str(c))):
            progress = GroupProgress(code)
            for r in self.spec.rules:
                total, done = counts[code].get(r.equals, (0, 0))
                progress.rules.append(RuleProgress(r.equals, r.share, r.every_months, rule_since(r, self.today),
                                                   total, done))
            out.append(progress)
        return out

    def not_visited(self, since: date, conditions: Any = (), group: Any = None, grade: Any = None) -> tuple[int, list]:
        """(how many, the first rows as (subject, last visit)) of the subjects not visited since ``since``."""
        stmt = self._base(self.model, self.last.c.last_visit).where(
            or_(self.last.c.last_visit.is_(None), self.last.c.last_visit < since),
            conditions_sql(self.svc, self.subjects_spec, self.model, conditions, None) if conditions else true())
        if group is not None:
            stmt = stmt.where(self._column(self.spec.group_by) == group)
        if grade is not None:
            stmt = stmt.where(self._column(self.spec.by) == grade)
        counting = select(func.count()).select_from(stmt.subquery())
        count = self.svc.session.execute(counting.execution_options(
            unscoped_reason="counted in the scoped subquery")).scalar_one()
        rows = list(self.svc.session.execute(stmt.order_by(self.model.id).limit(LIST_ROWS)))
        return count, [(row[0], row[1]) for row in rows]

    def late_ids(self, group: Any, ids: Any = None) -> list[int]:
        """Ids of the group's subjects (of the user's scope) not visited within their rule's interval or year,
        limited to ``ids`` when given: whom a reminder may be sent to."""
        by = self._column(self.spec.by)
        since = case(*[(by == r.equals, literal(rule_since(r, self.today))) for r in self.spec.rules], else_=None)
        stmt = self._base(self.model.id).where(
            by.in_([r.equals for r in self.spec.rules]), self._column(self.spec.group_by) == group,
            or_(self.last.c.last_visit.is_(None), self.last.c.last_visit < since))
        if ids is not None:
            stmt = stmt.where(self.model.id.in_(list(ids)))
        return list(self.svc.session.scalars(stmt.order_by(self.model.id)))

    def list_since(self, within_months: int) -> date:
        return months_before(self.today, within_months)
