"""Registry → SQLAlchemy tables and mapped classes, with the indexes the YAML's filters and sorts imply."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData,
                        Numeric, String, Text, false, func, true)
from sqlalchemy.orm import backref, relationship

from app.metadata import Registry
from app.metadata.checks import default_filter_op
from app.metadata.spec import FieldBase, RegisterSpec

from .base import make_base, short_name
from .engine_tables import build_engine_tables
from .spatial import geog_column, geog_column_name, geog_index


@dataclass
class RegisterModels:
    """The mapped classes built from one registry."""

    metadata: MetaData
    classes: dict[str, type] = field(default_factory=dict)
    engine: dict[str, type] = field(default_factory=dict)
    #: the registers on the map carry a PostGIS ``<point>_geog`` column with a GiST index (app/models/spatial.py)
    postgis: bool = False

    def __getitem__(self, register: str) -> type:
        return self.classes[register]


def _column_type(f: FieldBase) -> Any:
    match f.type:
        case "string":
            return String(f.length)
        case "text":
            return Text()
        case "integer":
            return BigInteger().with_variant(Integer(), "sqlite")
        case "decimal":
            return Numeric(f.precision, f.scale)
        case "boolean":
            return Boolean()
        case "date":
            return Date()
        case "datetime":
            return DateTime()
        case "enum":
            return JSON(none_as_null=True) if f.multiple else String(64)
        case "tree":
            return String(64)
        case "attachment" | "image":
            return JSON(none_as_null=True)  # an empty list of files is SQL NULL, not JSON null
    raise AssertionError(f"no column type for {f.type}")


def _server_default(f: FieldBase) -> Any:
    """A database default for static defaults, so a required column can be added to a filled table."""
    value = f.default
    if value is None or value in ("today", "now") or (f.type == "enum" and f.multiple):
        return None
    if f.type == "boolean":
        return true() if value else false()
    return str(value)


def column_names(f: FieldBase) -> tuple[str, ...]:
    """The table columns a field occupies."""
    if f.type == "reference":
        return (f"{f.name}_id",)
    if f.type == "geo":
        return (f"{f.name}_lat", f"{f.name}_lng")
    if not f.stores_value:
        return ()
    return (f.name,)


def _columns(spec: RegisterSpec) -> dict[str, Column]:
    cols: dict[str, Column] = {}
    for f in spec.stored_fields:
        nullable = not f.required
        if f.type == "reference":
            cols[f"{f.name}_id"] = Column(
                f"{f.name}_id", Integer, ForeignKey(f"reg_{f.target}.id", ondelete="RESTRICT"),
                nullable=nullable)
        elif f.type == "geo":
            for axis in ("lat", "lng"):
                cols[f"{f.name}_{axis}"] = Column(f"{f.name}_{axis}", Numeric(9, 6), nullable=True)
        else:
            cols[f.name] = Column(f.name, _column_type(f), nullable=nullable, server_default=_server_default(f),
                                  default=_python_default(f))
    return cols


def _python_default(f: FieldBase) -> Any:
    """The default applied on insert when the row does not set the field (e.g. a field off the form)."""
    if f.default == "today":
        return date.today
    if f.default == "now":
        return datetime.now
    return f.default


def _sort_columns(spec: RegisterSpec) -> list[str]:
    keys = [key.lstrip("-") for key in spec.list_.sort]
    resolved = []
    for key in keys:
        if key in spec.field_map and spec.field(key).type == "reference":
            key = f"{key}_id"
        resolved.append(key)
    return resolved if resolved[-1:] == ["id"] else resolved + ["id"]


def derived_indexes(spec: RegisterSpec) -> list[tuple[str, tuple[str, ...], bool]]:
    """(name, columns, unique) of every index the descriptor implies, without duplicates."""
    table = spec.table_name
    wanted: list[tuple[tuple[str, ...], bool]] = []
    sort_cols = tuple(_sort_columns(spec))
    if sort_cols != ("id",) and not spec.parent:
        wanted.append((sort_cols, False))
    for ref in spec.filters if not spec.parent else ():
        if "." in ref.field:
            # through a reference: '<reference>_id IN (…)' uses the reference's own index (below)
            continue
        f = spec.field(ref.field)
        op = ref.op or default_filter_op(f.type)
        cols = column_names(f)
        if op in ("equal", "in", "subtree") and f.type != "text":
            # equality on the filter then the list's order: a filtered, sorted page reads the index in order
            wanted.append((cols + tuple(c for c in sort_cols if c not in cols), False))
        elif op == "range":
            # with ``id``, the list's tie-break: a page sorted by this column walks the index in the page's order
            # and stops at its last row (without it, every row sharing the first value is read and sorted: the
            # 500,000 enterprises of 10,000,000 with no 成立日期 come first when sorted newest first)
            wanted.append((cols + ("id",) if len(cols) == 1 else cols, False))
    for f in spec.stored_fields:
        if f.unique:
            wanted.append((column_names(f), True))
        elif f.index:
            wanted.append((column_names(f), False))
    if spec.parent:
        wanted.append((("parent_id",), False))
    point = spec.map_point
    if point:
        # the resource map's radius search: a bounding box on latitude, then longitude, read from one index
        wanted.append(((f"{point}_lat", f"{point}_lng"), False))
    # every reference column is indexed (deletes of the referenced row look it up), unless a longer index
    # starting with it exists
    for f in spec.stored_fields:
        if f.type == "reference":
            wanted.append(((f"{f.name}_id",), False))
    seen: set[tuple[str, ...]] = set()
    result = []
    for cols, unique in wanted:
        # a plain index that is a prefix of another one is redundant
        if not unique and any(other[:len(cols)] == cols and other != cols for other, _ in wanted):
            continue
        if cols in seen:
            continue
        seen.add(cols)
        prefix = "uq" if unique else "ix"
        result.append((short_name(f"{prefix}_{table}_{'_'.join(cols)}"), cols, unique))
    return result


def declared_indexes(spec: RegisterSpec) -> list[Index]:
    """The register's ``indexes`` (§6.5): its fields' columns, then the included ones and ``id`` (PostgreSQL's
    INCLUDE, ignored elsewhere), named after both so that a changed ``include`` is a new index."""
    result = []
    for declared in spec.indexes:
        cols = tuple(c for name in declared.fields for c in _columns_of(spec, name))
        include = tuple(dict.fromkeys(c for name in (*declared.include, "id") for c in _columns_of(spec, name)
                                      if c not in cols)) if declared.include else ()
        name = f"ix_{spec.table_name}_{'_'.join(cols)}" + (f"_inc_{'_'.join(include)}" if include else "")
        result.append(Index(short_name(name), *cols, postgresql_include=list(include)))
    return result


def _columns_of(spec: RegisterSpec, name: str) -> tuple[str, ...]:
    return column_names(spec.field(name)) if name in spec.field_map else (name,)


def search_indexes(spec: RegisterSpec) -> list[Index]:
    """PostgreSQL trigram indexes for the quick-search fields (ILIKE '%…%' of three characters or more)."""
    return [Index(short_name(f"ix_trgm_{spec.table_name}_{name}"), name, postgresql_using="gin",
                  postgresql_ops={name: "gin_trgm_ops"}) for name in spec.search]


def build_models(registry: Registry, dialect: str = "postgresql", postgis: bool = False) -> RegisterModels:
    """Mapped classes for every register; ``dialect`` decides the indexes only one database has, ``postgis``
    the geography column and GiST index of the registers on the map (PostgreSQL only)."""
    base = make_base()
    postgis = postgis and dialect == "postgresql"
    models = RegisterModels(metadata=base.metadata, postgis=postgis)
    models.engine = build_engine_tables(base)
    for spec in registry.registers.values():
        attrs: dict[str, Any] = {
            "__tablename__": spec.table_name,
            "__register__": spec,
            "id": Column(Integer, primary_key=True),
            "created_at": Column(DateTime, nullable=False, server_default=func.now(), default=datetime.now),
            "updated_at": Column(DateTime, nullable=False, server_default=func.now(), default=datetime.now,
                                 onupdate=datetime.now),
            "created_by_id": Column(Integer, nullable=True),
            "updated_by_id": Column(Integer, nullable=True),
            # the organisation of the account that created the row ("edits only its own organisation's")
            "organisation_id": Column(Integer, nullable=True, index=True),
        }
        # every UPDATE says WHERE version = <the version read> and raises StaleDataError when another save came
        # first; the edit form and the API's If-Match carry the version the user saw (two editors, one row)
        version = Column("version", Integer, nullable=False, server_default="1", default=1)
        attrs["version"] = version
        attrs["__mapper_args__"] = {"version_id_col": version}
        if spec.parent:
            attrs["parent_id"] = Column(Integer, ForeignKey(f"reg_{spec.parent}.id", ondelete="CASCADE"),
                                        nullable=False)
        attrs.update(_columns(spec))
        for f in spec.fields:
            if f.type == "geo":
                attrs[f.name] = _geo_property(f.name)
        table_args: list[Any] = [Index(name, *cols, unique=unique) for name, cols, unique in derived_indexes(spec)]
        derived = {arg.name for arg in table_args}
        table_args += [index for index in declared_indexes(spec) if index.name not in derived]
        if dialect == "postgresql":
            table_args += search_indexes(spec)
        if postgis and spec.map_point:
            # generated by the database, never written or read by the ORM: in the table, not on the class
            table_args.append(geog_column(spec.map_point))
            attrs["__mapper_args__"] = {**attrs["__mapper_args__"],
                                        "exclude_properties": [geog_column_name(spec.map_point)]}
            table_args.append(geog_index(spec.table_name, spec.map_point))
        for rule in spec.unique:
            cols = [c for name in rule.fields for c in column_names(spec.field(name))]
            # a unique index rather than a constraint: SQLite can add one to an existing table
            table_args.append(Index(short_name(f"uq_{spec.table_name}_{'_'.join(cols)}"), *cols, unique=True))
        attrs["__table_args__"] = tuple(table_args)
        attrs["__repr__"] = _repr
        attrs["__str__"] = _title(spec)
        models.classes[spec.name] = type(_class_name(spec.name), (base,), attrs)

    for spec in registry.registers.values():
        cls = models.classes[spec.name]
        for f in spec.fields:
            if f.type == "reference":
                target = models.classes[f.target]
                # a register referring to itself (organisation → parent organisation) is many-to-one too
                remote = {"remote_side": [target.id]} if target is cls else {}
                setattr(cls, f.name, relationship(target, foreign_keys=[getattr(cls, f"{f.name}_id")],
                                                  lazy="select", **remote))
            elif f.type == "children":
                child = models.classes[f.target]
                # child.parent: the row a new child belongs to, known before the flush gives it a parent_id
                setattr(cls, f.name, relationship(child, cascade="all, delete-orphan", order_by=child.id,
                                                  passive_deletes=True, lazy="select",
                                                  backref=backref("parent", lazy="select")))
    return models


def _geo_property(name: str) -> property:
    """``row.<geo field>`` as a (lat, lng) pair, None when either is missing."""

    def get(self: Any) -> tuple | None:
        lat, lng = getattr(self, f"{name}_lat"), getattr(self, f"{name}_lng")
        return None if lat is None or lng is None else (lat, lng)

    return property(get)


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _repr(self: Any) -> str:
    return f"<{type(self).__name__} {self.id}>"


def _title(spec: RegisterSpec):
    title = spec.title_field

    def __str__(self: Any) -> str:
        value = getattr(self, title, None)
        return str(value) if value not in (None, "") else f"#{self.id}"

    return __str__
