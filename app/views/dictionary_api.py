"""JSON endpoints behind the tree pickers: children of an item and type-ahead search (Chinese, pinyin or its
initials); ``start=jurisdiction`` keeps the search inside the actor's jurisdiction."""
from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_login import current_user

from app.services import services

from .pickers import picker_root
from .public import public_dictionaries


class DictionaryApi(BaseView):
    route_base = "/dict"
    default_view = "children"

    @expose("/<name>/children")
    def children(self, name: str) -> Any:
        self._check(name)
        parent = request.args.get("parent") or None
        return jsonify(items=services().dictionaries.children(name, parent))

    @expose("/<name>/search")
    def search(self, name: str) -> Any:
        self._check(name)
        text = request.args.get("q", "").strip()[:30]
        svc = services()
        root = picker_root(svc, name) if request.args.get("start") == "jurisdiction" else None
        return jsonify(items=svc.dictionaries.search(name, text, within=root) if text else [])

    @staticmethod
    def _check(name: str) -> None:
        # dictionaries are reference data, but only for signed-in users (and the pickers of public forms)
        if not current_user.is_authenticated:
            if name not in public_dictionaries():
                abort(401)
        if name not in services().registry.dictionaries:
            abort(404)
