"""A register's list query from the request: quick search, filters, sort, page; counts capped, pages by key."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from flask import current_app
from sqlalchemy import Boolean, Select, and_, func, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from app.dictionaries import DictionaryService
from app.i18n import label_text
from app.metadata.checks import SORTABLE_SYSTEM, default_filter_op
from app.metadata.registry import Registry
from app.metadata.spec import FieldBase, Label, RegisterSpec
from app.security.actor import current_actor
from app.services import services

PAGE_SIZES = (10, 20, 50, 100)


@dataclass(frozen=True)
class ListFilter:
    """A filter a register's list offers: on one of its fields, or on a field of the register one of its references
    points to (``enterprise.region``: the rows whose enterprise is in that region)."""

    name: str                            # the URL's f.<name>: 'region' or 'enterprise.region'
    field: FieldBase                     # the field matched (the referenced register's, through a reference)
    op: str
    reference: FieldBase | None = None   # the reference followed
    label: Label | None = None           # the YAML's own label for the filter


def list_filters(spec: RegisterSpec, registry: Registry | None = None) -> list[ListFilter]:
    """The filters of ``spec``'s list in YAML order (``registry`` resolves references; default: the app's)."""
    result = []
    for ref in spec.filters:
        first, _, rest = ref.field.partition(".")
        reference = None
        f = spec.field(first)
        if rest:
            if registry is None:
                registry = services().registry
            reference, f = f, registry.register(f.target).field(rest)
        result.append(ListFilter(ref.field, f, ref.op or default_filter_op(f.type), reference, ref.label))
    return result


def filter_label(flt: ListFilter) -> str:
    """The filter panel's label: the YAML's, else the field's, after the reference's for a field reached through
    one (企业名称·属地)."""
    if flt.label is not None:
        return label_text(flt.label)
    text = label_text(flt.field.label)
    return f"{label_text(flt.reference.label)}·{text}" if flt.reference is not None else text


def hidden_on(register: str) -> frozenset[str]:
    """The fields of ``register`` the acting user may not read (all of them when it may not view the register; none
    for the system: command line, migrations)."""
    actor = current_actor()
    if actor is None:
        return frozenset()
    policy = current_app.extensions["safety_policy"]
    return policy.hidden_fields(current_app.extensions["safety"].registry.register(register), actor)


@dataclass
class ActiveFilter:
    """One filter the user set, as shown back on the page."""

    field: FieldBase
    op: str
    value: Any = None
    low: Any = None
    high: Any = None
    error: str = ""
    #: the filter's f.<name> ('enterprise.region' through a reference; default: the field's name)
    name: str = ""
    #: the reference followed to ``field``'s register
    reference: FieldBase | None = None

    def __post_init__(self) -> None:
        self.name = self.name or self.field.name


@dataclass
class ListRequest:
    search: str = ""
    filters: dict[str, ActiveFilter] = field(default_factory=dict)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    page: int = 1
    size: int = 20
    ids: list[int] = field(default_factory=list)  # explicit selection (export of checked rows)
    hidden: frozenset[str] = frozenset()
    #: f.<name> arguments of filters the actor may not use (a field hidden from it, here or through a reference):
    #: ignored, and said so
    refused: list[str] = field(default_factory=list)

    def query_args(self, **override: Any) -> dict[str, Any]:
        """The URL parameters that reproduce this request (with some overridden)."""
        args: dict[str, Any] = {}
        if self.search:
            args["q"] = self.search
        for name, flt in self.filters.items():
            if flt.op == "range":
                if flt.low not in (None, ""):
                    args[f"f.{name}.from"] = _arg(flt.low)
                if flt.high not in (None, ""):
                    args[f"f.{name}.to"] = _arg(flt.high)
            elif flt.value not in (None, "", []):
                args[f"f.{name}"] = [_arg(v) for v in flt.value] if isinstance(flt.value, list) else _arg(flt.value)
        if self.sort:
            args["sort"] = ",".join(("-" if desc else "") + col for col, desc in self.sort)
        args["size"] = self.size
        args.update({k: v for k, v in override.items()})
        return {k: v for k, v in args.items() if v is not None}


def _arg(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


@dataclass
class Page:
    rows: list[Any]
    total: int | None       # exact count when known
    capped: bool            # True when there are more than ``total`` rows (count stopped at the cap)
    estimated: bool         # True when ``total`` is the planner's estimate
    page: int
    size: int
    has_next: bool
    deferred: bool = False  # True when counting took longer than the page may wait: the count comes separately

    @property
    def last_page(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.size))


def filter_op(spec: RegisterSpec, name: str) -> str:
    return next(flt.op for flt in list_filters(spec) if flt.name == name)


def _parse_scalar(f: FieldBase, raw: str) -> Any:
    raw = raw.strip()
    if raw == "":
        return None
    match f.type:
        case "integer":
            return int(raw)
        case "decimal":
            return Decimal(raw)
        case "date":
            return date.fromisoformat(raw)
        case "datetime":
            return datetime.fromisoformat(raw)
        case "boolean":
            return raw.lower() in ("1", "true", "y", "yes", "on")
        case "reference":
            return int(raw)
    return raw


def usable_filters(spec: RegisterSpec, hidden: frozenset[str],
                   hidden_of: Callable[[str], frozenset[str]] = hidden_on) -> tuple[list[ListFilter], list[ListFilter]]:
    """(usable, refused) filters for an actor: a filter on a field hidden from it, or reached through a reference
    field hidden from it, or on a field of the referenced register hidden from it there (``hidden_of(register)``)
    would let it test values it may not read."""
    usable, refused = [], []
    targets: dict[str, frozenset[str]] = {}
    for flt in list_filters(spec):
        if flt.reference is None:
            blocked = flt.field.name in hidden
        else:
            target = flt.reference.target
            if target not in targets:
                targets[target] = hidden_of(target)
            blocked = flt.reference.name in hidden or flt.field.name in targets[target]
        (refused if blocked else usable).append(flt)
    return usable, refused


def _given(args: Mapping[str, Any], flt: ListFilter) -> bool:
    keys = (f"f.{flt.name}.from", f"f.{flt.name}.to") if flt.op == "range" else (f"f.{flt.name}",)
    return any(str(args.get(key, "")).strip() for key in keys)


def parse_list_args(spec: RegisterSpec, args: Mapping[str, Any], default_size: int | None = None,
                    hidden: frozenset[str] = frozenset(),
                    hidden_of: Callable[[str], frozenset[str]] = hidden_on) -> ListRequest:
    """Read q, f.<filter>[.from|.to], sort, page, size; bad values become a message on the filter, not a 500.
    Fields hidden from the actor can be neither filtered nor sorted on (that would reveal their values); neither can
    a field of a referenced register hidden from it there (``hidden_of``: the acting user's, by default)."""
    req = ListRequest(search=str(args.get("q", "")).strip()[:100], hidden=hidden)
    usable, refused = usable_filters(spec, hidden, hidden_of)
    req.refused = [flt.name for flt in refused if _given(args, flt)]
    for lf in usable:
        f, op, key = lf.field, lf.op, f"f.{lf.name}"
        flt = ActiveFilter(f, op, name=lf.name, reference=lf.reference)
        try:
            if op == "range":
                flt.low = _parse_scalar(f, str(args.get(f"{key}.from", "")))
                flt.high = _parse_scalar(f, str(args.get(f"{key}.to", "")))
                if flt.low is None and flt.high is None:
                    continue
            elif op == "in":
                values = args.getlist(key) if hasattr(args, "getlist") else args.get(key, [])
                flt.value = [v for v in values if v]
                if not flt.value:
                    continue
            else:
                flt.value = _parse_scalar(f, str(args.get(key, "")))
                if flt.value is None:
                    continue
        except (ValueError, InvalidOperation):
            flt.error = "invalid"
        req.filters[lf.name] = flt
    req.sort = [(name, desc) for name, desc in parse_sort(spec, str(args.get("sort", ""))) if name not in hidden] \
        or [("id", True)]
    try:
        req.page = max(1, min(int(args.get("page", 1)), 1_000_000))
    except ValueError:
        req.page = 1
    try:
        size = int(args.get("size", default_size or spec.list_.page_size))
    except ValueError:
        size = spec.list_.page_size
    req.size = size if 5 <= size <= 500 else spec.list_.page_size
    ids = args.getlist("ids") if hasattr(args, "getlist") else args.get("ids", [])
    req.ids = [int(i) for i in ids if str(i).isdigit()]
    return req


def sortable_columns(spec: RegisterSpec) -> set[str]:
    return {f.name for f in spec.stored_fields if f.sortable and f.type != "geo"} | set(SORTABLE_SYSTEM)


def parse_sort(spec: RegisterSpec, raw: str) -> list[tuple[str, bool]]:
    allowed = sortable_columns(spec)
    keys = [k.strip() for k in raw.split(",") if k.strip()] or list(spec.list_.sort)
    result = [(k.lstrip("-"), k.startswith("-")) for k in keys if k.lstrip("-") in allowed]
    return result or [(k.lstrip("-"), k.startswith("-")) for k in spec.list_.sort]


def _sort_column(spec: RegisterSpec, model: type, name: str) -> Any:
    if name in spec.field_map and spec.field(name).type == "reference":
        return getattr(model, f"{name}_id")
    return getattr(model, name)


def where_clauses(spec: RegisterSpec, model: type, req: ListRequest, dictionaries: DictionaryService,
                  item_class: type) -> list[Any]:
    """The WHERE conditions for the search and filters of ``req`` (row scope is added by the session)."""
    clauses: list[Any] = []
    searched = [name for name in spec.search if name not in req.hidden]
    if req.search and searched:
        matches = [contains(getattr(model, name), req.search) for name in searched]
        if spec.documents:
            # a regulator holding a paper 文书 finds its row by the number printed on it
            record = services().models.engine["DocumentRecord"]
            matches.append(OneOf(model.id, select(record.row_id).where(record.register == spec.name,
                                                                       contains(record.number, req.search))))
        clauses.append(or_(*matches))
    for flt in req.filters.values():
        if flt.error:
            continue
        if flt.reference is None:
            clauses += filter_conditions(model, flt, dictionaries, item_class)
            continue
        # through a reference: the rows whose referenced row matches, as a sub-select on the referenced register's
        # ORM entity, so that the session's row scope applies inside it too (no filter on rows the actor cannot see)
        target = services().models[flt.reference.target]
        matched = select(target.id).where(*filter_conditions(target, flt, dictionaries, item_class)).correlate(None)
        clauses.append(getattr(model, f"{flt.reference.name}_id").in_(matched))
    if req.ids:
        clauses.append(model.id.in_(req.ids))
    return clauses


def filter_conditions(model: type, flt: ActiveFilter, dictionaries: DictionaryService, item_class: type) -> list[Any]:
    """The conditions of one filter on ``model``, the register that holds the filter's field."""
    f = flt.field
    column = getattr(model, f"{f.name}_id") if f.type == "reference" else getattr(model, f.name)
    match flt.op:
        case "contains":
            return [contains(column, str(flt.value))]
        case "equal":
            return [column == flt.value]
        case "in":
            return [column.in_(flt.value)]
        case "subtree":
            node = dictionaries.node(f.dictionary, flt.value)
            if node is None:
                return [column == flt.value]
            if not node.children:
                return [column == node.code]
            return [subtree_condition(column, dictionaries, item_class, f.dictionary, node.code)]
        case "range":
            clauses = []
            if flt.low is not None:
                clauses.append(column >= flt.low)
            if flt.high is not None:
                high = flt.high
                if f.type == "datetime" and isinstance(high, datetime) and high.time() == datetime.min.time():
                    high = high.replace(hour=23, minute=59, second=59)
                clauses.append(column <= high)
            return clauses
    return []


#: up to this many codes a subtree is written as a constant list (the planner then combines the column's index
#: with the other filters); beyond it, as an indexed sub-select on the materialised path
SUBTREE_LIST_LIMIT = 1000


def subtree_condition(column: Any, dictionaries: DictionaryService, item_class: type, dictionary: str,
                      code: str) -> Any:
    """``column`` holds ``code`` or one of its descendants."""
    codes = dictionaries.subtree_codes(dictionary, code)
    if len(codes) <= SUBTREE_LIST_LIMIT:
        return column.in_(codes) if len(codes) > 1 else column == code
    return column.in_(subtree_select(item_class, dictionary, dictionaries.path_of(dictionary, code)))


def subtree_select(item_class: type, dictionary: str, path: str) -> Select:
    """Codes of the item at ``path`` ('/32/3204/') and all its descendants: one indexed prefix scan."""
    return select(item_class.code).where(item_class.dictionary == dictionary,
                                         item_class.path.like(_escape_like(path) + "%", escape="\\"))


def contains(column: Any, text: str) -> Any:
    """``column`` contains ``text``: case-insensitive for Latin letters, a plain LIKE otherwise (Chinese has no
    case, and LIKE is several times cheaper than ILIKE on a scan)."""
    pattern = f"%{_escape_like(text)}%"
    if any(c.isascii() and c.isalpha() for c in text):
        return column.ilike(pattern, escape="\\")
    return column.like(pattern, escape="\\")


class OneOf(ColumnElement[bool]):
    """``column`` is one of the values ``query`` selects.

    On PostgreSQL ``column = ANY(ARRAY(query))``: the sub-select runs once, first, and its values are an index
    condition on ``column`` that a bitmap scan ORs with the other conditions' indexes. Written as
    ``column IN (query)``, an OR with it becomes a hashed subplan the planner rates at half the table, so a quick
    search ORing names (trigram indexes) with document numbers read all 10,000,000 enterprises twice (6.8 s).
    Elsewhere ``column IN (query)``."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("query", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Any, query: Select) -> None:
        self.column, self.query = column, query

    def self_group(self, against: Any = None) -> OneOf:
        return self  # already a truth value: no "= 1" on dialects without a boolean type


@compiles(OneOf)
def _one_of(element: OneOf, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.in_(element.query), **kw))


@compiles(OneOf, "postgresql")
def _one_of_postgresql(element: OneOf, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY({compiler.process(element.query.scalar_subquery(), **kw)}))"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ordered(spec: RegisterSpec, model: type, stmt: Select, sort: list[tuple[str, bool]]) -> Select:
    order = []
    for name, desc in sort:
        column = _sort_column(spec, model, name)
        order.append(column.desc() if desc else column.asc())
    if not any(name == "id" for name, _ in sort):
        last_desc = sort[-1][1] if sort else True
        order.append(model.id.desc() if last_desc else model.id.asc())
    return stmt.order_by(*order)


def count_rows(session: Session, model: type, clauses: list[Any], cap: int) -> tuple[int, bool, bool]:
    """(count, capped, estimated): exact up to ``cap``; beyond it the planner's estimate when unfiltered."""
    inner = select(model.id).where(*clauses).limit(cap + 1).subquery()
    counted = session.execute(select(func.count()).select_from(inner)).scalar_one()
    if counted <= cap:
        return counted, False, False
    if not clauses and session.get_bind().dialect.name == "postgresql":
        estimate = session.execute(text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
                                   {"t": model.__table__.name}).scalar()
        if estimate and estimate > cap:
            return int(estimate), False, True
    return cap, True, False


#: a quick search counts at most this far: "1,000+" is as useful as an exact figure and 30× cheaper on a scan
SEARCH_COUNT_CAP = 1000
#: below this many matching rows, a filtered page is chosen among the matches (filter, then sort) rather than by
#: walking the sort column's index and filtering (which the planner picks when it underestimates the matches)
SMALL_MATCH = 20_000


def load_page(session: Session, spec: RegisterSpec, model: type, req: ListRequest,
              dictionaries: DictionaryService, item_class: type, cap: int, budget_ms: int | None = None) -> Page:
    """One page of the list and its count (capped). With ``budget_ms`` (PostgreSQL), the count may take that long
    and no longer: past it the page comes without its count (``deferred``), which ``count_page`` gives separately;
    0 never counts with the page."""
    clauses, cap = _clauses_and_cap(spec, model, req, dictionaries, item_class, cap)
    if budget_ms is not None and session.get_bind().dialect.name != "postgresql":
        budget_ms = None  # only PostgreSQL can stop a statement at a deadline; the embedded database is small
    window = ((req.page - 1) * req.size, req.size + 1)
    ids: list[int] | None = None
    total: int | None = None
    capped = estimated = deferred = False
    if clauses and not req.search and cap <= SMALL_MATCH:
        # a filtered page is chosen among the matches (filter, then sort), counted in the same statement: one pass
        # over the matches instead of one to count them and one to order them
        found = within_budget(session, budget_ms, lambda: _page_of_matches(session, spec, model, clauses, req, cap))
        if found is None:
            deferred = True
        else:
            ids, total, capped = found
        if ids is None:  # more matches than that (or no time to find them): the sort column's index, walked
            ids = _walked_page(session, spec, model, clauses, req, cap, window, budget_ms, few_possible=deferred)
    else:
        counted = within_budget(session, budget_ms, lambda: count_rows(session, model, clauses, cap))
        if counted is None:
            deferred = True
            ids = _walked_page(session, spec, model, clauses, req, cap, window, budget_ms)
        else:
            total, capped, estimated = counted
            # ids first (an index-only walk even at page 5000), then the rows themselves
            if clauses and not capped and not estimated and total <= SMALL_MATCH:
                id_stmt = _ordered_cte(spec, _matches(session, spec, model, clauses, req), req.sort)
            else:
                id_stmt = ordered(spec, model, select(model.id).where(*clauses), req.sort)
            ids = list(session.scalars(id_stmt.offset(window[0]).limit(window[1])))
    has_next = len(ids) > req.size
    ids = ids[: req.size]
    rows: list[Any] = []
    if ids:
        options = [selectinload(getattr(model, f.name)) for f in spec.fields
                   if f.type == "reference" and f.name in spec.list_columns]
        loaded = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)).options(*options))}
        rows = [loaded[i] for i in ids if i in loaded]
    return Page(rows, total, capped, estimated, req.page, req.size, has_next, deferred)


