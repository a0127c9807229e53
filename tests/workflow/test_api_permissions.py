"""Who may see and do what through the API (DESIGN §1 and §7), as one matrix:
role × endpoint × establishment (the caller's own, or another one) → status.

- the establishment's staff see its letters; a teacher only the letters naming them;
  the DAN every letter of the académie, read-only; the DAN of another académie none;
- a letter you may not see answers 404 (never 403); a write on a letter you see but
  that is not yours answers 403 ``permission_denied``; a transition from the wrong
  state 409 ``transition_not_allowed``; no credentials 401 ``not_authenticated``;
- every error body is ``{code, detail[, errors]}``.

The letters are built once per module inside a transaction rolled back at the end;
every test runs in its own savepoint on top of it, so what a write does is undone
before the next test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from governance.models import Academy, User
from tests.factories import School, advance, make_letter, make_school, school_year, shown
from workflow.models import AuditEvent, Comment, MissionLetter

if TYPE_CHECKING:  # the test client's response, as the stubs name it
    from rest_framework.response import _MonkeyPatchedResponse as Response

pytestmark = pytest.mark.django_db

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Who asks. ``dan_other_academy`` is the DAN of an académie the letters are not in.
ROLES = (
    "principal",
    "deputy",  # holds an active delegation from the principal
    "referent1",  # a référent of every letter built here
    "teacher",  # a teacher of the establishment, référent of none
    "cp_secretary",
    "ca_secretary",
    "dan",  # DAN of the académie of both establishments A and B
    "dan_other_academy",
    "anonymous",
)

# Each row: (endpoint, scope, the expected status for each role, in the order of ROLES).
# The people are those of establishment A (the DAN: of A's académie, which is also B's;
# ``dan_other_academy``: of another académie). ``own``: the request is about
# establishment A (its letter, its UAI); ``other``: about establishment B.
#
# Letter endpoints act on the letter in concertation, except ``open_concertation`` (on
# a draft) and the two rows "(wrong state)". ``POST /letters/`` names the establishment
# in its body: one you may not see is "unknown", a 400 ``invalid`` on ``establishment``
# (the same answer as for a UAI that does not exist, so it tells nothing either).
# fmt: off
MATRIX: list[tuple[str, str, tuple[int, ...]]] = [
    #                                           princ dep  ref1 teach  cp   ca   dan  danX anon
    ("GET letter",                      "own",   (200, 200, 200, 404, 200, 200, 200, 404, 401)),
    ("GET letter",                      "other", (404, 404, 404, 404, 404, 404, 200, 404, 401)),
    ("GET transitions",                 "own",   (200, 200, 200, 404, 200, 200, 200, 404, 401)),
    ("GET transitions",                 "other", (404, 404, 404, 404, 404, 404, 200, 404, 401)),
    ("GET history",                     "own",   (200, 200, 200, 404, 200, 200, 200, 404, 401)),
    ("GET history",                     "other", (404, 404, 404, 404, 404, 404, 200, 404, 401)),
    ("GET comments",                    "own",   (200, 200, 200, 404, 200, 200, 200, 404, 401)),
    ("GET comments",                    "other", (404, 404, 404, 404, 404, 404, 200, 404, 401)),
    ("POST comment",                    "own",   (201, 201, 201, 404, 403, 403, 403, 404, 401)),
    ("POST comment",                    "other", (404, 404, 404, 404, 404, 404, 403, 404, 401)),
    ("PATCH letter",                    "own",   (200, 200, 403, 404, 403, 403, 403, 404, 401)),
    ("PATCH letter",                    "other", (404, 404, 404, 404, 404, 404, 403, 404, 401)),
    ("POST open_concertation",          "own",   (200, 200, 403, 404, 403, 403, 403, 404, 401)),
    ("POST open_concertation",          "other", (404, 404, 404, 404, 404, 404, 403, 404, 401)),
    ("POST agree",                      "own",   (403, 403, 200, 404, 403, 403, 403, 404, 401)),
    ("POST agree",                      "other", (404, 404, 404, 404, 404, 404, 403, 404, 401)),
    # Who may fire is checked before the state: only those who may fire see the 409.
    ("POST agree (wrong state)",        "own",   (403, 403, 409, 404, 403, 403, 403, 404, 401)),
    ("POST open_concertation (wrong state)",
                                        "own",   (409, 409, 403, 404, 403, 403, 403, 404, 401)),
    ("POST letters",                    "own",   (201, 201, 403, 403, 403, 403, 403, 400, 401)),
    ("POST letters",                    "other", (400, 400, 400, 400, 400, 400, 403, 400, 401)),
    ("GET letters",                     "own",   (200, 200, 200, 200, 200, 200, 200, 200, 401)),
    ("GET letters",                     "other", (200, 200, 200, 200, 200, 200, 200, 200, 401)),
    ("GET meetings",                    "own",   (200, 200, 200, 200, 200, 200, 200, 200, 401)),
    ("GET meetings",                    "other", (200, 200, 200, 200, 200, 200, 200, 200, 401)),
    ("GET establishments",              "own",   (200, 200, 200, 200, 200, 200, 200, 200, 401)),
    ("GET establishment",               "own",   (200, 200, 200, 200, 200, 200, 200, 404, 401)),
    ("GET establishment",               "other", (404, 404, 404, 404, 404, 404, 200, 404, 401)),
    ("GET me",                          "own",   (200, 200, 200, 200, 200, 200, 200, 200, 401)),
]

# What the 200 lists hold (``count``), per role: (own, other). Establishment A and B
# have two letters each (one in concertation, one draft, both naming their referent1)
# and two meetings each; the other académie's establishment two meetings, no letter.
# ``own``: the whole list; ``other``: the list filtered on establishment B (``GET
# establishments`` has no ``other`` row: it lists A and, for the DAN, B too).
COUNTS: dict[str, tuple[tuple[int, int], ...]] = {
    #                      princ   dep     ref1    teach   cp      ca      dan     danX
    "GET letters":        ((2, 0), (2, 0), (2, 0), (0, 0), (2, 0), (2, 0), (4, 2), (0, 0)),
    "GET meetings":       ((2, 0), (2, 0), (2, 0), (2, 0), (2, 0), (2, 0), (4, 2), (2, 0)),
    "GET establishments": ((1, 0), (1, 0), (1, 0), (1, 0), (1, 0), (1, 0), (2, 0), (1, 0)),
}
# fmt: on

# The code every error status answers with, for this matrix.
ERROR_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    409: "transition_not_allowed",
}


@dataclass
class World:
    a: School
    b: School
    foreign: School  # in another académie
    # establishment letter ids: "concertation" and "draft", for "own" (A) and "other" (B)
    letters: dict[tuple[str, str], int]

    def user(self, role: str) -> User | None:
        if role == "anonymous":
            return None
        if role == "dan_other_academy":
            return self.foreign.dan
        return self.a.people()[role]

    def school(self, scope: str) -> School:
        return self.a if scope == "own" else self.b


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        try:
            a, b = make_school("api-A"), make_school("api-B")
            elsewhere = Academy.objects.create(code="besancon", name="Académie de Besançon")
            foreign = make_school("api-C", academy=elsewhere)
            letters: dict[tuple[str, str], int] = {}
            for scope, school in (("own", a), ("other", b)):
                letters[scope, "concertation"] = advance(
                    make_letter(school), school, "concertation"
                ).pk
                # Small amounts, so that both letters stay within the envelope.
                letters[scope, "draft"] = make_letter(school, year=school.next_year).pk
            yield World(a, b, foreign, letters)
        finally:
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _no_throttle_left_over() -> None:
    """The throttles count in the (local memory) cache: start every test afresh."""
    cache.clear()


def _request(world: World, endpoint: str, scope: str, client: APIClient) -> Response:
    """Send ``endpoint`` about establishment A (``own``) or B (``other``)."""
    school = world.school(scope)
    letter_id = world.letters[scope, "concertation"]
    draft_id = world.letters[scope, "draft"]
    letter_url = f"/api/v1/letters/{letter_id}/"
    version = MissionLetter.objects.get(pk=letter_id).version
    agreement = shown(MissionLetter.objects.get(pk=letter_id))
    uai = school.establishment.uai
    filtered = "" if scope == "own" else f"?establishment={uai}"
    sends: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        "GET letter": ("get", letter_url, None),
        "GET transitions": ("get", f"{letter_url}transitions/", None),
        "GET history": ("get", f"{letter_url}history/", None),
        "GET comments": ("get", f"{letter_url}comments/", None),
        "POST comment": ("post", f"{letter_url}comments/", {"body": "Une remarque."}),
        "PATCH letter": ("patch", letter_url, {"version": version, "qualification": "x"}),
        "POST open_concertation": (
            "post",
            f"/api/v1/letters/{draft_id}/transitions/open_concertation/",
            {},
        ),
        "POST agree": ("post", f"{letter_url}transitions/agree/", agreement),
        "POST agree (wrong state)": (
            "post",
            f"/api/v1/letters/{draft_id}/transitions/agree/",
            shown(MissionLetter.objects.get(pk=draft_id)),
        ),
        "POST open_concertation (wrong state)": (
            "post",
            f"{letter_url}transitions/open_concertation/",
            {},
        ),
        "POST letters": (
            "post",
            "/api/v1/letters/",
            {"establishment": uai, "school_year": school_year("2029-2030").code},
        ),
        "GET letters": ("get", f"/api/v1/letters/{filtered}", None),
        "GET meetings": ("get", f"/api/v1/meetings/{filtered}", None),
        "GET establishments": ("get", "/api/v1/establishments/", None),
        "GET establishment": ("get", f"/api/v1/establishments/{uai}/", None),
        "GET me": ("get", "/api/v1/me/", None),
    }
    method, url, data = sends[endpoint]
    response: Response = getattr(client, method)(url, data, format="json")
    return response


def assert_error_body(response: Response, status: int) -> None:
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) <= {"code", "detail", "errors"}, body
    assert {"code", "detail"} <= set(body), body
    assert isinstance(body["detail"], str), body
    assert body["detail"], body
    assert body["code"] == ERROR_CODES[status], body
    if status == 400:
        assert isinstance(body["errors"], dict), body
    else:
        assert "errors" not in body, body


CASES = [
    pytest.param(endpoint, scope, role, status, id=f"{endpoint}-{scope}-{role}")
    for endpoint, scope, statuses in MATRIX
    for role, status in zip(ROLES, statuses, strict=True)
]


@pytest.mark.parametrize(("endpoint", "scope", "role", "expected"), CASES)
def test_permission_matrix(world: World, endpoint: str, scope: str, role: str, expected: int):
    client = APIClient()
    user = world.user(role)
    if user is not None:
        client.force_authenticate(user)
    response = _request(world, endpoint, scope, client)
    assert response.status_code == expected, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    if expected >= 400:
        assert_error_body(response, expected)
        if expected == 400:  # only the create's establishment is unknown here
            assert set(response.json()["errors"]) == {"establishment"}
        return
    body = response.json()
    if endpoint in COUNTS:
        own, other = COUNTS[endpoint][ROLES.index(role)]
        assert body["count"] == (own if scope == "own" else other), body
    elif endpoint == "GET me":
        assert user is not None
        assert body["username"] == user.username
    elif endpoint in ("GET letter", "PATCH letter", "POST agree", "POST open_concertation"):
        assert body["id"] in (world.letters[scope, "concertation"], world.letters[scope, "draft"])
        assert body["establishment"] == world.school(scope).establishment.uai
    elif endpoint == "POST letters":
        assert body["state"] == "draft"
        assert body["establishment"] == world.school(scope).establishment.uai


# What the writes did, and did not do -------------------------------------------------


def test_the_matrix_covers_every_role_for_every_row():
    for endpoint, scope, statuses in MATRIX:
        assert len(statuses) == len(ROLES), (endpoint, scope)
    for endpoint, counts in COUNTS.items():
        assert len(counts) == len(ROLES) - 1, endpoint  # the anonymous see no list
    assert len(CASES) == len(MATRIX) * len(ROLES)


@pytest.mark.parametrize("role", ["cp_secretary", "dan", "teacher", "dan_other_academy"])
def test_a_refused_write_changes_nothing(world: World, role: str):
    letter_id = world.letters["own", "concertation"]
    letter = MissionLetter.objects.get(pk=letter_id)
    events = AuditEvent.objects.filter(letter_id=letter_id).count()
    client = APIClient()
    client.force_authenticate(world.user(role))
    url = f"/api/v1/letters/{letter_id}/"
    responses = [
        client.patch(url, {"version": letter.version, "qualification": "x"}, format="json"),
        client.post(f"{url}comments/", {"body": "Non."}, format="json"),
        client.post(f"{url}transitions/agree/", shown(letter), format="json"),
        client.post(f"{url}transitions/withdraw/", {"reason": "Non."}, format="json"),
    ]
    assert {r.status_code for r in responses} <= {403, 404}
    fresh = MissionLetter.objects.get(pk=letter_id)
    assert (fresh.state, fresh.version, fresh.qualification) == (
        letter.state,
        letter.version,
        letter.qualification,
    )
    assert AuditEvent.objects.filter(letter_id=letter_id).count() == events
    assert not Comment.objects.filter(letter_id=letter_id).exists()


def test_the_dan_is_offered_no_transition(world: World):
    client = APIClient()
    client.force_authenticate(world.a.dan)
    for scope in ("own", "other"):
        for kind in ("concertation", "draft"):
            response = client.get(f"/api/v1/letters/{world.letters[scope, kind]}/transitions/")
            assert response.status_code == 200
            assert response.json() == []


def test_the_principal_is_offered_what_they_may_fire(world: World):
    client = APIClient()
    client.force_authenticate(world.a.principal)
    response = client.get(f"/api/v1/letters/{world.letters['own', 'draft']}/transitions/")
    assert response.status_code == 200
    names = {t["name"] for t in response.json()}
    assert "open_concertation" in names
    assert "agree" not in names


def test_a_teacher_sees_a_letter_once_named_referent(world: World):
    """The 404 of the matrix is about the person, not the letter: name the teacher a
    référent and the same letter answers 200."""
    letter_id = world.letters["own", "draft"]
    client = APIClient()
    client.force_authenticate(world.a.principal)
    letter = client.get(f"/api/v1/letters/{letter_id}/").json()
    referents = [
        {k: r[k] for k in ("user", "mode", "imp_amount", "decharge_hours", "share")}
        for r in letter["referents"]
    ]
    referents.append({"user": world.a.teacher.username, "mode": "decharge", "decharge_hours": "1"})
    response = client.patch(
        f"/api/v1/letters/{letter_id}/",
        {"version": letter["version"], "referents": referents},
        format="json",
    )
    assert response.status_code == 200, response.json()
    teacher = APIClient()
    teacher.force_authenticate(world.a.teacher)
    assert teacher.get(f"/api/v1/letters/{letter_id}/").status_code == 200
    assert teacher.get("/api/v1/letters/").json()["count"] == 1


def test_an_unknown_letter_and_an_invisible_one_answer_alike(world: World):
    client = APIClient()
    client.force_authenticate(world.a.principal)
    invisible = client.get(f"/api/v1/letters/{world.letters['other', 'concertation']}/")
    missing = client.get("/api/v1/letters/999999999/")
    assert invisible.status_code == missing.status_code == 404
    assert invisible.json() == missing.json()


def test_token_authentication(world: World):
    """The same refusals through a real token: a wrong one is 401 too."""
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": world.a.teacher.username, "password": "pw"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    url = f"/api/v1/letters/{world.letters['own', 'concertation']}/"
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/me/").json()["username"] == world.a.teacher.username
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    refused = client.get(url)
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"
    assert set(refused.json()) == {"code", "detail"}
