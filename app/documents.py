"""Documents (文书) made from rows as PDF with xhtml2pdf.

A document is a Jinja template in metadata/documents/ (or, the older form, an inline body with {field}
placeholders), filled in a sandbox from the row and its related rows (referenced rows, child rows) with only the
fields the reader may see. A numbered document gets its number (文号) once per row, from a counter per sequence and
year kept in sys_document_counter. Chinese is set in a CJK TrueType font installed from Debian (fonts-wqy-microhei),
embedded in the PDF; without it, in the STSong-Light CID font that PDF readers provide (logged)."""
from __future__ import annotations

import io
import logging
import re
import string
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from jinja2 import FileSystemLoader, TemplateError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape
from sqlalchemy import select

from app.metadata.issues import did_you_mean
from app.metadata.spec import DocumentSpec, RegisterSpec
from app.query.formatting import plain_value

log = logging.getLogger(__name__)

#: CJK fonts looked for, in order: (file, subfont index in a .ttc collection)
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # Debian fonts-wqy-microhei (scripts/setup)
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian fonts-wqy-zenhei
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Debian fonts-noto-cjk (2 = SC)
)
FALLBACK_FONT = "STSong-Light"

PAGE = """<html><head><meta charset="utf-8"><style>
@page {{ size: a4; margin: 2.2cm 2cm; }}
body {{ font-family: {font}; font-size: 13pt; line-height: 1.6; }}
h1 {{ font-size: 20pt; text-align: center; margin-bottom: 6pt; }}
p, td, th, div {{ -pdf-word-wrap: CJK; }}
p {{ margin: 0 0 8pt 0; }}
.number {{ text-align: right; margin-bottom: 12pt; }}
.sign {{ text-align: right; margin-top: 30pt; }}
.seal {{ text-align: right; color: #999999; }}
table {{ width: 100%; }}
td, th {{ border: 0.5pt solid #333; padding: 3pt; vertical-align: top; }}
</style></head><body><pdf:language name="zh_CN"/>{body}</body></html>"""


@lru_cache(maxsize=1)
def document_font(configured: str | None = None) -> str:
    """The font family the documents are set in: a CJK TrueType font registered (and so embedded) once per
    process, or the STSong-Light CID font when none is installed."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from xhtml2pdf.default import DEFAULT_FONT

    candidates = ([(configured, 0)] if configured else []) + list(FONT_CANDIDATES)
    for path, index in candidates:
        if not Path(path).is_file():
            continue
        try:
            # registered with reportlab directly: xhtml2pdf's own @font-face loading refuses files outside its base
            # folder, and cannot pick a subfont of a .ttc other than the first
            pdfmetrics.registerFont(TTFont("DocumentCJK", path, subfontIndex=index))
        except Exception as exc:  # an unreadable or non-TrueType file: try the next one
            log.warning("documents: the font %s could not be used (%s)", path, exc)
            continue
        DEFAULT_FONT["documentcjk"] = "DocumentCJK"
        log.info("documents: Chinese set in %s", path)
        return "DocumentCJK"
    log.warning("documents: no CJK TrueType font found (%s); falling back to the STSong-Light CID font, which is not "
                "embedded (install fonts-wqy-microhei: apt-get install fonts-wqy-microhei)",
                ", ".join(p for p, _ in candidates))
    return FALLBACK_FONT


# ---------------------------------------------------------------- what a template sees

def chinese_date(value: Any) -> str:
    """2026-03-05 (or a date) → 2026年3月5日; anything else unchanged."""
    if isinstance(value, (date, datetime)):
        return f"{value.year}年{value.month}月{value.day}日"
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", str(value))
    return f"{match[1]}年{int(match[2])}月{int(match[3])}日" if match else str(value)


@dataclass
class Reading:
    """What the reader may see: labels of dictionaries, and the hidden fields of each register for this user."""

    registry: Any
    dictionaries: Any
    hidden_of: Callable[[RegisterSpec], frozenset[str]]
    _hidden: dict[str, frozenset[str]] = field(default_factory=dict)

    def hidden(self, spec: RegisterSpec) -> frozenset[str]:
        if spec.name not in self._hidden:
            self._hidden[spec.name] = frozenset(self.hidden_of(spec))
        return self._hidden[spec.name]


class RowView:
    """A row as a template reads it: ``row.<field>`` is the text people read (labels, not codes); a reference is the
    referenced row (``row.enterprise.name``), children a list of rows (``{% for item in row.items %}``). A field the
    reader may not see reads as ''; nothing else of the row (methods, the session) is reachable."""

    __slots__ = ("_spec", "_row", "_reading")

    def __init__(self, spec: RegisterSpec, row: Any, reading: Reading):
        self._spec, self._row, self._reading = spec, row, reading

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "id":
            return self._row.id
        field_ = self._spec.field_map.get(name)
        if field_ is None:
            raise AttributeError(name)
        if name in self._reading.hidden(self._spec):
            return ""  # a field the reader may not see stays out of the document too
        registry = self._reading.registry
        if field_.type == "reference":
            target = getattr(self._row, name)
            return RowView(registry.register(field_.target), target, self._reading) if target is not None else ""
        if field_.type == "children":
            child_spec = registry.register(field_.target)
            return [RowView(child_spec, child, self._reading) for child in getattr(self._row, name) or []]
        return plain_value(field_, self._row, self._reading.dictionaries, "zh_Hans")

    __getitem__ = __getattr__

    def __str__(self) -> str:
        return str(self._row)

    def __html__(self) -> str:
        return str(escape(str(self._row)))


@lru_cache(maxsize=8)
def environment(folders: tuple[Path, ...]) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(loader=FileSystemLoader([str(f) for f in folders]), autoescape=True,
                                        trim_blocks=True, lstrip_blocks=True)
    env.filters["cn_date"] = chinese_date
    return env


@dataclass
class Made:
    """What a document is filled with beside the row."""

    number: str = ""
    issuer: str = ""
    today: date | None = None


class DocumentFailed(Exception):
    """The template could not be filled or xhtml2pdf could not lay the document out."""


class _Values(dict):
    """The older inline form: placeholder → the field's text, HTML-escaped (hidden fields '')."""

    def __init__(self, view: RowView, made: Made, escape_html: bool):
        super().__init__()
        self.view, self.made, self.escape_html = view, made, escape_html

    def __missing__(self, name: str) -> str:
        if name == "today":
            text = chinese_date(self.made.today or date.today())
        elif name == "number":
            text = self.made.number
        else:
            value = getattr(self.view, name, "")
            text = str(value) if not isinstance(value, list) else str(len(value))
        return str(escape(text)) if self.escape_html else text


