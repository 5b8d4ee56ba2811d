"""Documents (文书) made from rows as PDF (xhtml2pdf, Chinese set in the STSong-Light CID font that PDF readers
provide, so no font file is shipped or fetched): one from a row's page, or a zip for every row of a list."""
from __future__ import annotations

import io
import re
import string
import zipfile
from datetime import date
from typing import Any, Iterable

from markupsafe import escape
from xhtml2pdf import pisa

from app.metadata.spec import DocumentSpec, RegisterSpec
from app.views.formatting import plain_value

PAGE = """<html><head><meta charset="utf-8"><style>
@page {{ size: a4; margin: 2.2cm 2cm; }}
body {{ font-family: STSong-Light; font-size: 13pt; line-height: 1.6; }}
h1 {{ font-size: 20pt; text-align: center; margin-bottom: 18pt; }}
p {{ margin: 0 0 8pt 0; }}
.sign {{ text-align: right; margin-top: 30pt; }}
td, th {{ border: 0.5pt solid #333; padding: 3pt; }}
</style></head><body><pdf:language name="zh_CN"/>{body}</body></html>"""


class _Values(dict):
    """Placeholder → the field's value as people read it (labels, dates), HTML-escaped."""

    def __init__(self, spec: RegisterSpec, row: Any, dictionaries: Any, escape_html: bool,
                 hidden: frozenset[str] = frozenset()):
        super().__init__()
        self.spec, self.row, self.dictionaries, self.escape_html = spec, row, dictionaries, escape_html
        self.hidden = hidden

    def __missing__(self, name: str) -> str:
        if name in self.hidden:
            return ""  # a field the reader may not see stays out of the document too
        text = date.today().strftime("%Y年%m月%d日") if name == "today" else \
            plain_value(self.spec.field(name), self.row, self.dictionaries, "zh_Hans")
        return str(escape(text)) if self.escape_html else text


def _fill(template: str, values: _Values) -> str:
    return string.Formatter().vformat(template, (), values)


def file_name(spec: RegisterSpec, doc: DocumentSpec, row: Any, dictionaries: Any,
              hidden: frozenset[str] = frozenset()) -> str:
    name = _fill(doc.file_name, _Values(spec, row, dictionaries, escape_html=False, hidden=hidden))
    return re.sub(r'[\\/:*?"<>|\r\n]+', "_", name).strip() or f"{doc.name}-{row.id}"


class DocumentFailed(Exception):
    """xhtml2pdf could not lay the document out (a body it cannot render)."""


def render_pdf(spec: RegisterSpec, doc: DocumentSpec, row: Any, dictionaries: Any,
               hidden: frozenset[str] = frozenset()) -> bytes:
    html = PAGE.format(body=_fill(doc.body, _Values(spec, row, dictionaries, escape_html=True, hidden=hidden)))
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise DocumentFailed(f"document {doc.name} of {spec.name} #{row.id} could not be made")
    return out.getvalue()


def zip_of(spec: RegisterSpec, doc: DocumentSpec, rows: Iterable[Any], dictionaries: Any,
           hidden: frozenset[str] = frozenset()) -> bytes:
    """One PDF per row in a zip (names made unique with the row id when two rows share one)."""
    buffer = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            name = file_name(spec, doc, row, dictionaries, hidden)
            if name in seen:
                name = f"{name}-{row.id}"
            seen.add(name)
            archive.writestr(f"{name}.pdf", render_pdf(spec, doc, row, dictionaries, hidden))
    return buffer.getvalue()
