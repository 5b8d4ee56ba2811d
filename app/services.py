"""The engine's services bound to one app: registry, models, dictionaries, files — one door for consumers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from app.dictionaries import DictionaryService
from app.metadata import Registry
from app.models import RegisterModels
from app.storage import FileStore


@dataclass
class Services:
    registry: Registry
    models: RegisterModels
    dictionaries: DictionaryService
    files: FileStore
    db: Any  # Flask-SQLAlchemy

    @property
    def session(self) -> Any:
        return self.db.session

    @property
    def dictionary_item(self) -> type:
        return self.models.engine["DictionaryItem"]


def services() -> Services:
    return current_app.extensions["safety"]
