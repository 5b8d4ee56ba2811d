"""The plugin contract (app/plugins.py): a plugin's YAML is checked with the product's, and a plugin that
fails to load stops the start with a message naming it."""
from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from app import create_app
from app.metadata import MetadataError
from app.plugins import PluginError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install plugins.<name> as a module whose package folder is a temporary directory."""
    def install(name: str, init_app=None, registers: dict[str, str] | None = None) -> Path:
        folder = tmp_path / name
        (folder / "metadata" / "registers").mkdir(parents=True)
        for file, text in (registers or {}).items():
            (folder / "metadata" / "registers" / file).write_text(text, encoding="utf-8")
        module = types.ModuleType(f"plugins.{name}")
        module.__file__ = str(folder / "__init__.py")
        if init_app is not None:
            module.init_app = init_app
        monkeypatch.setitem(sys.modules, f"plugins.{name}", module)
        return folder
    return install


def test_an_unknown_plugin_stops_the_start() -> None:
    with pytest.raises(PluginError, match="plugin 'no_such_plugin' could not be imported"):
        create_app("test", PLUGINS=["no_such_plugin"])


def test_a_plugin_without_init_app_stops_the_start(fake_plugin) -> None:
    fake_plugin("no_entry")
    with pytest.raises(PluginError, match=r"plugin 'no_entry' has no init_app\(app, registry\)"):
        create_app("test", PLUGINS=["no_entry"])


def test_a_plugin_failing_in_init_app_stops_the_start(fake_plugin) -> None:
    def init_app(app, registry):
        raise RuntimeError("the camera service is not configured")
    fake_plugin("broken", init_app)
    with pytest.raises(PluginError, match="plugin 'broken' failed in init_app: RuntimeError: the camera service"):
        create_app("test", PLUGINS=["random_draw", "broken"])


def test_a_plugins_yaml_is_checked_with_file_and_line(fake_plugin) -> None:
    folder = fake_plugin("bad_yaml", lambda app, registry: None, {"gadget.yaml": (
        "name: gadget\nlabel: {zh: 装置, en: Gadgets}\nfields:\n  - name: owner\n    label: {zh: 企业, en: Owner}\n"
        "    type: reference\n    register: enterprize\n")})
    with pytest.raises(MetadataError) as caught:
        create_app("test", PLUGINS=["bad_yaml"])
    text = caught.value.report()
    assert "gadget.yaml:7:" in text and "enterprize" in text and "enterprise" in text, text
    assert str(folder.name) in text


def test_a_plugins_register_joins_the_registry(fake_plugin) -> None:
    fake_plugin("good_yaml", lambda app, registry: None, {"gadget.yaml": (
        "name: gadget\nlabel: {zh: 装置, en: Gadgets}\nmenu: {category: enforcement}\nfields:\n  - name: title\n    label: {zh: 名称, en: Title}\n"
        "    type: string\n    length: 20\n")})
    app = create_app("test", PLUGINS=["good_yaml"])
    assert "gadget" in app.extensions["safety"].registry.registers
    assert "gadget" in app.extensions["safety"].models.classes


def test_the_command_line_says_which_plugin_failed() -> None:
    done = subprocess.run([sys.executable, "-c", "from app import create_app_or_exit; create_app_or_exit('test')"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PLUGINS": "random_draw,missing_one"})
    assert done.returncode == 1
    assert "The app did not start: plugin 'missing_one' could not be imported" in done.stderr
    assert "Traceback" not in done.stderr


def test_draw_settings_errors_are_located(app, tmp_path: Path) -> None:
    from plugins.random_draw.settings import read_settings
    text = (ROOT / "plugins" / "random_draw" / "metadata" / "draw.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "draw.yaml"
    bad.write_text(text.replace("quota_field: region", "quota_field: regoin")
                   .replace("value: random", "value: randomly"), encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        read_settings(bad, app.extensions["safety"].registry)
    report = caught.value.report()
    lines = bad.read_text(encoding="utf-8").splitlines()
    quota_line = next(i for i, line in enumerate(lines, 1) if "regoin" in line)
    kind_line = next(i for i, line in enumerate(lines, 1) if "randomly" in line)
    assert f"draw.yaml:{quota_line}: E802 enterprise has no field 'regoin' — did you mean 'region'?" in report
    assert f"draw.yaml:{kind_line}: E805" in report


def test_people_draw_settings_errors_are_located(app, tmp_path: Path) -> None:
    from plugins.random_draw.settings import read_settings
    text = (ROOT / "plugins" / "random_draw" / "metadata" / "draw.yaml").read_text(encoding="utf-8")
    second = text[text.index("  - name: expert"):]
    bad = tmp_path / "draw.yaml"
    bad.write_text(text.replace("display: person_name", "display: persn_name")
                   .replace("available: available", "available: mobile")
                   .replace("filters: [specialty, professional_title, region]", "filters: [specialty, employer]")
                   .replace("register: expert_conflict", "register: expert_conflicts")
                   + second.replace("register: expert\n", "register: experts\n"), encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        read_settings(bad, app.extensions["safety"].registry)
    report = caught.value.report()
    lines = bad.read_text(encoding="utf-8").splitlines()

    def line(text: str, nth: int = 0) -> int:
        return [i for i, row in enumerate(lines, 1) if text in row][nth]
    assert f"draw.yaml:{line('display: persn_name')}: E941 expert has no field 'persn_name'" in report
    assert f"draw.yaml:{line('available: mobile')}: E944 'mobile' is a string, not a boolean" in report
    assert f"draw.yaml:{line('filters: [specialty, employer]')}: E942 'employer' is not a filter of expert" in report
    assert f"draw.yaml:{line('expert_conflicts')}: E940 unknown register 'expert_conflicts'" in report
    assert f"draw.yaml:{line('- name: expert', 1)}: E943 people draw 'expert' is declared twice" in report
    assert f"draw.yaml:{line('register: experts')}: E940 unknown register 'experts'" in report
