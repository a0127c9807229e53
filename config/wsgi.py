"""WSGI entry point (gunicorn ``config.wsgi``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# What start-up made (Django, DRF, URLconf, templates, translations) lives as long as
# the worker: freeze it out of the collector's sight, and let young collections wait
# for more allocations. A page of 50 letters allocates ~100 000 objects, and with the
# default thresholds every few requests paused for a full collection (p95 three times
# the median; bench/RESULTS.md).
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 10, 10)
