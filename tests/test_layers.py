"""The app's layers (issue: layering): metadata → models → query/security → services → views/api. The screens are
a leaf: nothing below them imports ``app.views``; the query layer (``app.query``: list queries, formatting, URLs)
imports none of its consumers. Read from the source (no app, no database)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: modules that are screens themselves (Flask-AppBuilder views) or wire them into the app
SCREEN_NAMES = {"views.py", "screens.py", "document_screens.py", "subscription_views.py"}
#: what the query layer may use: metadata, dictionaries, i18n, the clock, the models and their locator, the actor
QUERY_MAY_IMPORT = ("app.metadata", "app.dictionaries", "app.i18n", "app.clock", "app.models", "app.services",
                    "app.security.actor", "app.query")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``import app…`` / ``from app… import`` in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names if name.startswith("app.")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("app.")]
    return found


def is_screen(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return (rel.startswith(("app/views/", "app/api/")) or path.name in SCREEN_NAMES
            or rel == "app/__init__.py")


def test_nothing_below_the_screens_imports_them() -> None:
    offending = [f"{path.relative_to(ROOT)}:{line} imports {module}"
                 for folder in ("app", "plugins") for path in sorted((ROOT / folder).rglob("*.py"))
                 if not is_screen(path)
                 for line, module in imports_of(path) if module == "app.views" or module.startswith("app.views.")]
    assert offending == []


def test_the_query_layer_imports_none_of_its_consumers() -> None:
    offending = [f"{path.relative_to(ROOT)}:{line} imports {module}"
                 for path in sorted((ROOT / "app" / "query").rglob("*.py"))
                 for line, module in imports_of(path) if not module.startswith(QUERY_MAY_IMPORT)]
    assert offending == []


def imports_inside_functions(folder: Path, app_only: bool) -> list[str]:
    """``file:line module`` of each import inside a function of the folder's modules (``app_only``: of the app's
    own modules: ``app``, ``app.…``, relative ``.…`` and ``plugins.…``; else of any module)."""
    inside = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    modules = ["." * inner.level + (inner.module or "")]
                elif isinstance(inner, ast.Import):
                    modules = [alias.name for alias in inner.names]
                else:
                    continue
                inside += [f"{path.relative_to(ROOT)}:{inner.lineno} {module}" for module in modules
                           if not app_only or is_the_apps(module)]
    return inside


def is_the_apps(module: str) -> bool:
    return module == "app" or module.startswith(("app.", ".", "plugins."))


def test_the_query_layer_imports_at_module_level() -> None:
    """Imports inside functions hide cycles: the query layer has none."""
    assert imports_inside_functions(ROOT / "app" / "query", app_only=False) == []


def test_the_screens_import_the_app_at_module_level() -> None:
    """The screens are the leaf: whatever of the app they use they import at the top (a cycle would show at once)."""
    assert imports_inside_functions(ROOT / "app" / "views", app_only=True) == []


#: packages whose modules import the app's own modules at module level only (none of them has a reason to wait)
MODULE_LEVEL_ONLY = ("api", "audit", "demo", "dictionaries", "i18n", "models", "query", "views")
#: the app's imports that stay inside a function, each with its reason (issue: module-level imports only)
LAZY_ON_PURPOSE = {
    # registered with Celery by their import, in create_app after init_celery
    ("app/__init__.py", "app.excel"), ("app/__init__.py", "app"), ("app/__init__.py", "app.workflow"),
    # the packages' screens sit above them (app.write_path imports the packages)
    ("app/alerts/__init__.py", ".views"), ("app/workflow/__init__.py", ".views"),
    # the write path sits above the Excel columns; the documents above the metadata
    ("app/excel/columns.py", "app.write_path"), ("app/metadata/checks.py", "app.documents"),
    # a cycle: app.excel.jobs imports app.excel.retention at its top
    ("app/excel/retention.py", ".jobs"),
    # app.celery_worker builds the app when imported (the worker, once ready)
    ("app/operations/heartbeat.py", "app.celery_worker"),
    # not loaded at start-up: alembic (app.setup), the demo data, the backup, the Excel importer and readers, smtplib
    ("app/cli.py", "app.setup"), ("app/security/views.py", "app.setup"), ("app/cli.py", "app.demo"),
    ("app/cli.py", "app.demo.scale"), ("app/cli.py", "app.demo.accounts"), ("app/cli.py", "app.demo.chaoyang"),
    ("app/cli.py", "app.demo.goods"), ("app/cli.py", "app.demo.workflows"), ("app/cli.py", "app.operations.backup"),
    ("app/excel/jobs.py", ".importer"), ("app/excel/reader.py", ".xlsx_stream"), ("app/excel/reader.py", ".xlsx_parts"),
    ("app/reminders.py", "app.alerts.mail"), ("app/alerts/scan.py", ".mail"),
}


def test_these_packages_import_the_app_at_module_level() -> None:
    """Imports inside functions hide cycles: these packages have none of the app's own modules."""
    assert [found for package in MODULE_LEVEL_ONLY
            for found in imports_inside_functions(ROOT / "app" / package, app_only=True)] == []


def test_the_app_imports_itself_at_module_level_but_where_a_reason_is_written() -> None:
    """Every other import of the app's own modules inside a function is one of LAZY_ON_PURPOSE (and each of those
    is still there: a reason that no longer applies leaves the list)."""
    found = {(where.split(":")[0], module) for where, module in
             (line.split(" ") for line in imports_inside_functions(ROOT / "app", app_only=True))}
    assert sorted(found - LAZY_ON_PURPOSE) == []
    assert sorted(LAZY_ON_PURPOSE - found) == []
