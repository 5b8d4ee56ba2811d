"""`flask backup` and `flask restore`: a backup restored into a fresh database has the same rows and the same
attachments; a changed backup file and a non-empty target are refused."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import database_url, make_app, recreate_database


def _cli(flask_app, *args: str):
    return flask_app.test_cli_runner().invoke(args=list(args))


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def test_a_backup_restores_into_a_fresh_database_with_the_same_rows_and_files(tmp_path: Path):
    source = make_app("safety_test_backup_src", tmp_path / "src")
    assert _cli(source, "demo", "load", "--enterprises", "40").exit_code == 0
    attachment = Path(source.config["UPLOAD_FOLDER"]) / "hazard" / "202612" / "photo.jpg"
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes(b"\xff\xd8 a photo of the hazard")

    result = _cli(source, "backup", "--out", str(tmp_path / "backups"))
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "backups").iterdir())
    assert {p.name for p in folder.iterdir()} == {"database.dump", "attachments.tar.gz", "manifest.json"}

    # a fresh, empty database and an empty upload folder on another "machine"
    target_url = database_url("safety_test_backup_dst")
    recreate_database(target_url)
    from app import create_app
    target = create_app("test", SQLALCHEMY_DATABASE_URI=target_url, UPLOAD_FOLDER=tmp_path / "dst" / "uploads")
    result = _cli(target, "restore", str(folder))
    assert result.exit_code == 0, result.output
    assert "differ" not in result.output

    src_url = source.config["SQLALCHEMY_DATABASE_URI"]
    for table in ("reg_enterprise", "reg_law", "ab_user", "sys_dictionary_item"):
        count = f"SELECT count(*) FROM {table}"
        assert _rows(src_url, count) == _rows(target_url, count) and _rows(src_url, count)[0][0] > 0
    sample = "SELECT * FROM reg_enterprise ORDER BY id LIMIT 7"
    assert _rows(src_url, sample) == _rows(target_url, sample)
    restored = tmp_path / "dst" / "uploads" / "hazard" / "202612" / "photo.jpg"
    assert restored.read_bytes() == attachment.read_bytes()

    # restoring again over the rows is refused unless asked for
    result = _cli(target, "restore", str(folder))
    assert result.exit_code != 0 and "--replace" in result.output
    assert _cli(target, "restore", str(folder), "--replace").exit_code == 0

    # a backup file changed after the fact is refused before anything is touched
    dump = folder / "database.dump"
    dump.write_bytes(dump.read_bytes()[:-10])
    result = _cli(target, "restore", str(folder), "--replace")
    assert result.exit_code != 0 and "changed since the backup" in result.output
    for flask_app in (source, target):
        with flask_app.app_context():
            flask_app.extensions["safety"].db.engine.dispose()


def test_the_embedded_sqlite_database_backs_up_and_restores_too(tmp_path: Path):
    from app import create_app

    source_url = f"sqlite:///{tmp_path / 'safety.db'}"
    source = create_app("test", SQLALCHEMY_DATABASE_URI=source_url, UPLOAD_FOLDER=tmp_path / "uploads")
    assert _cli(source, "metadata", "migrate").exit_code == 0
    assert _cli(source, "demo", "load", "--enterprises", "5").exit_code == 0
    assert _cli(source, "backup", "--out", str(tmp_path / "backups")).exit_code == 0
    folder = next((tmp_path / "backups").iterdir())
    assert (folder / "database.sqlite").exists()

    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    target = create_app("test", SQLALCHEMY_DATABASE_URI=target_url, UPLOAD_FOLDER=tmp_path / "restored-uploads")
    result = _cli(target, "restore", str(folder))
    assert result.exit_code == 0, result.output
    sample = "SELECT * FROM reg_enterprise ORDER BY id"
    assert _rows(source_url, sample) == _rows(target_url, sample) and len(_rows(target_url, sample)) >= 5
