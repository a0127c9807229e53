"""The REST API v1 (DESIGN §7): a whole lifecycle over HTTP as the demo accounts, the
error body and status codes, and list endpoints whose query count does not grow."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import Academy, CatalogItem, User
from tests.factories import advance, make_letter, make_school, school_year, shown
from workflow.api.serializers import LetterSerializer
from workflow.audit.snapshot import content_sha256
from workflow.lifecycle.engine import fire_transition
from workflow.models import Comment, MissionLetter
from workflow.services.comments import add_comment
from workflow.services.content import update_letter
from workflow.services.letters import create_letter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles(settings: Any) -> None:
    settings.ALLOW_DEMO_DATA = True
    cache.clear()  # throttle counters live in the cache


def _client_for(username: str, password: str = "demo") -> APIClient:
    """A client that signs in the way an outside client does: with a token."""
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()


def _fire(client: APIClient, letter_id: int, name: str, **payload: Any) -> dict[str, Any]:
    return _ok(
        client.post(f"/api/v1/letters/{letter_id}/transitions/{name}/", payload, format="json")
    )


def test_a_letter_from_draft_to_closed_over_http_as_each_demo_account():
    call_command("load_demo")
    clients = {
        name: _client_for(name)
        for name in (
            "principal",
            "deputy",
            "referent1",
            "referent2",
            "secretaire-cp",
            "secretaire-ca",
            "dan",
        )
    }
    principal = clients["principal"]
    me = _ok(principal.get("/api/v1/me/"))
    assert me["roles"][0]["establishment"] == "0210015C"
    # The demo's Lycée Carnot has its letters of this year and the next: a later one.
    year = school_year("2029-2030").code
    catalogue = _ok(principal.get("/api/v1/catalog/"))["results"]
    first_item = catalogue[0]["items"][0]["id"]

    letter = _ok(
        principal.post(
            "/api/v1/letters/",
            {
                "establishment": "0210015C",
                "school_year": year,
                "referents": [
                    {"user": "referent1", "mode": "imp", "imp_amount": "625.00"},
                    {"user": "referent2", "mode": "imp", "imp_amount": "625.00"},
                ],
                "missions": [
                    {
                        "catalog_item": first_item,
                        "priority": "principal",
                        "referents": ["referent1", "referent2"],
                    },
                    {
                        "text": "Animer le club numérique",
                        "priority": "secondary",
                        "referents": ["referent2"],
                    },
                ],
                "indicators": [{"text": "Ateliers proposés", "target": "5"}],
                "means": ["office"],
            },
            format="json",
        ),
        201,
    )
    letter_id = letter["id"]
    assert (letter["state"], letter["establishment"], letter["version"]) == ("draft", "0210015C", 1)
    assert letter["referents"][0]["user"] == "referent1"
    names = [t["name"] for t in _ok(principal.get(f"/api/v1/letters/{letter_id}/transitions/"))]
    assert names == ["open_concertation", "withdraw"]

    _fire(principal, letter_id, "open_concertation")
    _ok(
        clients["referent1"].post(
            f"/api/v1/letters/{letter_id}/comments/",
            {"body": "D'accord sur le fond."},
            format="json",
        ),
        201,
    )
    for name in ("referent1", "referent2"):
        shown_to = _ok(clients[name].get(f"/api/v1/letters/{letter_id}/"))["snapshot_sha256"]
        _fire(clients[name], letter_id, "agree", snapshot_sha256=shown_to)
    cp_meeting = _ok(
        principal.get("/api/v1/meetings/?establishment=0210015C&council=pedagogical&upcoming=false")
    )["results"][0]["id"]
    ca_meeting = _ok(
        principal.get("/api/v1/meetings/?establishment=0210015C&council=board&upcoming=false")
    )["results"][0]["id"]
    _fire(principal, letter_id, "submit_to_pedagogical_council", meeting=cp_meeting)
    _fire(
        clients["secretaire-cp"],
        letter_id,
        "record_pedagogical_opinion",
        meeting=cp_meeting,
        opinion="favorable",
    )
    signed = _fire(
        clients["secretaire-ca"],
        letter_id,
        "record_board_opinion",
        meeting=ca_meeting,
        opinion="favorable",
        votes_for=22,
        votes_against=1,
        abstentions=1,
        not_voting=0,
        members_present=24,
    )
    assert signed["state"] == "signature"

    # Each signer signs the hash of the version they are shown.
    for signer in ("deputy", "referent1", "referent2"):
        shown = _ok(clients[signer].get(f"/api/v1/letters/{letter_id}/"))["snapshot_sha256"]
        result = _fire(clients[signer], letter_id, "sign", snapshot_sha256=shown)
    assert result["state"] == "in_force"

    _fire(principal, letter_id, "open_report", reason="Fin de mission anticipée")
    report = _ok(clients["referent1"].get(f"/api/v1/letters/{letter_id}/report/"))
    assert len(report["outcomes"]) == 2
    _ok(
        clients["referent1"].put(
            f"/api/v1/letters/{letter_id}/report/",
            {
                "difficulties": "Peu de créneaux communs.",
                "outcomes": [
                    {"mission": o["mission"], "status": "done"} for o in report["outcomes"]
                ],
                "results": [
                    {"indicator": r["indicator"], "result": "6 ateliers"} for r in report["results"]
                ],
            },
            format="json",
        )
    )
    _fire(clients["referent2"], letter_id, "submit_report")
    dan_view = _ok(clients["dan"].get(f"/api/v1/letters/{letter_id}/"))
    assert dan_view["state"] == "report_submitted"
    closed = _fire(principal, letter_id, "acknowledge_report")
    assert closed["state"] == "closed"

    history = _ok(principal.get(f"/api/v1/letters/{letter_id}/history/"))
    actions = [e["action"] for e in history["results"]]
    assert actions == [
        "create",
        "open_concertation",
        "agree",
        "agree",
        "submit_to_pedagogical_council",
        "record_pedagogical_opinion",
        "record_board_opinion",
        "sign",
        "sign",
        "sign",
        "open_report",
        "submit_report",
        "acknowledge_report",
    ]
    assert history["results"][7]["quality"] == "deputy_by_delegation"
    assert history["results"][1]["previous_hash"] == history["results"][0]["hash"]
    archives = _ok(principal.get(f"/api/v1/letters/{letter_id}/archives/"))
    assert archives["count"] == len(actions)


def _assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_errors_have_one_shape_and_the_contract_status():
    school = make_school("Err")
    letter = make_letter(school)
    client = _client_for(school.principal.username, "pw")
    url = f"/api/v1/letters/{letter.pk}/"

    _assert_error(APIClient().get("/api/v1/letters/"), 401, "not_authenticated")
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Token nope")
    _assert_error(bad_token.get("/api/v1/letters/"), 401, "authentication_failed")
    _assert_error(client.get("/api/v1/letters/999999/"), 404, "not_found")
    _assert_error(client.put(url, {}, format="json"), 405, "method_not_allowed")
    _assert_error(
        client.post(f"{url}transitions/fly/", {}, format="json"), 404, "unknown_transition"
    )
    _assert_error(
        client.post(f"{url}transitions/sign/", {}, format="json"), 409, "transition_not_allowed"
    )
    referent = _client_for(school.referent1.username, "pw")
    _assert_error(
        referent.post(f"{url}transitions/open_concertation/", {}, format="json"),
        403,
        "permission_denied",
    )
    body = _assert_error(
        client.post(f"{url}transitions/withdraw/", {}, format="json"), 400, "invalid"
    )
    assert "reason" in body["errors"]
    body = _assert_error(
        client.patch(
            url,
            {
                "version": 1,
                "referents": [
                    {"user": school.referent1.username, "mode": "imp", "imp_amount": "1000.00"}
                ],
            },
            format="json",
        ),
        400,
        "invalid",
    )
    assert "multiple de 312,50" in str(body["errors"])
    body = _assert_error(client.patch(url, {"qualification": "x"}, format="json"), 400, "invalid")
    assert "version" in body["errors"]
    _assert_error(
        client.post("/api/v1/letters/", "{", content_type="application/json"), 400, "parse_error"
    )

    empty = _ok(
        client.post(
            "/api/v1/letters/",
            {"establishment": school.establishment.uai, "school_year": "2027-2028"},
            format="json",
        ),
        201,
    )
    body = _assert_error(
        client.post(
            f"/api/v1/letters/{empty['id']}/transitions/open_concertation/", {}, format="json"
        ),
        400,
        "conditions_unmet",
    )
    assert {e["code"] for e in body["errors"]} >= {"no_referent", "no_mission"}

    # Two editors: the second, based on a version that has moved, gets 409.
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    _ok(client.patch(url, {"version": 1, "qualification": "première"}, format="json"))
    body = _assert_error(
        client.patch(url, {"version": 1, "qualification": "seconde"}, format="json"),
        409,
        "stale_version",
    )
    assert MissionLetter.objects.get(pk=letter.pk).qualification == "première"

    body = _assert_error(
        client.post(f"{url}transitions/agree/", {}, format="json"), 403, "permission_denied"
    )
    wrong = "0" * 64
    fire_transition(letter_id=letter.pk, name="agree", user=school.referent1, payload=shown(letter))
    fire_transition(letter_id=letter.pk, name="agree", user=school.referent2, payload=shown(letter))
    for name, user, payload in [
        ("submit_to_pedagogical_council", school.principal, {}),
        (
            "record_pedagogical_opinion",
            school.cp_secretary,
            {"meeting": school.cp_meeting.pk, "opinion": "favorable"},
        ),
        (
            "record_board_opinion",
            school.ca_secretary,
            {
                "meeting": school.ca_meeting.pk,
                "opinion": "favorable",
                "votes_for": 20,
                "votes_against": 0,
                "abstentions": 0,
                "not_voting": 0,
                "members_present": 20,
            },
        ),
    ]:
        fire_transition(letter_id=letter.pk, name=name, user=user, payload=payload)
    _assert_error(
        client.post(f"{url}transitions/sign/", {"snapshot_sha256": wrong}, format="json"),
        409,
        "snapshot_mismatch",
    )
    _assert_error(
        client.patch(url, {"version": 2, "qualification": "x"}, format="json"), 409, "not_editable"
    )


def test_the_token_endpoint_is_throttled(monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    # Throttle classes read their rates once, at import: lower the "auth" rate there.
    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {**ScopedRateThrottle.THROTTLE_RATES, "auth": "3/minute"},
    )
    client = APIClient()

    def attempt(i: int) -> Any:
        # A new X-Forwarded-For each time: the client's own header does not make it new.
        return client.post(
            "/api/v1/auth/token/",
            {"username": "x", "password": "y"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )

    for i in range(3):
        _assert_error(attempt(i), 400, "invalid")
    response = attempt(3)
    body = _assert_error(response, 429, "throttled")
    assert "secondes" in body["detail"] or "seconds" in body["detail"]
    assert int(response["Retry-After"]) > 0


def _queries(client: APIClient, url: str) -> tuple[int, dict[str, Any]]:
    with CaptureQueriesContext(connection) as captured:
        body = _ok(client.get(url))
    return len(captured), body


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/letters/",
        "/api/v1/letters/?state=draft",
        "/api/v1/meetings/",
        "/api/v1/establishments/",
    ],
)
def test_list_endpoints_cost_the_same_for_1_and_50_items(url, django_assert_max_num_queries):
    schools = [make_school(f"Q{index}") for index in range(5)]
    dan = APIClient()
    dan.force_authenticate(schools[0].dan)

    # One letter a school and year: ten years of five schools.
    years = [school_year(f"{2026 + index}-{2027 + index}") for index in range(10)]

    def add_letter(index: int) -> None:
        school = schools[index % 5]
        letter = make_letter(school, year=years[index // 5])
        add_comment(letter_id=letter.pk, user=school.principal, body="Bonjour")

    add_letter(0)
    one, body = _queries(dan, url)
    assert body["count"] >= 1
    for index in range(1, 50):
        add_letter(index)
    with django_assert_max_num_queries(one):
        body = _ok(dan.get(url))
    assert body["count"] >= 5
    if url.startswith("/api/v1/letters/"):
        assert len(body["results"]) == 50


def test_history_and_comments_cost_the_same_for_1_and_50_items(django_assert_max_num_queries):
    school = make_school("H")
    letter = make_letter(school)
    client = APIClient()
    client.force_authenticate(school.principal)
    add_comment(letter_id=letter.pk, user=school.referent1, body="Premier")
    comments_url = f"/api/v1/letters/{letter.pk}/comments/"
    history_url = f"/api/v1/letters/{letter.pk}/history/"
    one_comment, _body = _queries(client, comments_url)
    one_event, _body = _queries(client, history_url)
    for index in range(49):
        add_comment(letter_id=letter.pk, user=school.referent2, body=f"Message {index}")
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    for index in range(24):
        fire_transition(
            letter_id=letter.pk,
            name="return_to_draft",
            user=school.principal,
            payload={"reason": f"Reprise {index}"},
        )
        fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    assert Comment.objects.filter(letter=letter).count() == 50
    with django_assert_max_num_queries(one_comment):
        assert _ok(client.get(comments_url))["count"] == 50
    with django_assert_max_num_queries(one_event):
        assert _ok(client.get(history_url))["count"] == 50


def test_the_list_pages_through_every_letter_once_newest_first():
    """Pages of ``page_size`` letters, counted as the letters the filter keeps, with
    links to the next and previous pages; past the last page is 404."""
    school, other = make_school("P1"), make_school("P2")
    letters = [make_letter(school), make_letter(other)]
    letters += [
        create_letter(user=s.principal, establishment=s.establishment, school_year=s.next_year)
        for s in (school, other)
    ]
    dan = APIClient()
    dan.force_authenticate(school.dan)
    seen: list[int] = []
    url: str | None = "/api/v1/letters/?page_size=3"
    while url:
        body = _ok(dan.get(url))
        assert body["count"] == len(letters)
        assert len(body["results"]) <= 3
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
    assert seen == sorted((letter.pk for letter in letters), reverse=True)
    assert body["previous"] is not None
    assert (
        _ok(dan.get(f"/api/v1/letters/?page_size=3&school_year={school.year.code}"))["count"] == 2
    )
    assert dan.get("/api/v1/letters/?page_size=3&page=3").status_code == 404


def test_the_dans_list_filters_on_year_state_and_establishment():
    """The DAN's filters (DESIGN §7): the school year by its code, the state, the UAI;
    an unknown year is an empty page, not an error; another académie's letters never
    show, whatever the filter."""
    school, other = make_school("F1"), make_school("F2")
    elsewhere = make_school("F3", academy=Academy.objects.create(code="lyon", name="Lyon"))
    this_year = make_letter(school)
    advance(this_year, school, "concertation")
    other_this_year = make_letter(other)
    next_year = create_letter(
        user=other.principal, establishment=other.establishment, school_year=other.next_year
    )
    make_letter(elsewhere)
    dan = APIClient()
    dan.force_authenticate(school.dan)

    def ids(query: str) -> list[int]:
        return [item["id"] for item in _ok(dan.get(f"/api/v1/letters/?{query}"))["results"]]

    assert ids(f"school_year={school.year.code}") == [other_this_year.pk, this_year.pk]
    assert ids(f"school_year={school.next_year.code}") == [next_year.pk]
    assert ids(f"school_year={school.year.code}&state=concertation") == [this_year.pk]
    assert ids(f"school_year={school.year.code}&state=draft") == [other_this_year.pk]
    assert ids(f"state=draft&establishment={other.establishment.uai}") == [
        next_year.pk,
        other_this_year.pk,
    ]
    assert ids("school_year=1999-2000") == []
    assert ids(f"establishment={elsewhere.establishment.uai}") == []


def test_each_letter_reads_as_the_schema_declares_it_in_the_list_and_alone():
    """The representation is built from rows, not by ``LetterSerializer``'s fields:
    fed back through those fields it comes out unchanged (the names, the types and
    DRF's formats agree), and a letter reads the same in a page and alone."""
    call_command("load_demo")
    school = make_school("Repr")
    outside = CatalogItem.objects.filter(outside_scope=True).order_by("id").first()
    assert outside is not None
    letter = make_letter(school)
    update_letter(
        letter_id=letter.pk,
        user=school.principal,
        changes={
            "missions": [
                {
                    "catalog_item": outside.pk,
                    "priority": "principal",
                    "referents": [school.referent2.username],
                },
                {"text": "Animer le club", "priority": "secondary", "referents": []},
            ]
        },
    )
    seen = 0
    for user in [school.dan, *User.objects.filter(username__in=["dan", "principal", "referent1"])]:
        client = APIClient()
        client.force_authenticate(user)
        page = _ok(client.get("/api/v1/letters/"))
        assert page["results"], user
        for item in page["results"]:
            assert LetterSerializer(item).data == item
            assert _ok(client.get(f"/api/v1/letters/{item['id']}/")) == item
            seen += 1
    assert seen >= 6
    client = APIClient()
    client.force_authenticate(school.principal)
    body = _ok(client.get(f"/api/v1/letters/{letter.pk}/"))
    fresh = MissionLetter.objects.select_related("establishment", "school_year").get(pk=letter.pk)
    assert body["snapshot_sha256"] == content_sha256(fresh)
    assert body["state_label"] == "Brouillon"
    assert [
        (r["user"], r["name"], r["imp_amount"], r["decharge_hours"]) for r in body["referents"]
    ] == [
        (school.referent1.username, "Sophie Durand", "1250.00", None),
        (school.referent2.username, "Karim Benali", None, "1.00"),
    ]
    assert [(m["catalog_item"], m["referents"], m["outside_scope"]) for m in body["missions"]] == [
        (outside.pk, [school.referent2.username], True),
        (None, [], False),
    ]
    assert [w["code"] for w in body["warnings"]] == ["mission_outside_scope"]
    # Shown in Europe/Paris, as DRF writes it.
    assert body["created_at"] == timezone.localtime(fresh.created_at).isoformat()


def test_the_schema_and_the_docs_render():
    school = make_school("Docs")
    client = APIClient()
    client.force_authenticate(school.principal)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/letters/",
        "/api/v1/letters/{id}/",
        "/api/v1/letters/{id}/transitions/",
        "/api/v1/letters/{id}/transitions/{name}/",
        "/api/v1/letters/{id}/comments/",
        "/api/v1/letters/{id}/history/",
        "/api/v1/letters/{id}/archives/",
        "/api/v1/letters/{id}/report/",
        "/api/v1/establishments/",
        "/api/v1/school-years/",
        "/api/v1/meetings/",
        "/api/v1/catalog/",
        "/api/v1/me/",
    ]:
        assert path in paths, path
    fire = paths["/api/v1/letters/{id}/transitions/{name}/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(fire["responses"])
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


_READY_DRAFT = {
    "establishment": "0210015C",
    "referents": [
        {"user": "referent1", "mode": "imp", "imp_amount": "625.00"},
        {"user": "referent2", "mode": "imp", "imp_amount": "625.00"},
    ],
    "missions": [
        {"text": "Animer le club numérique", "priority": "principal", "referents": ["referent1"]},
        {"text": "Former les collègues", "priority": "secondary", "referents": ["referent2"]},
    ],
}


def test_a_transition_answers_the_letter_as_a_read_after_it_shows_it():
    """The answer is built from the letter the transition saved under its lock, not read
    again: it must be what any read after it shows, for the person who fired it."""
    call_command("load_demo")
    principal, referent = _client_for("principal"), _client_for("referent1")
    year = school_year("2029-2030").code  # the demo holds this year's and the next
    letter_id = _ok(
        principal.post("/api/v1/letters/", {**_READY_DRAFT, "school_year": year}, format="json"),
        201,
    )["id"]
    detail = f"/api/v1/letters/{letter_id}/"

    opened = _fire(principal, letter_id, "open_concertation")
    assert opened["state"] == "concertation"
    assert opened == _ok(principal.get(detail))
    agreed = _fire(referent, letter_id, "agree", snapshot_sha256=opened["snapshot_sha256"])
    assert agreed["referents"][0]["agreed_version"] == 1
    assert agreed == _ok(referent.get(detail))
    returned = _fire(principal, letter_id, "return_to_draft", reason="Relecture")
    assert (returned["state"], returned["version"]) == ("draft", 2)
    assert returned["snapshot_sha256"] != opened["snapshot_sha256"]
    assert returned == _ok(principal.get(detail))


def test_a_letter_costs_a_fixed_number_of_queries_and_a_page_the_same():
    """A letter: the token, the person's scope, the letter (with its establishment and
    year), its current version, its référents' agreements, its missions' and indicators'
    ids, the envelope of its establishment's year. A page of every demo letter costs the
    same, plus its count: nothing is read per letter."""
    call_command("load_demo")
    client = _client_for("dan")
    letter_id = MissionLetter.objects.order_by("pk").values_list("pk", flat=True)[0]
    count, first = _queries(client, f"/api/v1/letters/{letter_id}/")
    again_count, again = _queries(client, f"/api/v1/letters/{letter_id}/")
    assert again == first
    assert count == again_count == 8
    page_count, page = _queries(client, "/api/v1/letters/")
    assert len(page["results"]) == MissionLetter.objects.count() > 1
    assert page_count == 8 + 1


def test_a_second_letter_for_an_establishment_and_year_is_409_letter_exists():
    """One letter an establishment and school year (DESIGN §7): the API names the one
    that exists; once it is withdrawn, a new one may begin."""
    school = make_school("Unique")
    first = make_letter(school)
    client = APIClient()
    client.force_authenticate(school.principal)
    wanted = {"establishment": school.establishment.uai, "school_year": school.year.code}
    refused = client.post("/api/v1/letters/", wanted, format="json")
    assert refused.status_code == 409
    body = refused.json()
    assert (body["code"], body["letter"]) == ("letter_exists", first.pk)
    assert school.establishment.name in body["detail"]
    assert MissionLetter.objects.filter(establishment=school.establishment).count() == 1
    _fire(client, first.pk, "withdraw", reason="Recommencer")
    assert client.post("/api/v1/letters/", wanted, format="json").status_code == 201


def test_a_transitions_body_is_validated_once_by_its_payload_form(world):
    """The API hands the body to the service, whose payload form answers in French with
    the field's name; a body that is not a JSON object is refused before."""
    school, letter = world.at("board")
    api = APIClient()
    api.force_authenticate(school.ca_secretary)
    url = f"/api/v1/letters/{letter.pk}/transitions/record_board_opinion/"
    answer = api.post(url, {"meeting": 1, "opinion": "favorable", "votes_for": 5000}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert "votes_for" in answer.json()["errors"]
    answer = api.post(url, [1, 2], format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"body": ["Un objet JSON est attendu."]}


def test_a_comment_is_validated_by_the_service(world):
    school, letter = world.at("concertation")
    api = APIClient()
    api.force_authenticate(school.referent1)
    url = f"/api/v1/letters/{letter.pk}/comments/"
    for body, field in [
        ({"body": ["pas", "un", "texte"]}, "body"),
        ({"body": "x" * 8001}, "body"),
        ({"body": "Bonjour", "mission": "abc"}, "mission"),
    ]:
        answer = api.post(url, body, format="json")
        assert answer.status_code == 400, body
        assert field in answer.json()["errors"], answer.json()


def test_a_second_signature_answers_409_as_a_lost_race(world):
    school, letter = world.at("signature")
    api = APIClient()
    api.force_authenticate(school.referent1)
    url = f"/api/v1/letters/{letter.pk}/transitions/sign/"
    body = {"snapshot_sha256": shown(letter)["snapshot_sha256"]}
    assert api.post(url, body, format="json").status_code == 200
    again = api.post(url, body, format="json")
    assert again.status_code == 409, again.json()
    assert again.json()["code"] == "transition_not_allowed"
    assert "déjà signé" in again.json()["detail"]
