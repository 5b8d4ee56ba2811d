"""Where attachment files live: a folder (UPLOAD_FOLDER, the default) or an S3-compatible object store (MinIO, Ceph,
a cloud's object storage on the intranet) that the web and worker machines of a cluster share (FILE_STORE=s3).

A row keeps a small JSON record of each file (name, key, size, type, sha256, time); the key — ``<register>/<YYYYMM>/
<random>.<ext>`` — is the file's path under the folder or its object key under S3_PREFIX. Every consumer goes
through the store (save, open, delete, send, and the backup's walk and put), never through the folder itself."""
from __future__ import annotations

import hashlib
import mimetypes
import shutil
import uuid
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Iterator, Mapping

from werkzeug.utils import secure_filename

#: the key prefix of the Excel jobs' files (uploads, error workbooks, exports, document zips) in a shared store
#: (app/excel/retention.py); never a register's name, which starts with a letter
JOB_FILES = "_jobs/"


class _Hashing:
    """A read-only stream that counts and hashes what is read through it (the upload is read once)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _key(record_or_key: Mapping[str, Any] | str) -> str:
    """The stored key of a record, refused (as a missing file) when it could leave the store: absolute, or with
    ``..`` or empty parts."""
    key = record_or_key if isinstance(record_or_key, str) else str(record_or_key.get("path") or "")
    parts = PurePosixPath(key.replace("\\", "/")).parts
    if not parts or key.startswith(("/", "\\")) or any(p in ("", ".", "..") for p in parts):
        raise FileNotFoundError(key)
    return "/".join(parts)


class FileStore:
    """The interface, and what every store shares: the record, the download response."""

    kind = "base"

    def save(self, register: str, filename: str, stream: BinaryIO) -> dict[str, Any]:
        """Store the upload; returns the record kept in the row: name, path (the key), size, type, sha256, time."""
        ext = Path(filename).suffix.lower()
        key = f"{register}/{datetime.now():%Y%m}/{uuid.uuid4().hex}{ext}"
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        reader = _Hashing(stream)
        self.put(key, reader, content_type)
        return {"name": _display_name(filename), "path": key, "size": reader.size, "type": content_type,
                "sha256": reader.digest.hexdigest(), "uploaded_at": datetime.now().isoformat(timespec="seconds")}

    def send(self, record: dict[str, Any] | None, inline: bool = False) -> Any:
        """The stored file as a download (images ``inline`` in the page); 404 when it is gone."""
        from flask import abort, send_file
        if not record:
            abort(404)
        try:
            source = self._download_source(record)
        except FileNotFoundError:
            abort(404)
        inline = inline and str(record.get("type", "")).startswith("image/")
        return send_file(source, mimetype=record.get("type") or "application/octet-stream",
                         download_name=record.get("name") or PurePosixPath(_key(record)).name,
                         as_attachment=not inline, max_age=0)

    def _download_source(self, record: Mapping[str, Any]) -> Any:
        """What send_file reads: the stream by default."""
        return self.open(record)

    # ---------------------------------------------------------------- what a store implements
    def put(self, key: str, stream: Any, content_type: str) -> None:
        raise NotImplementedError

    def open(self, record: Mapping[str, Any] | str) -> Any:
        """A readable binary stream of the file (close it); FileNotFoundError when it is gone or the key is bad."""
        raise NotImplementedError

    def delete(self, record: Mapping[str, Any] | str) -> None:
        """Remove the file; a file already gone is fine."""
        raise NotImplementedError

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int, float]]:
        """Every stored key under ``prefix`` with its size and modification time (epoch seconds)."""
        raise NotImplementedError

    def clear(self) -> None:
        """Remove every stored file (a restore replaces them)."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class LocalFileStore(FileStore):
    """Files under one folder: UPLOAD_FOLDER/<register>/<YYYYMM>/<random>.<ext>. Several machines share it only
    through a network file system; FILE_STORE=s3 needs none."""

    kind = "local"

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path_of(self, record: Mapping[str, Any] | str) -> Path:
        """The file behind a record; refuses paths that leave the folder."""
        path = (self.root / _key(record)).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise FileNotFoundError(str(path))
        return path

    def put(self, key: str, stream: Any, content_type: str) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)

    def open(self, record: Mapping[str, Any] | str) -> Any:
        path = self.path_of(record)
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return path.open("rb")

    def _download_source(self, record: Mapping[str, Any]) -> Any:
        # a path lets werkzeug answer conditional and range requests (a long recording in the video player)
        path = self.path_of(record)
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return path

    def delete(self, record: Mapping[str, Any] | str) -> None:
        try:
            self.path_of(record).unlink(missing_ok=True)
        except FileNotFoundError:
            pass

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int, float]]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and path.is_file():
                stat = path.stat()
                yield key, stat.st_size, stat.st_mtime

    def clear(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"folder {self.root}"


class S3FileStore(FileStore):
    """Files as objects of one bucket (under a prefix) of an S3-compatible store, through boto3. Downloads go through
    the app (the row's scope is checked first), never as links to the store, which users may not reach."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None):
        import boto3
        from botocore.config import Config
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            # path-style addressing: an intranet MinIO has no wildcard DNS for bucket sub-domains
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=60))

    def _object(self, record: Mapping[str, Any] | str) -> str:
        return self.prefix + _key(record)

    def put(self, key: str, stream: Any, content_type: str) -> None:
        # upload_fileobj streams in parts (multipart above 8 MB): a 200 MB upload is never held in memory
        self.client.upload_fileobj(stream, self.bucket, self._object(key), ExtraArgs={"ContentType": content_type})

    def open(self, record: Mapping[str, Any] | str) -> Any:
        from botocore.exceptions import ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object(record))["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(_key(record)) from error
            raise

    def delete(self, record: Mapping[str, Any] | str) -> None:
        try:
            key = self._object(record)
        except FileNotFoundError:
            return
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def walk(self, prefix: str = "") -> Iterator[tuple[str, int, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix):], int(item["Size"]), item["LastModified"].timestamp()

    def clear(self) -> None:
        keys = [self.prefix + key for key, _size, _time in self.walk()]
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in
                                                                              keys[start:start + 1000]],
                                                                  "Quiet": True})

    def check(self) -> None:
        """The bucket answers (the readiness check and the start): raises with the store's own message."""
        self.client.head_bucket(Bucket=self.bucket)

    def describe(self) -> str:
        return f"bucket {self.bucket} at {self.endpoint_url or 'the default S3 endpoint'}" + \
            (f" under {self.prefix}" if self.prefix else "")


def file_store(config: Mapping[str, Any]) -> FileStore:
    """The store the configuration names: FILE_STORE=local (UPLOAD_FOLDER) or s3 (S3_BUCKET, S3_ENDPOINT_URL …)."""
    kind = str(config.get("FILE_STORE") or "local").lower()
    if kind == "s3":
        return S3FileStore(bucket=config["S3_BUCKET"], prefix=config.get("S3_PREFIX") or "",
                           endpoint_url=config.get("S3_ENDPOINT_URL") or None, region=config.get("S3_REGION") or None,
                           access_key=config.get("S3_ACCESS_KEY_ID") or None,
                           secret_key=config.get("S3_SECRET_ACCESS_KEY") or None)
    if kind != "local":
        raise ValueError(f"FILE_STORE={kind!r} is unknown: set it to local (a folder) or s3")
    return LocalFileStore(config["UPLOAD_FOLDER"])


def _display_name(filename: str) -> str:
    # keep Chinese names readable (secure_filename would strip them) but drop any directory part
    name = Path(filename.replace("\\", "/")).name.strip()
    return name or secure_filename(filename) or "file"
