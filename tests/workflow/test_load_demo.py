"""`load_demo` (DESIGN §9): idempotent, every account signs in, refused in production."""

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from governance.demo import DEMO_PASSWORD
from governance.models import Delegation, Establishment, Role, RoleAssignment, SchoolYear

pytestmark = pytest.mark.django_db

DEMO_ACCOUNTS = [
    "principal",
    "deputy",
    "referent1",
    "referent2",
    "secretaire-cp",
    "secretaire-ca",
    "principal2",
    "referent3",
    "dan",
    "national",
]


@pytest.fixture(autouse=True)
def _demo_allowed(settings):
    settings.ALLOW_DEMO_DATA = True


def _dump_our_tables() -> str:
    """Every row of our apps (and users), serialized in a stable order."""
    querysets = [
        model._default_manager.order_by("pk")
        for app in ("governance", "workflow", "notifications")
        for model in apps.get_app_config(app).get_models()
    ]
    return "\n".join(serializers.serialize("json", qs) for qs in querysets)


def test_loading_twice_gives_the_same_data():
    call_command("load_demo")
    first = _dump_our_tables()
    call_command("load_demo")
    assert _dump_our_tables() == first


def test_the_demo_holds_what_design_section_9_lists():
    call_command("load_demo")
    carnot = Establishment.objects.get(uai="0210015C")
    assert carnot.name == "Lycée Carnot"
    assert carnot.academy.name == "Académie de Dijon"
    assert Establishment.objects.exclude(uai="0210015C").get().kind == "college"
    assert SchoolYear.objects.count() == 2
    roles = {(a.user.username, a.role) for a in RoleAssignment.objects.select_related("user")}
    assert ("principal", Role.PRINCIPAL) in roles
    assert ("deputy", Role.DEPUTY) in roles
    assert ("secretaire-cp", Role.CP_SECRETARY) in roles
    assert ("secretaire-ca", Role.CA_SECRETARY) in roles
    assert ("principal2", Role.PRINCIPAL) in roles
    assert ("dan", Role.DAN) in roles
    assert ("national", Role.NATIONAL) in roles
    assert Delegation.objects.filter(
        delegator__username="principal", delegate__username="deputy"
    ).exists()


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
def test_every_demo_account_signs_in_through_the_sign_in_page(client, username):
    call_command("load_demo")
    response = client.post(
        reverse("login"), {"username": username, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == username
    assert "Bonjour" in response.content.decode()


def test_a_wrong_password_is_refused_with_a_french_message(client):
    call_command("load_demo")
    response = client.post(reverse("login"), {"username": "principal", "password": "nope"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert "Identifiant ou mot de passe incorrect" in response.content.decode()


def test_demo_data_is_refused_where_it_is_not_allowed(settings):
    settings.ALLOW_DEMO_DATA = False
    with pytest.raises(CommandError, match="ALLOW_DEMO_DATA"):
        call_command("load_demo")
    assert not Establishment.objects.exists()


def test_the_demo_has_letters_in_several_states_with_their_history():
    from workflow.audit.chain import verify_chains
    from workflow.models import MissionLetter

    call_command("load_demo")
    states = set(MissionLetter.objects.values_list("state", flat=True))
    assert {"draft", "concertation", "pedagogical_council", "in_force"} <= states
    in_force = MissionLetter.objects.get(state="in_force")
    assert in_force.signatures.count() == 3
    assert in_force.opinions.count() == 2
    assert in_force.events.count() >= 10
    assert MissionLetter.objects.filter(renewed_from=in_force).exists()
    assert verify_chains() == []


def test_the_national_account_reads_every_academie_s_dashboard(client):
    call_command("load_demo")
    client.post(reverse("login"), {"username": "national", "password": DEMO_PASSWORD})
    home = client.get("/").content.decode()
    assert "Rien ne vous attend pour l" in home
    assert f'href="{reverse("dashboard")}">Voir le tableau de bord' in home
    page = client.get(reverse("dashboard")).content.decode()
    assert "Vue nationale" in page
    assert "Académie de Dijon" in page