def _fill(template: str, values: _Values) -> str:
    return string.Formatter().vformat(template, (), values)


def file_name(spec: RegisterSpec, doc: DocumentSpec, row: Any, reading: Reading, made: Made | None = None) -> str:
    name = _fill(doc.file_name, _Values(RowView(spec, row, reading), made or Made(), escape_html=False))
    return re.sub(r'[\\/:*?"<>|\r\n]+', "_", name).strip() or f"{doc.name}-{row.id}"


def body_html(spec: RegisterSpec, doc: DocumentSpec, row: Any, reading: Reading, made: Made) -> str:
    view = RowView(spec, row, reading)
    if doc.template is None:
        return _fill(doc.body or "", _Values(view, made, escape_html=True))
    env = environment(tuple(reading.registry.document_folders))
    context: dict[str, Any] = {name: getattr(view, name) for name in spec.field_map}
    context.update(row=view, number=made.number, issuer=made.issuer, document=doc.label.zh,
                   today=chinese_date(made.today or date.today()), year=(made.today or date.today()).year)
    try:
        return env.get_template(doc.template).render(context)
    except TemplateError as exc:
        raise DocumentFailed(f"document {doc.name} of {spec.name} #{row.id}: {exc}") from exc


def render_pdf(spec: RegisterSpec, doc: DocumentSpec, row: Any, reading: Reading, made: Made | None = None,
               font: str | None = None) -> bytes:
    made = made or Made()
    if font is None:
        from flask import current_app, has_app_context
        font = document_font(current_app.config.get("DOCUMENT_FONT") if has_app_context() else None)
    html = PAGE.format(body=body_html(spec, doc, row, reading, made), font=font)
    out = io.BytesIO()
    from xhtml2pdf import pisa  # on first use: 0.3 s of every start
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise DocumentFailed(f"document {doc.name} of {spec.name} #{row.id} could not be made")
    return out.getvalue()


def zip_of(spec: RegisterSpec, doc: DocumentSpec, rows: Iterable[Any], reading: Reading,
           made_for: Callable[[Any], Made], target: Any, progress: Callable[[int], None] | None = None) -> int:
    """One PDF per row written to ``target`` (a path or a file) as a zip (names made unique with the row id when two
    rows share one); returns the count."""
    seen: set[str] = set()
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            made = made_for(row)
            name = file_name(spec, doc, row, reading, made)
            if name in seen:
                name = f"{name}-{row.id}"
            seen.add(name)
            archive.writestr(f"{name}.pdf", render_pdf(spec, doc, row, reading, made))
            count += 1
            if progress is not None:
                progress(count)
    return count


# ---------------------------------------------------------------- numbers (文号)

def record_of(session: Any, tables: dict[str, type], register: str, row_id: int, document: str) -> Any:
    model = tables["DocumentRecord"]
    return session.scalars(select(model).where(model.register == register, model.row_id == row_id,
                                               model.document == document)).first()


