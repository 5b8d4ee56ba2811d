"""The production settings the app cannot run without, all reported at once with what to set."""
from __future__ import annotations

from typing import Any, Mapping

from config import DEFAULT_SECRET_KEY


def missing_production_settings(config: Mapping[str, Any]) -> list[str]:
    """One line per missing setting (empty when the app may start); only for APP_CONFIG=production."""
    if config.get("ENV_NAME") != "production" and not config.get("SESSION_COOKIE_SECURE"):
        return []
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET_KEY):
        problems.append("SECRET_KEY is not set (the default SECRET_KEY is for development only): set it to a "
                        "long random string, e.g. "
                        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` (keep it across restarts)")
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("DATABASE_URL is not set: set it to the PostgreSQL database, e.g. "
                        "postgresql+psycopg2://safety:PASSWORD@db.example:5432/safety")
    celery = config.get("CELERY") or {}
    if not celery.get("broker_url") or not celery.get("result_backend") or not config.get("RATELIMIT_STORAGE_URI"):
        problems.append("REDIS_URL is not set: set it to the Redis used by Celery and the rate limits, e.g. "
                        "redis://redis.example:6379/0 (or CELERY_BROKER_URL, CELERY_RESULT_BACKEND and "
                        "RATELIMIT_STORAGE_URI one by one)")
    store = str(config.get("FILE_STORE") or "local").lower()
    if store not in ("local", "s3"):
        problems.append(f"FILE_STORE={config.get('FILE_STORE')!r} is unknown: set it to local (UPLOAD_FOLDER) or s3")
    elif store == "s3" and not config.get("S3_BUCKET"):
        problems.append("FILE_STORE=s3 needs S3_BUCKET (an existing bucket), and S3_ENDPOINT_URL (e.g. "
                        "http://minio.example:9000), S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY unless the machine's "
                        "own credentials are used")
    if config.get("LOG_FORMAT") not in ("plain", "json"):
        problems.append(f"LOG_FORMAT={config.get('LOG_FORMAT')!r} is unknown: set it to plain or json")
    return problems


def check_production_settings(config: Mapping[str, Any]) -> None:
    """Refuse to start, listing every missing setting, before anything tries to use one."""
    problems = missing_production_settings(config)
    if problems:
        raise SystemExit("Refusing to start in production; missing settings:\n"
                         + "\n".join(f"  - {p}" for p in problems))
