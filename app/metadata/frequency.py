"""Inspection frequency rules (metadata/frequencies/*.yaml): their shape and their located checks (E733–E738).

A rule set says which rows must be visited (the subjects: enterprises), how they are grouped (per township),
which field picks the rule (the grade) and what each rule asks: a share of the group visited each calendar year
(A ≥ 30 %) or every subject visited within some months (D: every 6 months); the visits are rows of another
register pointing to the subject (inspections, counted when submitted)."""
from __future__ import annotations

from typing import Annotated, Any, Iterator

from pydantic import Field, field_validator, model_validator

from .checks import Located, check_named_like_file
from .issues import Issue, did_you_mean
from .source import Path_
from .spec import Code, Condition, Identifier, Label, MenuPlace, Ref, Spec, _conditions


class FrequencyVisits(Spec):
    target: Ref = Field(alias="register")
    #: the reference field of a visit to its subject
    reference: Ref
    #: the date a visit counts on
    date: Ref
    #: the workflow states in which a visit counts (empty: every row)
    states: tuple[Ref, ...] = ()
    #: what a visit is called on the pages, as a verb: 检查 reads 已检查 / 应检查 / 未检查, 上报 reads 已上报 …;
    #: en is the past participle ("inspected", "reported": "Not reported")
    word: Label = Field(default_factory=lambda: Label(zh="检查", en="inspected"))


class FrequencyRule(Spec):
    #: the value of ``by`` this rule applies to (a dictionary code)
    equals: Code
    #: at least this share (per cent) of the group's subjects visited in the calendar year
    share: Annotated[int, Field(ge=1, le=100)] | None = None
    #: every subject visited within this many months
    every_months: Annotated[int, Field(ge=1, le=120)] | None = None

    @model_validator(mode="after")
    def _one_measure(self) -> "FrequencyRule":
        if (self.share is None) == (self.every_months is None):
            raise ValueError("a rule gives either share (per cent a year) or every_months")
        return self


class FrequencyList(Spec):
    """Subjects meeting ``when`` not visited within ``within_months`` (涉高危行业未检查企业)."""

    name: Identifier
    label: Label
    when: tuple[Condition, ...] = ()
    within_months: Annotated[int, Field(ge=1, le=120)] = 12

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _conditions(value)


class FrequencyRemind(Spec):
    """Reminders sent from the pages to the subjects not visited in time (催报): an inbox message to the subject's
    enterprise accounts, and an e-mail to those with an address when ``email`` is set and a mail server is."""

    message: Label
    email: bool = False
    #: the roles that send reminders (empty: whoever opens the pages)
    roles: tuple[Ref, ...] = ()


