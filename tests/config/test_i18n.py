"""French first, English available: the English catalogue is complete and current, the
pages really come out in English for a browser that asks for it, and the header's
language selector switches.

The catalogue tests read locale/en/LC_MESSAGES/django.po with the small parser below
(no dependency for it). The page tests need the compiled .mo that `make` builds with
GNU gettext: without msgfmt they are skipped, saying why (a failure under CI=true)."""

from __future__ import annotations

import ast
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from tests.factories import make_letter, make_school
from workflow.lifecycle.engine import fire_transition

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# What makemessages leaves out, as `make makemessages` does.
IGNORED = [".venv", "var", "node_modules", "test-artifacts", "bench", "tests"]
MSGFMT = shutil.which("msgfmt")
needs_gettext = pytest.mark.skipif(
    MSGFMT is None, reason="needs GNU gettext (msgfmt, xgettext): apt-get install gettext"
)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header and obsolete (#~) entries left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    current: tuple[str, int] = ("", 0)
    line_re = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line or line.startswith("#~"):
            if entry is not None and not line:
                entries.append(entry)
                entry = None
            continue
        entry = entry or Entry()
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := line_re.match(line):
            name, index, text = match.group(1), int(match.group(2) or 0), match.group(3)
            current = (name, index)
            _append(entry, current, ast.literal_eval(text), start=True)
        else:
            _append(entry, current, ast.literal_eval(line), start=False)
    return [e for e in entries if e.msgid != ""]


def _append(entry: Entry, where: tuple[str, int], text: str, *, start: bool) -> None:
    name, index = where
    if name == "msgstr":
        entry.msgstr[index] = ("" if start else entry.msgstr[index]) + text
    else:
        before = "" if start else (getattr(entry, name) or "")
        setattr(entry, name, before + text)


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}")


def test_the_english_catalogue_is_complete():
    entries = parse_po(PO)
    assert len(entries) > 400, "the catalogue looks truncated"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy entries in {PO.name}: {fuzzy}"
    untranslated = [e.msgid for e in entries if not e.msgstr or not all(e.msgstr.values())]
    assert not untranslated, f"untranslated entries in {PO.name}: {untranslated}"
    plural = [e.msgid for e in entries if e.msgid_plural is not None and len(e.msgstr) != 2]
    assert not plural, f"plural entries without both English forms: {plural}"
    for e in entries:
        wanted = sorted(PLACEHOLDER.findall(e.msgid + (e.msgid_plural or "")))
        for text in e.msgstr.values():
            assert set(PLACEHOLDER.findall(text)) <= set(wanted), (e.msgid, text)
        got = sorted({p for text in e.msgstr.values() for p in PLACEHOLDER.findall(text)})
        assert got == sorted(set(wanted)), f"placeholders differ: {e.msgid!r} → {e.msgstr}"


