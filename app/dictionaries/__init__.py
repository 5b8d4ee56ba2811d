"""Dictionaries (enum lists and trees such as regions): in-memory service and database sync."""
from .service import DictionaryService, load_rows_from_db
from .sync import sync_dictionaries

__all__ = ["DictionaryService", "load_rows_from_db", "sync_dictionaries"]
