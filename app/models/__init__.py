"""Tables and mapped classes built from the metadata registry."""
from .builder import RegisterModels, build_models, column_names, derived_indexes

__all__ = ["RegisterModels", "build_models", "column_names", "derived_indexes"]
