"""Celery worker entry point: `celery -A app.celery_worker worker` runs the app's tasks (imports, exports)."""
from app import create_app_or_exit

flask_app = create_app_or_exit()
celery = flask_app.extensions["celery"]
