"""Nothing lost, nothing crashes: hostile input is a 4xx, never a 5xx, on every write
operation of the API and every form of the pages; every API error, 5xx included, is JSON
``{code, detail}``.

- a JSON body 10 000 levels deep, a 5 MB body, a body that is not UTF-8, NaN, an
  integer of 5 000 digits, NUL and half a surrogate pair: 400 (413 for the size) on each
  write operation the OpenAPI schema lists;
- huge numbers and out-of-range dates in each field that takes a number or a date: 4xx;
- the same, field by field, in every form of the pages, as each role sees them;
- a database that does not answer: 503 with ``Retry-After``, JSON for the API and the
  French page for the pages;
- a path with a line break under ``/api/``: the JSON 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connections, transaction
from django.test import Client, RequestFactory, override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle

from config import error_pages, parsers
from tests.factories import (
    School,
    letter_content,
    letter_in_state,
    make_school,
    opinion_payload,
    shown,
)
from workflow.models import Comment, MissionLetter, YearEndReport
from workflow.services.comments import add_comment

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATES = ["draft", "concertation", "pedagogical_council", "board", "signature", "in_force"]


def _write_operations() -> dict[tuple[str, str], bool]:
    """(METHOD, path) → whether it takes a body: every write operation of the schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path): "requestBody" in operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in WRITE_METHODS
    }


WRITE_OPERATIONS = _write_operations()


# The world: a letter in each state, each in its establishment -------------------------


@dataclass
class World:
    schools: dict[str, School]
    letters: dict[str, int]
    report_letter: int  # awaiting its year-end report
    comment: int  # the principal's, in the concertation thread
    change_request: int  # a référent's, in the same thread

    def school(self, state: str) -> School:
        return self.schools[state]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        try:
            schools, letters = {}, {}
            for state in [*STATES, "report_due"]:
                schools[state] = make_school(f"Hostile {state}")
                letters[state] = letter_in_state(schools[state], state).pk
            concertation = schools["concertation"]
            comment = add_comment(
                letter_id=letters["concertation"], user=concertation.principal, body="Bonjour"
            )
            request = add_comment(
                letter_id=letters["concertation"],
                user=concertation.referent1,
                body="Pouvez-vous préciser la mission 2 ?",
                is_change_request=True,
            )
            yield World(
                schools=schools,
                letters=letters,
                report_letter=letters["report_due"],
                comment=comment.pk,
                change_request=request.pk,
            )
        finally:
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch: pytest.MonkeyPatch) -> None:
    # DRF reads the rates into the class when it loads: raise them there.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "100000/minute", "user": "100000/minute", "auth": "100000/minute"},
    )
    cache.clear()


def _api_client(user: Any) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token.key}")


@dataclass
class Target:
    """One write operation, aimed where its body is read: who sends it, where, and a
    body it accepts."""

    role: str
    state: str
    path: str
    body: dict[str, Any]


