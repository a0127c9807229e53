"""The national-scale benchmark (issue 8). Not part of the application: nothing in
``config`` imports it; it runs only with ``DJANGO_SETTINGS_MODULE=bench.settings``."""
