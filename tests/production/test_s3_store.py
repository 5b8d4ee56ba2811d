"""FILE_STORE=s3: attachments live in an S3-compatible object store that every web and worker machine reaches.

The store is s3rver (npm, tests/s3/), a small S3 server on a local folder, spoken to over HTTP by boto3 exactly as
a MinIO on an intranet would be. An upload lands in the bucket and nowhere on the web machine's disk; a second app
(another "machine" with an empty folder) downloads it; a backup
carries the bucket's files and a restore puts them into another bucket; /readyz reports the store."""
from __future__ import annotations

import subprocess
import time
from io import BytesIO
from pathlib import Path
from typing import Iterator

import boto3
import pytest

from tests.conftest import ADMIN_PASSWORD, ROOT, make_app, truncate_registers
from tests.faults.conftest import free_port
from tests.helpers import FormClient, login

S3RVER = ROOT / "tests" / "s3" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
KEYS = {"S3_ACCESS_KEY_ID": "S3RVER", "S3_SECRET_ACCESS_KEY": "S3RVER"}  # s3rver's own credentials
LAW = {"title": "危险化学品安全管理条例", "kind": "administrative_regulation",
       "supervision_type": "hazardous_chemicals", "effective_on": "2013-12-07", "validity": "in_force"}


class S3Server:
    def __init__(self, folder: Path):
        if not S3RVER.exists():
            pytest.exit("tests/s3/node_modules is missing: WITH_TEST_DEPS=1 ./scripts/setup installs s3rver "
                        "(./scripts/test does this)", returncode=3)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = folder / "s3rver.log"
        self.process = subprocess.Popen(
            ["node", str(S3RVER), "--directory", str(folder / "data"), "--port", str(self.port), "--address",
             "127.0.0.1", "--configure-bucket", "safety-files", "--configure-bucket", "safety-restored",
             "--silent"], stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.client().list_buckets()
                return
            except Exception:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"s3rver did not answer within 20 s: {self.log.read_text()[-2000:]}")

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")

    def keys(self, bucket: str) -> list[str]:
        return sorted(item["Key"] for item in self.client().list_objects_v2(Bucket=bucket).get("Contents", []))

    def body(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_app(s3, tmp_path_factory):
    from config import TestConfig
    from tests.conftest import EAGER
    flask_app = make_app("safety_test_s3", tmp_path_factory.mktemp("s3app"), FILE_STORE="s3", S3_BUCKET="safety-files",
                         S3_PREFIX="attachments", S3_ENDPOINT_URL=s3.endpoint, CELERY={**TestConfig.CELERY, **EAGER},
                         **KEYS)
    yield flask_app
    with flask_app.app_context():
        flask_app.extensions["safety"].db.engine.dispose()


def _admin(flask_app) -> FormClient:
    client = FormClient(flask_app.test_client())
    login(client, "admin", ADMIN_PASSWORD)
    return client


def _law(flask_app):
    svc = flask_app.extensions["safety"]
    with flask_app.app_context():
        model = svc.models["law"]
        return svc.session.query(model).execution_options(include_all_rows=True).order_by(model.id.desc()).first()


def test_an_upload_goes_to_the_bucket_and_another_machine_serves_it(s3, s3_app, tmp_path):
    truncate_registers(s3_app)
    admin = _admin(s3_app)
    response = admin.post_form("/r/law/add", dict(LAW, full_text=(BytesIO(b"%PDF-1.4 the regulation"), "条例全文.pdf")),
                               content_type="multipart/form-data")
    assert response.status_code == 302
    law = _law(s3_app)
    record = law.full_text[0]
    assert record["name"] == "条例全文.pdf" and record["size"] == 23
    # in the bucket under the prefix, and nothing on this machine's disk
    assert f"attachments/{record['path']}" in s3.keys("safety-files")
    assert s3.body("safety-files", f"attachments/{record['path']}") == b"%PDF-1.4 the regulation"
    local = Path(s3_app.config["UPLOAD_FOLDER"])
    assert not local.exists() or not any(p.is_file() for p in local.rglob("*"))

    download = admin.get(f"/r/law/attachment/{law.id}/full_text/0")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 the regulation"
    assert "条例全文.pdf" in download.headers["Content-Disposition"] or \
        "%E6%9D%A1%E4%BE%8B" in download.headers["Content-Disposition"]

    # a second web machine (its own empty folder, the same database and bucket) serves the same file
    from app import create_app
    other = create_app("test", SQLALCHEMY_DATABASE_URI=s3_app.config["SQLALCHEMY_DATABASE_URI"],
                       UPLOAD_FOLDER=tmp_path / "elsewhere", FILE_STORE="s3", S3_BUCKET="safety-files",
                       S3_PREFIX="attachments", S3_ENDPOINT_URL=s3.endpoint, **KEYS)
    again = _admin(other).get(f"/r/law/attachment/{law.id}/full_text/0")
    assert again.status_code == 200 and again.data == b"%PDF-1.4 the regulation"

    # an object gone from the store is a 404 page, not an error
    s3.client().delete_object(Bucket="safety-files", Key=f"attachments/{record['path']}")
    assert admin.get(f"/r/law/attachment/{law.id}/full_text/0").status_code == 404
    with other.app_context():
        other.extensions["safety"].db.engine.dispose()


def test_a_record_whose_key_leaves_the_store_is_refused(s3_app):
    store = s3_app.extensions["safety"].files
    for bad in ("../outside.pdf", "/etc/passwd", "law//x.pdf", ""):
        with pytest.raises(FileNotFoundError):
            store.open({"path": bad})


def test_backup_carries_the_bucket_and_restore_fills_another(s3, s3_app, tmp_path):
    truncate_registers(s3_app)
    admin = _admin(s3_app)
    for n in range(3):
        assert admin.post_form("/r/law/add", dict(LAW, title=f"条例{n}", full_text=(BytesIO(b"PDF %d" % n), f"{n}.pdf")),
                               content_type="multipart/form-data").status_code == 302
    stored = s3.keys("safety-files")
    runner = s3_app.test_cli_runner()
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    assert f"{len(stored)} attachments from the bucket safety-files" in result.output
    folder = next((tmp_path / "backups").iterdir())

    from app import create_app
    from tests.conftest import database_url, recreate_database
    target_url = database_url("safety_test_s3_restored")
    recreate_database(target_url)
    target = create_app("test", SQLALCHEMY_DATABASE_URI=target_url, UPLOAD_FOLDER=tmp_path / "unused",
                        FILE_STORE="s3", S3_BUCKET="safety-restored", S3_ENDPOINT_URL=s3.endpoint, **KEYS)
    result = target.test_cli_runner().invoke(args=["restore", str(folder)])
    assert result.exit_code == 0, result.output
    restored = s3.keys("safety-restored")
    assert restored == sorted(key.removeprefix("attachments/") for key in stored)
    for key in restored:
        assert s3.body("safety-restored", key) == s3.body("safety-files", f"attachments/{key}")
    # the restored rows name the restored objects: the download works from the other bucket
    law = _law(target)
    download = _admin(target).get(f"/r/law/attachment/{law.id}/full_text/0")
    assert download.status_code == 200 and download.data.startswith(b"PDF ")
    with target.app_context():
        target.extensions["safety"].db.engine.dispose()


def test_readyz_reports_the_object_store(s3, s3_app, tmp_path):
    ready = s3_app.test_client().get("/readyz").get_json()
    assert ready["checks"]["files"] == "ok"
    from app import create_app
    away = create_app("test", SQLALCHEMY_DATABASE_URI=s3_app.config["SQLALCHEMY_DATABASE_URI"],
                      UPLOAD_FOLDER=tmp_path / "x", FILE_STORE="s3", S3_BUCKET="no-such-bucket",
                      S3_ENDPOINT_URL=s3.endpoint, **KEYS)
    response = away.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["files"].startswith("failing:")
    with away.app_context():
        away.extensions["safety"].db.engine.dispose()
