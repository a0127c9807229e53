"""Production's static files (hashed names, from collectstatic's manifest): the deployment
check says plainly when collectstatic has not run, or not since a file was added; once it
has, the pages, the admin and the API docs answer; and without it the error pages still
answer, plainly, rather than failing in turn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Error, Tags, run_checks
from django.test import Client

from config.checks import static_manifest
from config.error_pages import plain_error_page
from tests.config.conftest import manifest_storages
from tests.factories import make_school

PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def uncollected(settings: Any, tmp_path: Path) -> Path:
    """Production's storage, over a STATIC_ROOT where collectstatic never ran."""
    root = tmp_path / "static"
    root.mkdir()
    settings.STATIC_ROOT = root
    settings.STORAGES = manifest_storages(PRODUCTION_STORAGE)
    return root


@pytest.fixture
def collected(settings: Any, collected_static: Path) -> Path:
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = manifest_storages()
    return collected_static


def _ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages if m.id.startswith("config.")]


def test_check_deploy_says_that_collectstatic_has_not_run(uncollected: Path) -> None:
    [error] = static_manifest()
    assert isinstance(error, Error)
    assert error.id == "config.E001"
    assert "collectstatic n'a pas été lancé" in error.msg
    assert "collectstatic has not run" in error.msg
    assert str(uncollected / "staticfiles.json") in error.msg
    assert "python manage.py collectstatic --noinput" in (error.hint or "")
    # Registered as a deployment check: `check --deploy` runs it; `check`, migrate,
    # makemigrations and collectstatic itself (which must run first) do not.
    deploy = run_checks(include_deployment_checks=True, tags=[Tags.staticfiles])
    assert _ids(deploy) == ["config.E001"]
    assert _ids(run_checks()) == []


def test_once_collectstatic_has_run_the_check_passes_and_everything_answers(
    collected: Path, db: Any
) -> None:
    assert static_manifest() == []
    client = Client(raise_request_exception=False)
    login = client.get("/connexion/")
    assert login.status_code == 200
    assert "/static/dsfr/dist/dsfr/dsfr.min." in login.content.decode()  # hashed name
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    missing = client.get("/nulle-part/")
    assert missing.status_code == 404
    assert "Page introuvable" in missing.content.decode()
    school = make_school("Statique")
    client.force_login(school.principal)
    assert client.get("/").status_code == 200


def test_a_file_added_since_collectstatic_is_named(
    settings: Any, tmp_path: Path, collected_static: Path
) -> None:
    manifest = json.loads((collected_static / "staticfiles.json").read_text())
    manifest["paths"].pop("workflow/compteur.js")
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = manifest_storages(PRODUCTION_STORAGE)
    [error] = static_manifest()
    assert error.id == "config.E003"
    assert "1 fichier(s) statique(s) manquent au manifeste" in error.msg
    assert "workflow/compteur.js" in error.msg
    assert "python manage.py collectstatic --noinput" in (error.hint or "")


def test_an_unreadable_manifest_is_said_so(uncollected: Path) -> None:
    (uncollected / "staticfiles.json").write_text("{ pas du JSON")
    [error] = static_manifest()
    assert error.id == "config.E002"
    assert "illisible" in error.msg


def test_development_serves_static_files_as_they_are(settings: Any) -> None:
    settings.STORAGES = manifest_storages("django.contrib.staticfiles.storage.StaticFilesStorage")
    assert static_manifest() == []


@pytest.mark.django_db
def test_without_the_manifest_the_error_pages_still_answer(uncollected: Path) -> None:
    """Every DSFR page names its stylesheet through the manifest: the page fails, and the
    500 page, which names it too, gives way to the plain one rather than failing in turn
    (the server's bare « Internal Server Error »)."""
    client = Client(raise_request_exception=False)

    missing = client.get("/nulle-part/")
    assert missing.status_code == 404
    page = missing.content.decode()
    assert "<h1>Page introuvable</h1>" in page
    assert "Erreur 404" in page
    assert '<a href="/">Page d&#x27;accueil</a>' in page

    failed = client.get("/connexion/")
    assert failed.status_code == 500
    page = failed.content.decode()
    assert "<h1>Erreur inattendue</h1>" in page
    assert "Erreur 500" in page
    assert "manifest" not in page  # the cause goes to the log, not to the person

    assert client.get("/admin/login/").status_code == 500
    docs = client.get("/api/docs/")
    assert docs.status_code == 500
    assert docs.json()["code"] == "server_error"


def test_the_plain_page_escapes_the_reason_it_is_given() -> None:
    response = plain_error_page(403, "<script>alert(1)</script> refusé")
    assert response.status_code == 403
    page = response.content.decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; refusé" in page
    assert "<h1>Accès refusé</h1>" in page