def _targets(world: World) -> dict[tuple[str, str], Target]:
    letters = world.letters
    draft = MissionLetter.objects.get(pk=letters["draft"])
    concertation = MissionLetter.objects.get(pk=letters["concertation"])
    report = YearEndReport.objects.get(letter_id=world.report_letter)
    cp, ca = world.school("pedagogical_council"), world.school("board")
    signature = MissionLetter.objects.get(pk=letters["signature"])
    school = world.school("draft")
    return {
        ("POST", "/api/v1/auth/token/"): Target(
            "principal", "draft", "/api/v1/auth/token/", {"username": "x", "password": "y"}
        ),
        ("POST", "/api/v1/letters/"): Target(
            "principal",
            "draft",
            "/api/v1/letters/",
            {
                "establishment": school.establishment.uai,
                "school_year": school.next_year.code,
                **letter_content(school),
                "period_kind": "dates",
                "period_start": "2027-09-01",
                "period_end": "2028-06-30",
            },
        ),
        ("PATCH", "/api/v1/letters/{id}/"): Target(
            "principal",
            "draft",
            f"/api/v1/letters/{draft.pk}/",
            {
                "version": draft.version,
                **letter_content(school),
                "period_kind": "dates",
                "period_start": "2026-09-01",
                "period_end": "2027-06-30",
            },
        ),
        ("POST", "/api/v1/letters/{id}/comments/"): Target(
            "principal",
            "concertation",
            f"/api/v1/letters/{concertation.pk}/comments/",
            {
                "body": "Une question",
                "mission": concertation.missions.order_by("pk")[0].pk,
                "indicator": concertation.indicators.order_by("pk")[0].pk,
            },
        ),
        ("PATCH", "/api/v1/letters/{id}/comments/{comment_id}/"): Target(
            "principal",
            "concertation",
            f"/api/v1/letters/{concertation.pk}/comments/{world.comment}/",
            {"body": "Bonjour à tous"},
        ),
        ("DELETE", "/api/v1/letters/{id}/comments/{comment_id}/"): Target(
            "principal",
            "concertation",
            f"/api/v1/letters/{concertation.pk}/comments/{world.comment}/",
            {},
        ),
        ("POST", "/api/v1/letters/{id}/comments/{comment_id}/resolve/"): Target(
            "principal",
            "concertation",
            f"/api/v1/letters/{concertation.pk}/comments/{world.change_request}/resolve/",
            {},
        ),
        ("POST", "/api/v1/letters/{id}/renew/"): Target(
            "principal",
            "in_force",
            f"/api/v1/letters/{letters['in_force']}/renew/",
            {"school_year": world.school("in_force").next_year.code},
        ),
        ("POST", "/api/v1/letters/{id}/remind/"): Target(
            "principal",
            "concertation",
            f"/api/v1/letters/{letters['concertation']}/remind/",
            {"person": world.school("concertation").referent1.pk},
        ),
        ("PUT", "/api/v1/letters/{id}/report/"): Target(
            "referent1",
            "report_due",
            f"/api/v1/letters/{world.report_letter}/report/",
            {
                "difficulties": "Aucune",
                "outcomes": [
                    {"mission": o.mission_id, "status": "done", "comment": "Fait"}
                    for o in report.outcomes.all()
                ],
                "results": [
                    {"indicator": r.indicator_id, "result": "Atteint"} for r in report.results.all()
                ],
            },
        ),
        ("POST", "/api/v1/letters/{id}/transitions/{name}/"): Target(
            "ca_secretary",
            "board",
            f"/api/v1/letters/{letters['board']}/transitions/record_board_opinion/",
            opinion_payload(ca.ca_meeting),
        ),
        ("PUT", "/api/v1/me/notifications/"): Target(
            "principal", "draft", "/api/v1/me/notifications/", {"mode": "digest"}
        ),
        ("PATCH", "/api/v1/me/"): Target(
            "principal",
            "draft",
            "/api/v1/me/",
            {"notifications": {"mode": "digest", "digest_hour": 8, "kinds": {"comments": "none"}}},
        ),
        ("POST", "/api/v1/meetings/"): Target(
            "principal",
            "draft",
            "/api/v1/meetings/",
            {
                "establishment": school.establishment.uai,
                "council": "pedagogical",
                "date": "2026-11-12T17:00:00Z",
                "convocation": 1,
                "members_in_office": 15,
            },
        ),
        ("POST", "/api/v1/meetings/{id}/opinions/"): Target(
            "cp_secretary",
            "pedagogical_council",
            f"/api/v1/meetings/{cp.cp_meeting.pk}/opinions/",
            {
                "opinions": [
                    {
                        "letter": letters["pedagogical_council"],
                        **opinion_payload(cp.cp_meeting),
                    }
                ]
            },
        ),
        # Not an operation of its own: the signature, the other body of transitions.
        ("SIGN", "/api/v1/letters/{id}/transitions/{name}/"): Target(
            "principal",
            "signature",
            f"/api/v1/letters/{signature.pk}/transitions/sign/",
            shown(signature),
        ),
    }