@needs_gettext
def test_msgfmt_accepts_the_catalogue(tmp_path):
    result = subprocess.run(
        [str(MSGFMT), "--check", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@needs_gettext
def test_makemessages_finds_nothing_new(tmp_path):
    """Every string marked for translation in the code is in the catalogue, and the
    catalogue holds nothing the code no longer uses: makemessages, run on a copy of the
    sources, gives exactly the catalogue's msgids. After a new string: `make
    makemessages`, then translate it."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        # bench/ is an installed app (its command), copied though not scanned.
        ignore=shutil.ignore_patterns(
            *(name for name in IGNORED if name != "bench"),
            ".git",
            "__pycache__",
            ".*_cache",
            "*.mo",
            "results",
        ),
    )
    ignore_args = [arg for name in IGNORED for arg in ("--ignore", name)]
    env = {**os.environ, "SECRET_KEY": "makemessages-in-a-test", "DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", *ignore_args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh = {e.key for e in parse_po(copy / PO.relative_to(ROOT))}
    committed = {e.key for e in parse_po(PO)}
    assert not fresh - committed, (
        f"strings not yet in {PO.name} (run `make makemessages` and translate them): "
        f"{sorted(m for _, m in fresh - committed)}"
    )
    assert not committed - fresh, (
        f"entries of {PO.name} no longer in the code (run `make makemessages`): "
        f"{sorted(m for _, m in committed - fresh)}"
    )


# --- The pages, in English ------------------------------------------------------------

# French interface words that would betray a string left untranslated. The test data
# (names, missions, indicators) are French on purpose and avoid these.
FRENCH = [
    "À faire",
    "Lettres de mission",
    "Lettre de mission",
    "Se déconnecter",
    "Menu principal",
    "Accès rapide",
    "Accessibilité",
    "Séances des conseils",
    "Année scolaire",
    "Filtrer",
    "Établissement",
    "Tous",
    "Vos actions",
    "Historique",
    "Brouillon",
    "Concertation",
    "Ouvrir la concertation",
    "Abandonner",
    "Référents",
    "Reconnaissance",
    "Indicateurs",
    "Votre message",
    "Publier",
    "Aucun",
    "Bonjour",
    "Ce qui vous attend",
    "conditions à remplir",
    "vous êtes ici",
    "Pas encore",
    "Motif",
]


def _visible_text(html: str) -> str:
    """The text and the attributes people read (labels, titles), without the markup."""
    attributes = " ".join(re.findall(r'(?:aria-label|title|alt|placeholder)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + attributes


def _french_in(html: str) -> list[str]:
    text = _visible_text(html)
    return [word for word in FRENCH if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)]


@pytest.fixture
def english_catalogue() -> None:
    """The compiled catalogue that `make` builds; without gettext the pages cannot be
    English, so the test says so instead of failing on a machine without it."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        if MSGFMT is None:
            pytest.skip("needs the compiled catalogue: install gettext, then run `make`")
        pytest.fail(f"{MO} is missing or older than its .po: run `make` (compilemessages)")


def _heading(html: str, level: int) -> list[str]:
    return [
        re.sub(r"<[^>]+>|\s+", " ", h).strip()
        for h in re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", html, flags=re.S)
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("english_catalogue")
def test_the_pages_are_english_for_an_english_browser(client):
    school = make_school("Anglais")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    client.force_login(school.principal)

    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en"' in home
    assert _heading(home, 1) == ["Hello, Claire Martin"]
    assert "To do" in _heading(home, 2)
    assert "Submit to the teaching council" in home
    assert not _french_in(home), _french_in(home)

    letters = client.get("/lettres/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _heading(letters, 1) == ["Mission letters"]
    assert "1 letter" in letters
    assert "Consultation with the referent(s)" in letters
    assert not _french_in(letters), _french_in(letters)

    page = client.get(f"/lettres/{letter.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _heading(page, 1)[0].startswith("Mission letter — Lycée Anglais")
    assert {"Your actions", "Content", "Consultation", "History"} <= set(_heading(page, 2))
    assert "Withdraw the letter" in page
    assert "Agreement to version 1 awaited from: Sophie Durand, Karim Benali." in page
    assert not _french_in(page), _french_in(page)

    # The same pages stay French for everyone else.
    french = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="fr"' in french
    assert "À faire" in _heading(french, 2)


@pytest.mark.django_db
@pytest.mark.usefixtures("english_catalogue")
def test_the_sign_in_page_is_english_too(client):
    page = client.get("/connexion/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").content.decode()
    assert _heading(page, 1) == ["Sign in"]
    assert "Username" in page
    assert "Password" in page
    assert not _french_in(page), _french_in(page)


@pytest.mark.django_db
@pytest.mark.usefixtures("english_catalogue")
def test_the_language_selector_switches_the_language(client):
    school = make_school("Selecteur")
    client.force_login(school.principal)

    # French by default, with a button to English in a real form to set_language.
    page = client.get("/lettres/").content.decode()
    assert '<html lang="fr"' in page
    form = re.search(r'<form method="post" action="/i18n/setlang/">(.*?)</form>', page, re.S)
    assert form, "no language selector in the header"
    assert 'name="next" value="/lettres/"' in form.group(1)
    assert re.search(r'<button type="submit" name="language" value="en"', form.group(1))
    assert '<span lang="en">English</span>' in form.group(1)
    assert 'value="fr"' not in form.group(1)  # the current language is not offered

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/lettres/"})
    assert response.status_code == 302
    assert response["Location"] == "/lettres/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/lettres/").content.decode()
    assert '<html lang="en"' in page
    assert _heading(page, 1) == ["Mission letters"]
    assert re.search(r'name="language" value="fr"', page)  # and back to French
    assert '<span lang="fr">Français</span>' in page

    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert "À faire" in _heading(client.get("/").content.decode(), 2)


@pytest.mark.django_db
def test_the_language_selector_needs_its_csrf_token():
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/i18n/setlang/", {"language": "en"}).status_code == 403


@pytest.mark.django_db
@pytest.mark.usefixtures("english_catalogue")
def test_the_letter_pdf_stays_french_when_asked_for_in_english(client):
    """The letter is a French administrative document: its PDF, labels included, is
    French even for someone reading the pages in English."""
    school = make_school("Document")
    letter = make_letter(school)
    client.force_login(school.principal)
    response = client.get(f"/api/v1/letters/{letter.pk}/pdf/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "état : Brouillon" in text
    assert "Suivi des activités : bilan annuel." in text
    assert "Bureau" in text
    assert "Draft" not in text
    assert "annual review" not in text
    assert "Office" not in text


@pytest.mark.django_db
def test_the_api_answers_in_french_whatever_the_client_asks(client):
    """DESIGN §7: ``detail`` is French for every outside client; English is the pages'."""
    school = make_school("ApiFr")
    client.force_login(school.principal)
    answer = client.get("/api/v1/letters/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 404
    assert answer.json()["detail"] == "Lettre de mission introuvable."
    page = client.get("/lettres/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mission letters" in page  # the pages still follow the browser
