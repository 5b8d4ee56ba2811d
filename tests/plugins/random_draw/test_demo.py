"""The plugin's demo officers load after the product's demo organisations (flask demo load)."""
from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from app.demo import insert_rows

ROOT = Path(__file__).resolve().parents[3]


def test_demo_officers_load(db_app) -> None:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        for path in (ROOT / "app" / "demo" / "data" / "organisation.yaml",
                     ROOT / "plugins" / "random_draw" / "demo" / "law_officer.yaml"):
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
            insert_rows(svc, content["register"], content["rows"])
        model = svc.models["law_officer"]
        rows = svc.session.execute(select(model.code, model.active)).all()
        assert len(rows) == 13 and ("XB-006", False) in rows
        assert "random_draw" in db_app.extensions["safety_plugins"]
