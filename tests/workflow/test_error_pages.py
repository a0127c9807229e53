"""The error pages (403, 404, 500) in French with a way back, the API's errors still
JSON; the form links offered only to who may use them; refused input naming fields by
their French label and letters by their establishment, never by a code or an id."""

from __future__ import annotations

import pytest
from django.template.loader import get_template
from django.test import Client
from django.utils.html import escape

from governance import api as governance_api
from tests.factories import advance, make_letter, make_school
from workflow.errors import InvalidInput
from workflow.lifecycle.payloads import OpinionPayload
from workflow.web import letters as letter_pages
from workflow.web.field_errors import agenda_errors, labelled_errors

pytestmark = pytest.mark.django_db


# The error pages -----------------------------------------------------------------------


def test_the_404_page_is_french_with_the_ways_back(client):
    school = make_school("Perdu")
    client.force_login(school.principal)
    response = client.get("/lettres/999999/", HTTP_REFERER="http://testserver/lettres/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page introuvable</h1>" in page
    assert "Erreur 404" in page
    assert "Page d'accueil" in page
    assert '<a class="fr-btn fr-btn--secondary" href="http://testserver/lettres/">' in page
    assert "Retour à la page précédente" in page
    assert "Claire Martin" in page  # the layout, with the person signed in
    # From another site, or with no referer: no link back there.
    for headers in ({"HTTP_REFERER": "https://ailleurs.example/"}, {}):
        assert (
            "Retour à la page précédente"
            not in client.get("/nulle-part/", **headers).content.decode()
        )


def test_a_letter_one_may_not_see_and_one_that_does_not_exist_look_the_same(client):
    school = make_school("Cache")
    letter = make_letter(school)
    client.force_login(school.teacher)
    hidden = client.get(f"/lettres/{letter.pk}/")
    missing = client.get("/lettres/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert _main(hidden.content.decode()) == _main(missing.content.decode())


def _main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


def test_a_refused_action_shows_the_403_page_with_its_reason(client):
    school = make_school("Refus")
    letter = make_letter(school)
    client.force_login(school.referent1)
    response = client.post(
        f"/lettres/{letter.pk}/actions/open_concertation/",
        HTTP_REFERER=f"http://testserver/lettres/{letter.pk}/",
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Accès refusé</h1>" in page
    assert "Erreur 403" in page
    assert "Rien n'a été modifié." in page
    assert f'href="http://testserver/lettres/{letter.pk}/">Retour à la page précédente' in page
    letter.refresh_from_db()
    assert letter.state == "draft"


def test_the_403_page_says_why(client):
    school = make_school("Pourquoi")
    letter = advance(make_letter(school), school, "concertation")
    client.force_login(school.dan)  # sees the letter, takes no part in its concertation
    response = client.post(f"/lettres/{letter.pk}/commentaires/", {"body": "Bonjour"})
    assert response.status_code == 403
    assert escape("La concertation réunit le chef d'établissement et les référents.") in (
        response.content.decode()
    )
    client.force_login(school.referent1)
    response = client.get("/lettres/nouvelle/")
    assert response.status_code == 403
    assert escape("Seul le chef d'établissement (ou son adjoint) rédige la lettre.") in (
        response.content.decode()
    )


def test_the_report_refused_to_its_reader_says_why(client):
    school = make_school("Lecteur")
    letter = advance(make_letter(school), school, "report_due")
    client.force_login(school.principal)
    response = client.post(f"/lettres/{letter.pk}/compte-rendu/", {"difficulties": "x"})
    assert response.status_code == 403
    assert escape("Le compte rendu n'est pas modifiable par vous.") in response.content.decode()


def test_an_expired_form_says_what_to_do():
    school = make_school("Expire")
    letter = make_letter(school)
    client = Client(enforce_csrf_checks=True)
    client.force_login(school.principal)
    response = client.post(f"/lettres/{letter.pk}/actions/open_concertation/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Formulaire expiré</h1>" in page
    assert "Rien n'a été enregistré. Revenez à la page, rechargez-la, puis recommencez." in page
    letter.refresh_from_db()
    assert letter.state == "draft"


def test_the_500_page_stands_alone(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = get_template("500.html").render()
    assert "<h1>Erreur inattendue</h1>" in page
    assert "Erreur 500" in page
    assert '<a class="fr-btn" href="/">Page d\'accueil</a>' in page


def test_a_page_that_fails_answers_the_french_500_page(monkeypatch):
    school = make_school("Panne")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(letter_pages, "to_do", broken)
    client = Client(raise_request_exception=False)
    client.force_login(school.principal)
    response = client.get("/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur inattendue" in page
    assert "boom" not in page


def test_the_api_keeps_answering_json(monkeypatch):
    school = make_school("Json")
    letter = make_letter(school)
    client = Client(raise_request_exception=False)
    client.force_login(school.referent1)
    missing = client.get("/api/v1/letters/999999/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    refused = client.post(f"/api/v1/letters/{letter.pk}/transitions/open_concertation/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert client.get("/api/v1/nulle-part/").json() == {
        "code": "not_found",
        "detail": "Introuvable.",
    }

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(governance_api.SchoolYearList, "get_queryset", broken)
    failed = client.get("/api/v1/school-years/")
    assert failed.status_code == 500
    assert failed["Content-Type"] == "application/json"
    assert failed.json() == {"code": "server_error", "detail": "Erreur interne du serveur."}


# Form links only for who may use them --------------------------------------------------


def test_the_opinion_forms_are_offered_to_their_council_s_secretary_only(client):
    school = make_school("Liens")
    advance(make_letter(school), school, "pedagogical_council")
    cp_form = f"/seances/{school.cp_meeting.pk}/avis/"
    ca_form = f"/seances/{school.ca_meeting.pk}/avis/"
    offered = {}
    for person in ("cp_secretary", "ca_secretary", "dan", "referent1", "principal"):
        client.force_login(getattr(school, person))
        page = client.get("/seances/").content.decode()
        offered[person] = {form for form in (cp_form, ca_form) if f'href="{form}"' in page}
    assert offered == {
        "cp_secretary": {cp_form},
        "ca_secretary": {ca_form},
        "dan": set(),
        "referent1": set(),
        "principal": {cp_form, ca_form},
    }
    client.force_login(school.cp_secretary)
    assert client.get(ca_form).status_code == 403


def test_the_dashboard_is_in_the_menu_of_the_dan_only(client):
    school = make_school("Menu")
    for person, shown in (("dan", True), ("principal", False), ("cp_secretary", False)):
        client.force_login(getattr(school, person))
        assert ('href="/tableau-de-bord/"' in client.get("/").content.decode()) is shown


def test_a_new_letter_is_offered_to_whoever_acts_for_the_principal_only(client):
    school = make_school("SansDelegation", delegation=False)
    client.force_login(school.principal)
    assert "Nouvelle lettre" in client.get("/lettres/").content.decode()
    # A deputy without an active delegation may not begin a letter: no button, no form.
    client.force_login(school.deputy)
    assert "Nouvelle lettre" not in client.get("/lettres/").content.decode()
    assert client.get("/lettres/nouvelle/").status_code == 403
    delegated = make_school("AvecDelegation")
    client.force_login(delegated.deputy)
    assert "Nouvelle lettre" in client.get("/lettres/").content.decode()
    assert client.get("/lettres/nouvelle/").status_code == 200


# Refused input in words ----------------------------------------------------------------


def test_a_refused_opinion_names_the_field_by_its_label(client):
    school = make_school("Libelle")
    letter = advance(make_letter(school), school, "pedagogical_council")
    client.force_login(school.cp_secretary)
    response = client.post(
        f"/lettres/{letter.pk}/actions/record_pedagogical_opinion/",
        {"meeting": school.cp_meeting.pk, "opinion": "reserve"},
        follow=True,
    )
    page = response.content.decode()
    assert escape("Observations : Un avis réservé s'accompagne de ses observations.") in page
    assert "remarks" not in page.split('id="contenu"')[1].split("</div>")[0]
    letter.refresh_from_db()
    assert letter.state == "pedagogical_council"


def test_a_refused_board_vote_names_the_field_by_its_label(client):
    school = make_school("Votes")
    letter = advance(make_letter(school), school, "board")
    client.force_login(school.ca_secretary)
    response = client.post(
        f"/lettres/{letter.pk}/actions/record_board_opinion/",
        {
            "meeting": school.ca_meeting.pk,
            "opinion": "favorable",
            "votes_for": 40,
            "votes_against": 0,
            "abstentions": 0,
            "not_voting": 0,
            "members_present": 20,
        },
        follow=True,
    )
    alert = _first_alert(response.content.decode())
    assert "Pour : Les voix" in alert
    assert "votes_for" not in alert


def test_a_meeting_s_refused_opinions_name_the_letter_and_the_field(client):
    school = make_school("Seance")
    first = advance(make_letter(school), school, "board")
    second = advance(make_letter(school, year=school.next_year), school, "board")
    client.force_login(school.ca_secretary)
    votes = {"votes_for": 10, "votes_against": 0, "abstentions": 0, "not_voting": 0}
    data: dict[str, object] = {"members_present": 20}
    for letter in (first, second):
        data |= {f"opinion-{letter.pk}": "favorable"}
        data |= {f"{field}-{letter.pk}": value for field, value in votes.items()}
    data[f"votes_for-{second.pk}"] = 25  # more votes than members present
    alert = _first_alert(
        client.post(f"/seances/{school.ca_meeting.pk}/avis/", data).content.decode()
    )
    assert escape("Aucun avis n'a été enregistré") in alert
    assert f"{school.establishment.name} — 2027-2028 (Pour) : Les voix" in alert
    for code in ("letter ", "votes_for"):
        assert code not in alert


def _first_alert(page: str) -> str:
    start = page.index('class="fr-alert')
    return page[start : page.index("</div>", start)]


def test_agenda_errors_in_words():
    errors = InvalidInput(
        {
            "letter 7": ["remarks : Précisez.", "__all__ : Tout à revoir.", "Déjà saisi."],
            "letter 8": ["votes_for : Trop de voix."],
            "meeting": ["Séance inconnue."],
            "opinions": ["Aucun avis à enregistrer."],
        }
    )
    assert agenda_errors(errors, OpinionPayload, {7: "Lycée Carnot — 2026-2027"}) == [
        "Lycée Carnot — 2026-2027 (Observations) : Précisez.",
        "Lycée Carnot — 2026-2027 : Tout à revoir.",
        "Lycée Carnot — 2026-2027 : Déjà saisi.",
        "Lettre n° 8 (Pour) : Trop de voix.",
        "Séance : Séance inconnue.",
        "Aucun avis à enregistrer.",
    ]
    assert labelled_errors(
        InvalidInput({"members_present": ["Combien ?"], "__all__": ["Non."]}), OpinionPayload
    ) == ["Membres présents : Combien ?", "Non."]
