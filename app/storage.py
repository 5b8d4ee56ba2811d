"""Attachment files on disk under UPLOAD_FOLDER/<register>/, referenced from rows by a small JSON record."""
from __future__ import annotations

import hashlib
import mimetypes
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from werkzeug.utils import secure_filename


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def save(self, register: str, filename: str, stream: BinaryIO) -> dict[str, Any]:
        """Store the upload; returns the record kept in the row: name, path, size, type, sha256, time."""
        folder = self.root / register / datetime.now().strftime("%Y%m")
        folder.mkdir(parents=True, exist_ok=True)
        ext = Path(filename).suffix.lower()
        stored = folder / f"{uuid.uuid4().hex}{ext}"
        digest = hashlib.sha256()
        size = 0
        with stored.open("wb") as out:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        return {
            "name": _display_name(filename),
            "path": str(stored.relative_to(self.root)),
            "size": size,
            "type": mimetypes.guess_type(filename)[0] or "application/octet-stream",
            "sha256": digest.hexdigest(),
            "uploaded_at": datetime.now().isoformat(timespec="seconds"),
        }

    def send(self, record: dict[str, Any] | None, inline: bool = False) -> Any:
        """The stored file as a download (images ``inline`` in the page); 404 when it is gone."""
        from flask import abort, send_file
        if not record:
            abort(404)
        try:
            path = self.path_of(record)
        except FileNotFoundError:
            abort(404)
        if not path.exists():
            abort(404)
        inline = inline and record.get("type", "").startswith("image/")
        return send_file(path, mimetype=record.get("type"), download_name=record.get("name", path.name),
                         as_attachment=not inline)

    def path_of(self, record: dict[str, Any]) -> Path:
        """The file behind a record; refuses paths that leave the store."""
        path = (self.root / record["path"]).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise FileNotFoundError(record["path"])
        return path


def _display_name(filename: str) -> str:
    # keep Chinese names readable (secure_filename would strip them) but drop any directory part
    name = Path(filename.replace("\\", "/")).name.strip()
    return name or secure_filename(filename) or "file"
