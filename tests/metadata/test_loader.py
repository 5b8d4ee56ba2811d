"""The metadata loader on the YAML the product ships and on one small broken set per kind of mistake."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.i18n.chinese import to_traditional
from app.metadata import Issue, MetadataError, check_metadata, load_registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "metadata"
FIXTURES = ROOT / "tests" / "fixtures" / "metadata"
BASE = FIXTURES / "_base"
DOCS = ROOT / "docs" / "metadata.md"
#: every directory with an expected.txt is a broken case, loaded as the second root after _base
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.txt").is_file())

#: cases whose expected.txt states the right outcome while the loader still gets it wrong
KNOWN_BUGS: dict[str, str] = {}


def check_case(case: str) -> tuple[object, list[Issue]]:
    return check_metadata([BASE, FIXTURES / case])


def issue_of(case: str, id_: str, word: str) -> Issue:
    """The one issue of ``case`` with id ``id_`` whose message names ``word``."""
    _, issues = check_case(case)
    found = [i for i in issues if i.id == id_ and f"'{word}'" in i.message]
    assert len(found) == 1, [str(i) for i in issues]
    return found[0]


def expected_prefixes(case: str) -> set[str]:
    text = (FIXTURES / case / "expected.txt").read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.strip()}


def _case_param(case: str):
    if case in KNOWN_BUGS:
        return pytest.param(case, marks=pytest.mark.xfail(reason=KNOWN_BUGS[case], strict=True))
    return case


# ---------------------------------------------------------------- broken sets

def test_the_broken_cases_are_all_there():
    assert {"unknown_type", "unknown_reference", "duplicate_field", "bad_indentation", "unknown_option",
            "circular_tree", "unknown_dictionary", "unknown_field", "unknown_menu_category",
            "required_reference_cycle", "bad_validators", "duplicate_key", "label_without_english",
            "filename_mismatch", "child_not_declared", "many_problems"} <= set(CASES)


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_broken_case_reports_exactly_the_expected_issues(case):
    registry, issues = check_case(case)

    assert {f"{i.file}:{i.line}: {i.id}" for i in issues} == expected_prefixes(case)
    assert registry is None


#: documented ids that no file can produce, each with the reason (none: every id comes from the YAML)
IDS_NOT_FROM_FILES: dict[str, str] = {}


def documented_ids() -> set[str]:
    """The ids of the error reference table (docs/metadata.md §17): its `| Exxx |` rows."""
    return set(re.findall(r"^\| (E\d{3}) \|", DOCS.read_text(encoding="utf-8"), re.MULTILINE))


def test_every_documented_error_id_is_proven_by_a_fixture():
    proven = {line.rsplit(" ", 1)[-1] for case in CASES for line in expected_prefixes(case)}
    documented = documented_ids()

    assert len(documented) > 50  # the table was found and read
    assert set(IDS_NOT_FROM_FILES) <= documented
    assert sorted(documented - proven - set(IDS_NOT_FROM_FILES)) == []


@pytest.mark.parametrize("case", [c for c in CASES if c not in KNOWN_BUGS])
def test_issue_files_are_relative_to_the_parent_of_the_first_root(case):
    _, issues = check_case(case)

    assert issues
    for issue in issues:
        assert issue.file.startswith(f"{case}/"), issue
        assert (FIXTURES / issue.file).is_file(), issue


@pytest.mark.parametrize("case", ["many_problems", "many_shape_problems"])
def test_every_problem_of_one_file_is_reported_in_one_run(case):
    _, issues = check_case(case)

    assert len({i.file for i in issues}) == 1
    assert len({i.id for i in issues}) >= 4


def test_load_registry_raises_with_every_issue_and_a_count():
    with pytest.raises(MetadataError) as caught:
        load_registry([BASE, FIXTURES / "many_problems"])

    assert len(caught.value.issues) == len(expected_prefixes("many_problems"))
    assert caught.value.report().endswith(f"\n{len(caught.value.issues)} problems in the metadata.")


@pytest.mark.parametrize("case, id_, word, hint", [
    ("unknown_type", "E102", "dat", "did you mean 'date'?"),
    ("unknown_option", "E010", "lable", "did you mean 'label'?"),
    ("unknown_option", "E010", "requried", "did you mean 'required'?"),
    ("unknown_reference", "E201", "enterprize", "did you mean 'enterprise'?"),
    ("unknown_dictionary", "E203", "colour", "did you mean 'color'?"),
    ("unknown_field", "E202", "adress", "did you mean 'address'?"),
    ("bad_validators", "E103", "usc", "did you mean 'uscc'?"),
    ("many_problems", "E103", "mobil", "did you mean 'mobile'?"),
])
def test_hint_names_the_closest_known_word(case, id_, word, hint):
    assert issue_of(case, id_, word).hint.startswith(hint)


@pytest.mark.parametrize("case, id_, word, hint", [
    ("unknown_menu_category", "E207", "basic_info", "known: main"),
    ("many_problems", "E203", "hazard_level", "known: area, color"),
    ("unknown_field", "E202", "region", "known: address, area, risk_color, site_name"),
])
def test_hint_lists_the_known_words_when_none_is_close(case, id_, word, hint):
    assert issue_of(case, id_, word).hint.startswith(hint)


@pytest.mark.parametrize("case, id_, hint_part", [
    ("bad_indentation", "E001", "check the indentation"),
    ("required_reference_cycle", "E204", "required: false"),
    ("circular_tree", "E205", "fix one 'parent'"),
    ("filename_mismatch", "E004", "rename the file to 'hidden_danger.yaml'"),
    ("child_not_declared", "E208", "child_not_declared/registers/inspection.yaml"),
    ("label_without_english", "E013", "{zh: 发现日期, en: <English>}"),
])
def test_hint_says_how_to_fix_it(case, id_, hint_part):
    _, issues = check_case(case)

    assert any(i.id == id_ and hint_part in i.hint for i in issues), [str(i) for i in issues]


def test_a_circular_tree_names_the_loop():
    _, issues = check_case("circular_tree")

    assert "management → behaviour → site → management" in issues[0].message


def test_a_reference_to_an_unreadable_register_is_not_reported_again():
    _, issues = check_case("bad_indentation")

    # hazard.yaml refers to the unreadable inspection.yaml: only the syntax error is reported
    assert [i.file for i in issues] == ["bad_indentation/registers/inspection.yaml"]


# ---------------------------------------------------------------- valid sets

def test_base_fixture_loads_without_issues():
    registry, issues = check_metadata([BASE])

    assert [str(i) for i in issues] == []
    assert set(registry.menus) == {"main"}
    assert [item.code for item in registry.dictionary("color").items] == ["red", "yellow", "blue"]
    area = registry.dictionary("area")
    assert area.kind == "tree"
    assert [child.label.zh for child in area.items[0].children] == ["天宁区", "钟楼区"]


def test_shipped_metadata_loads_without_issues():
    registry, issues = check_metadata([SHIPPED])

    assert [str(i) for i in issues] == []
    assert {"enterprise", "enterprise_certificate", "law", "standard", "chemical"} <= set(registry.registers)
    assert registry.register("enterprise_certificate").parent == "enterprise"
    assert registry.files["enterprise"] == "metadata/registers/enterprise.yaml"


# ---------------------------------------------------------------- labels

def test_traditional_chinese_is_derived_with_opencc():
    label = load_registry([SHIPPED]).register("enterprise").label

    assert label.zh == "生产经营单位"
    assert label.zh_Hant == "生產經營單位" == to_traditional(label.zh)
    assert (label.text("zh_Hans"), label.text("zh_Hant"), label.text("en")) == (
        "生产经营单位", "生產經營單位", "Enterprises")


def test_an_explicit_traditional_label_overrides_the_derived_one():
    label = load_registry([BASE]).menus["main"].label

    assert to_traditional(label.zh) == "安全生產臺賬"
    assert label.zh_Hant == "安全生產台帳"
    assert label.text("zh_Hant") == "安全生產台帳"


# ---------------------------------------------------------------- rendering

def test_issue_renders_as_file_line_id_message_and_hint():
    issue = Issue("registers/site.yaml", 14, "E102", "fields[1]: unknown field type 'dat'", "did you mean 'date'?")

    assert str(issue) == "registers/site.yaml:14: E102 fields[1]: unknown field type 'dat' — did you mean 'date'?"
    without_hint = Issue("registers/site.yaml", 2, "E004", "wrong file name")
    assert str(without_hint) == "registers/site.yaml:2: E004 wrong file name"


def test_a_loaded_issue_renders_with_its_location():
    _, issues = check_case("unknown_type")

    assert [str(i) for i in issues] == [
        "unknown_type/registers/site.yaml:14: E102 fields[1]: unknown field type 'dat' — did you mean 'date'?; "
        "checks that need field 'assessed_on' wait for this fix"]


# ---------------------------------------------------------------- every error in one run

def test_one_register_with_a_mistake_of_every_kind_reports_each_in_one_run():
    registry, issues = check_case("every_kind_at_once")

    assert registry is None
    assert {i.file for i in issues} == {"every_kind_at_once/registers/inspection.yaml"}
    # shape, types, validators, defaults, dictionaries, references, lists, sort, filters, forms, import, roles,
    # menus, states, transitions, conditions: one located message each, found by the same run
    assert {"E010", "E012", "E013", "E102", "E103", "E104", "E106", "E201", "E202", "E203", "E206", "E207",
            "E301", "E302", "E303", "E501", "E603", "E701", "E703", "E704", "E705", "E121", "E122"} <= {i.id for i in issues}
    assert all(i.line > 1 for i in issues)
    assert len(issues) == len({(i.line, i.id) for i in issues}) == len(expected_prefixes("every_kind_at_once"))


def test_a_field_left_out_for_its_shape_error_is_not_reported_again_where_it_is_named():
    _, issues = check_case("every_kind_at_once")

    # checked_on (unknown type) is in list.columns, Remarks (not an identifier) in search
    assert [i.id for i in issues if "checked_on" in str(i)] == ["E102"]
    assert [i.id for i in issues if "Remarks" in str(i)] == ["E012"]
    assert issue_of("every_kind_at_once", "E102", "dat").hint.endswith(
        "checks that need field 'checked_on' wait for this fix")


def test_a_broken_register_is_not_reported_again_by_the_files_that_name_it():
    _, issues = check_case("broken_target")

    # check.yaml names task and plan in a reference, a rows condition and create effects
    assert not [str(i) for i in issues if "check.yaml" in i.file]
    # plan's name is refused, so plan is checked under its file's name: its other mistakes are found too
    assert {i.id for i in issues if i.file.endswith("plan.yaml")} == {"E012", "E013", "E102", "E202"}
    task = [i for i in issues if i.file.endswith("task.yaml")]
    assert len(task) == 1 and task[0].hint.endswith("the file's other checks wait for this fix")


def test_an_undeclared_state_is_reported_as_unknown_with_the_declared_states():
    issue = issue_of("every_kind_at_once", "E701", "销毁")

    assert issue.message == "workflow: transition 'close' goes to unknown state '销毁'"
    assert issue.hint == "declared states are draft, closed"
    assert not any("pattern" in i.message for i in check_case("every_kind_at_once")[1] if "销毁" in str(i))


def test_an_unquoted_yes_compared_with_an_enum_is_reported_with_the_fix():
    issue = issue_of("every_kind_at_once", "E705", "verdict")

    assert issue.line == 58  # when: {field: verdict, equals: yes}
    assert "YAML read the value as the boolean true" in issue.message
    assert issue.hint.startswith("quote it ('yes'")


def test_a_boolean_field_compared_with_a_quoted_word_is_reported():
    from app.metadata.checks import yaml_boolean_problem
    from app.metadata.spec import BooleanField, EnumField

    flag = BooleanField(name="on_duty", label={"zh": "值守", "en": "On duty"}, type="boolean")
    answer = EnumField(name="answer", label={"zh": "答案", "en": "Answer"}, type="enum", dictionary="yes_no")

    assert yaml_boolean_problem(flag, "yes")[1] == "write true or false without quotes"
    assert yaml_boolean_problem(flag, True) is None and yaml_boolean_problem(flag, "$other") is None
    assert yaml_boolean_problem(answer, False)[1].startswith("quote it")
    assert yaml_boolean_problem(answer, "no") is None


# ---------------------------------------------------------------- YAML anchors

def test_anchors_and_merge_keys_are_read_and_keys_beside_a_merge_win():
    registry, issues = check_metadata([BASE, FIXTURES / "yaml_anchors"])

    assert [str(i) for i in issues] == []
    valve = registry.register("valve")
    spare = valve.field("spare_code")
    assert (spare.label.zh, spare.length, spare.required) == ("备用阀门编号", 30, False)
    assert [v.name for v in spare.validators] == ["regex"]
    assert valve.show.fieldsets[0].label.en == "Checked on"


def test_a_merge_of_something_else_than_a_mapping_is_a_located_syntax_error(tmp_path):
    (tmp_path / "registers").mkdir()
    (tmp_path / "registers" / "valve.yaml").write_text(
        "name: valve\nlabel: {zh: 阀门, en: Valves}\nmenu: {category: main}\nfields:\n"
        "  - {<<: 5, name: code, label: {zh: 编号, en: Code}, type: string}\n", encoding="utf-8")

    _, issues = check_metadata([BASE, tmp_path])

    assert [(i.line, i.id) for i in issues] == [(5, "E001")]
    assert "'<<' merges mappings only" in issues[0].message


def test_the_reference_explains_every_shipped_role_and_its_seed_role():
    registry = load_registry([SHIPPED])
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z_A-Z]+)`[^\n]* \|$", DOCS.read_text(
        encoding="utf-8"), re.MULTILINE)}

    for name, role in registry.roles.items():
        assert name in rows, name
        assert f"| {role.label.zh} |" in rows[name], (name, role.label.zh)
    assert "监管人员" in rows["regulator"] and "管理员" in rows["org_admin"] and "检查员" in rows["inspector"]


def test_an_option_left_out_for_its_shape_is_not_also_reported_missing(tmp_path):
    (tmp_path / "registers").mkdir()
    (tmp_path / "registers" / "valve.yaml").write_text(
        "name: valve\nlabel: {zh: 阀门, en: Valves}\nmenu: main\nfields:\n"
        "  - {name: code, label: {zh: 编号, en: Code}, type: string}\n"
        "  - {name: area, label: {zh: 区域, en: Area}, type: tree, dictionary: area}\n"
        "ownership: area\naccess:\n  - {roles: [chief], scope: jurisdiction}\n", encoding="utf-8")

    _, issues = check_metadata([BASE, tmp_path])

    # menu and ownership are written wrongly: no E209 'has no menu entry', no E502 'scope needs ownership'
    assert [(i.line, i.id) for i in issues] == [(3, "E012"), (7, "E012")], [str(i) for i in issues]


def test_a_register_without_name_is_checked_under_its_file_name(tmp_path):
    (tmp_path / "registers").mkdir()
    (tmp_path / "registers" / "valve.yaml").write_text(
        "label: {zh: 阀门, en: Valves}\nmenu: {category: main}\nfields:\n"
        "  - {name: code, label: {zh: 编号, en: Code}, type: strin}\n"
        "  - {name: size, label: {zh: 尺寸, en: Size}, type: integer}\n"
        "list: {columns: [code, size, colour]}\n", encoding="utf-8")

    _, issues = check_metadata([BASE, tmp_path])

    # the unknown column is found in the same run; 'code' (left out for its type) is not reported again
    assert [(i.line, i.id) for i in issues] == [(1, "E011"), (4, "E102"), (6, "E202")], [str(i) for i in issues]
    assert "'colour'" in issues[2].message
