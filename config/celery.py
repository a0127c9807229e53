"""The Celery application.

Configured from Django settings (the ``CELERY_`` prefix). Tasks live in each app's
``tasks.py`` and are found by ``autodiscover_tasks``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lettres_de_mission")
app.config_from_object("django.conf:settings", namespace="CELERY")
# No result backend: results are ignored (CELERY_TASK_IGNORE_RESULT). Without this, beat
# would write a "celery.backend_cleanup" periodic task into the database each time it
# starts, while the worker and the web server write there too (embedded default: SQLite).
app.conf.result_expires = None
app.autodiscover_tasks()