def _send(
    world: World,
    target: Target,
    method: str,
    body: bytes | str,
    content_type: str = "application/json",
) -> Any:
    client = _api_client(getattr(world.school(target.state), target.role))
    # Each request in a savepoint of its own, undone: a request that succeeds changes
    # nothing for the next one.
    with transaction.atomic():
        response = client.generic(method, target.path, body, content_type=content_type)
        transaction.set_rollback(True)
    return response


def _assert_json_error(response: Any, statuses: tuple[int, ...]) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert isinstance(body["code"], str), body
    assert isinstance(body["detail"], str), body
    assert body["code"], body
    assert body["detail"], body
    return body


def test_every_write_operation_of_the_schema_has_a_target(world):
    """The operations below are those of the served schema: a new one needs its target."""
    targets = {key for key in _targets(world) if key[0] != "SIGN"}
    assert targets == set(WRITE_OPERATIONS)


def test_the_targets_are_accepted_as_they_are(world):
    """The bodies below reach the services: a hostile variant is refused for itself."""
    for (method, path), target in _targets(world).items():
        if path == "/api/v1/auth/token/":
            continue  # no such account: 400 by design
        response = _send(
            world, target, "POST" if method == "SIGN" else method, json.dumps(target.body)
        )
        assert response.status_code < 300, (method, path, response.content[:300])


# Hostile bodies on every write operation ---------------------------------------------

DEEP = "[" * 10_000 + "]" * 10_000
HOSTILE_BODIES: dict[str, tuple[bytes | str, tuple[int, ...]]] = {
    "nested 10 000 levels deep": (DEEP, (400,)),
    "nested 10 000 objects deep": ('{"a":' * 10_000 + "1" + "}" * 10_000, (400,)),
    "5 MB": (b'{"body": "' + b"a" * 5_000_000 + b'"}', (413,)),
    "invalid UTF-8": (b'{"body": "\xff\xfe\xc3\x28"}', (400,)),
    "not JSON": ('{"body": ', (400,)),
    "NaN": ('{"body": NaN}', (400,)),
    "an integer of 5 000 digits": ('{"version": 1' + "0" * 5_000 + "}", (400,)),
    "NUL in a string": ('{"body": "a\\u0000b"}', (400,)),
    "half a surrogate pair": ('{"body": "\\ud800"}', (400,)),
    "an unknown charset": (b"{}", (400,)),
}


@pytest.mark.parametrize("kind", HOSTILE_BODIES)
@pytest.mark.parametrize("operation", sorted(WRITE_OPERATIONS), ids=" ".join)
def test_a_hostile_body_is_a_4xx_on_every_write_operation(world, operation, kind):
    body, statuses = HOSTILE_BODIES[kind]
    target = _targets(world)[operation]
    content_type = "application/json"
    if kind == "an unknown charset":
        content_type += "; charset=bz2_codec"
    response = _send(world, target, operation[0], body, content_type)
    if WRITE_OPERATIONS[operation]:
        _assert_json_error(response, statuses)
    else:
        # No body is read: the request is what it would be without one.
        assert response.status_code < 500, response.content[:300]


def test_the_refusals_explain_in_french():
    client = Client()
    answers = {
        kind: client.post("/api/v1/auth/token/", body, content_type="application/json").json()
        for kind, (body, _statuses) in HOSTILE_BODIES.items()
        if kind != "an unknown charset"
    }
    assert answers["nested 10 000 levels deep"] == {
        "code": "parse_error",
        "detail": "Le JSON imbrique plus de 32 niveaux de tableaux et d'objets.",
    }
    assert answers["5 MB"] == {
        "code": "request_too_large",
        "detail": "Le corps de la requête dépasse la taille admise "
        "(2621440 octets, fichiers exclus).",
    }
    assert answers["invalid UTF-8"]["detail"] == (
        "Le corps de la requête n'est pas un texte UTF-8 valide."
    )
    assert answers["not JSON"]["detail"] == (
        "Le corps de la requête n'est pas un JSON valide (ligne 1, colonne 10)."
    )
    assert answers["NaN"]["detail"] == "Le JSON contient NaN, qui n'est pas un nombre admis."
    assert "trop de chiffres" in answers["an integer of 5 000 digits"]["detail"]
    assert "caractère nul" in answers["NUL in a string"]["detail"]
    assert "substitution" in answers["half a surrogate pair"]["detail"]


