"""The application factory: the only place the start-up order is written."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask
from flask_appbuilder import AppBuilder

from app.dictionaries import DictionaryService, load_rows_from_db
from app.extensions import csrf, db, init_celery
from app.metadata import MetadataError, load_registry
from app.models import build_models
from app.services import Services
from app.storage import FileStore


def create_app(config: Any = None, metadata_dirs: list[Path] | None = None, **overrides: Any) -> Flask:
    """Build the app: config → metadata (refuses bad YAML) → models → FAB and screens → CLI and Celery."""
    from config import DEFAULT_SECRET_KEY, select_config

    app = Flask(__name__)
    app.config.from_object(config if config is not None and not isinstance(config, str) else select_config(config))
    app.config.update(overrides)
    if metadata_dirs:
        app.config["METADATA_DIRS"] = [Path(p) for p in metadata_dirs]
    if app.config.get("ENV_NAME") == "production" or app.config.get("SESSION_COOKIE_SECURE"):
        if app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
            raise SystemExit("Refusing to start in production with the default SECRET_KEY: set SECRET_KEY.")

    registry = load_registry(app.config["METADATA_DIRS"])
    models = build_models(registry)
    db.init_app(app)
    csrf.init_app(app)
    svc = Services(registry=registry, models=models, files=FileStore(app.config["UPLOAD_FOLDER"]), db=db,
                   dictionaries=DictionaryService(registry, load_rows_from_db(lambda: db.session,
                                                                              models.engine["DictionaryItem"])))
    app.extensions["safety"] = svc

    with app.app_context():
        appbuilder = AppBuilder(update_perms=app.config.get("FAB_UPDATE_PERMS", False))
        appbuilder.init_app(app, db.session)
        _register_screens(appbuilder, svc)
        # FAB creates the security tables on init; everything else is made by `flask metadata migrate`
    from app.security.manager import remember_locale
    app.after_request(remember_locale)

    from app import cli
    cli.init_app(app)
    init_celery(app)
    return app


def _register_screens(appbuilder: AppBuilder, svc: Services) -> None:
    from app.views.builder import register_views
    from app.views.dictionary_api import DictionaryApi

    appbuilder.add_view_no_menu(DictionaryApi())
    register_views(appbuilder, svc)


def create_app_or_exit(config: Any = None, **kwargs: Any) -> Flask:
    """create_app for command lines: a metadata problem prints its located list and exits 1, no traceback."""
    try:
        return create_app(config, **kwargs)
    except MetadataError as exc:
        print(exc.report(), file=sys.stderr)
        print("The app did not start: fix the metadata above (`flask metadata check` lists the same).",
              file=sys.stderr)
        raise SystemExit(1)
