"""The API's JSON for a letter is a contract (DESIGN §7): outside clients read it.

The demo letters, made at a fixed moment with fixed identifiers, are read through the
API as the DAN sees them (every letter of the académie, list and detail) and compared,
byte for byte, with ``contract/demo_letters.json``, written by the code before letters
were read from their stored versions. A change to the shape or to a value fails here;
if it is meant, the file is rewritten (``UPDATE_CONTRACT=1``) and the change said in
the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from governance.models import User

CONTRACT = Path(__file__).parent / "contract" / "demo_letters.json"
MOMENT = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)


def _read_demo_letters(client: Client) -> dict[str, Any]:
    client.force_login(User.objects.get(username="dan"))
    listed = client.get("/api/v1/letters/", {"page_size": 200})
    assert listed.status_code == 200
    body = listed.json()
    details = {}
    for letter in body["results"]:
        detail = client.get(f"/api/v1/letters/{letter['id']}/")
        assert detail.status_code == 200
        details[str(letter["id"])] = detail.json()
    return {"list": body, "details": details}


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_demo_letters_read_through_the_api_as_the_contract_says(settings: Any) -> None:
    settings.ALLOW_DEMO_DATA = True
    with time_machine.travel(MOMENT, tick=False):
        call_command("load_demo", verbosity=0)
        read = _read_demo_letters(Client())
    assert read["list"]["count"] >= 4
    written = json.dumps(read, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_CONTRACT") == "1":
        CONTRACT.write_text(written, encoding="utf-8")
    assert written == CONTRACT.read_text(encoding="utf-8")