class FrequencySpec(Spec):
    name: Identifier
    label: Label
    description: Label | None = None
    #: the roles that open the pages (empty: whoever may view the subjects and the visits)
    roles: tuple[Ref, ...] = ()
    #: an entry in the navbar (category, label, order, icon), shown to whoever may open the pages
    menu: MenuPlace | None = None
    subjects: Ref
    #: the subjects counted at all (e.g. not shut down)
    where: tuple[Condition, ...] = ()
    #: a tree or enum field of the subjects: one page per value (per township)
    group_by: Ref
    #: an enum field of the subjects that picks the rule (the grade)
    by: Ref
    visits: FrequencyVisits
    rules: tuple[FrequencyRule, ...] = Field(min_length=1)
    lists: tuple[FrequencyList, ...] = ()
    remind: FrequencyRemind | None = None

    @field_validator("where", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _conditions(value)


def _field_issue(reg: Located, path: Path_, spec: Any, name: str, types: tuple[str, ...], what: str) -> Issue | None:
    field = spec.field_map.get(name)
    if field is None:
        return reg.issue(path, "E734", f"{what}: '{spec.name}' has no field '{name}'",
                         did_you_mean(name, spec.field_map) or f"name a field of '{spec.name}'")
    if field.type not in types:
        return reg.issue(path, "E734", f"{what}: '{name}' is a {field.type} field",
                         f"name a {' or '.join(types)} field")
    return None


def check_frequency(reg: Located, registers: dict[str, Located], dictionaries: dict[str, Located],
                    roles: set[str], enterprise_register: str | None = None) -> Iterator[Issue]:
    """E733 file name, registers and roles, E734 fields, E735 rule codes, E736 visit states, E737 conditions,
    E850 reminders."""
    spec = reg.spec
    if spec.remind is not None:
        if spec.subjects != enterprise_register:
            yield reg.issue(("remind",), "E850", f"remind: the subjects '{spec.subjects}' have no accounts to remind",
                            "remind the enterprises: subjects must be the register of roles.yaml's "
                            "enterprise_accounts" + (f" ('{enterprise_register}')" if enterprise_register else ""))
        for i, role in enumerate(spec.remind.roles):
            if role not in roles:
                yield reg.issue(("remind", "roles", i), "E850", f"remind: unknown role '{role}'",
                                did_you_mean(role, roles) or "roles: " + ", ".join(sorted(roles)))
    for i, role in enumerate(spec.roles):
        if role not in roles:
            yield reg.issue(("roles", i), "E733", f"frequency: unknown role '{role}'",
                            did_you_mean(role, roles) or "roles: " + ", ".join(sorted(roles)))
    yield from check_named_like_file(reg, "E733", "frequency")
    subjects = registers.get(spec.subjects)
    if subjects is None:
        yield reg.issue(("subjects",), "E733", f"frequency: unknown register '{spec.subjects}'",
                        did_you_mean(spec.subjects, registers) or "name the register whose rows are visited")
        return
    subj = subjects.spec
    for key, types in (("group_by", ("tree", "enum")), ("by", ("enum",))):
        problem = _field_issue(reg, (key,), subj, getattr(spec, key), types, key)
        if problem:
            yield problem
    by = subj.field_map.get(spec.by)
    dic = dictionaries.get(getattr(by, "dictionary", "") or "")
    if dic is not None:
        codes = [item.code for item in dic.spec.items]
        for i, rule in enumerate(spec.rules):
            if rule.equals not in codes:
                yield reg.issue(("rules", i, "equals"), "E735", f"rules: '{spec.by}' has no code '{rule.equals}'",
                                did_you_mean(rule.equals, codes) or "codes: " + ", ".join(codes))
    visits = registers.get(spec.visits.target)
    if visits is None:
        yield reg.issue(("visits", "register"), "E733", f"visits: unknown register '{spec.visits.target}'",
                        did_you_mean(spec.visits.target, registers) or "name the register of the visits")
    else:
        ref = visits.spec.field_map.get(spec.visits.reference)
        if ref is None or ref.type != "reference" or ref.target != spec.subjects:
            yield reg.issue(("visits", "reference"), "E734", f"visits: '{spec.visits.reference}' is not a reference "
                            f"of '{visits.spec.name}' to '{spec.subjects}'",
                            did_you_mean(spec.visits.reference, [f.name for f in visits.spec.fields
                                                                 if getattr(f, "target", None) == spec.subjects])
                            or "name the reference field of a visit to its subject")
        problem = _field_issue(reg, ("visits", "date"), visits.spec, spec.visits.date, ("date", "datetime"), "visits")
        if problem:
            yield problem
        known = [s.name for s in visits.spec.workflow.states] if visits.spec.workflow else []
        for j, state in enumerate(spec.visits.states):
            if state not in known:
                yield reg.issue(("visits", "states", j), "E736", f"visits: '{visits.spec.name}' has no state "
                                f"'{state}'", did_you_mean(state, known) or ("states: " + ", ".join(known) if known
                                                                             else "it has no workflow: remove states"))
    conditions: list[tuple[Path_, Condition]] = [(("where", j), c) for j, c in enumerate(spec.where)]
    conditions += [(("lists", i, "when", j), c) for i, lst in enumerate(spec.lists) for j, c in enumerate(lst.when)]
    for path, condition in conditions:
        if not condition.field or condition.same_organisation or condition.parent_organisation or condition.rows \
                or condition.user_organisation or condition.before:
            yield reg.issue(path, "E737", "a frequency condition compares a field of the subjects",
                            "use field with equals, in, not_in, includes or is_set")
        elif condition.field not in subj.field_map:
            yield reg.issue(path + ("field",), "E737", f"condition on unknown field '{condition.field}'",
                            did_you_mean(condition.field, subj.field_map) or f"name a field of '{subj.name}'")