def test_the_depth_limit_keeps_bodies_as_deep_as_a_letter_and_ignores_strings():
    assert not parsers.nesting_depth_exceeds('{"a": [{"b": [1]}]}', 4)
    assert parsers.nesting_depth_exceeds('{"a": [{"b": [1]}]}', 3)
    # Brackets inside strings, escaped quotes included, are text.
    assert not parsers.nesting_depth_exceeds('{"a": "[[[[[[\\"[[[[", "b": "}}}"}', 1)
    assert not parsers.nesting_depth_exceeds("[]" * 100_000, 1)


def test_too_many_form_fields_is_a_json_400():
    fields = urlencode([("f", "1")] * 1_001)
    response = Client().post(
        "/api/v1/auth/token/", fields, content_type="application/x-www-form-urlencoded"
    )
    _assert_json_error(response, (400,))


# Huge numbers and out-of-range dates, field by field -----------------------------------

HUGE_INTEGERS = [10**30, -(10**30), 2**63, 2**31, -1]
HUGE_DECIMALS = ["1e400", "-1e400", "99999999999999999999.99", "1" + "0" * 1_000, 1e308]
OUT_OF_RANGE_DATES = ["9999-12-31", "0001-01-01", "10000-01-01", "0000-00-00"]
OUT_OF_RANGE_DATETIMES = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
]


def _variants(body: Any) -> Iterator[tuple[str, Any]]:
    """The body with one field (at any depth) set to a hostile value, for each field that
    takes a number or a date; integers also where text is expected, and the reverse."""
    if isinstance(body, dict):
        for key, value in body.items():
            for label, variant in _values_for(key, value):
                yield f"{key}={label}", {**body, key: variant}
    elif isinstance(body, list):
        for index, item in enumerate(body):
            for label, variant in _variants(item):
                yield f"[{index}].{label}", [*body[:index], variant, *body[index + 1 :]]


def _values_for(key: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, (dict, list)):
        yield from _variants(value)
        return
    if isinstance(value, bool):
        candidates: list[Any] = [10**30]
    elif isinstance(value, int):
        candidates = [*HUGE_INTEGERS, *HUGE_DECIMALS]
    elif key in ("imp_amount", "decharge_hours"):
        candidates = HUGE_DECIMALS
    elif key in ("period_start", "period_end"):
        candidates = OUT_OF_RANGE_DATES
    elif key == "date":
        candidates = OUT_OF_RANGE_DATETIMES
    else:
        candidates = [10**30]
    for candidate in candidates:
        yield repr(candidate)[:24], candidate


@pytest.mark.parametrize(
    "operation",
    [
        *sorted(key for key, has_body in WRITE_OPERATIONS.items() if has_body),
        ("SIGN", "/api/v1/letters/{id}/transitions/{name}/"),
    ],
    ids=" ".join,
)
def test_huge_numbers_and_out_of_range_dates_are_a_4xx(world, operation):
    target = _targets(world)[operation]
    method = "POST" if operation[0] == "SIGN" else operation[0]
    sent = 0
    for label, variant in _variants(target.body):
        response = _send(world, target, method, json.dumps(variant))
        assert response.status_code < 500, (label, response.content[:300])
        if response.status_code >= 400:
            _assert_json_error(response, (response.status_code,))
        sent += 1
    assert sent > 0


# Every form of the pages ---------------------------------------------------------------


