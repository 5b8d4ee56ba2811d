"""The configurator's commands as they run in a shell: located problems, exit codes, no tracebacks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, ROOT

BASE = FIXTURES / "metadata" / "_base"


def run(args: list[str], metadata: list[Path] | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, APP_CONFIG="embedded", FLASK_APP="run",
               DATABASE_URL="sqlite:////tmp/cli-check-unused.db")
    if metadata:
        env["METADATA_DIRS"] = os.pathsep.join(str(p) for p in metadata)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_check_on_the_shipped_metadata_prints_only_a_summary():
    result = run([sys.executable, "-m", "flask", "metadata", "check"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("Metadata OK: 9 registers")


def test_check_lists_every_problem_located_and_exits_1():
    result = run([sys.executable, "-m", "flask", "metadata", "check"], [BASE, FIXTURES / "metadata" / "many_problems"])
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if ": E" in line]
    assert len(lines) >= 4
    for line in lines:
        assert line.startswith("many_problems/registers/") and " — " in line
    assert "Traceback" not in result.stderr + result.stdout


def test_the_app_refuses_to_start_with_bad_metadata():
    result = run([sys.executable, "run.py"], [BASE, FIXTURES / "metadata" / "unknown_type"])
    assert result.returncode == 1
    assert "unknown_type/registers/" in result.stderr and "E102" in result.stderr and "did you mean 'date'" in result.stderr
    assert "The app did not start" in result.stderr and "Traceback" not in result.stderr