def assign_number(engine: Any, tables: dict[str, type], spec: RegisterSpec, doc: DocumentSpec, row_id: int,
                  organisation_id: int | None, user_id: int | None, on: date) -> str:
    """The row's number for this document: the one given before, or the next of its sequence (gap-free).

    Runs in a transaction of its own: the counter row is taken with INSERT … ON CONFLICT DO UPDATE … RETURNING,
    which holds its row lock until commit, so concurrent requests are numbered one after the other; a request that
    finds, once it holds the lock, that a concurrent one numbered the same row rolls its increment back."""
    assert doc.number is not None
    record = tables["DocumentRecord"].__table__
    counter = tables["DocumentCounter"].__table__
    where = (record.c.register == spec.name, record.c.row_id == row_id, record.c.document == doc.name)
    with engine.connect() as conn:
        found = conn.execute(select(record.c.number).where(*where)).scalar()
    if found:
        return found
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    org = (organisation_id or 0) if doc.number.per == "organisation" else 0
    conn = engine.connect()
    try:
        with conn.begin() as transaction:
            take = insert(counter).values(sequence=doc.number.sequence, organisation_id=org, year=on.year, last=1)
            take = take.on_conflict_do_update(index_elements=[counter.c.sequence, counter.c.organisation_id,
                                                              counter.c.year],
                                              set_={"last": counter.c.last + 1}).returning(counter.c.last)
            n = conn.execute(take).scalar_one()
            existing = conn.execute(select(record.c.id, record.c.number).where(*where)).first()
            if existing is not None and existing.number:
                transaction.rollback()  # numbered meanwhile by a concurrent request: the increment is undone
                return existing.number
            number = doc.number.format.format(year=on.year, n=n)
            values = dict(sequence=doc.number.sequence, organisation_id=org, year=on.year, n=n, number=number,
                          numbered_at=datetime.now(), numbered_by=user_id)
            if existing is not None:  # a scan was uploaded before the document was ever made
                conn.execute(record.update().where(record.c.id == existing.id).values(**values))
            else:
                conn.execute(record.insert().values(register=spec.name, row_id=row_id, document=doc.name, **values))
    finally:
        conn.close()
    return number


# ---------------------------------------------------------------- metadata check

BUILTINS = frozenset({"row", "number", "issuer", "document", "today", "year", "loop", "range", "super"})


def template_issues(source: str, spec: RegisterSpec, registry: Any) -> list[tuple[int, str, str]]:
    """Unknown field names a template names statically (row.x, row.ref.x, x, item.x of a for over children);
    returns (line, message, hint). ``registry`` maps register names to specs."""
    env = environment(())
    ast = env.parse(source)
    problems: list[tuple[int, str, str]] = []
    bound: dict[str, RegisterSpec | None] = {"row": spec}

    def resolve(node: Any) -> RegisterSpec | None:
        """The register a chain like row.enterprise or item reads from (None when not statically known)."""
        if isinstance(node, nodes.Name):
            return bound.get(node.name)
        if isinstance(node, nodes.Getattr):
            owner = resolve(node.node)
            if owner is None:
                return None
            f = owner.field_map.get(node.attr)
            if f is None:
                return None
            if f.type in ("reference", "children"):
                return registry.get(f.target)
        return None

    def visit(node: Any) -> None:
        if isinstance(node, nodes.For):
            visit(node.iter)
            owner = None
            if isinstance(node.iter, nodes.Getattr):
                parent = resolve(node.iter.node)
                f = parent.field_map.get(node.iter.attr) if parent is not None else None
                owner = registry.get(f.target) if f is not None and f.type == "children" else None
            saved = dict(bound)
            for target in node.target.find_all(nodes.Name) if not isinstance(node.target, nodes.Name) else [
                    node.target]:
                bound[target.name] = owner if isinstance(node.target, nodes.Name) else None
            for child in [*node.body, *node.else_]:
                visit(child)
            if node.test is not None:
                visit(node.test)
            bound.clear()
            bound.update(saved)
            return
        if isinstance(node, nodes.Assign) or isinstance(node, nodes.AssignBlock):
            for target in node.target.find_all(nodes.Name) if not isinstance(node.target, nodes.Name) else [
                    node.target]:
                bound[target.name] = None
        if isinstance(node, nodes.Getattr):
            owner = resolve(node.node)
            if owner is not None and node.attr != "id" and node.attr not in owner.field_map:
                problems.append((node.lineno, f"'{node.attr}' is not a field of register '{owner.name}'",
                                 did_you_mean(node.attr, list(owner.field_map))))
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in bound \
                and node.name not in BUILTINS and node.name not in spec.field_map:
            problems.append((node.lineno, f"'{node.name}' is not a field of register '{spec.name}'",
                             did_you_mean(node.name, list(spec.field_map) + sorted(BUILTINS))))
        for child in node.iter_child_nodes():
            visit(child)

    visit(ast)
    return problems
