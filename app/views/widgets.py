"""HTML widgets for the field types FAB has none for: tree picker, reference picker, files, geo, child rows."""
from __future__ import annotations

import json
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.dictionaries.levels import wanted_levels
from app.query.urls import register_url
from wtforms.widgets import html_params


class TreePickerWidget:
    """A tree picker: the chosen item's whole path, and a panel that opens at the actor's jurisdiction (or the
    top), browses down the tree and searches by typing Chinese, pinyin or its initials."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        return tree_picker(field.dictionaries, field.dictionary, name=field.name, field_id=field.id,
                           value=field.data, root=field.root(), leaf_only=field.leaf_only, locale=field.locale(),
                           aria_label=str(field.label.text), placeholder=_("Please choose"),
                           levels=getattr(field, "levels", None))


def tree_picker(service: Any, dictionary: str, *, name: str, field_id: str, value: str | None, root: str | None,
                leaf_only: bool, locale: str, aria_label: str, placeholder: str, levels: Any = None) -> Markup:
    """The tree picker's HTML (register.js's TreePicker drives it): forms and the list filter panel share it."""
    crumbs = [{"code": n.code, "label": n.label(locale), "depth": n.depth}
              for n in service.ancestors(dictionary, root)] \
        if root else []
    search = {"start": "jurisdiction"} if root else {}
    attrs = {
        "class": "tree-picker",
        "data-children-url": url_for("DictionaryApi.children", name=dictionary),
        "data-search-url": url_for("DictionaryApi.search", name=dictionary, **search),
        "data-root": json.dumps(crumbs, ensure_ascii=False),
        "data-leaf-only": "1" if leaf_only else "0",
    }
    if levels is not None:  # levels / min_level / max_level: only items at those levels can be chosen
        attrs["data-levels"] = json.dumps(wanted_levels(levels, service))
    path = service.path_label(dictionary, value, locale=locale) if value else ""
    hidden = f'<input type="hidden" {html_params(name=name, id=field_id, value=value or "")}>'
    shown = html_params(type="text", readonly=True, value=path, placeholder=placeholder, title=path,
                        id=f"{field_id}-path", **{"class": "form-control tree-picker-path", "aria-label": aria_label})
    panel = (f'<div class="tree-picker-panel" hidden>'
             f'<input type="search" class="form-control input-sm tree-picker-search" autocomplete="off" '
             f'placeholder="{escape(_("Type a name, pinyin or initials"))}">'
             f'<ol class="breadcrumb tree-picker-crumbs"></ol><ul class="tree-picker-list list-unstyled"></ul>'
             f'</div>')
    clear = (f'<span class="input-group-btn"><button type="button" class="btn btn-default tree-picker-clear" '
             f'title="{escape(_("Clear"))}"><i class="fa fa-times"></i></button></span>')
    return Markup(f'<div {html_params(**attrs)}>{hidden}<div class="input-group"><input {shown}>{clear}</div>'
                  f'{panel}</div>')


class ReferenceWidget:
    """A type-ahead select over another register (select2 with AJAX); never loads the whole table."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        current = field.data
        option = ""
        if current is not None:
            option = f'<option value="{current.id}" selected>{escape(field.display_of(current))}</option>'
        attrs = {
            "name": field.name, "id": field.id, "class": "form-control reference-select",
            "data-url": register_url(field.target, "lookup", display=field.display or None, field=field.asking),
            "data-placeholder": _("Type to search"),
            "data-allow-clear": "0" if field.flags.required else "1",
        }
        if field.match:
            # the inputs of this form (or of this child row) whose values the offered rows must have
            prefix = field.name[: len(field.name) - len(field.short_name)]
            attrs["data-match"] = json.dumps({theirs: prefix + own for theirs, own in field.match.items()})
        return Markup(f'<select {html_params(**attrs)}><option value=""></option>{option}</select>')