def count_page(session: Session, spec: RegisterSpec, model: type, req: ListRequest,
               dictionaries: DictionaryService, item_class: type, cap: int) -> Page:
    """The count of a list whose page came without it (no rows): what ``load_page`` would have shown."""
    clauses, cap = _clauses_and_cap(spec, model, req, dictionaries, item_class, cap)
    total, capped, estimated = count_rows(session, model, clauses, cap)
    return Page([], total, capped, estimated, req.page, req.size, capped or estimated or total > req.page * req.size)


#: when the count ran out of time, the sort column's index is walked for the page, for at most this long: a walk
#: that filters out nearly every row it reads (few matches spread thinly) gives way to choosing among the matches
#: (at most SMALL_MATCH of them; with more, the walk is run to its end)
WALK_BUDGET_MS = 500


def _clauses_and_cap(spec: RegisterSpec, model: type, req: ListRequest, dictionaries: DictionaryService,
                     item_class: type, cap: int) -> tuple[list[Any], int]:
    """The list's WHERE clauses and how far its count goes (a quick search: SEARCH_COUNT_CAP at most)."""
    clauses = where_clauses(spec, model, req, dictionaries, item_class)
    return clauses, min(cap, SEARCH_COUNT_CAP) if req.search else cap


def _walked_page(session: Session, spec: RegisterSpec, model: type, clauses: list[Any], req: ListRequest,
                 cap: int, window: tuple[int, int], budget_ms: int | None, few_possible: bool = True) -> list[int]:
    """The page's ids (and the next row's) by walking the sort column's index and filtering. ``few_possible``:
    False when the matches are already known to be more than SMALL_MATCH (no second try among them)."""
    walk = ordered(spec, model, select(model.id).where(*clauses), req.sort).offset(window[0]).limit(window[1])
    if budget_ms is None:
        return list(session.scalars(walk))
    ids = within_budget(session, WALK_BUDGET_MS, lambda: list(session.scalars(walk)))
    if ids is not None or not few_possible:
        return ids if ids is not None else list(session.scalars(walk))
    # among the matches when there are at most SMALL_MATCH of them; more, and the walk is the way after all
    chosen, _count, _capped = _page_of_matches(session, spec, model, clauses, req, cap)
    return chosen if chosen is not None else list(session.scalars(walk))


