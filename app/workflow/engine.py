"""Taking transitions: who may press which button on which row, what it requires, what it writes and does.

A transition is checked on the server every time (state, role, row scope, conditions, required comment and
files), then the row, its history entry and every side effect are written in one transaction: all or nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from app.i18n import label_text, list_separator
from app.metadata.rules import missing_for
from app.metadata.spec import Condition, RegisterSpec, Transition
from app.security.actor import Actor, actor_for
from app.security.policy import AccessDenied

from . import guard
from .conditions import conditions_sql
from .freeze import frozen_reason, not_frozen_sql
from .values import Context, assign, is_empty, resolve

MAX_COMMENT = 2000
MAX_FILE_BYTES = 20 * 1024 * 1024
SIGNATURE_TYPES = ("png", "jpg", "jpeg")


class TransitionRefused(Exception):
    """A transition that may not be taken now; the message tells the user why, in their language."""


@dataclass
class Upload:
    """A file sent with a transition (a stamped scan, photos, a signature image)."""

    filename: str
    stream: Any
    size: int | None = None


@dataclass
class Outcome:
    history: Any
    created: list[tuple[RegisterSpec, Any]] = field(default_factory=list)
    notified: int = 0


class WorkflowEngine:
    def __init__(self, svc: Any, policy: Any):
        self.svc, self.policy = svc, policy
        self.History = svc.models.engine["WorkflowHistory"]
        self.Message = svc.models.engine["Message"]

    # ---------------------------------------------------------------- what may be done
    @staticmethod
    def role_allows(transition: Transition, actor: Actor) -> bool:
        return actor.is_admin or bool(actor.roles & set(transition.roles))

    def offered(self, spec: RegisterSpec, row: Any, actor: Actor) -> list[Transition]:
        """The buttons this actor may press on this row now (the row is one the actor sees)."""
        wf = spec.workflow
        if wf is None or actor is None or actor.is_anonymous:
            return []
        state = getattr(row, wf.field)
        candidates = [t for t in wf.transitions if state in t.from_ and t.manual and self.role_allows(t, actor)]
        if not candidates or not self.in_own_scope(spec, row, actor) or frozen_reason(self.svc, spec, row):
            return []
        return [t for t in candidates if self._holds(spec, row, t.when, actor) and not self.missing(spec, row, t)]

    @staticmethod
    def missing(spec: RegisterSpec, row: Any, t: Transition) -> list[Any]:
        """The fields ``required_for`` this transition that the row has not filled in (申请材料 before 确认提交)."""
        if not any(t.name in f.required_for for f in spec.fields):
            return []
        values = {f.name: getattr(row, f.name, None) for f in spec.fields if f.stores_value and f.type != "geo"}
        return missing_for(spec, values, t.name)

    @staticmethod
    def missing_reason(fields: list[Any], step: str) -> str:
        return _("Before “%(step)s”, provide: %(fields)s.", step=step,
                 fields=list_separator().join(label_text(f.label) for f in fields))

    def in_own_scope(self, spec: RegisterSpec, row: Any, actor: Actor) -> bool:
        """Whether the row is one the actor sees by its own scope, not only revealed by a reference (a county
        opening the city's task its copy came from): a revealed row is read only, no step is taken on it."""
        condition = self.policy.read_condition(spec, actor, revealed=False)
        if condition is None:
            return True
        model = self.svc.models[spec.name]
        stmt = select(model.id).where(model.id == row.id, condition).execution_options(
            unscoped_reason="the actor's own read condition, without revealed rows")
        return self.svc.session.execute(stmt).first() is not None

    def blocked(self, spec: RegisterSpec, row: Any, actor: Actor) -> list[tuple[Transition, str]]:
        """Steps the actor's role may take from this state but whose conditions do not hold yet, with why."""
        wf = spec.workflow
        if wf is None or actor is None or actor.is_anonymous:
            return []
        state = getattr(row, wf.field)
        steps = [t for t in wf.transitions if state in t.from_ and t.manual and self.role_allows(t, actor)]
        if not steps or not self.in_own_scope(spec, row, actor):
            return []
        frozen = frozen_reason(self.svc, spec, row)
        if frozen is not None:
            return [(t, frozen) for t in steps]
        found = []
        for t in steps:
            failing = next((c for c in t.when if not self._holds(spec, row, (c,), actor)), None)
            if failing is not None:
                found.append((t, self.explain(spec, failing, label_text(t.label))))
            elif missing := self.missing(spec, row, t):
                found.append((t, self.missing_reason(missing, label_text(t.label))))
        return found

    def _holds(self, spec: RegisterSpec, row: Any, conditions: Iterable[Condition], actor: Actor | None) -> bool:
        conditions = tuple(conditions)
        if not conditions:
            return True
        model = self.svc.models[spec.name]
        stmt = select(model.id).where(model.id == row.id, conditions_sql(self.svc, spec, model, conditions, actor,
                                                                          (spec, row)))
        return self.svc.session.execute(stmt.execution_options(unscoped_reason="a row in scope")).first() is not None

    def todo_condition(self, spec: RegisterSpec, actor: Actor) -> ColumnElement | None:
        """Rows of ``spec`` waiting for an action by one of the actor's roles, in the actor's scope (None: none).
        The to-do list follows roles: an administrator may take every transition but has no to-do list."""
        wf = spec.workflow
        if wf is None or actor is None or actor.is_anonymous:
            return None
        model = self.svc.models[spec.name]
        state = getattr(model, wf.field)
        # a corrective step (todo: false) stays possible on finished rows; they do not wait for anyone
        options = [and_(state.in_(t.from_), conditions_sql(self.svc, spec, model, t.when, actor))
                   for t in wf.transitions if t.todo and t.manual and actor.roles & set(t.roles)]
        waiting = self.entry_condition(spec, actor)
        if not options and waiting is None:
            return None
        scope = self.policy.read_condition(spec, actor, revealed=False)
        if options:
            options = [and_(or_(*options), not_frozen_sql(self.svc, spec, model), *([scope] if scope is not None
                                                                                     else []))]
        return or_(*options, *([waiting] if waiting is not None else []))

    def entry_condition(self, spec: RegisterSpec, actor: Actor) -> ColumnElement | None:
        """Rows waiting for the actor to fill them in (a state's ``todo``): in such a state, meeting its
        conditions, not frozen, and among the rows the actor may edit (None: none)."""
        wf = spec.workflow
        if wf is None or actor is None or actor.is_anonymous or actor.is_admin or not self.policy.can(spec, actor,
                                                                                                      "edit"):
            return None
        model = self.svc.models[spec.name]
        state = getattr(model, wf.field)
        options = [and_(state == s.name, conditions_sql(self.svc, spec, model, s.todo.when, actor))
                   for s in wf.states if s.todo is not None and actor.roles & set(s.todo.roles)]
        if not options:
            return None
        scope = [c for c in (self.policy.read_condition(spec, actor, revealed=False),
                             self.policy.write_condition(spec, actor, "edit")) if c is not None]
        return and_(or_(*options), not_frozen_sql(self.svc, spec, model), *scope)

    def todo_counts(self, actor: Actor) -> list[tuple[RegisterSpec, int]]:
        counts = []
        for spec in self.svc.registry.registers.values():
            condition = self.todo_condition(spec, actor)
            if condition is None:
                continue
            model = self.svc.models[spec.name]
            count = self.svc.session.execute(select(func.count()).select_from(model).where(condition)
                                             .execution_options(unscoped_reason="scope in the condition")).scalar_one()
            counts.append((spec, count))
        return counts

    def history(self, spec: RegisterSpec, row_id: int) -> list[Any]:
        H = self.History
        return list(self.svc.session.scalars(select(H).where(H.register == spec.name, H.row_id == row_id)
                                             .order_by(H.id)))

    # ---------------------------------------------------------------- taking a transition
    def take(self, spec: RegisterSpec, row: Any, name: str, actor: Actor, comment: str | None = None,
             uploads: list[Upload] = (), signature: Upload | None = None, by_plugin: bool = False) -> Outcome:
        """Take transition ``name`` on ``row`` (one the actor sees) or raise TransitionRefused; commits.
        A transition with ``manual: false`` is taken only with ``by_plugin`` (a plugin's own screen)."""
        wf = spec.workflow
        transition = wf.transition(name) if wf else None
        if transition is None:
            raise TransitionRefused(_("This record has no step “%(name)s”.", name=name))
        if not transition.manual and not by_plugin:
            raise TransitionRefused(_("The step “%(step)s” is taken by its own screen, not by a button.",
                                      step=label_text(transition.label)))
        session = self.svc.session
        model = self.svc.models[spec.name]
        # lock the row: two people pressing buttons at once take one transition each, in turn
        locked = select(model).where(model.id == row.id).execution_options(unscoped_reason="lock the row of a step",
                                                                             populate_existing=True)
        if session.get_bind().dialect.name == "postgresql":
            locked = locked.with_for_update(of=model)
        row = session.execute(locked).scalar_one()
        comment = (comment or "").strip() or None
        self._check(spec, row, transition, actor, comment, uploads, signature)
        stored: list[dict[str, Any]] = []  # the files this step saved, removed again if it fails
        try:
            outcome = self._apply(spec, row, transition, actor, comment, uploads, signature, stored)
            session.commit()
        except (AccessDenied, IntegrityError) as exc:
            session.rollback()
            for record in stored:
                self.svc.files.delete(record)
            reason = str(exc) if isinstance(exc, guard.WorkflowRefused) else \
                str(getattr(exc, "orig", exc)).splitlines()[0]
            raise TransitionRefused(_("“%(step)s” could not be completed: %(reason)s",
                                      step=label_text(transition.label), reason=reason)) from exc
        except Exception:
            session.rollback()
            for record in stored:
                self.svc.files.delete(record)
            raise
        return outcome

    def _check(self, spec: RegisterSpec, row: Any, t: Transition, actor: Actor, comment: str | None,
               uploads: list[Upload], signature: Upload | None) -> None:
        wf = spec.workflow
        state = wf.state(getattr(row, wf.field))
        step = label_text(t.label)
        if state is None or state.name not in t.from_:
            if state is not None and state.terminal:
                raise TransitionRefused(_("This record is in the final state “%(state)s”; nothing more can be done "
                                          "with it.", state=label_text(state.label)))
            raise TransitionRefused(_("“%(step)s” is not possible in the state “%(state)s”.", step=step,
                                      state=label_text(state.label) if state else getattr(row, wf.field)))
        if not self.role_allows(t, actor):
            raise TransitionRefused(_("Your role may not take the step “%(step)s”.", step=step))
        if not self.in_own_scope(spec, row, actor):
            raise TransitionRefused(_("You may only view this record; the step “%(step)s” is taken by the "
                                      "organisation it belongs to.", step=step))
        frozen = frozen_reason(self.svc, spec, row)
        if frozen is not None:
            raise TransitionRefused(frozen)
        for condition in t.when:
            if not self._holds(spec, row, (condition,), actor):
                raise TransitionRefused(self.explain(spec, condition, step))
        if missing := self.missing(spec, row, t):
            raise TransitionRefused(self.missing_reason(missing, step))
        required = t.require
        if required.comment and not comment:
            raise TransitionRefused(_("“%(step)s” needs a comment (意见) saying why.", step=step))
        if comment and len(comment) > MAX_COMMENT:
            raise TransitionRefused(_("The comment is longer than %(max)s characters.", max=MAX_COMMENT))
        if len(uploads) < required.attachments:
            raise TransitionRefused(ngettext("“%(step)s” needs at least %(num)s attached file.",
                                             "“%(step)s” needs at least %(num)s attached files.",
                                             required.attachments, step=step))
        for upload in uploads:
            self._check_file(upload, required.accept)
        if required.signature and signature is None:
            raise TransitionRefused(_("“%(step)s” needs a signature image.", step=step))
        if signature is not None:
            self._check_file(signature, SIGNATURE_TYPES)

    @staticmethod
    def _check_file(upload: Upload, accept: Iterable[str]) -> None:
        extension = Path(upload.filename).suffix.lower().lstrip(".")
        if extension not in accept:
            raise TransitionRefused(_("“%(name)s” is not an accepted file type (accepted: %(types)s).",
                                      name=upload.filename, types=", ".join(accept)))
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            raise TransitionRefused(_("“%(name)s” is larger than %(size)s MB.", name=upload.filename,
                                      size=MAX_FILE_BYTES // (1024 * 1024)))

    def explain(self, spec: RegisterSpec, condition: Condition, step: str) -> str:
        """Why a condition stops the transition, in words the user knows."""
        if condition.same_organisation:
            return _("Only the organisation that registered this record may take the step “%(step)s”.", step=step)
        if condition.parent_organisation:
            return _("Only the organisation directly above the one that registered this record may take the step "
                     "“%(step)s”.", step=step)
        if condition.user_organisation:
            return _("Only the organisation named in %(field)s may take the step “%(step)s”.", step=step,
                     field=label_text(spec.field(condition.user_organisation).label))
        if condition.before:
            return _("“%(step)s” was possible only until %(field)s.", step=step,
                     field=label_text(spec.field(condition.before).label))
        if condition.rows:
            states = list_separator().join(self._state_labels(spec, condition))
            return _("“%(step)s” waits until every related record is in: %(states)s.", step=step, states=states)
        if condition.composite or "." in (condition.field or ""):
            return _("“%(step)s” applies only when %(what)s.", step=step, what=self.describe(spec, condition))
        field = spec.field(condition.field)
        return _("“%(step)s” applies only when %(field)s is %(value)s.", step=step, field=label_text(field.label),
                 value=self._describe_value(field, condition))

    def describe(self, spec: RegisterSpec, condition: Condition) -> str:
        """A condition in words: 任一检查结果为 否 或 隐患数不少于 1; a referenced row's field by both labels."""
        if condition.any:
            return _(" or ").join(self.describe(spec, c) for c in condition.any)
        if condition.all:
            return _(" and ").join(self.describe(spec, c) for c in condition.all)
        if condition.not_ is not None:
            return _("not (%(what)s)", what=self.describe(spec, condition.not_))
        if not condition.field:
            return self.explain(spec, condition, "").strip()
        head, _sep, tail = condition.field.partition(".")
        field = spec.field(head)
        if not tail:
            return _("%(field)s is %(value)s", field=label_text(field.label),
                     value=self._describe_value(field, condition))
        target = self.svc.registry.register(field.target)
        if tail in target.field_map:
            other = target.field(tail)
            return _("%(field)s is %(value)s", field=label_text(field.label) + label_text(other.label),
                     value=self._describe_value(other, condition))
        states = [label_text(target.workflow.state(c).label) for c in (condition.in_ or (condition.equals,)) if c]
        return _("%(field)s is %(value)s", field=label_text(field.label) + _("state"),
                 value=" / ".join(states))

    def _state_labels(self, spec: RegisterSpec, condition: Condition) -> list[str]:
        head, _sep, tail = condition.rows.partition(".")
        other = self.svc.registry.register(head if tail else spec.field(head).target)
        return [label_text(other.workflow.state(s).label) for s in condition.all_in]

    def _describe_value(self, field: Any, condition: Condition) -> str:
        def text(code: Any) -> str:
            if field.type in ("enum", "tree"):
                return self.svc.dictionaries.label(field.dictionary, code)
            if isinstance(code, bool):
                return _("Yes") if code else _("No")
            return str(code)

        numeric = [_("above %(value)s", value=condition.above) if condition.above is not None else "",
                   _("at least %(value)s", value=condition.at_least) if condition.at_least is not None else "",
                   _("below %(value)s", value=condition.below) if condition.below is not None else "",
                   _("at most %(value)s", value=condition.at_most) if condition.at_most is not None else ""]
        if any(numeric):
            return list_separator().join(text for text in numeric if text)
        if condition.equals is not None:
            return text(condition.equals)
        if condition.in_ is not None:
            return " / ".join(text(c) for c in condition.in_)
        if condition.not_in is not None:
            return _("not %(values)s", values=" / ".join(text(c) for c in condition.not_in))
        if condition.includes is not None:
            return _("including %(value)s", value=text(condition.includes))
        return _("filled in") if condition.is_set else _("empty")

    # ---------------------------------------------------------------- writing
    def _apply(self, spec: RegisterSpec, row: Any, t: Transition, actor: Actor, comment: str | None,
               uploads: list[Upload], signature: Upload | None, stored: list[dict[str, Any]]) -> Outcome:
        session = self.svc.session
        wf = spec.workflow
        now = datetime.now()
        who, organisation_row = self._names(actor)
        organisation = str(organisation_row) if organisation_row is not None else None
        files = self.svc.files
        records = []
        for upload in uploads:
            record = files.save(f"workflow_{spec.name}", upload.filename, upload.stream)
            stored.append(record)
            records.append(record)
        ctx = Context(spec=spec, row=row, user_name=who, organisation_id=actor.organisation_id,
                      organisation_name=organisation, comment=comment, now=now, attachments=records,
                      organisation_spec=self.svc.registry.register(self.svc.registry.organisations.target)
                      if self.svc.registry.organisations else None, organisation_row=organisation_row)
        signature_record = None
        if signature is not None:
            signature_record = files.save(f"workflow_{spec.name}", signature.filename, signature.stream)
            stored.append(signature_record)
        from_state = getattr(row, wf.field)
        values = {name: resolve(value, spec, name, ctx) for name, value in t.set.items()}
        guard.authorise(session, row, {wf.field, *values})
        setattr(row, wf.field, t.to)
        for name, value in values.items():
            assign(row, spec, name, value)
        history = self.History(register=spec.name, row_id=row.id, transition=t.name, from_state=from_state,
                               to_state=t.to, at=now, user_id=actor.user_id, username=actor.username,
                               user_name=who, organisation_id=actor.organisation_id, organisation_name=organisation,
                               comment=comment, attachments=records or None, signature=signature_record)
        session.add(history)
        outcome = Outcome(history=history)
        for effect in t.effects:
            if effect.create:
                outcome.created += self._create(spec, row, effect.create, ctx, actor)
            elif effect.update:
                self._update(spec, row, effect.update, ctx, actor)
            elif effect.notify:
                outcome.notified += self._notify(spec, row, effect.notify, actor, t, who, now)
        session.flush()
        return outcome

    def _names(self, actor: Actor) -> tuple[str, Any]:
        """The acting user's display name and organisation row (None for accounts without one)."""
        user = current_app.appbuilder.sm.get_user_by_id(actor.user_id) if actor.user_id else None
        who = " ".join(p for p in (getattr(user, "first_name", ""), getattr(user, "last_name", "")) if p) \
            if user else ""
        organisation = None
        org = self.svc.registry.organisations
        if org and actor.organisation_id:
            model = self.svc.models[org.target]
            organisation = self.svc.session.execute(select(model).where(model.id == actor.organisation_id)
                                                    .execution_options(unscoped_reason="own organisation")).scalar_one_or_none()
        return who or actor.username, organisation

    def _create(self, spec: RegisterSpec, row: Any, create: Any, ctx: Context, actor: Actor
                ) -> list[tuple[RegisterSpec, Any]]:
        session = self.svc.session
        target_spec = self.svc.registry.register(create.target)
        target_model = self.svc.models[target_spec.name]
        session.flush()
        item_spec, items = self._items(spec, row, create, actor)
        created = []
        for item in items:
            item_ctx = Context(**{**ctx.__dict__, "item_spec": item_spec, "item": item})
            keeper = item if create.each else row
            kept = self._remembered(keeper, create, target_model)
            if kept is not None:
                # the step taken again: the row it made before is brought up to date, not made twice
                for name, value in create.values.items():
                    assign(kept, target_spec, name, resolve(value, target_spec, name, item_ctx))
                guard.authorise(session, kept, set(create.values))
                continue
            obj = target_model()
            for name, value in create.values.items():
                assign(obj, target_spec, name, resolve(value, target_spec, name, item_ctx))
            if create.owner == "item":
                obj.organisation_id = item.id
            if create.parent:
                obj.parent_id = getattr(row, f"{create.parent}_id")
            guard.authorise(session, obj, None)
            session.add(obj)
            created.append((target_spec, obj))
            if create.remember:
                session.flush()
                setattr(keeper, f"{create.remember}_id", obj.id)
                if create.each:
                    guard.authorise(session, keeper, {create.remember})
                else:
                    guard.extend(session, keeper, {create.remember})
        return created

    def _remembered(self, keeper: Any, create: Any, target_model: Any) -> Any:
        """The row a ``remember`` field keeps, if it still exists (None: make a new one)."""
        if not create.remember or keeper is None:
            return None
        kept_id = getattr(keeper, f"{create.remember}_id", None)
        if kept_id is None:
            return None
        return self.svc.session.execute(select(target_model).where(target_model.id == kept_id)
                                        .execution_options(unscoped_reason="the row an effect made before")
                                        ).scalar_one_or_none()

    def _items(self, spec: RegisterSpec, row: Any, create: Any, actor: Actor) -> tuple[RegisterSpec | None, list]:
        """What a create effect makes one row for: child rows, organisations below, rows of a register, or this
        row once (when its conditions hold)."""
        session = self.svc.session
        source = (spec, row)
        if create.each:
            item_spec = self.svc.registry.register(spec.field(create.each).target)
            model = self.svc.models[item_spec.name]
            stmt = select(model).where(model.parent_id == row.id)
        elif create.for_each == "organisations_below":
            org = self.svc.registry.organisations
            item_spec = self.svc.registry.register(org.target)
            model = self.svc.models[item_spec.name]
            if not actor.organisation_id:
                return item_spec, []
            stmt = select(model).where(getattr(model, f"{org.parent}_id") == actor.organisation_id)
        elif create.for_each is not None:
            item_spec = self.svc.registry.register(create.for_each.target)
            model = self.svc.models[item_spec.name]
            stmt = select(model)
            scope = self.policy.read_condition(item_spec, actor, revealed=False) \
                if create.for_each.within == "actor_scope" \
                else None
            if scope is not None:
                stmt = stmt.where(scope)
        else:
            return None, [None] if self._holds(spec, row, create.when, actor) else []
        stmt = stmt.where(conditions_sql(self.svc, item_spec, model, create.when, actor, source))
        return item_spec, list(session.scalars(stmt.order_by(model.id).execution_options(unscoped_reason="effect")))

    def _update(self, spec: RegisterSpec, row: Any, update: Any, ctx: Context, actor: Actor) -> None:
        """Write the row a reference of this row points to, or (``rows``) every row pointing to this row."""
        if update.rows:
            name, _sep, reference = update.rows.partition(".")
            target_spec = self.svc.registry.register(name)
            target_model = self.svc.models[name]
            self.svc.session.flush()
            stmt = select(target_model).where(getattr(target_model, f"{reference}_id") == row.id,
                                              conditions_sql(self.svc, target_spec, target_model, update.when, actor))
            targets = list(self.svc.session.scalars(stmt.order_by(target_model.id).execution_options(
                unscoped_reason="the rows pointing to the row of a step")))
        else:
            ref = spec.field(update.reference)
            target_spec = self.svc.registry.register(ref.target)
            target_model = self.svc.models[target_spec.name]
            target_id = getattr(row, f"{ref.name}_id")
            if target_id is None:
                return
            targets = [self.svc.session.execute(select(target_model).where(target_model.id == target_id)
                                                .execution_options(unscoped_reason="row an effect updates")).scalar_one()]
        for target in targets:
            written = set()
            for name, value in update.values.items():
                resolved = resolve(value, target_spec, name, ctx)
                if update.skip_empty and is_empty(resolved):
                    continue
                assign(target, target_spec, name, resolved)
                written.add(name)
            guard.authorise(self.svc.session, target, written)

    # ---------------------------------------------------------------- notices
    def _notify(self, spec: RegisterSpec, row: Any, notify: Any, actor: Actor, t: Transition, sender: str,
                now: datetime) -> int:
        title = str(row)
        users = self.recipients(spec, row, notify.roles, notify.scope)
        for user_id in users:
            self.svc.session.add(self.Message(
                user_id=user_id, created_at=now, register=spec.name, row_id=row.id, kind="notice", sender=sender,
                text_zh=f"{notify.message.zh}：{title}", text_zh_hant=f"{notify.message.zh_Hant or notify.message.zh}："
                f"{title}", text_en=f"{notify.message.en}: {title}"))
        return len(users)

    def recipients(self, spec: RegisterSpec, row: Any, roles: Iterable[str], scope: str = "row") -> list[int]:
        """Ids of the active users of ``roles`` (who may see ``row`` when scope is 'row')."""
        sm = current_app.appbuilder.sm
        User, Role = sm.user_model, sm.role_model
        stmt = select(User).join(User.roles).where(Role.name.in_(tuple(roles)), User.active.is_(True)).distinct()
        if scope == "all":
            return sorted(u.id for u in self.svc.session.scalars(stmt))
        # an enterprise account sees its own enterprise's rows: only that enterprise's accounts can be meant
        key = self._enterprise_key(spec, row)
        stmt = stmt.where(or_(User.enterprise_key.is_(None), User.enterprise_key == key) if key is not None
                          else User.enterprise_key.is_(None))
        users = list(self.svc.session.scalars(stmt))
        model = self.svc.models[spec.name]
        personal = any("own_records" in rule.scope for rule in self.svc.registry.access_of(spec))
        found, verdicts = [], {}
        for user in users:
            candidate = actor_for(user)
            key = (candidate.roles, candidate.organisation_id, candidate.enterprise_key,
                   candidate.user_id if personal else None)
            if key not in verdicts:
                condition = self.policy.read_condition(spec, candidate, revealed=False)
                stmt = select(model.id).where(model.id == row.id)
                if condition is not None:
                    stmt = stmt.where(condition)
                verdicts[key] = self.svc.session.execute(stmt.execution_options(unscoped_reason="recipient scope")).first() \
                    is not None
            if verdicts[key]:
                found.append(user.id)
        return sorted(found)

    def _enterprise_key(self, spec: RegisterSpec, row: Any) -> str | None:
        """The login of the enterprise a row belongs to (its ownership.enterprise), if any."""
        accounts = self.svc.registry.enterprise_accounts
        anchor = spec.ownership.enterprise
        if accounts is None or anchor is None:
            return None
        if anchor == "self":
            return getattr(row, accounts.login)
        enterprise = getattr(row, anchor, None)
        return getattr(enterprise, accounts.login) if enterprise is not None else None
