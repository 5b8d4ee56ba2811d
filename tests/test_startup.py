"""What a process's start leaves behind (bench/boot.py measures how long it takes): the objects start-up built are
frozen out of the garbage collector's reach, and the file writers (openpyxl, xhtml2pdf, reportlab) are not imported
until a workbook or a PDF is made. A fresh interpreter, as `flask …`, gunicorn and the worker start."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import gc, json, sys
from app import create_app, create_app_or_exit
create_app_or_exit()
frozen = gc.get_freeze_count()
writers = sorted(m for m in ("openpyxl", "xhtml2pdf", "reportlab") if m in sys.modules)
gc.unfreeze()
create_app()   # the factory the tests call: nothing more frozen
print(json.dumps({"frozen": frozen, "writers": writers, "after_plain": gc.get_freeze_count()}))
"""


def test_a_process_start_freezes_what_it_built_and_leaves_the_file_writers_unloaded(tmp_path: Path) -> None:
    env = {**os.environ, "APP_CONFIG": "embedded", "DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["frozen"] > 100_000          # the registry, models and views: hundreds of thousands of objects
    assert found["writers"] == []
    assert found["after_plain"] == 0


def test_the_writers_load_when_a_workbook_is_made(tmp_path: Path) -> None:
    """The deferred imports still work: the charts' export (openpyxl) builds a real workbook in a fresh process."""
    child = """
import io, sys
from app import create_app_or_exit
app = create_app_or_exit()
from plugins.charts.query import ChartData
service = app.extensions["charts"]
chart = next(iter(service.settings.charts.values()))
with app.test_request_context():
    data = ChartData(chart, "标题", "数量", [], {}, 0, None)
    book = service.workbook(data)
import openpyxl
print(openpyxl.load_workbook(io.BytesIO(book)).active["A2"].value)
"""
    env = {**os.environ, "APP_CONFIG": "embedded", "DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", child], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "合计"


def test_a_region_tree_loaded_while_serving_is_frozen_with_start_up(app) -> None:
    """The packaged regions load on first use, after the start froze everything else: they are frozen then too, so
    the garbage collector's full collections during requests do not walk their 44,703 nodes."""
    child = """
import gc, json
from app import create_app_or_exit
from app.dictionaries.service import Node
app = create_app_or_exit()
with app.app_context():
    nodes = len(app.extensions["safety"].dictionaries.tree("region").nodes)
print(json.dumps({"nodes": nodes, "tracked": sum(1 for o in gc.get_objects() if isinstance(o, Node))}))
"""
    env = {**os.environ, "APP_CONFIG": "test", "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", child], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["nodes"] > 40_000
    assert found["tracked"] == 0