def within_budget(session: Session, budget_ms: int | None, work: Callable[[], Any]) -> Any:
    """``work()``, its statements stopped by PostgreSQL after ``budget_ms`` each; None when one was (nothing it
    did is kept: it ran in a savepoint). No budget: ``work()`` as it is. A budget of 0: None at once."""
    if budget_ms is None:
        return work()
    if budget_ms <= 0:
        return None
    try:
        with session.begin_nested():
            previous = session.execute(text("SELECT current_setting('statement_timeout'), "
                                            "set_config('statement_timeout', :ms, true)"),
                                       {"ms": f"{budget_ms}ms"}).first()[0]
            result = work()
            session.execute(text("SELECT set_config('statement_timeout', :v, true)"), {"v": previous})
        return result
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) == QUERY_CANCELED:
            return None
        raise


#: PostgreSQL's SQLSTATE for a statement stopped by statement_timeout
QUERY_CANCELED = "57014"


def _matches(session: Session, spec: RegisterSpec, model: type, clauses: list[Any], req: ListRequest,
             limit: int | None = None) -> Any:
    """The matching rows' ids and sort values, computed once (MATERIALIZED: never folded into a walk of the sort
    column's index, which the planner picks when it underestimates the matches)."""
    inner = select(model.id, *_sort_columns(spec, model, req.sort)).where(*clauses)
    matches = (inner.limit(limit) if limit is not None else inner).cte("matches")
    if session.get_bind().dialect.name == "postgresql":
        matches = matches.prefix_with("MATERIALIZED")
    return matches


