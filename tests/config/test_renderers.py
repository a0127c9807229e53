"""The API's JSON renderer (``config.renderers.JSONRenderer``) writes what DRF's writes, byte
for byte: on values made to catch every difference, and on the API's own answers."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from rest_framework import renderers
from rest_framework.test import APIClient

from config.renderers import JSONRenderer
from governance.models import User


def _both(data: Any, media_type: str | None = None) -> tuple[bytes, bytes]:
    return (
        JSONRenderer().render(data, media_type),
        renderers.JSONRenderer().render(data, media_type),
    )


PARIS = ZoneInfo("Europe/Paris")
MADE_TO_DIFFER = {
    "utc": dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC),
    "utc with micros": dt.datetime(2026, 12, 3, 9, 30, 1, 123456, tzinfo=dt.UTC),
    "paris": dt.datetime(2026, 12, 3, 9, 30, tzinfo=PARIS),
    "naive": dt.datetime(2026, 12, 3, 9, 30, 1, 500),
    "date": dt.date(2026, 12, 3),
    "time": dt.time(9, 30, 0, 250000),
    "duration": dt.timedelta(hours=1, seconds=1),
    "decimal": Decimal("1250.50"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "lazy": gettext_lazy("À faire"),
    "accents and quotes": 'Lycée « Jean-Moulin » "et" \\ l’école',
    "line separators": "a\u2028b\u2029c",
    "controls": "".join(chr(code) for code in range(32)) + "\x7f",
    "emoji": "🎓",
    "numbers": [0, -1, 2**63 - 1, -(2**63), True, False, None],
    "integer keys": {1: "un", 2: "deux"},
    "nested": {"tuple": (1, (2, 3)), "empty": {}, "list": []},
}


@pytest.mark.parametrize("key", sorted(MADE_TO_DIFFER))
def test_each_kind_of_value_is_written_as_drf_writes_it(key: str):
    ours, drfs = _both({key: MADE_TO_DIFFER[key]})
    assert ours == drfs


def test_what_orjson_cannot_write_or_an_indented_answer_is_drfs_own():
    assert _both({"huge": 2**70}) == (b'{"huge":1180591620717411303424}',) * 2
    indented = _both({"a": [1]}, "application/json; indent=2")
    assert indented[0] == indented[1] == b'{\n  "a": [\n    1\n  ]\n}'
    assert JSONRenderer().render(None) == b""


def test_what_drf_refuses_is_refused():
    @dataclass
    class Row:
        value: int

    for refused in (Row(1), object()):
        with pytest.raises(TypeError):
            renderers.JSONRenderer().render({"value": refused})
        with pytest.raises(TypeError):
            JSONRenderer().render({"value": refused})


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6
    )
    | st.datetimes(timezones=st.sampled_from([dt.UTC, PARIS]))
    | st.dates(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@examples(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_value_made_of_what_the_api_writes_is_written_as_drf_writes_it(value: Any):
    ours, drfs = _both(value)
    assert ours == drfs


@pytest.mark.django_db
def test_every_answer_of_the_api_is_the_one_drf_would_write(settings: Any):
    settings.ALLOW_DEMO_DATA = True
    call_command("load_demo")
    client = APIClient()
    client.force_authenticate(User.objects.get(username="principal"))
    paths = ["/api/v1/letters/", "/api/v1/meetings/"]
    letters = client.get("/api/v1/letters/").data["results"]
    assert letters
    for letter in letters:
        base = f"/api/v1/letters/{letter['id']}/"
        paths += [base, f"{base}history/", f"{base}comments/", f"{base}transitions/"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content == renderers.JSONRenderer().render(response.data), path
    refused = client.get("/api/v1/letters/999999/")
    assert refused.status_code == 404
    assert refused.content == renderers.JSONRenderer().render(refused.data)