class AttachmentWidget:
    """Files already attached (each with a remove box) and an input for more."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        parts = ['<div class="attachment-field">']
        remove_text = escape(_("Remove"))
        for index, meta in enumerate(field.object_data or []):
            name = escape(meta.get("name", ""))
            size = meta.get("size", 0)
            parts.append(
                f'<div class="checkbox"><label><input type="checkbox" name="{field.name}__remove" value="{index}"> '
                f'{remove_text}</label> <i class="fa fa-paperclip"></i> {name} '
                f'<small class="text-muted">({_human_size(size)})</small></div>')
        accept = ",".join("." + ext for ext in field.accept)
        multiple = " multiple" if field.multiple else ""
        parts.append(f'<input type="file" {html_params(name=field.name, id=field.id, accept=accept)}{multiple}>')
        allowed = _("Allowed: %(types)s; at most %(size)s each", types=", ".join(field.accept), size=field.max_size)
        parts.append(f'<p class="help-block small">{escape(allowed)}</p>')
        parts.append("</div>")
        return Markup("".join(parts))


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


class GeoWidget:
    """Latitude and longitude inputs side by side."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        lat, lng = field.raw_pair()
        lat_text, lng_text = escape(_("Latitude")), escape(_("Longitude"))
        lat_input = (f'<input type="text" class="form-control" {html_params(name=field.name + "_lat", id=field.id + "_lat", value=lat)} '
                     f'placeholder="{lat_text}">')
        lng_input = (f'<input type="text" class="form-control" {html_params(name=field.name + "_lng", id=field.id + "_lng", value=lng)} '
                     f'placeholder="{lng_text}">')
        return Markup(f'<div class="row geo-field"><div class="col-xs-6"><div class="input-group">'
                      f'<span class="input-group-addon">{lat_text}</span>{lat_input}</div></div>'
                      f'<div class="col-xs-6"><div class="input-group"><span class="input-group-addon">'
                      f'{lng_text}</span>{lng_input}</div></div></div>')


class ChildTableWidget:
    """Child rows as an editable table; a hidden template row is cloned by 'Add row'."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        template_form = field.blank_entry()
        headers = "".join(
            f'<th>{escape(str(sub.label.text))}{" <strong style=color:red>*</strong>" if sub.flags.required else ""}</th>'
            for sub in template_form if sub.name.split("-")[-1] != "id")
        rows = [self._row(entry) for entry in field.entries]
        add_text = escape(_("Add row"))
        template = self._row(template_form, template=True)
        extra, progress = "", ""
        replace_text, checked_text = escape(_("Replace the rows with those of the chosen record?")), escape(_("Checked"))
        if getattr(field, "copy_from", None):
            # choosing the reference fills the rows at once (register.js), as saving would (copy_from)
            prefix = field.name.rsplit(field.short_name, 1)[0]
            extra += (f' data-copy-from="{escape(prefix + field.copy_from)}" data-copy-url="'
                      f'{escape(register_url(field.register, "copy_rows", field_name=field.short_name, source_id=0))}"'
                      f' data-copy-confirm="{replace_text}"')
        if getattr(field, "progress", None):
            extra += f' data-progress="{escape(field.progress)}"'
            progress = (f'<p class="child-progress text-muted small">{checked_text} '
                        f'<strong class="child-done">0</strong> / <strong class="child-total">{len(field.entries)}'
                        f'</strong></p>')
        return Markup(
            f'<div class="child-table" data-prefix="{field.name}" data-next="{len(field.entries)}"{extra}>{progress}'
            f'<table class="table table-condensed table-bordered"><thead><tr>{headers}<th></th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
            f'<template>{template}</template>'
            f'<button type="button" class="btn btn-default btn-sm child-add"><i class="fa fa-plus"></i> '
            f'{add_text}</button></div>')

    @staticmethod
    def _row(form: Any, template: bool = False) -> str:
        cells, hidden = [], []
        remove_title = escape(_("Remove row"))
        for sub in form:
            if sub.name.split("-")[-1] == "id":
                hidden.append(sub(**{"class": "child-id"}))
                continue
            errors = "".join(f'<div class="text-danger small">{escape(e)}</div>' for e in sub.errors)
            # the field's own classes stay (date-picker: the calendar in the app's language)
            own = (sub.render_kw or {}).get("class", "").replace("form-control", "").split()
            # the column's heading, which a phone shows above the box (each row a card there, form.css)
            label = f' data-label="{escape(str(sub.label.text))}"' + (" data-required" if sub.flags.required else "")
            cells.append(f'<td{label}>{sub(**{"class": " ".join(["form-control", "input-sm", *own])})}{errors}</td>')
        remove = (f'<td class="child-remove-cell">{"".join(str(h) for h in hidden)}<button type="button" '
                  f'class="btn btn-link child-remove" title="{remove_title}"><i class="fa fa-trash"></i></button></td>')
        return f'<tr class="child-row">{"".join(cells)}{remove}</tr>'
