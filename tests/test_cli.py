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
    # the product's registers and those of the plugins it ships with (config PLUGINS)
    registers = len(list((ROOT / "metadata" / "registers").glob("*.yaml"))) \
        + len(list((ROOT / "plugins" / "random_draw" / "metadata" / "registers").glob("*.yaml")))
    assert result.stdout.strip().startswith(f"Metadata OK: {registers} registers")


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


def test_the_workflow_diagrams_in_docs_are_drawn_from_the_current_metadata(tmp_path):
    result = run([sys.executable, "-m", "flask", "metadata", "diagrams", "--out", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    drawn = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.svg")}
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "workflows").glob("*.svg")}
    assert drawn and drawn == committed, "run `flask metadata diagrams` and commit docs/workflows"
