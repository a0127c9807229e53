"""System checks of the deployment: say at start-up what would otherwise fail on every page.

In production (``DEBUG`` off) static files are stored under hashed names listed in the
manifest that ``collectstatic`` writes (``staticfiles.json`` in ``STATIC_ROOT``). Without
it, or with a file missing from it, ``{% static %}`` raises on every page that names
such a file: the pages, the admin and the API docs alike. ``manage.py check --deploy``
(run by ``make run-production`` and before gunicorn starts, ``Procfile.production``)
then refuses to go on and says to run ``collectstatic``.

These are deployment checks only: development (``DEBUG``) serves the files as they are,
and ``collectstatic`` itself must run before its manifest exists.
"""

from __future__ import annotations

import os
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.files.storage import storages
from django.utils.module_loading import import_string

COLLECTSTATIC_HINT = (
    "Lancez / Run: python manage.py collectstatic --noinput "
    "(make run-production et l'image Docker le font / "
    "make run-production and the Docker image do it)."
)
# How many of the files missing from the manifest the message names.
NAMED = 5


def _found_static_files() -> set[str]:
    """Every static file ``collectstatic`` would collect, by the name it gives it."""
    ignore_patterns = apps.get_app_config("staticfiles").ignore_patterns  # type: ignore[attr-defined]
    found: set[str] = set()
    for finder in get_finders():
        for path, source in finder.list(ignore_patterns):
            prefix = getattr(source, "prefix", None)
            found.add((os.path.join(prefix, path) if prefix else path).replace(os.sep, "/"))
    return found


@register(Tags.staticfiles, deploy=True)
def static_manifest(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With hashed static files, the manifest exists, can be read and lists every static
    file: otherwise the pages that name a missing file fail (a 500, or a bare error)."""
    backend = import_string(settings.STORAGES["staticfiles"]["BACKEND"])
    if not issubclass(backend, ManifestFilesMixin):
        return []
    where = os.path.join(settings.STATIC_ROOT, backend.manifest_name)
    try:
        # The storage reads its manifest as it is made.
        storage = storages["staticfiles"]
        assert isinstance(storage, ManifestFilesMixin)
        if storage.read_manifest() is None:
            return [
                Error(
                    f"collectstatic n'a pas été lancé : le manifeste {where} manque, et "
                    "chaque page échouerait / collectstatic has not run: the manifest "
                    f"{where} is missing, and every page would fail.",
                    hint=COLLECTSTATIC_HINT,
                    id="config.E001",
                )
            ]
        paths, _hash = storage.load_manifest()
    except (OSError, ValueError) as exc:
        return [
            Error(
                f"Le manifeste des fichiers statiques {where} est illisible ({exc}) / "
                f"The static files' manifest {where} cannot be read ({exc}).",
                hint=COLLECTSTATIC_HINT,
                id="config.E002",
            )
        ]
    missing = sorted(_found_static_files() - set(paths))
    if missing:
        named = ", ".join(missing[:NAMED]) + (", …" if len(missing) > NAMED else "")
        return [
            Error(
                f"{len(missing)} fichier(s) statique(s) manquent au manifeste {where} : "
                f"collectstatic n'a pas été relancé depuis leur ajout ({named}) / "
                f"{len(missing)} static file(s) are missing from the manifest {where}: "
                f"collectstatic has not run since they were added ({named}).",
                hint=COLLECTSTATIC_HINT,
                id="config.E003",
            )
        ]
    return []
