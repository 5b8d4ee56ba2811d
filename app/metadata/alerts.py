"""Warnings (预警, metadata/warnings/*.yaml): their shape, their located checks (E920–E924), and the warnings the
deadlines of workflows imply (§16.9), which are one case of them.

A warning names a register and a condition on its rows — field conditions in the words of a transition's ``when``
(§16.4) and one date condition (the date passed, or within N days from today) — a level, who is told, and who may
close it with a reason. It is open while a row meets the condition and disappears by itself when the row stops
meeting it (the date updated, the hazard rectified)."""
from __future__ import annotations

from typing import Annotated, Any, Iterator, Literal

from pydantic import Field, field_validator, model_validator

from .checks import Located, check_named_like_file
from .issues import Issue, did_you_mean
from .source import Path_
from .spec import Condition, DictionarySpec, Identifier, Label, Ref, RegisterSpec, Spec, _conditions

#: the levels, mildest first: 提示, 预警, 告警
LEVELS = ("notice", "warning", "alarm")
DATE_TYPES = ("date", "datetime")


class WarningDate(Spec):
    """The date condition: ``passed`` (the date is before today) or ``within_days`` (today … today + N)."""

    field: Ref
    passed: bool = False
    within_days: Annotated[int, Field(ge=0, le=3650)] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> "WarningDate":
        if self.passed == (self.within_days is not None):
            raise ValueError("a date condition gives either passed: true or within_days: N")
        return self


class WarningSpec(Spec):
    name: Identifier
    label: Label
    target: Ref = Field(alias="register")
    level: Literal["notice", "warning", "alarm"] = "warning"
    #: field conditions on the register's rows (§16.4: equals, in, not_in, includes, is_set), all must hold
    when: tuple[Condition, ...] = ()
    date: WarningDate | None = None
    #: roles whose users (the row in their scope) get an in-app message when the warning opens; 'next': the
    #: roles the row waits for, as in 我的待办
    notify: tuple[Ref, ...] | Literal["next"] = ()
    #: also e-mail the told users that have an address (when MAIL_SERVER is configured)
    email: bool = False
    #: roles that may close an open warning with a reason (a user who sees it by its scope)
    close: tuple[Ref, ...] = ()
    #: fields of the row shown with it on the warning list (the seed's 关闭库存差异预警信息: enterprise, warehouse,
    #: product, system and counted quantities); fields hidden from the reader are left out
    details: tuple[Ref, ...] = ()

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _conditions(value)

    @model_validator(mode="after")
    def _some_condition(self) -> "WarningSpec":
        if not self.when and self.date is None:
            raise ValueError("a warning needs a condition: when, date or both")
        return self

    @property
    def level_rank(self) -> int:
        return LEVELS.index(self.level)


