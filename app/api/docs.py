"""The Swagger UI page of the API (GET /api/v1/docs) inside the layout, served from the app's own static files: no
CDN."""
from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from . import api


@api.get("/docs")
def docs() -> Any:
    if not current_user.is_authenticated:  # a browser page: sign in first, then come back
        return redirect(url_for(current_app.appbuilder.sm.auth_view.endpoint + ".login", next=request.path))
    return render_template("api/docs.html", spec_url=url_for("api.openapi_document"),
                           appbuilder=current_app.appbuilder, base_template=current_app.appbuilder.base_template)
