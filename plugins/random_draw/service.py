"""The draw service: prepare (seed committed), draw (pool → algorithm → kept record), confirm (inspections created
in one transaction through the engine's write path, under a row lock)."""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict
from datetime import datetime
from itertools import chain
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.security.actor import Actor
from app.security.policy import AccessDenied
from app.services import Services

from . import algorithm
from .models import CONFIRMED, DRAWN, PREPARED
from .people import PeopleDraws, PeopleParameters
from .pool import DrawRefused, Parameters, PoolReader, wanted_count
from .settings import DrawSettings

MAX_PER_ENTERPRISE = 10


class DrawService:
    def __init__(self, svc: Services, settings: DrawSettings, model: type):
        self.svc = svc
        self.settings = settings
        self.Draw = model
        self.pool = PoolReader(svc, settings)
        self.people = PeopleDraws(self)

    # ------------------------------------------------------------------ who
    def may_draw(self, actor: Actor | None) -> bool:
        """Drawing creates inspections: whoever may add them (the inspection register's access rules)."""
        if actor is None or actor.is_anonymous:
            return False
        policy = self.svc_policy()
        return policy.can(self.svc.registry.register(self.settings.inspection.target), actor, "add")

    def svc_policy(self) -> Any:
        from flask import current_app
        return current_app.extensions["safety_policy"]

    def visible(self, actor: Actor) -> Any:
        """Draws the actor may see: those made inside its jurisdiction (an administrator: all)."""
        stmt = select(self.Draw)
        if not actor.is_admin:
            stmt = stmt.where(func.coalesce(self.Draw.region_path, "").startswith(actor.region_path or "\x00"))
        return stmt

    def get(self, actor: Actor, draw_id: int, lock: bool = False) -> Any:
        stmt = self.visible(actor).where(self.Draw.id == draw_id)
        if lock:
            stmt = stmt.with_for_update()
        draw = self.svc.session.execute(stmt).scalar_one_or_none()
        if draw is None:
            raise DrawRefused(_("This draw does not exist or is outside your jurisdiction."))
        return draw

    # ------------------------------------------------------------------ prepare
    def check_parameters(self, params: Parameters) -> None:
        if params.mode not in ("count", "ratio", "quota"):
            raise DrawRefused(_("Choose how enterprises are drawn: by count, by ratio or by region quotas."))
        if params.mode == "count" and params.count < 1:
            raise DrawRefused(_("The number of enterprises to draw must be at least 1."))
        if params.mode == "ratio" and not 0 < params.ratio <= 100:
            raise DrawRefused(_("The ratio must be more than 0 and at most 100 per cent."))
        if params.mode == "quota" and (not params.quotas or any(n < 0 for n in params.quotas.values())
                                       or not sum(params.quotas.values())):
            raise DrawRefused(_("Give at least one region with a quota of 1 or more."))
        if not 1 <= params.per_enterprise <= MAX_PER_ENTERPRISE:
            raise DrawRefused(_("Each enterprise needs between 1 and %(n)s inspectors.", n=MAX_PER_ENTERPRISE))
        for code in params.quotas:
            if not self.svc.dictionaries.exists(self.pool.region_dictionary, code):
                raise DrawRefused(_("Unknown region in the quotas: %(code)s", code=code))

    def prepare(self, actor: Actor, params: Parameters) -> Any:
        """A new draw with its seed made and committed (SHA-256 shown); nothing is drawn yet."""
        if not self.may_draw(actor):
            raise DrawRefused(_("You may not make random draws."))
        self.check_parameters(params)
        seed = secrets.token_hex(32)
        draw = self.Draw(number=self._next_number(), state=PREPARED, created_by_id=actor.user_id,
                         organisation_id=actor.organisation_id, region_path=actor.region_path,
                         parameters=json.dumps(asdict(params), ensure_ascii=False), seed=seed,
                         commitment=algorithm.commitment(seed))
        self.svc.session.add(draw)
        self.svc.session.commit()
        return draw

    def _next_number(self) -> str:
        today = datetime.now().strftime("%Y%m%d")
        count = self.svc.session.execute(select(func.count()).select_from(self.Draw)
                                         .where(self.Draw.number.startswith(f"SJ{today}-"))).scalar_one()
        return f"SJ{today}-{count + 1:04d}-{secrets.token_hex(2)}"

    # ------------------------------------------------------------------ draw
    def pool_size(self, params: Parameters) -> int:
        return self.pool.size(params)

    def draw(self, actor: Actor, draw_id: int, public_value: str = "") -> Any:
        """Run the algorithm on the pool as it is now; the record is kept whatever comes next."""
        draw = self.get(actor, draw_id, lock=True)
        if draw.state != PREPARED:
            raise DrawRefused(_("This draw was already made; redraw to draw again."))
        if draw.kind:
            return self.people.draw(actor, draw, public_value.strip()[:100])
        params = Parameters(**json.loads(draw.parameters))
        try:
            record, members = self.build_record(actor, draw, params, public_value.strip()[:100])
            picked = algorithm.pick(record, members)
            keys = self.pool.avoidance_keys(picked[0])
            record["keys"] = {"members": keys, "hash": algorithm.value_hash(keys)}
            result = algorithm.run(record, picked)
        except algorithm.DrawImpossible as exc:
            self.svc.session.rollback()
            raise DrawRefused(self._impossible(exc)) from exc
        record["result"] = result
        draw.state, draw.drawn_at = DRAWN, datetime.now()
        draw.pool_hash, draw.pool_size = record["pool"]["hash"], algorithm.pool_size(record)
        draw.enterprise_count = len(result["enterprises"])
        draw.record = json.dumps(record, ensure_ascii=False, sort_keys=True)
        draw.summary = json.dumps(self._summary(record), ensure_ascii=False)
        self.svc.session.commit()
        return draw

    def build_record(self, actor: Actor, draw: Any, params: Parameters,
                     public_value: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """A version 2 record (algorithm step 6'): the pool by quota group, ids joined; everything but the
        drawn enterprises' avoidance keys and the result. With it, each group's members in pool order."""
        if params.mode == "quota":
            try:
                owner = self.pool.quota_groups(sorted(params.quotas))
            except DrawRefused:
                raise DrawRefused(_("Two quota regions overlap: give each region only once, not inside another."))
            quotas = {code: n for code, n in params.quotas.items() if n}
        else:
            owner = None
        groups = self.pool.groups(params, owner)
        members = {g: algorithm.group_members(values) for g, values in groups.items()}
        size = sum(len(m) for m in members.values())
        if params.ids and (found := self.pool.size(params)) < len(set(params.ids)):
            raise DrawRefused(_("%(n)s of the chosen enterprises are outside your jurisdiction or the filters.",
                                n=len(set(params.ids)) - found))
        if not size:
            raise DrawRefused(_("The pool is empty: no enterprise in your jurisdiction matches the filters."))
        if owner is None:
            quotas = {"*": wanted_count(params, size)}
            if quotas["*"] > size:
                raise DrawRefused(_("%(want)s enterprises asked for, but the pool has only %(pool)s.",
                                    want=quotas["*"], pool=size))
        officer_rows = self.pool.officers(actor)
        officers = []
        for row in officer_rows:
            group = owner.get(row[3]) if (params.officers_per_region and owner) else "*"
            if group is not None:
                officers.append([row[0], group, [f"{i}:{v}" for i, v in enumerate(row[4:]) if v is not None]])
        if not officers:
            raise DrawRefused(_("No law-enforcement officer of your jurisdiction can be drawn (on duty, with a "
                                "valid certificate)."))
        names = {row[0]: (row[1], row[2]) for row in officer_rows}
        # the recently drawn and the declared conflicts that concern this pool: the few candidates looked up among
        # the pool's members (cheaper than a set of a million)
        recent = self.pool.recent()
        conflicts = self.pool.conflicts([o[0] for o in officers])
        candidates = {str(e) for e in recent} | {str(e) for _officer, e in conflicts}
        in_pool = {int(e) for e in candidates.intersection(chain.from_iterable(members.values()))}
        return {
            "algorithm": algorithm.ALGORITHM, "number": draw.number, "seed": draw.seed,
            "commitment": draw.commitment, "public_value": public_value,
            "filters": params.filters, "mode": params.mode, "quotas": quotas,
            "per_enterprise": params.per_enterprise, "officers_per_region": params.officers_per_region,
            "avoidance": [r.label.zh for r in self.settings.avoidance.same],
            "recent_months": self.settings.avoidance.recent_months,
            "pool": {"groups": groups, "hash": algorithm.value_hash(groups), "recent": sorted(recent & in_pool)},
            "officers": {"members": officers, "hash": algorithm.members_hash(officers),
                         "codes": {str(i): names[i][1] for i in (o[0] for o in officers)}},
            "conflicts": sorted([o, e] for o, e in conflicts if e in in_pool),
        }, members

    def _impossible(self, exc: algorithm.DrawImpossible) -> str:
        d = exc.detail
        region = d.get("group", "*")
        where = "" if region == "*" else self.svc.dictionaries.label(self.pool.region_dictionary, region)
        if exc.code == "quota_exceeds_pool":
            return _("The quota of %(region)s is %(quota)s but its pool has only %(pool)s enterprises.",
                     region=where or _("the whole pool"), quota=d["quota"], pool=d["pool"])
        return _("No eligible officer is left for enterprise #%(id)s after avoidance (%(found)s of %(wanted)s "
                 "found): add officers or ask for fewer per enterprise.", id=d["enterprise"], found=d["found"],
                 wanted=d["wanted"])

    def _summary(self, record: dict[str, Any]) -> dict[str, Any]:
        """What may be published: enterprise names, officers' names and codes, the commitment and hashes."""
        s = self.settings
        model = self.svc.models[s.pool.target]
        title = self.svc.registry.register(s.pool.target).title_field
        ids = record["result"]["enterprises"]
        names = dict(self.svc.session.execute(select(model.id, getattr(model, title)).where(model.id.in_(ids))
                                              .execution_options(unscoped_reason="names of the drawn enterprises")).all())
        o = self.svc.models[s.officers.target]
        officer_ids = {i for group in record["result"]["officers"] for i in group}
        people = {i: (n, c) for i, n, c in self.svc.session.execute(
            select(o.id, getattr(o, s.officers.name), getattr(o, s.officers.code)).where(o.id.in_(officer_ids)))}
        return {"items": [{"enterprise": names.get(e, f"#{e}"), "enterprise_id": e,
                           "officers": [{"name": people[i][0], "code": people[i][1]} for i in group]}
                          for e, group in zip(ids, record["result"]["officers"])],
                "exhausted": [self.svc.dictionaries.label(self.pool.region_dictionary, g) if g != "*" else "*"
                              for g in record["result"]["exhausted"]]}

    # ------------------------------------------------------------------ redraw, confirm
    def redraw(self, actor: Actor, draw_id: int) -> Any:
        """A new prepared draw with the same parameters (a new seed); the earlier one is kept as it is."""
        draw = self.get(actor, draw_id)
        if draw.state == CONFIRMED:
            raise DrawRefused(_("This draw is confirmed: it cannot be redrawn."))
        if draw.kind:
            return self.people.prepare(actor, PeopleParameters(**json.loads(draw.parameters)))
        return self.prepare(actor, Parameters(**json.loads(draw.parameters)))

    def confirm(self, actor: Actor, draw_id: int) -> list[int]:
        """Create one inspection per drawn enterprise, all or none, and mark the draw confirmed. The row lock
        makes a second confirmation (the same user twice, or two users at once) wait and then fail."""
        session = self.svc.session
        try:
            draw = self.get(actor, draw_id, lock=True)
            if draw.state == CONFIRMED:
                raise DrawRefused(_("This draw is already confirmed; its inspections exist."))
            if draw.state != DRAWN:
                raise DrawRefused(_("Draw first, then confirm."))
            if not self.may_draw(actor):
                raise DrawRefused(_("You may not make random draws."))
            if draw.kind:  # a people draw: confirming publishes it, nothing else is created
                draw.state, draw.confirmed_at, draw.confirmed_by_id = CONFIRMED, datetime.now(), actor.user_id
                session.commit()
                return []
            summary = json.loads(draw.summary)
            ins = self.settings.inspection
            model = self.svc.models[ins.target]
            created = []
            for item in summary["items"]:
                row = model()
                setattr(row, f"{ins.enterprise}_id", item["enterprise_id"])
                setattr(row, ins.title, _("Random inspection %(number)s: %(name)s", number=draw.number,
                                          name=item["enterprise"])[:150])
                setattr(row, ins.inspectors, "、".join(o["name"] for o in item["officers"])[:200])
                setattr(row, ins.draw, draw.number)
                setattr(row, ins.kind.field, ins.kind.value)
                session.add(row)
                created.append(row)
            draw.state, draw.confirmed_at, draw.confirmed_by_id = CONFIRMED, datetime.now(), actor.user_id
            session.flush()  # the write path checks every inspection here: scope, permissions, audit
            ids = [row.id for row in created]
            session.commit()
            return ids
        except AccessDenied as exc:
            session.rollback()
            raise DrawRefused(_("An enterprise of this draw is outside your scope: nothing was created.")) from exc
        except Exception:
            session.rollback()
            raise

    # ------------------------------------------------------------------ public
    def published(self, limit: int = 200) -> list[Any]:
        stmt = select(self.Draw).where(self.Draw.state == CONFIRMED) \
            .order_by(self.Draw.confirmed_at.desc(), self.Draw.id.desc()).limit(limit)
        return list(self.svc.session.execute(stmt).scalars())

    def published_record(self, number: str) -> dict[str, Any] | None:
        draw = self.svc.session.execute(select(self.Draw).where(self.Draw.number == number,
                                                                self.Draw.state == CONFIRMED)).scalar_one_or_none()
        return json.loads(draw.record) if draw is not None else None
