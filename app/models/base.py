"""A fresh declarative base per registry, with constraint names that fit every database."""
from __future__ import annotations

import hashlib

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MAX_NAME = 60  # PostgreSQL truncates identifiers at 63 bytes


def short_name(name: str) -> str:
    """``name`` itself when short enough, else a prefix plus a stable hash (PostgreSQL's 63-byte limit)."""
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9]}_{digest}"


def make_base() -> type[DeclarativeBase]:
    """A declarative base with its own MetaData, so each registry builds its classes afresh."""

    class RegistryBase(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return RegistryBase
