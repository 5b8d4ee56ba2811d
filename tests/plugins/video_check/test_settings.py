"""video_check.yaml is checked like the metadata: every problem at once, with file:line and an id (E980–E987)."""
from __future__ import annotations

import pytest

from app.metadata import MetadataError
from plugins.video_check import ROOT
from plugins.video_check.settings import read_settings

GOOD = (ROOT / "metadata" / "video_check.yaml").read_text(encoding="utf-8")


def problems(app, tmp_path, text: str) -> list[str]:
    path = tmp_path / "video_check.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MetadataError) as raised:
        read_settings(path, app.extensions["safety"].registry)
    return [f"{i.line} {i.id}" for i in raised.value.issues]


def test_the_shipped_settings_load(app) -> None:
    settings = read_settings(ROOT / "metadata" / "video_check.yaml", app.extensions["safety"].registry)
    assert settings.application.pass_ == "cloud_verify" and len(settings.checklist) == 6


def test_every_mistake_located(app, tmp_path) -> None:
    text = (GOOD.replace("enterprise: enterprise", "enterprise: applicant_name")
            .replace("state: verifying", "state: checking")
            .replace("value: cloud}", "value: video}")
            .replace("enterprise_roles: [enterprise_user]", "enterprise_roles: [company]")
            .replace("code: fire,", "code: premises,"))
    found = problems(app, tmp_path, text)
    ids = sorted(p.split()[1] for p in found)
    assert ids == ["E982", "E983", "E984", "E985", "E986", "E987"], found
    assert problems(app, tmp_path, GOOD.replace("register: licence_application", "register: licence")) \
        == ["5 E981"]
    assert [p.split()[1] for p in problems(app, tmp_path, GOOD + "colour: red\n")] == ["E980"]
