"""Sign-in through the académie (OpenID Connect): who the person is, and the role the
identity provider's claims give them in an establishment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import Role, RoleAssignment, User
from governance.oidc import AcademyOIDCBackend, roles_from, username_from
from tests.factories import make_school

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _claims(**extra):
    return {
        "sub": "abc-123",
        "uid": "cmartin",
        "given_name": "Claire",
        "usual_name": "Martin",
        "email": "claire.martin@ac-dijon.fr",
        **extra,
    }


def test_a_first_sign_in_creates_the_person_with_the_role_the_claims_give():
    school = make_school("Oidc")
    backend = AcademyOIDCBackend()
    user = backend.create_user(_claims(uai=school.establishment.uai.lower(), role="DIR"))
    assert (user.username, user.get_full_name(), user.email) == (
        "cmartin",
        "Claire Martin",
        "claire.martin@ac-dijon.fr",
    )
    assert RoleAssignment.objects.filter(
        user=user, role=Role.PRINCIPAL, establishment=school.establishment
    ).exists()
    assert list(backend.filter_users_by_claims(_claims())) == [user]


def test_a_later_sign_in_updates_the_name_and_adds_roles_without_removing_any(settings):
    school = make_school("Again")
    other = make_school("Other")
    backend = AcademyOIDCBackend()
    user = backend.create_user(_claims(uai=school.establishment.uai, role="ENS"))
    backend.update_user(
        user, _claims(usual_name="Martin-Durand", uai=[other.establishment.uai], role=["ENS"])
    )
    user.refresh_from_db()
    assert user.last_name == "Martin-Durand"
    assert set(
        RoleAssignment.objects.filter(user=user).values_list("role", "establishment__uai")
    ) == {(Role.TEACHER, school.establishment.uai), (Role.TEACHER, other.establishment.uai)}


def test_a_sign_in_saves_the_person_only_when_the_claims_change_them():
    """A sign-in that changes nothing writes nothing; one that renames saves the name."""
    backend = AcademyOIDCBackend()
    user = backend.create_user(_claims())
    with CaptureQueriesContext(connection) as queries:
        backend.update_user(User.objects.get(pk=user.pk), _claims())
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    backend.update_user(User.objects.get(pk=user.pk), _claims(given_name="Clara"))
    renamed = User.objects.get(pk=user.pk)
    assert (renamed.first_name, renamed.last_name) == ("Clara", "Martin")


def test_unknown_establishments_and_roles_give_no_role(caplog):
    make_school("Known")
    backend = AcademyOIDCBackend()
    user = backend.create_user(_claims(uai="0210015C", role="DIR"))  # no such school here
    assert not RoleAssignment.objects.filter(user=user).exists()
    assert "unknown UAI 0210015C" in caplog.text
    assert roles_from({"uai": "0210015C", "role": "JARDINIER"}) == []
    assert roles_from({"uai": "0210015C", "role": "dan"}) == []  # never from a school claim


def test_the_username_claim_is_a_setting_and_sub_the_fallback(settings):
    assert username_from({"sub": "s-1"}) == "s-1"
    settings.OIDC_CLAIM_USERNAME = "preferred_username"
    assert username_from({"preferred_username": ["jdoe"], "sub": "s-1"}) == "jdoe"
    assert not AcademyOIDCBackend().verify_claims({})


def test_with_a_provider_configured_the_sign_in_goes_to_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL"}}
    env.update(
        SECRET_KEY="x" * 60,
        VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        OIDC_RP_CLIENT_ID="lettres",
        OIDC_RP_CLIENT_SECRET="s3cret",
        OIDC_OP_AUTHORIZATION_ENDPOINT="https://idp.ac-example.fr/authorize",
        OIDC_OP_TOKEN_ENDPOINT="https://idp.ac-example.fr/token",
        OIDC_OP_USER_ENDPOINT="https://idp.ac-example.fr/userinfo",
        OIDC_OP_JWKS_ENDPOINT="https://idp.ac-example.fr/jwks",
    )
    code = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('migrate', verbosity=0); from django.test import Client; "
        "r = Client().get('/oidc/authenticate/'); print(r.status_code, r['Location'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    status, location = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "302"
    assert location.startswith("https://idp.ac-example.fr/authorize?")
    assert "client_id=lettres" in location
    assert "state=" in location