def _page_of_matches(session: Session, spec: RegisterSpec, model: type, clauses: list[Any], req: ListRequest,
                     cap: int) -> tuple[list[int] | None, int, bool]:
    """(ids of the page and the next row, count, capped) from at most SMALL_MATCH + 1 matches, counted and ordered
    in one statement; (None, cap, True) when there are more matches than that (the caller walks the sort index).
    ``cap`` ≤ SMALL_MATCH."""
    matches = _matches(session, spec, model, clauses, req, SMALL_MATCH + 1)
    counted = select(func.count()).select_from(matches).scalar_subquery()
    stmt = _ordered_cte(spec, matches, req.sort).add_columns(counted.label("n"))
    rows = session.execute(stmt.offset((req.page - 1) * req.size).limit(req.size + 1)).all()
    n = rows[0][1] if rows else session.execute(select(func.count()).select_from(
        select(model.id).where(*clauses).limit(SMALL_MATCH + 1).subquery())).scalar_one()
    if n > SMALL_MATCH:
        return None, cap, True
    return [row[0] for row in rows], min(n, cap), n > cap


def _sort_columns(spec: RegisterSpec, model: type, sort: list[tuple[str, bool]]) -> list[Any]:
    names = [name for name, _desc in sort if name != "id"]
    return [_sort_column(spec, model, name).label(f"s_{i}") for i, name in enumerate(names)]


def _ordered_cte(spec: RegisterSpec, matches: Any, sort: list[tuple[str, bool]]) -> Select:
    order = []
    index = 0
    for name, desc in sort:
        if name == "id":
            continue
        column = matches.c[f"s_{index}"]
        order.append(column.desc() if desc else column.asc())
        index += 1
    last_desc = sort[-1][1] if sort else True
    order.append(matches.c.id.desc() if last_desc else matches.c.id.asc())
    return select(matches.c.id).order_by(*order)


def select_matching(spec: RegisterSpec, model: type, req: ListRequest, dictionaries: DictionaryService,
                    item_class: type) -> Select:
    """Every row the list would show (all pages), in the list's order: for exports and bulk actions."""
    clauses = where_clauses(spec, model, req, dictionaries, item_class)
    return ordered(spec, model, select(model).where(and_(*clauses)) if clauses else select(model), req.sort)
