"""The spreadsheets of scripts/make_excel_fixtures.py (written once, kept in tests/fixtures/excel/) and a helper
that runs the import engine on one of them the way the background job does, in Simplified Chinese."""
from __future__ import annotations

import importlib.util
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
    """The generator module: its constants say what the files hold (rows, the planted mistakes)."""
    return generator


@pytest.fixture(scope="session")
def excel_files() -> Path:
    """tests/fixtures/excel/, written when missing or out of date (~15 s the first time, instant after)."""
    return generator.make_excel_fixtures()


@pytest.fixture
def run_import(db_app: Any, excel_files: Path) -> Callable[..., Any]:
    """run_import(register, file name[, mode]) → the ImportReport, as the job runs it (no user: the system),
    inside a request so messages render in the default language (zh_Hans)."""
    from app.excel.importer import Importer

    def run(register: str, name: str, mode: str = "validate", path: Path | None = None,
            original_name: str | None = None) -> Any:
        with db_app.test_request_context():
            spec = db_app.extensions["safety"].registry.register(register)
            importer = Importer(db_app, spec, actor=None, mode=mode)
            return importer.run(path or excel_files / name, original_name or name)

    return run
