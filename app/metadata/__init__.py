"""Metadata: YAML descriptors read, checked and frozen into a Registry."""
from .issues import Issue, MetadataError
from .loader import check_metadata, load_registry
from .registry import Registry

__all__ = ["Issue", "MetadataError", "Registry", "check_metadata", "load_registry"]