class _Forms(HTMLParser):
    """The POST forms of a page: action and fields (name, type, value)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str, str]]]] = []
        self._fields: list[tuple[str, str, str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._fields = []
            self.forms.append((a.get("action", ""), self._fields))
            return
        if self._fields is None:
            return
        name = a.get("name")
        if not name:
            return
        if tag == "input" and a.get("type", "text") not in ("submit", "button", "file"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._fields.append((name, kind, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._fields.append((name, "select", ""))
        elif tag == "textarea":
            self._fields.append((name, "textarea", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None


PAGE_VALUES: dict[str, list[str]] = {
    "number": ["9" * 5_000, "1e400", "-" + "9" * 30, "99999999999999999999.99", "NaN"],
    "date": OUT_OF_RANGE_DATES,
    "datetime-local": ["9999-12-31T23:59", "0001-01-01T00:00", "10000-01-01T00:00"],
    "time": ["25:61", "99999:00"],
    "textarea": ["x" * 100_000],
}
# Whatever the field: an integer beyond 64 bits (an identifier, a choice), and NUL.
EVERY_FIELD = ["9" * 30, "a\x00b"]


def _page_forms(client: Client, page: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    reader = _Forms()
    reader.feed(response.content.decode())
    return [(action or page, fields) for action, fields in reader.forms]


def _pages(world: World) -> list[tuple[str, str, str]]:
    """(state of the school, role, page): where each role finds its forms."""
    letters = world.letters
    cp, ca = world.school("pedagogical_council"), world.school("board")
    return [
        ("draft", "principal", "/lettres/nouvelle/"),
        ("draft", "principal", f"/lettres/{letters['draft']}/"),
        ("draft", "principal", f"/lettres/{letters['draft']}/modifier/"),
        ("draft", "principal", "/seances/nouvelle/"),
        ("draft", "referent1", "/mes-notifications/"),
        ("concertation", "principal", f"/lettres/{letters['concertation']}/"),
        ("concertation", "referent1", f"/lettres/{letters['concertation']}/"),
        ("pedagogical_council", "cp_secretary", f"/lettres/{letters['pedagogical_council']}/"),
        ("pedagogical_council", "cp_secretary", f"/seances/{cp.cp_meeting.pk}/avis/"),
        ("board", "ca_secretary", f"/lettres/{letters['board']}/"),
        ("board", "ca_secretary", f"/seances/{ca.ca_meeting.pk}/avis/"),
        ("signature", "principal", f"/lettres/{letters['signature']}/"),
        ("in_force", "principal", f"/lettres/{letters['in_force']}/"),
        ("report_due", "referent1", f"/lettres/{world.report_letter}/compte-rendu/"),
        ("report_due", "principal", f"/lettres/{world.report_letter}/"),
    ]


def _post_form(client: Client, action: str, body: str) -> Any:
    """Post ``body`` as a browser posts a form, in a savepoint undone afterwards: each
    post finds the letter as the page showed it."""
    with transaction.atomic():
        response = client.post(action, body, content_type="application/x-www-form-urlencoded")
        transaction.set_rollback(True)
    return response


def test_every_form_of_the_pages_takes_hostile_values_without_a_5xx(world):
    """Each form as each role finds it, one field at a time (the first row of a formset
    stands for the others), then every field at once in bytes that are not UTF-8."""
    seen: set[tuple[str, frozenset[str]]] = set()
    posts = 0
    for state, role, page in _pages(world):
        client = Client(raise_request_exception=False)
        client.force_login(getattr(world.school(state), role))
        for action, fields in _page_forms(client, page):
            kinds = {re.sub(r"\d+", "N", name): kind for name, kind, _value in fields}
            form = (re.sub(r"\d+", "N", action), frozenset(kinds))
            if action.startswith(("/i18n/", "/deconnexion/")) or form in seen:
                continue  # the language and signing out: no field of ours
            seen.add(form)
            plain = [(name, value) for name, _kind, value in fields]
            varied: set[str] = {"csrfmiddlewaretoken"}
            for index, (name, kind, _value) in enumerate(fields):
                if re.sub(r"\d+", "N", name) in varied:
                    continue
                varied.add(re.sub(r"\d+", "N", name))
                for hostile in [*PAGE_VALUES.get(kind, []), *EVERY_FIELD]:
                    sent = [*plain[:index], (name, hostile), *plain[index + 1 :]]
                    response = _post_form(client, action, urlencode(sent))
                    posts += 1
                    assert response.status_code < 500, (page, action, name, hostile[:30])
            raw = "&".join(f"{quote(name)}=%FF%FE%C3%28" for name, _kind, _value in fields)
            response = _post_form(client, action, raw)
            assert response.status_code < 500, (page, action, "invalid UTF-8")
    assert len(seen) >= 20, seen
    assert posts > 100, posts


def test_a_page_form_of_5_mb_is_the_french_400_page(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.school("concertation").principal)
    letter_page = f"http://testserver/lettres/{world.letters['concertation']}/"
    response = client.post(
        f"/lettres/{world.letters['concertation']}/commentaires/",
        {"body": "a" * 5_000_000},
        HTTP_REFERER=letter_page,
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>Requête invalide</h1>" in page
    assert "Erreur 400" in page
    assert "Rien n'a été enregistré." in page
    assert f'href="{letter_page}">Retour à la page précédente' in page
    assert Comment.objects.filter(letter_id=world.letters["concertation"]).count() == 2


# A database that does not answer -----------------------------------------------------


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch) -> Callable[[type[Exception]], None]:
    """Every query from now on fails as when the database has gone."""

    def down(error: type[Exception] = OperationalError) -> None:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise error("connection to server at 127.0.0.1, port 5432 failed")

        monkeypatch.setattr(connections["default"], "cursor", refuse)
        monkeypatch.setattr(connections["default"], "chunked_cursor", refuse)

    return down


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_the_api_without_its_database_is_a_json_503_to_retry(world, database_down, error):
    principal = world.school("draft").principal
    token = _api_client(principal)
    session = Client(raise_request_exception=False)
    session.force_login(principal)
    database_down(error)
    for client, method, path in [
        (token, "get", "/api/v1/letters/"),  # the token's own query fails
        (session, "get", f"/api/v1/letters/{world.letters['draft']}/"),
        (session, "post", "/api/v1/letters/"),
        (Client(raise_request_exception=False), "post", "/api/v1/auth/token/"),
    ]:
        response = (
            getattr(client, method)(
                path, {"username": "principal", "password": "x"}, content_type="application/json"
            )
            if method == "post"
            else getattr(client, method)(path)
        )
        body = _assert_json_error(response, (503,))
        assert body == {
            "code": "service_unavailable",
            "detail": "Le service est momentanément indisponible : la base de données ne "
            "répond pas. Réessayez dans quelques instants.",
        }, path
        assert response["Retry-After"] == "30"


@pytest.mark.parametrize("path", ["/api/v1/letters/", "/"])
def test_the_500_handler_answers_503_for_the_database(path):
    """Where DRF's handler never sees the error (a middleware, a view of Django's), the
    500 handler reads the exception being handled: the database's is a 503 to retry."""
    request = RequestFactory().get(path)
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = error_pages.server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    if path.startswith("/api/"):
        assert json.loads(response.content)["code"] == "service_unavailable"
    else:
        assert "Erreur 503" in response.content.decode()
    # Any other error is still the 500.
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        assert error_pages.server_error(request).status_code == 500


def test_a_page_without_its_database_is_the_french_503_page(world, database_down):
    client = Client(raise_request_exception=False)
    client.force_login(world.school("draft").principal)
    database_down()
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "<h1>Service momentanément indisponible</h1>" in page
    assert "Erreur 503" in page
    assert '<a class="fr-btn" href="/">Page d\'accueil</a>' in page
    assert "5432" not in page


# Paths with a line break -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/%0A",
        "/api/v1/letters/%0A",
        "/api/v1/letters/1%0A/",
        "/api/v1/letters/1/%0A",
        "/api/v1/letters/%0D%0A/",
        "/api/v1%0A/letters/",
        "/api/v1/auth/token/%0A",
        "/api/schema/%0A",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_a_path_with_a_line_break_under_the_api_is_the_json_404(path, method):
    response = getattr(Client(), method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "Introuvable."}