def check_warning(reg: Located, registers: dict[str, Located], dictionaries: dict[str, Located],
                  roles: set[str]) -> Iterator[Issue]:
    """E920 file name, register and roles, E921 date field, E922 conditions, E923 codes, E924 notify: next,
    E833 details."""
    spec = reg.spec
    yield from check_named_like_file(reg, "E920", "warning")
    notify = () if spec.notify == "next" else spec.notify
    for key, names in (("notify", notify), ("close", spec.close)):
        for i, role in enumerate(names):
            if role not in roles:
                yield reg.issue((key, i), "E920", f"warning: unknown role '{role}'",
                                did_you_mean(role, roles) or "roles: " + ", ".join(sorted(roles)))
    located = registers.get(spec.target)
    if located is None:
        yield reg.issue(("register",), "E920", f"warning: unknown register '{spec.target}'",
                        did_you_mean(spec.target, registers) or "name the register whose rows are watched")
        return
    target = located.spec
    for i, name in enumerate(spec.details):
        field = target.field_map.get(name)
        if field is None or field.type in ("children", "attachment", "image", "geo"):
            yield reg.issue(("details", i), "E833", f"details: '{target.name}' has no field '{name}' to show"
                            if field is None else f"details: '{name}' is a {field.type} field",
                            did_you_mean(name, target.field_map) or "name short fields: names, references, "
                            "numbers, dates, enums")
    if spec.date is not None:
        field = target.field_map.get(spec.date.field)
        if field is None:
            yield reg.issue(("date", "field"), "E921", f"date: '{target.name}' has no field '{spec.date.field}'",
                            did_you_mean(spec.date.field, [f.name for f in target.fields if f.type in DATE_TYPES])
                            or f"name a date field of '{target.name}'")
        elif field.type not in DATE_TYPES:
            yield reg.issue(("date", "field"), "E921", f"date: '{field.name}' is a {field.type} field",
                            "name a date or datetime field")
    for j, condition in enumerate(spec.when):
        path = ("when", j)
        if not condition.field or condition.same_organisation or condition.parent_organisation or condition.rows \
                or condition.user_organisation or condition.before:
            yield reg.issue(path, "E922", "a warning's condition compares a field of the register's rows",
                            "use field with equals, in, not_in, includes or is_set (the date goes under date:)")
            continue
        field = target.field_map.get(condition.field)
        if field is None:
            yield reg.issue(path + ("field",), "E922", f"condition on unknown field '{condition.field}'",
                            did_you_mean(condition.field, target.field_map) or f"name a field of '{target.name}'")
            continue
        dic = dictionaries.get(getattr(field, "dictionary", "") or "") if field.type == "enum" else None
        if dic is not None:
            yield from _check_codes(reg, path, condition, dic.spec)
    if spec.notify == "next" and target.workflow is None:
        yield reg.issue(("notify",), "E924", f"notify: next, but '{target.name}' has no workflow",
                        "name the roles to tell instead (notify: [regulator])")


def _check_codes(reg: Located, path: Path_, condition: Condition, dictionary: DictionarySpec) -> Iterator[Issue]:
    codes = [item.code for item in dictionary.items]
    given = [("equals", condition.equals), ("includes", condition.includes)]
    given += [("in", v) for v in condition.in_ or ()] + [("not_in", v) for v in condition.not_in or ()]
    for key, value in given:
        if value is not None and value not in codes:
            yield reg.issue(path + (key,), "E923", f"'{condition.field}' has no code '{value}'",
                            did_you_mean(str(value), codes) or "codes: " + ", ".join(codes))


def deadline_warnings(registers: Any, roles: dict[str, Any], declared: list[WarningSpec]) -> list[WarningSpec]:
    """The warnings implied by the ``deadline`` of a workflow register's date field (§16.9): the date passed while
    the row is not in a done state, told to the users the row waits for. A declared warning on the same register
    and date with ``passed`` replaces it (its name, level and roles are the configurator's)."""
    taken = {(w.target, w.date.field) for w in declared if w.date is not None and w.date.passed}
    found = []
    for spec in registers:
        wf = spec.workflow
        if wf is None:
            continue
        for field in spec.fields:
            deadline = getattr(field, "deadline", None)
            if deadline is None or (spec.name, field.name) in taken:
                continue
            done = list(deadline.done_states) or [s.name for s in wf.states if s.terminal]
            when = ({"field": wf.field, "not_in": done},) if done else ()
            found.append(WarningSpec.model_validate({
                "name": f"deadline_{spec.name}_{field.name}"[:40].rstrip("_"),
                "label": {"zh": f"{field.label.zh}逾期", "zh_Hant": f"{field.label.zh_Hant or field.label.zh}逾期",
                          "en": f"{field.label.en}: overdue"},
                "register": spec.name, "level": "warning", "when": when,
                "date": {"field": field.name, "passed": True}, "notify": "next",
                "close": closing_roles(spec, roles)}))
    return found


def closing_roles(spec: RegisterSpec, roles: dict[str, Any]) -> tuple[str, ...]:
    """The regulators' roles that may edit the register (an implied warning is closed by them)."""
    found = {r for rule in spec.access if "edit" in rule.action_set for r in rule.roles
             if r in roles and getattr(roles[r], "kind", None) not in ("enterprise",)}
    return tuple(sorted(found))
