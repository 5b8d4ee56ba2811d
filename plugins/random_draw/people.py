"""People draws (专家抽取, 002's review): people of a register (the experts) drawn for a subject under review (an
enterprise) with the register's own filters, a count and the avoidance declared in draw.yaml (``people``). The
draw is kept, redrawn and published like an enterprise draw (same table, same algorithm file, step 7);
confirming it publishes it and creates nothing else."""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, select
from werkzeug.datastructures import MultiDict

from app.query.listing import parse_list_args, where_clauses

from . import algorithm
from .models import CONFIRMED, DRAWN, PREPARED
from .pool import DrawRefused, _select
from .settings import PeopleDraw


@dataclass
class PeopleParameters:
    """What the user asked for in a people draw; stored with the draw as JSON."""

    draw: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    count: int = 0
    subject: int = 0


class PeopleDraws:
    """The people draws of a DrawService (it owns the table, numbering and visibility)."""

    def __init__(self, service: Any):
        self.service = service
        self.svc = service.svc

    def spec(self, name: str | None) -> PeopleDraw:
        spec = self.service.settings.people_draw(name)
        if spec is None:
            raise DrawRefused(_("Unknown kind of draw."))
        return spec

    def may_draw(self, actor: Any, spec: PeopleDraw) -> bool:
        """Whoever may make random draws and view both the people and the subjects."""
        if not self.service.may_draw(actor):
            return False
        policy = self.service.svc_policy()
        return all(policy.can(self.svc.registry.register(name), actor, "view") for name in (spec.target, spec.subject))

    # ------------------------------------------------------------------ inputs
    def pool(self, spec: PeopleDraw, params: PeopleParameters) -> list[tuple]:
        """(id, *avoidance values) of the available people matching the filters, by id (row scope applies)."""
        reg = self.svc.registry.register(spec.target)
        model = self.svc.models[spec.target]
        allowed = set(spec.filters)
        args = MultiDict([(key, value) for key, values in params.filters.items()
                          if key.startswith("f.") and key.split(".")[1] in allowed for value in values])
        clauses = where_clauses(reg, model, parse_list_args(reg, args), self.svc.dictionaries,
                                self.svc.dictionary_item)
        if spec.available:
            clauses.append(getattr(model, spec.available).is_(True))
        stmt = _select(self.svc, spec.target, [r.member for r in spec.avoidance.same])
        if clauses:
            stmt = stmt.where(and_(*clauses))
        return [tuple(r) for r in self.svc.session.execute(stmt.order_by(model.id))]

    def subject_row(self, spec: PeopleDraw, subject_id: int) -> tuple:
        """(id, *avoidance values) of the subject, which must be visible to the user."""
        model = self.svc.models[spec.subject]
        stmt = _select(self.svc, spec.subject, [r.subject for r in spec.avoidance.same]).where(model.id == subject_id)
        row = self.svc.session.execute(stmt).first()
        if row is None:
            raise DrawRefused(_("Choose the enterprise under review (one within your jurisdiction)."))
        return tuple(row)

    def conflicts(self, spec: PeopleDraw, subject_id: int) -> list[int]:
        c = spec.avoidance.conflicts
        if c is None:
            return []
        model = self.svc.models[c.target]
        stmt = select(getattr(model, f"{c.member}_id")).where(getattr(model, f"{c.subject}_id") == subject_id) \
            .execution_options(unscoped_reason="declared conflicts decide who may be drawn, wherever declared")
        return sorted({int(i) for (i,) in self.svc.session.execute(stmt)})

    def recent(self, spec: PeopleDraw) -> set[int]:
        """People in confirmed draws of this kind within the recent window (any organisation's)."""
        months = spec.avoidance.recent_months
        if not months:
            return set()
        Draw = self.service.Draw
        cutoff = datetime.combine(date.today() - timedelta(days=round(months * 30.44)), datetime.min.time())
        stmt = select(Draw.record).where(Draw.kind == spec.name, Draw.state == CONFIRMED, Draw.confirmed_at >= cutoff)
        found: set[int] = set()
        for (record,) in self.svc.session.execute(stmt):
            found |= set(json.loads(record)["result"]["members"])
        return found

    # ------------------------------------------------------------------ prepare, draw
    def check(self, spec: PeopleDraw, params: PeopleParameters) -> None:
        if not 1 <= params.count <= spec.max_count:
            raise DrawRefused(_("Draw between 1 and %(n)s people.", n=spec.max_count))
        if not params.subject:
            raise DrawRefused(_("Choose the enterprise under review (one within your jurisdiction)."))

    def prepare(self, actor: Any, params: PeopleParameters) -> Any:
        spec = self.spec(params.draw)
        if actor is None or actor.is_anonymous or not self.may_draw(actor, spec):
            raise DrawRefused(_("You may not make random draws."))
        self.check(spec, params)
        self.subject_row(spec, params.subject)
        seed = secrets.token_hex(32)
        Draw = self.service.Draw
        draw = Draw(number=self.service._next_number(), state=PREPARED, kind=spec.name, created_by_id=actor.user_id,
                    organisation_id=actor.organisation_id, region_path=actor.region_path,
                    parameters=json.dumps(asdict(params), ensure_ascii=False), seed=seed,
                    commitment=algorithm.commitment(seed))
        self.svc.session.add(draw)
        self.svc.session.commit()
        return draw

    def build_record(self, draw: Any, spec: PeopleDraw, params: PeopleParameters, public_value: str) -> dict:
        subject = self.subject_row(spec, params.subject)
        rows = self.pool(spec, params)
        if not rows:
            raise DrawRefused(_("The pool is empty: nobody available matches the filters."))
        members = [[row[0], "*", [f"{i}:{v}" for i, v in enumerate(row[1:]) if v not in (None, "")]]
                   for row in rows]
        keys = [f"{i}:{v}" for i, v in enumerate(subject[1:]) if v not in (None, "")]
        pool_ids = {row[0] for row in rows}
        return {
            "algorithm": algorithm.ALGORITHM_V1, "kind": "people", "draw": spec.name, "number": draw.number,
            "seed": draw.seed, "commitment": draw.commitment, "public_value": public_value,
            "filters": params.filters, "count": params.count,
            "subject": {"id": subject[0], "keys": keys, "hash": algorithm.members_hash(keys)},
            "avoidance": [r.label.zh for r in spec.avoidance.same], "recent_months": spec.avoidance.recent_months,
            "pool": {"members": members, "hash": algorithm.members_hash(members),
                     "recent": sorted(self.recent(spec) & pool_ids)},
            "conflicts": [i for i in self.conflicts(spec, subject[0]) if i in pool_ids],
        }

    def draw(self, actor: Any, draw: Any, public_value: str) -> Any:
        """Run step 7 on the pool as it is now (``draw`` is locked by the caller)."""
        spec = self.spec(draw.kind)
        if not self.may_draw(actor, spec):
            raise DrawRefused(_("You may not make random draws."))
        params = PeopleParameters(**json.loads(draw.parameters))
        record = self.build_record(draw, spec, params, public_value)
        try:
            result = algorithm.run(record)
        except algorithm.DrawImpossible as exc:
            self.svc.session.rollback()
            raise DrawRefused(_("%(want)s people asked for, but only %(pool)s can be drawn after avoidance "
                                "(own employer, declared conflicts).", want=params.count,
                                pool=exc.detail.get("pool", 0))) from exc
        record["result"] = result
        draw.state, draw.drawn_at = DRAWN, datetime.now()
        draw.pool_hash, draw.pool_size = record["pool"]["hash"], len(record["pool"]["members"])
        draw.enterprise_count = len(result["members"])
        draw.record = json.dumps(record, ensure_ascii=False, sort_keys=True)
        draw.summary = json.dumps(self.summary(spec, record), ensure_ascii=False)
        self.svc.session.commit()
        return draw

    def summary(self, spec: PeopleDraw, record: dict[str, Any]) -> dict[str, Any]:
        """What may be published: the kind, the subject's name and the drawn people's names."""
        model, subject = self.svc.models[spec.target], self.svc.models[spec.subject]
        ids = record["result"]["members"]
        names = dict(self.svc.session.execute(
            select(model.id, getattr(model, spec.display)).where(model.id.in_(ids))
            .execution_options(unscoped_reason="names of the drawn people")).all())
        title = self.svc.registry.register(spec.subject).title_field
        subject_name = self.svc.session.execute(
            select(getattr(subject, title)).where(subject.id == record["subject"]["id"])).scalar_one_or_none()
        return {"kind": spec.name, "kind_label": spec.label.zh, "subject": subject_name,
                "people": [{"id": i, "name": names.get(i, f"#{i}")} for i in ids],
                "exhausted": ["*"] if record["result"]["exhausted"] else [], "items": []}
