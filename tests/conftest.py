"""Suite-wide test set-up.

- The header names the database the suite runs against (CI proves PostgreSQL).
- ``@pytest.mark.postgres`` / ``@pytest.mark.redis`` tests are skipped, saying why,
  when the real service is not configured; under ``CI=true`` any skipped test fails
  the run, so CI always proves them. CI's second run, on SQLite (``CI_DATABASE=sqlite``),
  skips the PostgreSQL ones by design: its first run proved them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import translation

IN_CI = os.environ.get("CI", "").lower() == "true"
# CI runs the suite twice: on PostgreSQL, and on the README's default (SQLite), where
# ``CI_DATABASE=sqlite`` says that the tests needing PostgreSQL are skipped on purpose.
SQLITE_LEG = os.environ.get("CI_DATABASE", "") == "sqlite"
NEEDS_POSTGRES = "needs PostgreSQL: set DATABASE_URL"


def _redis_answers() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = settings.DATABASES["default"]
    return [
        f"database: {connection.vendor} ({database['ENGINE']}, name {database['NAME']})",
        f"redis: {settings.REDIS_URL or 'not configured'}; CI={IN_CI}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = connection.vendor == "postgresql"
    redis_ok = _redis_answers()
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason=NEEDS_POSTGRES))
        if "redis" in item.keywords and not redis_ok:
            item.add_marker(pytest.mark.skip(reason="needs a Redis that answers: set REDIS_URL"))


def _skip_reason(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    return str(longrepr[-1]) if isinstance(longrepr, tuple) else str(longrepr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if SQLITE_LEG:
        # CI's run on the embedded default: the PostgreSQL tests ran in its other run.
        skipped = [r for r in skipped if NEEDS_POSTGRES not in _skip_reason(r)]
    if skipped:
        if reporter:
            reporter.write_line(
                f"CI=true: {len(skipped)} test(s) skipped; under CI a skip is a failure.",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _plain_http_for_the_session() -> Iterator[None]:
    """Handlers built once for the session (the live server's) read SECURE_SSL_REDIRECT
    when built: switch it off before any is."""
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture(scope="session", autouse=True)
def _dev_seal_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The development seal (``make_dev_seal``), made once in a folder of the session's:
    letters that come into force in the tests are sealed and timestamped locally."""
    from workflow.management.commands.make_dev_seal import make_dev_seal

    directory = tmp_path_factory.mktemp("seal")
    make_dev_seal(directory)
    with override_settings(SEAL_DIR=directory, SEAL_PKCS12_PATH="", SEAL_TSA_URL=""):
        yield


@pytest.fixture(autouse=True)
def _plain_http_and_no_lockout(settings: Any) -> None:
    """The suite talks plain HTTP to the app and signs in wrongly on purpose: no HTTPS
    redirect, no sign-in lockout, and static files without a collectstatic manifest.
    Tests of those features turn them back on."""
    settings.SECURE_SSL_REDIRECT = False
    settings.AXES_ENABLED = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_outbox_kick(settings: Any) -> None:
    """Transitions publish a task after commit; tests that test that turn it back on."""
    settings.OUTBOX_KICK_ENABLED = False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's deliberate slowness only slows the suite down; hashing itself is Django's."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts and ends in the default language (French). A request through the
    test client leaves the language LocaleMiddleware chose active in the thread: after an
    English request, the next test's messages would otherwise come out in English."""
    translation.deactivate()
    yield
    translation.deactivate()
