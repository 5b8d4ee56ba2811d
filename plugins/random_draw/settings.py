"""Read and check the draw's own YAML (metadata/draw.yaml): shape with pydantic, names against the registry,
every problem at once with file:line and an id in E800–E829."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from app.metadata import MetadataError
from app.metadata.issues import Issue, did_you_mean
from app.metadata.source import read_source
from app.metadata.spec import Label, Spec


class PoolSettings(Spec):
    target: str = Field(alias="register")
    filters: tuple[str, ...] = ()
    quota_field: str


class OfficerSettings(Spec):
    target: str = Field(alias="register")
    name: str
    code: str
    organisation: str
    valid_until: str | None = None
    active: str | None = None


class SameRule(Spec):
    officer: str
    enterprise: str
    label: Label


class ConflictSettings(Spec):
    target: str = Field(alias="register")
    officer: str
    enterprise: str


class AvoidanceSettings(Spec):
    same: tuple[SameRule, ...] = ()
    conflicts: ConflictSettings | None = None
    recent_months: int = Field(default=0, ge=0, le=120)


class KindValue(Spec):
    field: str
    value: str


class InspectionSettings(Spec):
    target: str = Field(alias="register")
    title: str
    enterprise: str
    inspectors: str
    draw: str
    kind: KindValue


class PeopleSame(Spec):
    member: str
    subject: str
    label: Label


class PeopleConflicts(Spec):
    target: str = Field(alias="register")
    member: str
    subject: str


class PeopleAvoidance(Spec):
    same: tuple[PeopleSame, ...] = ()
    conflicts: PeopleConflicts | None = None
    recent_months: int = Field(default=0, ge=0, le=120)


class PeopleDraw(Spec):
    """A draw of people from a register (专家抽取) for a subject under review (an enterprise): filters, a count,
    avoidance; confirming publishes it (nothing else is created)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: Label
    target: str = Field(alias="register")
    display: str
    available: str | None = None
    filters: tuple[str, ...] = ()
    subject: str
    max_count: int = Field(default=30, ge=1, le=500)
    avoidance: PeopleAvoidance = Field(default_factory=PeopleAvoidance)


class DrawSettings(Spec):
    pool: PoolSettings
    officers: OfficerSettings
    avoidance: AvoidanceSettings = Field(default_factory=AvoidanceSettings)
    inspection: InspectionSettings
    people: tuple[PeopleDraw, ...] = ()

    def people_draw(self, name: str | None) -> PeopleDraw | None:
        return next((p for p in self.people if p.name == name), None)


def read_settings(path: Path, registry: Any) -> DrawSettings:
    """The checked settings, or MetadataError with every located problem."""
    display = str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)
    doc, issues = read_source(path)
    if doc is None:
        raise MetadataError(issues or [Issue(display, 1, "E800", "the draw settings cannot be read")])
    try:
        settings = DrawSettings.model_validate(doc.data)
    except ValidationError as exc:
        raise MetadataError(issues + [
            Issue(doc.file, doc.line_of(tuple(err["loc"])), "E800",
                  f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}",
                  "see docs/plugins.md (random draw settings)") for err in exc.errors()])
    issues += check_settings(settings, registry, doc)
    if issues:
        raise MetadataError(issues)
    return settings


def _field_path_issue(registry: Any, register: str, path: str, doc: Any, where: tuple, id_: str) -> list[Issue]:
    """'field' or 'reference.field' names a field of ``register``."""
    spec = registry.registers.get(register)
    if spec is None:
        return []
    first, _, rest = path.partition(".")
    field = spec.field_map.get(first)
    if field is None:
        return [Issue(doc.file, doc.line_of(where), id_, f"{register} has no field '{first}'",
                      did_you_mean(first, spec.field_map))]
    if rest:
        if field.type != "reference":
            return [Issue(doc.file, doc.line_of(where), id_, f"{register}.{first} is not a reference",
                          "name a reference field before the dot")]
        return _field_path_issue(registry, field.target, rest, doc, where, id_)
    return []


