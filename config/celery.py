"""The Celery application.

Configured from Django settings (the ``CELERY_`` prefix). Tasks live in each app's
``tasks.py`` and are found by ``autodiscover_tasks``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lettres_de_mission")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
