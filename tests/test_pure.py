"""The tests of the descriptors, diagrams and algorithms need neither PostgreSQL nor Redis; a test that needs them
stops the run with the command that starts them (never a skip). Both run as a separate pytest with the two services
pointed at a port where nothing listens."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PURE = ["tests/metadata", "tests/workflow/test_diagram.py", "tests/plugins/random_draw/test_algorithm.py",
        "tests/i18n/test_region_names.py", "tests/test_layers.py"]
NOWHERE = "127.0.0.1:1"  # nothing listens on port 1


def _pytest(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(APP_CONFIG="test", TEST_DATABASE_URL=f"postgresql+psycopg2://postgres@{NOWHERE}/nowhere",
               RATELIMIT_STORAGE_URI=f"redis://{NOWHERE}/0", CELERY_BROKER_URL=f"redis://{NOWHERE}/0",
               CELERY_RESULT_BACKEND=f"redis://{NOWHERE}/0")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_pure_tests_pass_without_postgresql_and_redis():
    done = _pytest(*PURE)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "error" not in summary, summary


def test_a_test_that_needs_the_database_stops_the_run_and_names_the_fix():
    done = _pytest("tests/engine/test_menu_label.py")
    assert done.returncode == 3, done.stdout[-3000:]
    assert f"PostgreSQL does not answer on {NOWHERE}" in done.stdout + done.stderr
    assert "pg_ctlcluster" in done.stdout + done.stderr
    assert f"Redis does not answer on {NOWHERE}" in done.stdout + done.stderr
