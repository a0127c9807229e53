"""Static files collected once for the tests that need production's hashed names."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

# Django's manifest storage: the same hashed names and manifest as production's
# whitenoise storage (a subclass), without compressing every file, which takes a minute.
MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


def manifest_storages(backend: str = MANIFEST_STORAGE) -> dict[str, dict[str, str]]:
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": backend},
    }


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A STATIC_ROOT where ``collectstatic`` has run: every static file under its hashed
    name, and the manifest (``staticfiles.json``) that lists them."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root, STORAGES=manifest_storages()):
        call_command("collectstatic", "--noinput", verbosity=0)
    assert (root / "staticfiles.json").is_file()
    return root
