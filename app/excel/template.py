"""下载模板: an .xlsx with a 填写说明 sheet (each column: meaning, required, format, allowed values, example)
and a data sheet whose enum/tree/boolean columns are drop-downs over a hidden list sheet (long lists work)."""
from __future__ import annotations

import io
import re
from typing import Any

from flask_babel import gettext as _

from app.i18n import current_locale, label_text, list_separator
from app.metadata.spec import RegisterSpec

from .columns import Column, blank_policy, import_columns, import_target
from .convert import CellError, convert_cell

DATA_ROWS = 5000  # rows prepared with drop-downs and formats
REQUIRED_COLOUR, HEADER_COLOUR = "FDE9D9", "DCE6F1"


def _list_values(svc: Any, column: Column, within: dict[str, str | None] | None = None) -> list[str]:
    """The drop-down's values; a tree's at the levels the field accepts and, for the dictionary of the
    jurisdictions, below the user's own (``within``: dictionary → the jurisdiction's item)."""
    f = column.field
    if f.type == "boolean":
        return [_("Yes"), _("No")] if current_locale() == "en" else ["是", "否"]
    if f.type == "enum":
        return [label for _code, label in svc.dictionaries.choices(f.dictionary)]
    if f.type == "tree":
        tree = svc.dictionaries.tree(f.dictionary)
        root = (within or {}).get(f.dictionary) if getattr(f.picker, "start", None) != "top" else None
        codes = svc.dictionaries.subtree_codes(f.dictionary, root) if root else list(tree.nodes)
        if root:
            codes.sort(key=lambda c: tree.nodes[c].sort)
        if f.select == "leaf":
            codes = [c for c in codes if not tree.nodes[c].children]
        if f.restricts_levels:
            codes = [c for c in codes if f.level_allowed(tree.nodes[c].depth)]
        return [svc.dictionaries.path_label(f.dictionary, c, sep="/") for c in codes]
    return []


def _example(svc: Any, column: Column, example: Any) -> str:
    """The YAML example as the user types it in the current language: a drop-down value (written in Chinese in
    the YAML) becomes its label in the UI language; free text (a name, an address) is data and stays as given."""
    f = column.field
    if column.axis and example not in (None, ""):  # the point's example "31.85, 119.97": its latitude or longitude
        parts = [p for p in re.split(r"[,，\s]+", str(example)) if p]
        return parts[1 if column.axis == "lng" else 0] if len(parts) == 2 else ""
    if example in (None, "") or f.type not in ("enum", "tree", "boolean"):
        return "" if example is None else str(example)
    try:
        value = convert_cell(f, example, svc.dictionaries)
    except CellError:
        return str(example)
    if f.type == "boolean":
        return _list_values(svc, column)[0 if value else 1]
    if f.type == "tree":
        return svc.dictionaries.path_label(f.dictionary, value, sep="/")
    codes = value if isinstance(value, list) else [value]
    return list_separator().join(svc.dictionaries.label(f.dictionary, c) for c in codes)


def blank_note(spec: RegisterSpec) -> str:
    """What an empty cell does when the mode 'insert or update' updates a row (the import page says it too)."""
    if blank_policy(spec) == "clear":
        return _("When a row updates an existing record, an empty cell empties the stored value.")
    return _("When a row updates an existing record, an empty cell keeps the stored value; write %(marker)s in a "
             "cell to empty it.", marker="<clear>" if current_locale() == "en" else "<清空>")


def build_template(svc: Any, spec: RegisterSpec, read_only: frozenset[str] = frozenset(),
                   within: dict[str, str | None] | None = None) -> bytes:
    """The workbook a user fills in, in the current UI language, without the columns ``read_only`` names (the
    fields the user's role may not set); ``within`` limits a tree's drop-down to the user's jurisdiction."""
    from openpyxl import Workbook  # on first use: 0.4 s of every start
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    REQUIRED_FILL = PatternFill("solid", fgColor=REQUIRED_COLOUR)
    HEADER_FILL = PatternFill("solid", fgColor=HEADER_COLOUR)
    columns = import_columns(svc.registry, spec, read_only)
    target = import_target(svc.registry, spec)
    imp = spec.import_
    wb = Workbook()
    guide = wb.active
    guide.title = _("Instructions")
    data = wb.create_sheet(label_text(imp.sheet) if imp and imp.sheet else label_text(target.label))
    lists = wb.create_sheet(_("Lists"))
    lists.sheet_state = "hidden"

    guide.append([_("Import template: %(register)s", register=label_text(spec.label))])
    guide["A1"].font = Font(bold=True, size=14)
    notes = [label_text(note) for note in (imp.notes if imp else ())]
    notes.append(_("Fill in the sheet '%(sheet)s' from its second row; do not change the titles of the first row. "
                   "Columns marked * are required. Choose values of drop-down columns from the list.",
                   sheet=data.title))
    if imp and imp.into:
        notes.append(_("One file is one %(register)s; it takes the file's name as its %(field)s.",
                       register=label_text(spec.label), field=label_text(spec.field(imp.file_name).label)))
    if imp and imp.key:
        notes.append(blank_note(spec))
    for note in notes:
        guide.append([note])
    guide.append([])
    header_row = guide.max_row + 1
    guide.append([_("Column"), _("Meaning"), _("Required"), _("Format"), _("Allowed values"), _("Example")])
    for cell in guide[header_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    examples = imp.examples if imp else {}
    list_column = 0
    for index, column in enumerate(columns, start=1):
        f = column.field
        values = _list_values(svc, column, within)
        allowed = ""
        if values:
            allowed = list_separator().join(values[:30]) + (_(" … (%(n)s values, see the drop-down)", n=len(values))
                                                if len(values) > 30 else "")
        guide.append([column.title(), label_text(f.help) if f.help else "", _("Yes") if column.required else _("No"),
                      column.format_hint(), allowed, _example(svc, column, examples.get(f.name))])
        # data sheet header
        title = ("*" if column.required else "") + column.title()
        cell = data.cell(row=1, column=index, value=title)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = max(12, min(40, len(title) * 2 + 4))
        if values:
            list_column += 1
            list_letter = get_column_letter(list_column)
            lists.cell(row=1, column=list_column, value=column.title())
            for row, value in enumerate(values, start=2):
                lists.cell(row=row, column=list_column, value=value)
            validation = DataValidation(
                type="list", formula1=f"='{lists.title}'!${list_letter}$2:${list_letter}${len(values) + 1}",
                allow_blank=not column.required, showErrorMessage=True,
                errorTitle=_("Not in the list"), error=_("Choose a value from the drop-down list."))
            validation.add(f"{letter}2:{letter}{DATA_ROWS + 1}")
            data.add_data_validation(validation)
        # a column format applies to every cell typed later: dates as dates; codes (USCC, mobile, CAS) as text,
        # not numbers in E notation
        if f.type in ("date", "datetime"):
            data.column_dimensions[letter].number_format = "yyyy-mm-dd" if f.type == "date" else "yyyy-mm-dd hh:mm"
        elif f.type == "string":
            data.column_dimensions[letter].number_format = "@"
    data.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (22, 40, 8, 28, 50, 30)):
        guide.column_dimensions[letter].width = width
    wb.active = 1
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
