"""What an actor may do on a register and on which rows: SQL conditions for reads, checks for writes.

Every path that reads rows goes through `read_condition` (added to each ORM query by app.security.row_scope);
every write is checked by `check_write` before it is flushed. No screen decides this on its own.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import Select, and_, exists, false, or_, select, union
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.metadata import Registry
from app.metadata.spec import AccessRule, RegisterSpec
from app.query.listing import subtree_condition
from app.services import services

from .actor import Actor


class AccessDenied(Exception):
    """A read or write outside what the actor may do; shown as 403 and nothing is written."""


class AccessPolicy:
    def __init__(self, registry: Registry, models: Any, dictionaries: Any):
        self.registry, self.models, self.dictionaries = registry, models, dictionaries
        self._item = models.engine["DictionaryItem"]

    # ---------------------------------------------------------------- rules and actions
    def rules(self, spec: RegisterSpec, actor: Actor) -> list[AccessRule]:
        return [rule for rule in self.registry.access_of(spec) if actor.roles & set(rule.roles)]

    def actions(self, spec: RegisterSpec, actor: Actor) -> frozenset[str]:
        if actor.is_admin:
            return frozenset(("view", "add", "edit", "delete", "import", "export"))
        if not self.oversees(spec, actor):
            return frozenset()
        found: set[str] = set()
        for rule in self.rules(spec, actor):
            found |= rule.action_set
        return frozenset(found)

    def oversees(self, spec: RegisterSpec, actor: Actor) -> bool:
        """Whether a register of one goods class (``goods_class``) is in the actor's sub-platforms; an
        enterprise account (no organisation) is limited by its rows' scope only."""
        owner = self.registry.owner_of(spec) if spec.parent else spec
        return (actor.is_admin or not owner.goods_class or actor.organisation_id is None
                or actor.goods_classes is None or owner.goods_class in actor.goods_classes)

    def can(self, spec: RegisterSpec, actor: Actor, action: str) -> bool:
        return action in self.actions(spec, actor)

    def read_only_fields(self, spec: RegisterSpec, actor: Actor, action: str = "edit") -> frozenset[str]:
        """Fields the actor may not set: read-only (or hidden) in every rule that grants ``action``."""
        if actor.is_admin:
            return frozenset()
        granting = [r for r in self.rules(spec, actor) if action in r.action_set]
        if not granting:
            return frozenset(spec.field_map)
        sets = [set(r.read_only) | set(r.hidden) for r in granting]
        return frozenset(set.intersection(*sets))

    def hidden_fields(self, spec: RegisterSpec, actor: Actor) -> frozenset[str]:
        if actor.is_admin:
            return frozenset()
        granting = [r for r in self.rules(spec, actor) if "view" in r.action_set]
        if not granting:
            return frozenset(spec.field_map)
        return frozenset(set.intersection(*(set(r.hidden) for r in granting)))

    def constant_fields(self, spec: RegisterSpec, actor: Actor) -> frozenset[str]:
        """Fields holding one value on every row of ``spec`` the actor reads: the reference to its own enterprise,
        when each rule that lets it view ``spec`` keeps it to its own enterprise and no row of another register
        reveals rows of ``spec`` to it. A list need not repeat that value on every row, nor filter on it."""
        anchor = spec.ownership.enterprise
        if actor.is_admin or not actor.enterprise_key or not anchor or anchor == "self" or "." in anchor:
            return frozenset()
        granting = [r for r in self.rules(spec, actor) if "view" in r.action_set]
        if not granting or any("own_enterprise" not in r.scope for r in granting):
            return frozenset()
        if any(self.can(self.registry.owner_of(source), actor, "view")
               for source, _ in self.registry.revealing_references(spec.name)):
            return frozenset()
        return frozenset((anchor,))

    # ---------------------------------------------------------------- SQL
    def read_condition(self, spec: RegisterSpec, actor: Actor, revealed: bool = True) -> ColumnElement | None:
        """WHERE condition limiting ``spec``'s rows to what the actor may see (None: everything). With
        ``revealed``, also the rows a reference field with ``reveals`` points to from a row the actor sees by its
        own scope (read only: writes and transitions use the own scope)."""
        own = self._condition(spec, actor, "view", write=False)
        if own is None or not revealed or not self.can(spec, actor, "view"):
            return own
        extra = self._revealed_ids(spec, actor)
        if not extra:
            return own
        # `own OR id IN (revealed)` is an OR of two sub-plans: PostgreSQL serves it by filtering every row of the
        # table (a county's 22,000 hazards among 5,000,000 took 0.5 s). One semi-join on the union of the two id
        # sets lets each side use its own index. The own side is written on an alias: its rule's conditions, not
        # the loader criteria of the query being scoped.
        model = self.models[spec.name]
        mine = aliased(model)
        return model.id.in_(union(select(mine.id).where(self._condition(spec, actor, "view", write=False,
                                                                          model=mine)), *extra))

    def revealing_check(self, spec: RegisterSpec, actor: Actor) -> Select | None:
        """A one-row select: does any row the actor sees by its own scope reveal one of ``spec``'s rows now? (None:
        none can.) While none does, ``read_condition(revealed=False)`` gives the same rows, and an index can serve
        it."""
        if not self.can(spec, actor, "view"):
            return None
        ids = self._revealed_ids(spec, actor)
        return select(or_(*(exists(s) for s in ids))) if ids else None

    def own_read_condition(self, spec: RegisterSpec, actor: Actor, model: Any) -> ColumnElement | None:
        """The actor's own read scope (without ``reveals``) written on ``model``: the register's model, an alias, or
        another selectable's columns under the register's column names (a chart summary). A rule needing a column
        ``model`` lacks raises AttributeError."""
        return self._condition(spec, actor, "view", write=False, model=model)

    def revealed_conditions(self, spec: RegisterSpec, actor: Actor) -> list[ColumnElement]:
        """The rows of ``spec`` the actor sees only because a row it sees reveals them (empty: none can)."""
        if not self.can(spec, actor, "view"):
            return []
        model = self.models[spec.name]
        return [model.id.in_(ids) for ids in self._revealed_ids(spec, actor)]

    def _revealed_ids(self, spec: RegisterSpec, actor: Actor) -> list[Select]:
        """The ids of ``spec``'s rows that revealing references of rows the actor sees (by its own scope) point to,
        one select per revealing reference."""
        found = []
        for source, field in self.registry.revealing_references(spec.name):
            if not self.can(self.registry.owner_of(source), actor, "view"):
                continue
            # aliased: the rule's own conditions, not the loader criteria of the query being scoped
            other = aliased(self.models[source.name])
            column = getattr(other, f"{field.name}_id")
            condition = self._condition(source, actor, "view", write=False, model=other)
            found.append(select(column).where(column.is_not(None), *(() if condition is None else (condition,))))
        return found

    def references_to_revealed(self, spec: RegisterSpec, actor: Actor, row: Any) -> list[str]:
        """The reference fields this write points at a row the actor sees only through ``reveals`` (read only:
        nothing new may be attached to it, e.g. a county adding an enterprise to the city's list)."""
        if actor.is_admin:
            return []
        found = []
        state = sa_inspect(row)
        for field in spec.fields:
            if field.type != "reference" or not self.registry.revealing_references(field.target):
                continue
            column, relation = state.attrs.get(f"{field.name}_id"), state.attrs.get(field.name)
            if relation is not None and relation.history.added:
                value = getattr(relation.history.added[0], "id", None)
            elif column is not None and column.history.added:
                value = column.history.added[0]
            else:
                continue  # unchanged: a write checks only the references it changes
            own = self.read_condition(self.registry.register(field.target), actor, revealed=False)
            if value is None or own is None:
                continue
            target = self.models[field.target]
            owned = select(target.id).where(target.id == value, own).execution_options(
                unscoped_reason="whether a reference points to a row the actor owns")
            if services().session.execute(owned).first() is None:
                found.append(field.name)
        return found

    def write_condition(self, spec: RegisterSpec, actor: Actor, action: str) -> ColumnElement | None:
        return self._condition(spec, actor, action, write=True)

    def _condition(self, spec: RegisterSpec, actor: Actor, action: str, write: bool,
                   model: Any = None) -> ColumnElement | None:
        if actor.is_admin:
            return None
        model = self.models[spec.name] if model is None else model
        if spec.parent:
            parent = self.registry.register(spec.parent)
            inner = self._condition(parent, actor, "edit" if write else "view", write)
            parent_model = self.models[parent.name]
            if inner is None:
                return None
            return model.parent_id.in_(select(parent_model.id).where(inner))
        parts = []
        for rule in self.rules(spec, actor):
            if action not in rule.action_set:
                continue
            condition = self._rule_condition(spec, model, rule, actor, write)
            if condition is None:
                return None  # one unrestricted rule is enough
            parts.append(condition)
        if not parts:
            return false()
        return or_(*parts) if len(parts) > 1 else parts[0]

    def _rule_condition(self, spec: RegisterSpec, model: type, rule: AccessRule, actor: Actor,
                        write: bool) -> ColumnElement | None:
        terms = []
        for kind in rule.scope:
            term = self._kind_condition(spec, model, kind, actor, write)
            if term is not None:
                terms.append(term)
        if not terms:
            return None
        return and_(*terms) if len(terms) > 1 else terms[0]

    def _kind_condition(self, spec: RegisterSpec, model: type, kind: str, actor: Actor,
                        write: bool) -> ColumnElement | None:
        own = spec.ownership
        if kind == "all":
            return None
        if kind == "own_records":
            return model.created_by_id == actor.user_id if actor.user_id else false()
        if kind == "own_organisation_edits":
            if not write:
                return None
            return model.organisation_id == actor.organisation_id if actor.organisation_id else false()
        if kind == "jurisdiction":
            if not actor.region_path:
                return false()
            return self._anchored(spec, model, own.region, lambda column, target_spec, field: subtree_condition(
                column, self.dictionaries, self._item, field.dictionary, actor.region_code))
        if kind == "department":
            if not actor.department:
                return None if actor.region_path else false()
            return self._anchored(spec, model, own.department, lambda column, *_: column == actor.department)
        if kind == "assigned_organisation":
            # the rows this organisation is named in (审核机关): a city does not see what its counties review
            if not actor.organisation_id:
                return false()
            return getattr(model, f"{own.organisation}_id") == actor.organisation_id
        if kind == "goods_class":
            if actor.goods_classes is None:
                return None if actor.region_path else false()
            if not actor.goods_classes:
                return false()
            return self._anchored(spec, model, own.goods_class,
                                  lambda column, *_: column.in_(sorted(actor.goods_classes)))
        if kind == "own_enterprise":
            if not actor.enterprise_key:
                return false()
            accounts = self.registry.enterprise_accounts
            login = accounts.login if accounts else "uscc"
            if own.enterprise == "self":
                return getattr(model, login) == actor.enterprise_key
            ref = spec.field(own.enterprise)
            target = self.models[ref.target]
            return getattr(model, f"{ref.name}_id").in_(
                select(target.id).where(getattr(target, login) == actor.enterprise_key))
        raise AssertionError(kind)

    def _anchored(self, spec: RegisterSpec, model: type, path: str, make: Any) -> ColumnElement:
        """Apply ``make`` to the anchor column, following one reference when the anchor is 'ref.field'."""
        head, _, tail = path.partition(".")
        field = spec.field(head)
        if not tail:
            return make(getattr(model, head), spec, field)
        target_spec = self.registry.register(field.target)
        target = self.models[target_spec.name]
        inner_field = target_spec.field(tail)
        return getattr(model, f"{head}_id").in_(
            select(target.id).where(make(getattr(target, tail), target_spec, inner_field)))

    def require(self, spec: RegisterSpec, actor: Actor, row: Any, action: str) -> None:
        """Refuse up front an edit or delete of a row the actor sees but may not change (e.g. another
        organisation's row under own_organisation_edits); the flush check refuses it again if it is tried."""
        if not self.can(spec, actor, action) or not self.row_in_scope(spec, actor, row, action, old=True):
            raise AccessDenied(f"{actor.username} may not {action} {spec.name} #{getattr(row, 'id', '?')}")

    # ---------------------------------------------------------------- rows in Python (writes)
    def row_in_scope(self, spec: RegisterSpec, actor: Actor, row: Any, action: str, old: bool = False) -> bool:
        """Whether ``row`` (its new values, or the stored ones with ``old``) lies in the actor's scope."""
        if actor.is_admin:
            return True
        if spec.parent:
            parent_spec = self.registry.register(spec.parent)
            parent = _value(row, "parent", old) if hasattr(type(row), "parent") else None
            if parent is None:
                parent_id = _value(row, "parent_id", old)
                parent = self._load(parent_spec, parent_id)
            return parent is not None and self.row_in_scope(parent_spec, actor, parent, "edit", old)
        for rule in self.rules(spec, actor):
            if action in rule.action_set and all(self._kind_holds(spec, kind, actor, row, old) for kind in rule.scope):
                return True
        return False

    def scope_misses(self, spec: RegisterSpec, actor: Actor, row: Any, action: str) -> list[tuple[str, str | None]]:
        """Why ``row`` (its new values) lies outside the actor's scope for ``action``: the scope kinds it misses
        in the granting rule it comes closest to, each with the field that holds its anchor (the first part of
        'ref.field'; None for a kind no field decides). Empty when it lies in scope or no rule grants ``action``.
        A child row's scope is its parent's: not explained here."""
        if actor.is_admin or spec.parent:
            return []
        own = spec.ownership
        accounts = self.registry.enterprise_accounts
        anchors = {"jurisdiction": own.region, "department": own.department, "goods_class": own.goods_class,
                   "assigned_organisation": own.organisation,
                   "own_enterprise": (accounts.login if accounts else "uscc") if own.enterprise == "self"
                   else own.enterprise}
        closest: list[tuple[str, str | None]] | None = None
        for rule in self.rules(spec, actor):
            if action not in rule.action_set:
                continue
            missed = [(kind, (anchors.get(kind) or "").partition(".")[0] or None) for kind in rule.scope
                      if not self._kind_holds(spec, kind, actor, row, False)]
            if not missed:
                return []
            if closest is None or len(missed) < len(closest):
                closest = missed
        return closest or []

    def _kind_holds(self, spec: RegisterSpec, kind: str, actor: Actor, row: Any, old: bool) -> bool:
        own = spec.ownership
        if kind == "all":
            return True
        if kind == "own_records":
            return _value(row, "created_by_id", old) == actor.user_id
        if kind == "own_organisation_edits":
            return actor.organisation_id is not None and _value(row, "organisation_id", old) == actor.organisation_id
        if kind == "jurisdiction":
            value, field = self._anchor_value(spec, own.region, row, old)
            path = self.dictionaries.path_of(field.dictionary, value) if value else None
            return bool(actor.region_path and path and path.startswith(actor.region_path))
        if kind == "department":
            if not actor.department:
                return bool(actor.region_path)
            value, _ = self._anchor_value(spec, own.department, row, old)
            return value == actor.department
        if kind == "assigned_organisation":
            return actor.organisation_id is not None and \
                _value(row, f"{own.organisation}_id", old) == actor.organisation_id
        if kind == "goods_class":
            if actor.goods_classes is None:
                return bool(actor.region_path)
            value, _ = self._anchor_value(spec, own.goods_class, row, old)
            return value in actor.goods_classes
        if kind == "own_enterprise":
            accounts = self.registry.enterprise_accounts
            login = accounts.login if accounts else "uscc"
            if not actor.enterprise_key:
                return False
            if own.enterprise == "self":
                return _value(row, login, old) == actor.enterprise_key
            target = self._reference(spec, own.enterprise, row, old)
            return target is not None and getattr(target, login) == actor.enterprise_key
        raise AssertionError(kind)

    def _anchor_value(self, spec: RegisterSpec, path: str, row: Any, old: bool) -> tuple[Any, Any]:
        head, _, tail = path.partition(".")
        field = spec.field(head)
        if not tail:
            return _value(row, head, old), field
        target = self._reference(spec, head, row, old)
        target_spec = self.registry.register(field.target)
        return (getattr(target, tail) if target is not None else None), target_spec.field(tail)

    def _reference(self, spec: RegisterSpec, name: str, row: Any, old: bool) -> Any:
        ref_id = _value(row, f"{name}_id", old)
        related = getattr(row, name, None) if not old else None
        if related is not None and (ref_id is None or related.id == ref_id):
            return related
        return self._load(self.registry.register(spec.field(name).target), ref_id)

    def _load(self, spec: RegisterSpec, row_id: Any) -> Any:
        if row_id is None:
            return None
        model = self.models[spec.name]
        return services().session.execute(select(model).where(model.id == row_id).execution_options(
            unscoped_reason="a row's stored anchors")).scalar_one_or_none()


def _value(row: Any, name: str, old: bool) -> Any:
    """The attribute's current value, or with ``old`` the value stored before this change."""
    if not old:
        return getattr(row, name, None)
    state = sa_inspect(row)
    if name not in state.attrs:
        return getattr(row, name, None)
    history = state.attrs[name].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(row, name, None) if not history.added else None


def changed_fields(row: Any, names: Iterable[str]) -> list[str]:
    state = sa_inspect(row)
    return [n for n in names if n in state.attrs and state.attrs[n].history.has_changes()]