def check_settings(settings: DrawSettings, registry: Any, doc: Any) -> list[Issue]:
    """E801 unknown register, E802 unknown field, E803 a pool filter the register does not offer, E804 the quota
    field is not a tree, E805 the kind value is not in its dictionary."""
    issues: list[Issue] = []
    registers = {("pool", "register"): settings.pool.target, ("officers", "register"): settings.officers.target,
                 ("inspection", "register"): settings.inspection.target}
    if settings.avoidance.conflicts:
        registers[("avoidance", "conflicts", "register")] = settings.avoidance.conflicts.target
    for where, name in registers.items():
        if name not in registry.registers:
            issues.append(Issue(doc.file, doc.line_of(where), "E801", f"unknown register '{name}'",
                                did_you_mean(name, registry.registers)))
    if issues:
        return issues
    pool, officers = settings.pool, settings.officers
    paths = [(pool.target, pool.quota_field, ("pool", "quota_field"))]
    paths += [(officers.target, getattr(officers, k), ("officers", k))
              for k in ("name", "code", "organisation", "valid_until", "active") if getattr(officers, k)]
    for i, rule in enumerate(settings.avoidance.same):
        paths += [(officers.target, rule.officer, ("avoidance", "same", i, "officer")),
                  (pool.target, rule.enterprise, ("avoidance", "same", i, "enterprise"))]
    if settings.avoidance.conflicts:
        c = settings.avoidance.conflicts
        paths += [(c.target, c.officer, ("avoidance", "conflicts", "officer")),
                  (c.target, c.enterprise, ("avoidance", "conflicts", "enterprise"))]
    ins = settings.inspection
    paths += [(ins.target, getattr(ins, k), ("inspection", k)) for k in ("title", "enterprise", "inspectors", "draw")]
    paths.append((ins.target, ins.kind.field, ("inspection", "kind", "field")))
    for register, path, where in paths:
        issues += _field_path_issue(registry, register, path, doc, where, "E802")
    pool_spec = registry.register(pool.target)
    offered = {ref.field for ref in pool_spec.filters}
    for i, name in enumerate(pool.filters):
        if name not in offered:
            issues.append(Issue(doc.file, doc.line_of(("pool", "filters", i)), "E803",
                                f"'{name}' is not a filter of {pool.target}",
                                f"add it to {pool.target}'s filters, or " + did_you_mean(name, offered)))
    quota = pool_spec.field_map.get(pool.quota_field)
    if quota is not None and quota.type != "tree":
        issues.append(Issue(doc.file, doc.line_of(("pool", "quota_field")), "E804",
                            f"the quota field '{pool.quota_field}' is a {quota.type}, not a tree",
                            "name a tree field such as the region"))
    kind = registry.register(ins.target).field_map.get(ins.kind.field)
    dictionary = getattr(kind, "dictionary", None)
    if dictionary and ins.kind.value not in {item.code for item in registry.dictionary(dictionary).items}:
        issues.append(Issue(doc.file, doc.line_of(("inspection", "kind", "value")), "E805",
                            f"'{ins.kind.value}' is not a code of dictionary {dictionary}",
                            did_you_mean(ins.kind.value, [i.code for i in registry.dictionary(dictionary).items])))
    return issues + check_people(settings, registry, doc)


def check_people(settings: DrawSettings, registry: Any, doc: Any) -> list[Issue]:
    """E940 unknown register, E941 unknown field, E942 a filter the register does not offer, E943 a name used
    twice, E944 the available field is not a boolean."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, draw in enumerate(settings.people):
        at = ("people", i)
        if draw.name in seen:
            issues.append(Issue(doc.file, doc.line_of(at + ("name",)), "E943",
                                f"people draw '{draw.name}' is declared twice", "give each people draw its own name"))
        seen.add(draw.name)
        registers = {at + ("register",): draw.target, at + ("subject",): draw.subject}
        if draw.avoidance.conflicts:
            registers[at + ("avoidance", "conflicts", "register")] = draw.avoidance.conflicts.target
        issues += [Issue(doc.file, doc.line_of(where), "E940", f"unknown register '{name}'",
                         did_you_mean(name, registry.registers))
                   for where, name in registers.items() if name not in registry.registers]
        if draw.target not in registry.registers:
            continue
        paths = [(draw.target, draw.display, at + ("display",))]
        if draw.available:
            paths.append((draw.target, draw.available, at + ("available",)))
        for j, rule in enumerate(draw.avoidance.same):
            paths += [(draw.target, rule.member, at + ("avoidance", "same", j, "member")),
                      (draw.subject, rule.subject, at + ("avoidance", "same", j, "subject"))]
        c = draw.avoidance.conflicts
        if c:
            paths += [(c.target, c.member, at + ("avoidance", "conflicts", "member")),
                      (c.target, c.subject, at + ("avoidance", "conflicts", "subject"))]
        for register, path, where in paths:
            if register in registry.registers:
                issues += _field_path_issue(registry, register, path, doc, where, "E941")
        spec = registry.register(draw.target)
        offered = {ref.field for ref in spec.filters}
        for j, name in enumerate(draw.filters):
            if name not in offered:
                issues.append(Issue(doc.file, doc.line_of(at + ("filters", j)), "E942",
                                    f"'{name}' is not a filter of {draw.target}",
                                    f"add it to {draw.target}'s filters, or " + did_you_mean(name, offered)))
        available = spec.field_map.get(draw.available or "")
        if available is not None and available.type != "boolean":
            issues.append(Issue(doc.file, doc.line_of(at + ("available",)), "E944",
                                f"'{draw.available}' is a {available.type}, not a boolean",
                                "name a yes/no field (people with no are not drawn)"))
    return issues
