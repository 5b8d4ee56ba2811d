"""The application factory: the only place the start-up order is written."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask
from flask_appbuilder import AppBuilder

from app import alerts, api, cli, operations, workflow, write_path
from app.audit.views import AuditLogView, LoginLogView
from app.dictionaries import DictionaryService, load_rows_from_db
from app.extensions import csrf, db, init_celery
from app.i18n import colon, current_locale, install_template_gettext, label_text, lazy_label, list_separator
from app.i18n.chinese import release
from app.metadata import MetadataError, load_registry
from app.models import build_models
from app.models.spatial import postgis_wanted
from app.operations import check_production_settings
from app.plugins import PluginError, init_plugins, load_plugins, metadata_roots
from app.security import view_as
from app.security.account_admin import AccountView
from app.security.manager import remember_locale
from app.security.passwords import validate_password
from app.security.policy import AccessPolicy
from app.security.view_as import ViewAsView
from app.security.views import PasswordView, drop_fab_security_menu, enforce_session_rules, own_account_pages
from app.services import Services
from app.storage import file_store
from app.views import layout
from app.views.builder import register_views
from app.views.dictionary_api import DictionaryApi
from app.views.errors import register_error_pages
from app.views.form_page import FormSessionApi
from app.views.frequency import FrequencyView, add_frequency_menu
from app.views.public import PublicFormView, limit_public_forms
from app.workflow.views import WorkflowView


def create_app(config: Any = None, metadata_dirs: list[Path] | None = None, **overrides: Any) -> Flask:
    """Build the app: config → metadata (refuses bad YAML) → models → FAB and screens → CLI and Celery."""
    from config import select_config

    app = Flask(__name__)
    app.config.from_object(config if config is not None and not isinstance(config, str) else select_config(config))
    app.config.update(overrides)
    if metadata_dirs:
        app.config["METADATA_DIRS"] = [Path(p) for p in metadata_dirs]
        # a metadata root of its own (a test's, a tool's) runs without the product's plugins unless named
        if "PLUGINS" not in overrides:
            app.config["PLUGINS"] = []
    check_production_settings(app.config)  # every missing production setting at once, before any is used

    # plugins are imported first: their metadata roots are read in the same load as the product's
    plugins = load_plugins(app.config.get("PLUGINS", ()))
    registry = load_registry([*app.config["METADATA_DIRS"], *metadata_roots(plugins)])
    from sqlalchemy.engine import make_url
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    models = build_models(registry, make_url(url).get_backend_name(),
                          postgis=postgis_wanted(app.config.get("GIS_POSTGIS", "auto"), url))
    db.init_app(app)
    csrf.init_app(app)
    svc = Services(registry=registry, models=models, files=file_store(app.config), db=db,
                   dictionaries=DictionaryService(registry, load_rows_from_db(lambda: db.session,
                                                                              models.engine["DictionaryItem"])))
    app.extensions["safety"] = svc

    app.extensions["safety_policy"] = AccessPolicy(registry, models, svc.dictionaries)
    _install_listeners()
    workflow.init_app(app, svc)

    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", validate_password)
    with app.app_context():
        appbuilder = AppBuilder(update_perms=app.config.get("FAB_UPDATE_PERMS", False))
        appbuilder.init_app(app, db.session)
        _register_screens(appbuilder, svc)
        alerts.init_app(app)  # the warnings' screen and their counts; their tasks are registered on import
        init_plugins(app, registry, plugins)  # after the engine's screens; a failing plugin stops the start
    _register_request_rules(app)
    api.init_app(app)

    operations.init_app(app)  # trusted proxies, logging with request ids, /healthz and /readyz, worker heartbeat
    cli.init_app(app)
    init_celery(app)
    from app.excel import jobs, runner  # noqa: F401 - registers the import and export tasks with Celery
    from app import document_screens  # noqa: F401 - registers the documents' zip task
    runner.init_app(app)
    from app.workflow import warnings  # noqa: F401 - registers the deadline warnings task
    app.extensions["safety_collected"] = release()  # labels derived: OpenCC's tables need not stay in memory
    return app


def _install_listeners() -> None:
    """Session events (once per process): row scope on every query, the one write path on every flush."""
    write_path.install()


def _register_screens(appbuilder: AppBuilder, svc: Services) -> None:
    from flask_babel import lazy_gettext

    drop_fab_security_menu(appbuilder)
    appbuilder.add_view_no_menu(DictionaryApi())
    appbuilder.add_view_no_menu(FormSessionApi())
    appbuilder.add_view_no_menu(PasswordView())
    appbuilder.add_view_no_menu(WorkflowView())
    appbuilder.add_view_no_menu(FrequencyView())
    appbuilder.add_view_no_menu(ViewAsView())
    limit_public_forms(appbuilder, appbuilder.add_view_no_menu(PublicFormView()))
    register_views(appbuilder, svc)
    add_frequency_menu(appbuilder, svc.registry)
    system = svc.registry.menus.get("system")
    menu = {"category": "system", "category_label": lazy_label(system.label), "category_icon": system.icon} \
        if system else {"category": "system", "category_label": lazy_gettext("System")}
    appbuilder.add_view(AccountView, "menu_accounts", label=lazy_gettext("Accounts"), icon="fa-users", **menu)
    appbuilder.add_view(AuditLogView, "menu_audit_log", label=lazy_gettext("Operation log"), icon="fa-history",
                        **menu)
    appbuilder.add_view(LoginLogView, "menu_login_log", label=lazy_gettext("Login log"), icon="fa-sign-in",
                        **menu)


def _field_messages(field: Any) -> list[str]:
    """A field's own error texts (a child table's per-row errors are shown in its cells)."""
    return [str(e) for e in field.errors if not isinstance(e, (list, dict))]


def _required_for(spec: Any, name: str) -> dict | None:
    """A field required for some transitions (required_for, §4.8): the note under it and its conditions, which
    register.js checks as the user changes the fields they read (申请材料 of the chosen 申报类型)."""
    from flask_babel import gettext

    field = spec.field_map.get(name) if spec is not None else None
    if field is None or not field.required_for or spec.workflow is None:
        return None
    steps = list_separator().join(f"“{label_text(spec.workflow.transition(t).label)}”" for t in field.required_for)
    when = [{k: v for k, v in c.model_dump(by_alias=True, exclude_defaults=True).items()} for c in field.required_when]
    return {"text": gettext("Required before %(steps)s", steps=steps), "when": when}


def _register_request_rules(app: Flask) -> None:
    app.jinja_env.globals["field_messages"] = _field_messages
    app.jinja_env.globals["required_for"] = _required_for
    app.jinja_env.globals["ui_locale"] = current_locale  # the date pickers' language (register/form_assets.html)
    # a caption's colon and an enumeration's separator in the reader's language (： 、 / ": " ", ")
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.globals["list_separator"] = list_separator
    install_template_gettext(app)  # replaces Flask-Babel's: the translations looked up once per locale

    app.before_request(enforce_session_rules)
    app.before_request(own_account_pages)
    view_as.init_app(app)  # after the session rules: they apply to the signed-in regulator
    app.after_request(remember_locale)
    register_error_pages(app)
    layout.init_app(app)


def create_app_or_exit(config: Any = None, **kwargs: Any) -> Flask:
    """create_app for the processes (run.py: the `flask` commands and gunicorn; the Celery worker): a metadata
    problem prints its located list and exits 1, no traceback. Once built, the app's objects are frozen."""
    try:
        app = create_app(config, **kwargs)
    except MetadataError as exc:
        print(exc.report(), file=sys.stderr)
        print("The app did not start: fix the metadata above (`flask metadata check` lists the same).",
              file=sys.stderr)
        raise SystemExit(1)
    except PluginError as exc:
        print(f"The app did not start: {exc}", file=sys.stderr)
        raise SystemExit(1)
    freeze_start_up(collected=app.extensions.get("safety_collected", False))
    return app


def freeze_start_up(collected: bool) -> None:
    """Move what start-up built (the registry, models, mappers, views: ~310,000 objects that live as long as the
    process) out of the cyclic garbage collector's reach (gc.freeze, after the collection release() ran):
    - every later full collection no longer walks them (shorter pauses while serving);
    - gunicorn's forked workers do not write to their pages when collecting (copy-on-write keeps them shared);
    - the interpreter's exit no longer walks them: ~1 s of every `flask …` command (bench/boot.py).
    Not in create_app: a test process that builds many apps lets the ones it drops be collected. ``collected``:
    release() has just collected the start-up's garbage (else it is collected here, so none is frozen)."""
    import gc
    if not collected:
        gc.collect()
    gc.freeze()
