"""APP_CONFIG=production refuses to start while a setting is missing, naming every one and what to set."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION_NAMES = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                    "RATELIMIT_STORAGE_URI", "LOG_FORMAT", "FILE_STORE", "S3_BUCKET")


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_NAMES}
    return subprocess.run([sys.executable, "-c", "from app import create_app_or_exit; create_app_or_exit()"],
                          cwd=ROOT, env={**clean, "APP_CONFIG": "production", **env}, capture_output=True, text=True,
                          timeout=120)


def test_every_missing_setting_is_listed_at_once_without_a_traceback():
    started = _start()
    assert started.returncode == 1
    lines = started.stderr.strip().splitlines()
    assert lines[0] == "Refusing to start in production; missing settings:"
    assert [line.split()[1] for line in lines[1:]] == ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"]
    assert "postgresql+psycopg2://" in started.stderr and "redis://" in started.stderr
    assert "Traceback" not in started.stderr and "sqlalchemy" not in started.stderr.lower()


def test_only_what_is_still_missing_is_listed():
    started = _start(SECRET_KEY="x" * 48, DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:5432/none",
                     LOG_FORMAT="xml")
    assert started.returncode == 1
    listed = [line.split()[1] for line in started.stderr.strip().splitlines()[1:]]
    assert listed == ["REDIS_URL", "LOG_FORMAT='xml'"]


def test_a_complete_production_environment_starts():
    started = _start(SECRET_KEY="x" * 48, DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:5432/none",
                     REDIS_URL="redis://127.0.0.1:6379/15")
    assert started.returncode == 0, started.stderr


def test_an_object_store_without_its_bucket_or_of_an_unknown_kind_is_listed():
    complete = dict(SECRET_KEY="x" * 48, DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:5432/none",
                    REDIS_URL="redis://127.0.0.1:6379/15")
    started = _start(**complete, FILE_STORE="s3")
    assert started.returncode == 1
    assert [line.split()[1] for line in started.stderr.strip().splitlines()[1:]] == ["FILE_STORE=s3"]
    assert "S3_BUCKET" in started.stderr and "S3_ENDPOINT_URL" in started.stderr
    started = _start(**complete, FILE_STORE="ftp")
    assert started.returncode == 1 and "FILE_STORE='ftp' is unknown" in started.stderr
