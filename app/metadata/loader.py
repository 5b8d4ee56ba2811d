"""Load the metadata directory: every problem at once, or a frozen Registry."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pydantic import BaseModel

from . import checks
from .child_checks import check_copy_from, check_counts, check_user_organisation
from .alerts import WarningSpec, check_warning, deadline_warnings
from .compute_checks import check_compute
from .filter_checks import check_reference_filters
from .follows_checks import check_follows, check_match
from .frequency import FrequencySpec, check_frequency
from .guard_checks import check_guards
from .map_checks import check_map
from .organisation_checks import check_organisation_of, check_ownership_organisation, check_required_for
from .rule_checks import check_normalise, check_required_when, check_rules
from .related_checks import check_related
from .picker_checks import check_pickers
from .checks import Located
from .issues import Issue, MetadataError
from .registry import Registry
from .salvage import validate_file
from .source import SourceDocument, read_source
from .spec import DictionarySpec, MenuCategory, MenuFile, RegisterSpec, RolesFile


#: checks that report an option as missing, moot when the option was written but left out for its shape error
MISSING_OPTION_IDS = {"menu": {"E209"}, "parent": {"E209", "E208"}, "ownership": {"E502"},
                      "workflow": {"E701", "E711"}}
#: checks whose messages name a register, field, state, role, dictionary or code declared elsewhere
REFERENCE_IDS = frozenset({"E106", "E121", "E201", "E202", "E203", "E207", "E208", "E501", "E503", "E601", "E602",
                           "E701", "E704", "E705", "E707", "E709", "E710", "E711", "E965"})


def _parse(path: Path, root: Path, model: type[BaseModel], broken: set[str],
           moot: set[tuple[str, str]]) -> tuple[Located | None, list[Issue]]:
    """Parse and shape-check one file. A file with shape errors is checked further without its broken parts;
    their names (or the file's, when nothing can be kept) go to ``broken``, and the (file, id) of the checks
    made moot by an option left out whole go to ``moot``."""
    doc, issues = read_source(path, root)
    if doc is None:
        broken.add(path.stem)
        return None, issues
    outcome = validate_file(doc, model)
    broken |= outcome.dropped
    for option in outcome.left_out:
        moot.update((doc.file, id_) for id_ in MISSING_OPTION_IDS.get(option, ()))
    if outcome.spec is None:
        broken |= {str(doc.data.get("name", path.stem)), path.stem}
        return None, issues + outcome.issues
    return Located(outcome.spec, outcome.doc), issues + outcome.issues


def _names_broken(issue: Issue, broken: set[str]) -> bool:
    """A reference check's issue about something whose declaration is broken (already reported there)."""
    if issue.id not in REFERENCE_IDS:
        return False
    return any(f"'{name}'" in issue.message or f"'${name}'" in issue.message or f"'{name}." in issue.message
               for name in broken)


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def _state_dictionary(spec: RegisterSpec) -> DictionarySpec:
    assert spec.workflow is not None  # made for the registers that have a workflow
    return DictionarySpec(name=spec.workflow_dictionary(), label=spec.workflow.label, kind="list",
                          items=[{"code": s.name, "label": s.label, "color": s.color} for s in spec.workflow.states])


def check_metadata(roots: Iterable[Path]) -> tuple[Registry | None, list[Issue]]:
    """Read every metadata root (the product's, then plugins'); return the registry or the issues."""
    roots = [Path(r) for r in roots]
    display_root = roots[0].parent
    issues: list[Issue] = []  # from reading and shape-checking the files
    registers: list[Located] = []
    dictionaries: list[Located] = []
    menu_categories = {}
    menu_entries: list[tuple[MenuCategory, SourceDocument, int]] = []
    menu_doc: SourceDocument | None = None
    # names of files that failed to parse: references to them are not reported a second time
    broken: set[str] = set()
    moot: set[tuple[str, str]] = set()

    roles_file: Located | None = None
    frequencies: list[Located] = []
    warnings: list[Located] = []
    for root in roots:
        roles_path = root / "roles.yaml"
        if roles_path.exists():
            located, found = _parse(roles_path, display_root, RolesFile, broken, moot)
            issues += found
            roles_file = located or roles_file
        menu_path = root / "menus.yaml"
        if menu_path.exists():
            located, found = _parse(menu_path, display_root, MenuFile, broken, moot)
            issues += found
            if located:
                menu_doc = located.doc
                menu_entries += [(c, located.doc, i) for i, c in enumerate(located.spec.categories)]
                menu_categories.update({c.name: c for c in located.spec.categories})
        for path in _yaml_files(root / "dictionaries"):
            located, found = _parse(path, display_root, DictionarySpec, broken, moot)
            issues += found
            if located:
                dictionaries.append(located)
        for path in _yaml_files(root / "frequencies"):
            located, found = _parse(path, display_root, FrequencySpec, broken, moot)
            issues += found
            if located:
                frequencies.append(located)
        for path in _yaml_files(root / "warnings"):
            located, found = _parse(path, display_root, WarningSpec, broken, moot)
            issues += found
            if located:
                warnings.append(located)
        for path in _yaml_files(root / "registers"):
            located, found = _parse(path, display_root, RegisterSpec, broken, moot)
            issues += found
            if located:
                registers.append(located)

    shape_issues, issues = issues, []
    issues += checks.check_menu_categories(menu_entries)
    issues += checks.check_duplicate_names(registers, "register")
    issues += checks.check_duplicate_names(dictionaries, "dictionary")
    reg_by_name = {r.spec.name: r for r in registers}
    dic_by_name = {d.spec.name: d for d in dictionaries}
    for dic in dictionaries:
        issues += checks.check_dictionary(dic)
    # a workflow's states are the dictionary of its state field (made here, so no file of its own to check)
    for reg in registers:
        if reg.spec.workflow:
            implicit = Located(_state_dictionary(reg.spec), reg.doc)
            dictionaries.append(implicit)
            dic_by_name[implicit.spec.name] = implicit
    for reg in registers:
        issues += checks.check_file_name(reg)
        issues += checks.check_field_names(reg)
        issues += checks.check_validators(reg)
        issues += checks.check_dictionary_refs(reg, dic_by_name, broken)
        issues += checks.check_default_values(reg, dic_by_name)
        issues += checks.check_register_refs(reg, reg_by_name, broken)
        issues += checks.check_field_lists(reg)
        issues += checks.check_filters(reg)
        issues += checks.check_sort(reg)
        issues += checks.check_form_covers_required(reg)
        issues += checks.check_field_options(reg)
        issues += checks.check_import_export(reg, reg_by_name)
        issues += checks.check_menu(reg, menu_categories, menu_doc)
    issues += checks.check_reference_cycles(reg_by_name)
    role_names = {r.name for r in roles_file.spec.roles} if roles_file else set()
    if roles_file:
        issues += checks.check_roles_file(roles_file, reg_by_name, broken)
        issues += checks.check_goods_classes(roles_file, reg_by_name, dic_by_name)
    org_dictionaries: dict[str, str] = {}
    enterprise_register = None
    if roles_file:
        org = roles_file.spec.organisations
        org_reg = reg_by_name.get(org.target)
        if org_reg:
            for anchor, name in (("region", org.region), ("department", org.department)):
                field = org_reg.spec.field_map.get(name)
                if field is not None and hasattr(field, "dictionary"):
                    org_dictionaries[anchor] = field.dictionary
        if roles_file.spec.enterprise_accounts:
            enterprise_register = roles_file.spec.enterprise_accounts.target
    for reg in registers:
        issues += checks.check_access(reg, role_names, reg_by_name, roles_file is not None, org_dictionaries,
                                      enterprise_register)
        issues += checks.check_goods_class(reg, reg_by_name, dic_by_name,
                                           roles_file.spec.goods_classes if roles_file else None)
        issues += checks.check_documents(reg, reg_by_name, [r / "documents" for r in roots])
        issues += checks.check_public(reg)
        issues += checks.check_workflow(reg, role_names, reg_by_name,
                                        roles_file.spec.organisations if roles_file else None)
        issues += check_guards(reg, reg_by_name)
        issues += check_rules(reg)
        issues += check_normalise(reg)
        issues += check_required_when(reg)
        issues += check_related(reg, reg_by_name, broken)
        issues += check_reference_filters(reg, reg_by_name)
        issues += check_pickers(reg, reg_by_name, org_dictionaries.get("region"))
        issues += check_map(reg, reg_by_name)
        issues += check_copy_from(reg, reg_by_name)
        issues += check_counts(reg, reg_by_name)
        issues += check_compute(reg, reg_by_name)
        issues += check_follows(reg, reg_by_name)
        issues += check_match(reg, reg_by_name)
        issues += check_user_organisation(reg, roles_file.spec.organisations if roles_file else None)
        organisations = roles_file.spec.organisations if roles_file else None
        issues += check_organisation_of(reg, reg_by_name, dic_by_name, organisations, org_dictionaries)
        issues += check_required_for(reg)
        issues += check_ownership_organisation(reg, organisations)

    for freq in frequencies:
        issues += check_frequency(freq, reg_by_name, dic_by_name, role_names, enterprise_register)
        if freq.spec.menu:  # a frequency page's menu entry is optional
            issues += checks.check_menu(freq, menu_categories, menu_doc)
    issues += checks.check_duplicate_names(frequencies, "frequency")
    for warning in warnings:
        issues += check_warning(warning, reg_by_name, dic_by_name, role_names)
    issues += checks.check_duplicate_names(warnings, "warning")

    # the cross-file checks ran on what could be read: a reference to a broken part is not reported again
    issues = shape_issues + [i for i in issues if not _names_broken(i, broken) and (i.file, i.id) not in moot]
    if issues:
        return None, sorted(set(issues))
    registry = Registry(
        registers={r.spec.name: r.spec for r in registers},
        dictionaries={d.spec.name: d.spec for d in dictionaries},
        menus=menu_categories,
        files={r.spec.name: r.doc.file for r in registers},
        root=roots[0],
        document_folders=tuple(r / "documents" for r in roots),
        roles={r.name: r for r in roles_file.spec.roles} if roles_file else {},
        organisations=roles_file.spec.organisations if roles_file else None,
        enterprise_accounts=roles_file.spec.enterprise_accounts if roles_file else None,
        goods_classes=roles_file.spec.goods_classes if roles_file else None,
        frequencies={f.spec.name: f.spec for f in frequencies},
        warnings={w.name: w for w in [*(w.spec for w in warnings), *deadline_warnings(
            (r.spec for r in registers), {r.name: r for r in roles_file.spec.roles} if roles_file else {},
            [w.spec for w in warnings])]},
    )
    return registry, []


def load_registry(roots: Iterable[Path]) -> Registry:
    """The registry, or MetadataError carrying every located issue."""
    registry, issues = check_metadata(roots)
    if issues:
        raise MetadataError(issues)
    assert registry is not None  # check_metadata returns the registry whenever it found no issue
    return registry
