"""Backups: the database (pg_dump, or SQLite's online backup) and the attachment folder, with a manifest to check
a restore against (row counts per table and a SHA-256 per file).

A backup is a folder ``safety-YYYYmmdd-HHMMSS/`` holding ``database.dump`` (PostgreSQL custom format) or
``database.sqlite``, ``attachments.tar.gz`` (every file of the attachment store, app/storage.py: the folder or the
S3 bucket, as ``uploads/<key>``) and ``manifest.json``. ``restore`` refuses a folder
whose files do not match the manifest and a database that already holds rows (unless told to replace them),
then compares the restored row counts with the manifest.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from app.storage import JOB_FILES

if TYPE_CHECKING:
    from app.storage import FileStore

Echo = Callable[[str], Any]
FORMAT = 1
OUR_TABLES = ("reg_", "sys_", "ab_")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class RestoreReport:
    counts: dict[str, tuple[int, int]]  # table → (in the manifest, in the restored database)

    @property
    def mismatches(self) -> dict[str, tuple[int, int]]:
        return {t: c for t, c in self.counts.items() if c[0] != c[1]}


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of ours (registers, engine tables, accounts)."""
    names = sorted(n for n in inspect(engine).get_table_names() if n.startswith(OUR_TABLES))
    with engine.connect() as conn:
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore and the environment carrying the password."""
    parsed = make_url(url)
    args = ["--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432),
            "--username", parsed.username or "postgres", "--dbname", parsed.database or ""]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client of the server's "
                          "major version (Debian: apt install postgresql-client).")
    if done.returncode:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


def backup(engine: Engine, store: FileStore, out: Path, echo: Echo = print) -> Path:
    """Write a backup folder under ``out``; returns its path."""
    folder = Path(out) / datetime.now().strftime("safety-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=False)
    url = engine.url.render_as_string(hide_password=False)
    counts = table_counts(engine)
    if engine.dialect.name == "postgresql":
        args, env = _libpq(url)
        database = folder / "database.dump"
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={database}", *args], env)
    elif engine.dialect.name == "sqlite":
        database = folder / "database.sqlite"
        source = sqlite3.connect(engine.url.database)
        target = sqlite3.connect(database)
        with target:
            source.backup(target)  # a consistent copy while the app keeps running
        source.close()
        target.close()
    else:
        raise BackupError(f"Backups of {engine.dialect.name} databases are not supported (PostgreSQL or SQLite).")
    attachments = folder / "attachments.tar.gz"
    files = 0
    with tarfile.open(attachments, "w:gz") as archive:
        for key, size, _time in store.walk():
            if key.startswith(JOB_FILES):
                continue  # the Excel jobs' passing files (kept EXCEL_RETENTION_HOURS), not attachments
            member = tarfile.TarInfo(f"uploads/{key}")
            member.size = size
            with store.open(key) as stream:
                archive.addfile(member, stream)
            files += 1
    manifest = {"format": FORMAT, "created_at": datetime.now().isoformat(timespec="seconds"),
                "dialect": engine.dialect.name, "tables": counts,
                "files": {p.name: _sha256(p) for p in (database, attachments)}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    echo(f"Backup written to {folder}: {sum(counts.values())} rows in {len(counts)} tables, "
         f"database {database.stat().st_size:,} bytes, {files} attachments from the {store.describe()} "
         f"({attachments.stat().st_size:,} bytes).")
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, after checking every file it lists against its SHA-256."""
    path = Path(folder) / "manifest.json"
    if not path.exists():
        raise BackupError(f"{folder} is not a backup folder (no manifest.json): give the folder `flask backup` wrote.")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')} is not {FORMAT}.")
    for name, digest in manifest["files"].items():
        file = Path(folder) / name
        if not file.exists() or _sha256(file) != digest:
            raise BackupError(f"{file} is missing or was changed since the backup (SHA-256 differs): "
                              "restore from another copy.")
    return manifest


def restore(engine: Engine, store: FileStore, folder: Path, replace: bool = False,
            echo: Echo = print) -> RestoreReport:
    """Load a backup into ``engine``'s database and the attachment ``store`` (its files replaced); compare the row
    counts with the manifest."""
    manifest = read_manifest(folder)
    if manifest["dialect"] != engine.dialect.name:
        raise BackupError(f"The backup is of a {manifest['dialect']} database; this app uses {engine.dialect.name}.")
    present = {t: n for t, n in table_counts(engine).items() if n}
    if present and not replace:
        raise BackupError(f"The database already holds rows ({len(present)} tables, e.g. {next(iter(present))}): "
                          "restore into an empty database, or pass --replace to overwrite it.")
    if engine.dialect.name == "postgresql":
        args, env = _libpq(engine.url.render_as_string(hide_password=False))
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", *args, str(Path(folder) / "database.dump")], env)
    else:
        engine.dispose()
        shutil.copyfile(Path(folder) / "database.sqlite", engine.url.database)
    store.clear()
    with tarfile.open(Path(folder) / "attachments.tar.gz", "r:gz") as archive:
        for member in archive:
            key = member.name.removeprefix("uploads/")
            # tarfile's "data" filter refuses what could leave the store: absolute names, "..", links, devices
            try:
                member = tarfile.data_filter(member, "/nonexistent")
            except tarfile.FilterError as exc:
                raise BackupError(f"attachments.tar.gz holds {member.name!r}, which a backup never writes ({exc}): "
                                  "restore from another copy.") from exc
            if not member.isfile() or key == member.name:
                continue
            stream = archive.extractfile(member)
            if stream is not None:
                store.put(key, stream, "application/octet-stream")
    engine.dispose()
    restored = table_counts(engine)
    report = RestoreReport({t: (n, restored.get(t, 0)) for t, n in manifest["tables"].items()})
    if report.mismatches:
        for table, (want, got) in report.mismatches.items():
            echo(f"  {table}: {want} rows in the backup, {got} restored")
    echo(f"Restored {sum(n for n, _ in report.counts.values())} rows in {len(report.counts)} tables from {folder}"
         + ("" if not report.mismatches else f"; {len(report.mismatches)} table(s) differ"))
    return report
