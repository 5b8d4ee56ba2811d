"""The draw's inputs read from the registers: the enterprise pool (the pool register's own list filters, within
the actor's row scope), the eligible officers with their avoidance keys, declared conflicts, recent draws."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Text, and_, cast, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from werkzeug.datastructures import MultiDict

from app.services import Services
from app.query.listing import parse_list_args, where_clauses

from .algorithm import encode_ids
from .settings import DrawSettings


#: at most this many codes of the quota regions' subtrees go into the pool's statement (see PoolReader.groups)
SQL_QUOTA_CODES = 2000


class DrawRefused(ValueError):
    """A draw or a confirmation that cannot be made; ``message`` is what the user reads (translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Parameters:
    """What the user asked for; stored with the draw as JSON."""

    filters: dict[str, list[str]] = field(default_factory=dict)
    mode: str = "count"           # count | ratio | quota
    count: int = 0
    ratio: float = 0.0            # per cent
    quotas: dict[str, int] = field(default_factory=dict)
    per_enterprise: int = 2
    officers_per_region: bool = False
    ids: list[int] = field(default_factory=list)


def _select(svc: Services, register: str, paths: list[str]) -> Any:
    """SELECT id and each 'field' or 'reference.field' of ``register`` (one outer join per reference)."""
    model = svc.models[register]
    spec = svc.registry.register(register)
    columns, joined = [model.id], {}
    for path in paths:
        first, _, rest = path.partition(".")
        f = spec.field(first)
        if not rest:
            columns.append(getattr(model, f"{first}_id") if f.type == "reference" else getattr(model, first))
            continue
        if first not in joined:
            joined[first] = svc.models[f.target].__table__.alias(f"{register}_{first}")
        columns.append(joined[first].c[rest])
    stmt = select(*columns).select_from(model)
    for first, table in joined.items():
        stmt = stmt.outerjoin(table, getattr(model, f"{first}_id") == table.c.id)
    return stmt


class PoolReader:
    def __init__(self, svc: Services, settings: DrawSettings):
        self.svc = svc
        self.settings = settings

    @property
    def region_dictionary(self) -> str:
        s = self.settings
        return self.svc.registry.register(s.pool.target).field(s.pool.quota_field).dictionary

    def filter_request(self, params: Parameters) -> Any:
        """The pool register's list request from the stored URL parameters (f.<field>, f.<field>.from/.to),
        keeping only the filters draw.yaml offers."""
        spec = self.svc.registry.register(self.settings.pool.target)
        allowed = set(self.settings.pool.filters)
        args = MultiDict([(key, value) for key, values in params.filters.items()
                          if key.startswith("f.") and key.split(".")[1] in allowed for value in values])
        return parse_list_args(spec, args)

    def _clauses(self, params: Parameters) -> list[Any]:
        """The pool's conditions: the offered filters and the chosen ids (the session adds the row scope)."""
        spec = self.svc.registry.register(self.settings.pool.target)
        model = self.svc.models[self.settings.pool.target]
        req = self.filter_request(params)
        clauses = where_clauses(spec, model, req, self.svc.dictionaries, self.svc.dictionary_item)
        if params.ids:
            clauses.append(model.id.in_(params.ids))
        return clauses

    def size(self, params: Parameters) -> int:
        """How many enterprises the pool holds (shown before drawing)."""
        model = self.svc.models[self.settings.pool.target]
        stmt = select(func.count(model.id))
        clauses = self._clauses(params)
        if clauses:
            stmt = stmt.where(and_(*clauses))
        return int(self.svc.session.execute(stmt).scalar_one())

    def groups(self, params: Parameters, owner: dict[str, str] | None) -> dict[str, dict[str, str]]:
        """The pool as a version 2 record holds it (algorithm step 6'): quota group → the group's values of the
        quota field → their members' ids ascending, joined by commas. ``owner`` maps the field's codes to quota
        groups (none: one group "*"); members of no quota group are not in the pool. One statement grouped by
        the field (its index gives the order); PostgreSQL joins the ids itself (a million in a few hundred ms)."""
        model = self.svc.models[self.settings.pool.target]
        region = getattr(model, self.settings.pool.quota_field)
        clauses = self._clauses(params)
        if owner is not None:
            if not owner:
                return {}
            # the quota regions' codes narrow the statement when they are few; a province's subtree is tens of
            # thousands, which the index probes one by one (measured: +0.25 s on a million rows): those rows are
            # dropped below instead
            if len(owner) <= SQL_QUOTA_CODES:
                clauses.append(region.in_(sorted(owner)))
        if self.svc.session.get_bind().dialect.name == "postgresql":
            joined = func.string_agg(cast(model.id, Text), aggregate_order_by(literal_column("','"), model.id))
            rows = self.svc.session.execute(select(region, joined).where(and_(true(), *clauses)).group_by(region))
        else:
            members: dict[Any, list[int]] = {}
            for code, member in self.svc.session.execute(select(region, model.id).where(and_(true(), *clauses))):
                members.setdefault(code, []).append(member)
            rows = [(code, encode_ids(ids)) for code, ids in members.items()]
        pool: dict[str, dict[str, str]] = {}
        for code, ids in rows:
            group = "*" if owner is None else owner.get(code)
            if group is not None and ids:
                pool.setdefault(group, {})[code or ""] = ids
        return pool

    def avoidance_keys(self, ids: list[int]) -> dict[str, list[str]]:
        """The avoidance keys ("<rule>:<value>") of these pool enterprises, by id (a version 2 record's ``keys``)."""
        s = self.settings
        model = self.svc.models[s.pool.target]
        stmt = _select(self.svc, s.pool.target, [r.enterprise for r in s.avoidance.same]).where(model.id.in_(ids))
        return {str(row[0]): [f"{i}:{v}" for i, v in enumerate(row[1:]) if v is not None]
                for row in self.svc.session.execute(stmt)}

    def quota_groups(self, codes: list[str]) -> dict[str, str]:
        """Every region code under one of the quota regions → that quota region."""
        owner: dict[str, str] = {}
        for code in codes:
            for sub in self.svc.dictionaries.subtree_codes(self.region_dictionary, code):
                if sub in owner:
                    raise DrawRefused("overlap")
                owner[sub] = code
        return owner

    def officers(self, actor: Any) -> list[tuple]:
        """(id, name, code, organisation region, *avoidance values) of the officers who may be drawn: on duty,
        certificate valid today, organisation within the actor's jurisdiction."""
        o = self.settings.officers
        model = self.svc.models[o.target]
        region_path = f"{o.organisation}.{self._organisation_region()}"
        stmt = _select(self.svc, o.target, [o.name, o.code, region_path]
                       + [r.officer for r in self.settings.avoidance.same])
        if o.active:
            stmt = stmt.where(getattr(model, o.active).is_(True))
        if o.valid_until:
            stmt = stmt.where(getattr(model, o.valid_until) >= date.today())
        rows = [tuple(r) for r in self.svc.session.execute(stmt.order_by(model.id))]
        if actor is not None and not actor.is_admin:
            inside = set(self.svc.dictionaries.subtree_codes(self.region_dictionary, actor.region_code)) \
                if actor.region_code else set()
            rows = [r for r in rows if r[3] in inside]
        return rows

    def _organisation_region(self) -> str:
        org = self.svc.registry.organisations
        return org.region if org else "region"

    def conflicts(self, officer_ids: list[int]) -> set[tuple[int, int]]:
        c = self.settings.avoidance.conflicts
        if c is None or not officer_ids:
            return set()
        model = self.svc.models[c.target]
        stmt = select(getattr(model, f"{c.officer}_id"), getattr(model, f"{c.enterprise}_id")) \
            .execution_options(unscoped_reason="declared conflicts decide who may be drawn, wherever declared")
        return {(int(a), int(b)) for a, b in self.svc.session.execute(stmt)}

    def recent(self) -> set[int]:
        """Enterprises with an inspection created by a draw within the recent window (the caller keeps those of
        its pool)."""
        months = self.settings.avoidance.recent_months
        if not months:
            return set()
        ins = self.settings.inspection
        model = self.svc.models[ins.target]
        cutoff = date.today() - timedelta(days=round(months * 30.44))
        stmt = select(getattr(model, f"{ins.enterprise}_id")).where(
            getattr(model, ins.draw).isnot(None), model.created_at >= cutoff) \
            .execution_options(unscoped_reason="which pool enterprises were drawn recently, by any organisation")
        return {int(e) for e in self.svc.session.execute(stmt.distinct()).scalars()}


def wanted_count(params: Parameters, pool_size: int) -> int:
    """Enterprises to draw in count or ratio mode (a ratio is rounded up: at least that share)."""
    if params.mode == "ratio":
        return math.ceil(pool_size * params.ratio / 100)
    return params.count
