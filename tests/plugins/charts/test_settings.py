"""The charts' and dashboards' YAML is checked like every descriptor: every problem at once, each with file:line, an
id (E900–E910) and the fix; the shipped charts load."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.metadata import MetadataError, load_registry
from plugins.charts import ROOT as PLUGIN
from plugins.charts.settings import read_charts, resolve_date
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def registry():
    return load_registry([ROOT / "metadata"])


def write(root: Path, folder: str, name: str, text: str) -> Path:
    (root / folder).mkdir(parents=True, exist_ok=True)
    path = root / folder / f"{name}.yaml"
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def problems(root: Path, registry) -> list[str]:
    with pytest.raises(MetadataError) as caught:
        read_charts(root, registry)
    return [str(issue) for issue in caught.value.issues]


def test_the_shipped_charts_and_dashboards_load(registry) -> None:
    charts = read_charts(PLUGIN / "metadata", registry)
    assert "hazards_by_region" in charts.charts and "leadership" in charts.dashboards
    assert [b.name for b in charts.dashboards.values() if b.home] == ["home_regulator", "home_enterprise"]


def test_every_problem_is_reported_with_its_line_and_fix(tmp_path: Path, registry) -> None:
    write(tmp_path, "charts", "bad", """
name: bad
label: {zh: 坏图表, en: Bad}
register: hazard
filters:
  levle: major
  state: [pending, rectified]
  found_on: {from: last_tuesday}
by: {field: enterprise.regoin, level: next}
measure: {kind: sum, field: description}
kind: pie
""")
    write(tmp_path, "charts", "shape", """
name: shape
label: {zh: 形状, en: Shape}
register: hazard
by: level
kind: donut
colour: red
""")
    write(tmp_path, "charts", "unknown", """
name: unknown
label: {zh: 未知, en: Unknown}
register: hazards
kind: figure
""")
    found = problems(tmp_path, registry)
    bad = str(Path(tmp_path.relative_to(Path.cwd()) if tmp_path.is_relative_to(Path.cwd()) else tmp_path)
              / "charts" / "bad.yaml")
    assert any(p.startswith(f"{bad}:5: E904 'levle' is not a list filter of hazard") and "did you mean 'level'" in p
               for p in found), found
    assert any(p.startswith(f"{bad}:7: E911 'last_tuesday' is not a date") for p in found), found
    assert any(p.startswith(f"{bad}:8: E902 enterprise has no field 'regoin'") and "'region'" in p
               for p in found), found
    assert any(p.startswith(f"{bad}:9: E905 'description' is a string: only numbers are summed") for p in found), found
    shape = [p for p in found if "shape.yaml" in p]
    assert any(":5: E900 kind:" in p for p in shape) and any(":6: E900 colour:" in p for p in shape), shape
    assert any("unknown.yaml:3: E901 unknown register 'hazards'" in p and "did you mean 'hazard'" in p
               for p in found), found


def test_groupings_kinds_and_measures_that_do_not_fit(tmp_path: Path, registry) -> None:
    write(tmp_path, "charts", "a", """
name: a
label: {zh: 甲, en: A}
register: hazard
by: found_on
kind: bar
""")
    write(tmp_path, "charts", "b", """
name: b
label: {zh: 乙, en: B}
register: hazard
by: {field: level, level: county}
stack: description
kind: pie
""")
    write(tmp_path, "charts", "c", """
name: c
label: {zh: 丙, en: C}
register: enterprise
by: {field: enterprise_type, level: next}
measure: rate
kind: bar
""")
    write(tmp_path, "charts", "d", """
name: d
label: {zh: 丁, en: D}
register: hazard
kind: stacked_bar
by: level
""")
    found = "\n".join(problems(tmp_path, registry))
    assert "a.yaml:4: E903 'found_on' is a date: say how it is grouped — add 'period: month'" in found
    assert "b.yaml:4: E903 'level' is for a tree field" in found
    assert "b.yaml:5: E903 the stacks are an enum or the workflow state" in found
    assert "b.yaml:5: E906 a pie chart has no stacks" in found
    assert "c.yaml:4: E910 'next' is the level below the user's region" in found
    assert "c.yaml:5: E905 a rate needs 'part'" in found
    assert "d.yaml:4: E906 a stacked bar needs 'stack'" in found


def test_dashboards_name_charts_and_roles_that_exist(tmp_path: Path, registry) -> None:
    write(tmp_path, "charts", "fig", """
name: fig
label: {zh: 图, en: Fig}
register: hazard
kind: figure
""")
    write(tmp_path, "charts", "fig2", """
name: fig
label: {zh: 图, en: Fig}
register: hazard
kind: figure
""")
    write(tmp_path, "dashboards", "home", """
name: home
label: {zh: 首页, en: Home}
home: true
roles: [regulater]
figures: [fig, nothing]
charts: [fig]
""")
    found = "\n".join(problems(tmp_path, registry))
    assert "fig2.yaml:1: E907 chart 'fig' is declared twice" in found
    assert "home.yaml:4: E909 unknown role 'regulater' — did you mean 'regulator'?" in found
    assert "home.yaml:5: E908 unknown chart 'nothing'" in found
    assert "home.yaml:6: E908 'fig' is a figure: a figure goes under 'figures'" in found


def test_date_tokens() -> None:
    from datetime import date
    today = date(2026, 12, 3)
    assert resolve_date("today", today) == "2026-12-03"
    assert resolve_date("today-1", today) == "2026-12-02"
    assert resolve_date("today+30", today) == "2027-01-02"
    assert resolve_date("month_start", today) == "2026-12-01"
    assert resolve_date("year_start", today) == "2026-01-01"
    assert resolve_date("2026-05-01", today) == "2026-05-01"
