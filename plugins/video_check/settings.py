"""Read and check the cloud verification's YAML (metadata/video_check.yaml): shape with pydantic, names against
the registry, every problem at once with file:line and an id in E980–E999."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from app.metadata import MetadataError
from app.metadata.issues import Issue, did_you_mean
from app.metadata.source import read_source
from app.metadata.spec import Label, Spec


class ModeSettings(Spec):
    field: str
    value: str


class ApplicationSettings(Spec):
    target: str = Field(alias="register")
    enterprise: str
    state: str
    pass_: str = Field(alias="pass")
    mode: ModeSettings | None = None


class CheckItem(Spec):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: Label


class VideoCheckSettings(Spec):
    application: ApplicationSettings
    enterprise_roles: tuple[str, ...] = Field(min_length=1)
    checklist: tuple[CheckItem, ...] = Field(min_length=1)

    def item(self, code: str) -> CheckItem | None:
        return next((i for i in self.checklist if i.code == code), None)


def read_settings(path: Path, registry: Any) -> VideoCheckSettings:
    """The checked settings, or MetadataError with every located problem."""
    doc, issues = read_source(path)
    if doc is None:
        raise MetadataError(issues or [Issue(str(path), 1, "E980", "the cloud verification settings cannot be read")])
    try:
        settings = VideoCheckSettings.model_validate(doc.data)
    except ValidationError as exc:
        raise MetadataError(issues + [
            Issue(doc.file, doc.line_of(tuple(err["loc"])), "E980",
                  f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}",
                  "see docs/plugins.md (cloud verification settings)") for err in exc.errors()])
    issues += check_settings(settings, registry, doc)
    if issues:
        raise MetadataError(issues)
    return settings


def check_settings(settings: VideoCheckSettings, registry: Any, doc: Any) -> list[Issue]:
    """E981 unknown register, E982 unknown or wrong field, E983 unknown state, E984 the pass transition is unknown
    or does not leave the state, E985 a check item code twice, E986 an unknown role, E987 a mode value that is not
    a code of the field's dictionary."""
    app = settings.application
    spec = registry.registers.get(app.target)
    if spec is None:
        return [Issue(doc.file, doc.line_of(("application", "register")), "E981",
                      f"unknown register '{app.target}'", did_you_mean(app.target, registry.registers))]
    issues: list[Issue] = []
    enterprise = spec.field_map.get(app.enterprise)
    if enterprise is None or enterprise.type != "reference":
        issues.append(Issue(doc.file, doc.line_of(("application", "enterprise")), "E982",
                            f"{app.target} has no reference field '{app.enterprise}'",
                            did_you_mean(app.enterprise, spec.field_map)))
    wf = spec.workflow
    if wf is None or wf.state(app.state) is None:
        issues.append(Issue(doc.file, doc.line_of(("application", "state")), "E983",
                            f"{app.target} has no workflow state '{app.state}'",
                            did_you_mean(app.state, [s.name for s in wf.states] if wf else [])))
    transition = wf.transition(app.pass_) if wf else None
    if wf is not None and (transition is None or app.state not in transition.from_):
        issues.append(Issue(doc.file, doc.line_of(("application", "pass")), "E984",
                            f"'{app.pass_}' is not a transition of {app.target} leaving '{app.state}'",
                            did_you_mean(app.pass_, [t.name for t in wf.transitions])))
    if app.mode is not None:
        field = spec.field_map.get(app.mode.field)
        if field is None or field.type != "enum":
            issues.append(Issue(doc.file, doc.line_of(("application", "mode", "field")), "E982",
                                f"{app.target} has no enum field '{app.mode.field}'",
                                did_you_mean(app.mode.field, spec.field_map)))
        elif app.mode.value not in {i.code for i in registry.dictionary(field.dictionary).items}:
            issues.append(Issue(doc.file, doc.line_of(("application", "mode", "value")), "E987",
                                f"'{app.mode.value}' is not a code of dictionary {field.dictionary}",
                                did_you_mean(app.mode.value, [i.code for i in registry.dictionary(field.dictionary).items])))
    seen: set[str] = set()
    for i, item in enumerate(settings.checklist):
        if item.code in seen:
            issues.append(Issue(doc.file, doc.line_of(("checklist", i, "code")), "E985",
                                f"the check item code '{item.code}' is used twice", "give each item its own code"))
        seen.add(item.code)
    for i, role in enumerate(settings.enterprise_roles):
        if role not in registry.roles:
            issues.append(Issue(doc.file, doc.line_of(("enterprise_roles", i)), "E986", f"unknown role '{role}'",
                                did_you_mean(role, registry.roles)))
    return issues
