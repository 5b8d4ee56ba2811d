"""The spreadsheets of scripts/make_excel_fixtures.py (written once, kept in tests/fixtures/excel/) and a helper
that runs the import engine on one of them the way the background job does, in Simplified Chinese."""
from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_excel_fixtures", ROOT / "scripts" / "make_excel_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="session")
def gen() -> ModuleType:
    """The generator module: its constants say what the files hold (row counts, the planted mistakes)."""
    return generator


@pytest.fixture(scope="session")
def excel_files() -> Path:
    """tests/fixtures/excel/, written when missing or out of date (~15 s the first time, instant after)."""
    return generator.make_excel_fixtures()


def make_importer(flask_app: Any, register: str, mode: str = "validate", actor: Any = None) -> Any:
    """An Importer checking only ('validate') or writing ('insert', 'upsert').

    The engine has said 'check only' in two ways: mode="validate" (the commit the tests were written against) and
    dry_run=True next to mode "insert" (the work tree since): the helper uses whichever the engine has."""
    from app.excel.importer import Importer

    spec = flask_app.extensions["safety"].registry.register(register)
    if mode == "validate" and "dry_run" in inspect.signature(Importer).parameters:
        return Importer(flask_app, spec, actor, mode="insert", dry_run=True)
    return Importer(flask_app, spec, actor, mode=mode)


@pytest.fixture
def run_import(db_app: Any, excel_files: Path) -> Callable[..., Any]:
    """run_import(register, file name[, mode][, user=username]) → the ImportReport, inside a request so messages
    render in the default language (zh_Hans).

    Without ``user`` the Importer gets actor=None. Its own checks then treat the import as the system's, but its
    queries (references) run as whoever the request is: nobody, so no reference resolves. With ``user`` it runs
    as the job runs an upload: as that user (acting_as), who is also the Importer's actor."""
    from app.security.actor import acting_as, actor_for

    def run(register: str, name: str, mode: str = "validate", path: Path | None = None,
            user: str | None = None) -> Any:
        with db_app.test_request_context():
            actor = actor_for(db_app.appbuilder.sm.find_user(username=user)) if user else None
            with acting_as(actor):
                return make_importer(db_app, register, mode, actor=actor).run(path or excel_files / name, name)

    return run
