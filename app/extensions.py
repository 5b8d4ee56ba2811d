"""Extension objects shared by the whole app, bound to it in create_app."""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from flask_appbuilder.models.sqla.base import SQLA
from flask_wtf.csrf import CSRFProtect

db = SQLA()
#: every POST (forms, deletes, uploads) carries a CSRF token; FAB alone only checks its own forms
csrf = CSRFProtect()


def init_celery(app: Flask) -> Celery:
    """Celery bound to the app: tasks run inside an app context; eager on the embedded default."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
