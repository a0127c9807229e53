"""What each e-mail says, read as its recipient reads it, through a real SMTP server
(aiosmtpd): the comment's author, subject and text; the reason of a return and who
gave it; the council's opinion, meeting and votes; who signed, in what quality; and
links that open, for their recipient, the page where they act. The links follow
``SITE_URL``, whose default follows the port ``make run`` serves on, and which
``check --deploy`` requires."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from governance.models import User
from notifications.checks import site_url
from notifications.emails import QUOTED_LENGTH
from notifications.services import process_notifications, send_pending_emails
from tests.factories import (
    advance,
    complete_report,
    fire,
    make_letter,
    make_school,
    opinion_payload,
    shown,
)
from tests.servers import SmtpServer, free_port
from workflow.models import LetterIndicator, LetterMission, MissionLetter
from workflow.services.comments import add_comment
from workflow.services.content import update_letter

pytestmark = pytest.mark.django_db

SITE = "https://lettres.example.fr"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE + "/"


# The SMTP server, keeping each message whole -------------------------------------------------


@dataclass
class Mail:
    to: str
    message: EmailMessage

    @property
    def subject(self) -> str:
        return " ".join(str(self.message["Subject"]).split())

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content())


class WholeMessages:
    """An aiosmtpd handler keeping every accepted message, its bodies included."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        for to in envelope.rcpt_tos:
            self.mails.append(Mail(to, message))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[WholeMessages]:
    handler = WholeMessages()
    server = SmtpServer(handler, free_port())  # type: ignore[arg-type]
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield handler
    server.stop()


def delivered(smtp: WholeMessages, step: Callable[[], object]) -> list[Mail]:
    """The e-mails the SMTP server received because of ``step``."""
    process_notifications()
    send_pending_emails()
    before = len(smtp.mails)
    step()
    process_notifications()
    send_pending_emails()
    return smtp.mails[before:]


def to(mails: list[Mail], user: User) -> Mail:
    mine = [m for m in mails if m.to == user.email]
    assert len(mine) == 1, [(m.to, m.subject) for m in mails]
    return mine[0]


def flat(text: str) -> str:
    return " ".join(text.split())


# Substance -----------------------------------------------------------------------------------


def test_a_comment_mail_gives_its_author_subject_and_text_and_links_to_it(smtp):
    school = make_school("Commentaire")
    letter = advance(make_letter(school), school, "concertation")
    mission = LetterMission.objects.filter(letter=letter).order_by("order", "pk").last()
    assert mission is not None
    long_text = "Et le club <robotique> ? " + "x" * 1200 + " FIN-CACHÉE"
    mails = delivered(
        smtp,
        lambda: add_comment(
            letter_id=letter.pk, user=school.referent1, body=long_text, mission_id=mission.pk
        ),
    )
    comment = letter.comments.get()
    mail = to(mails, school.principal)
    assert {m.to for m in mails} == {school.principal.email, school.referent2.email}
    text = mail.text
    assert "Auteur : Sophie Durand, référent numérique" in text
    assert f"À propos de : la mission « {mission.text} »" in text
    assert "> Et le club <robotique> ? xxx" in text
    assert long_text[:QUOTED_LENGTH] in text.replace("\n> ", "")
    assert "FIN-CACHÉE" not in text
    assert f"{SITE}/lettres/{letter.pk}/#message-{comment.pk}" in text
    html = mail.html
    assert "<robotique>" not in html
    assert escape("Et le club <robotique> ?") in html
    assert f'href="{SITE}/lettres/{letter.pk}/#message-{comment.pk}"' in html
    assert "Sophie Durand" in html

    indicator = LetterIndicator.objects.filter(letter=letter).order_by("order", "pk").first()
    assert indicator is not None
    mails = delivered(
        smtp,
        lambda: add_comment(
            letter_id=letter.pk,
            user=school.principal,
            body="Précisons la cible.",
            indicator_id=indicator.pk,
        ),
    )
    mail = to(mails, school.referent1)
    assert "Auteur : Claire Martin, chef d'établissement" in mail.text
    assert f"À propos de : l'indicateur « {indicator.text} »" in mail.text
    assert "> Précisons la cible." in mail.text


@pytest.mark.parametrize(
    ("state", "name", "topic_subject", "by"),
    [
        ("concertation", "return_to_draft", "Lettre de mission revenue au brouillon", "principal"),
        ("pedagogical_council", "reopen_concertation", "Concertation rouverte", "principal"),
        ("board", "withdraw", "Lettre de mission abandonnée", "deputy"),
        ("in_force", "open_report", "Compte rendu de mission attendu", "deputy"),
    ],
)
def test_a_return_reopening_withdrawal_or_early_end_gives_the_reason_and_who(
    smtp, state, name, topic_subject, by
):
    school = make_school(f"Motif-{name}")
    letter = advance(make_letter(school), school, state)
    actor = getattr(school, by)
    reason = "Les <missions> ne sont pas\nassez précises."
    mails = delivered(smtp, lambda: fire(letter, name, actor, reason=reason))
    assert {m.to for m in mails} >= {school.referent1.email, school.referent2.email}
    for referent in (school.referent1, school.referent2):
        mail = to(mails, referent)
        assert mail.subject.startswith(topic_subject)
        who = (
            "Claire Martin, chef d'établissement"
            if by == "principal"
            else "Julien Bernard, adjoint, par délégation du chef d'établissement"
        )
        assert f"Motif donné par : {who}" in mail.text
        assert "> Les <missions> ne sont pas\n> assez précises." in mail.text
        assert escape("Les <missions> ne sont pas") + "<br>assez précises." in mail.html
        assert escape(who) in mail.html


def test_a_returned_report_gives_the_reason_and_links_to_the_report(smtp):
    school = make_school("Renvoi")
    letter = advance(make_letter(school), school, "report_due")
    complete_report(letter, school.referent1)
    fire(letter, "submit_report", school.referent1)
    mails = delivered(
        smtp, lambda: fire(letter, "return_report", school.principal, reason="Chiffrez les PIX.")
    )
    mail = to(mails, school.referent2)
    assert "Motif donné par : Claire Martin, chef d'établissement" in mail.text
    assert "> Chiffrez les PIX." in mail.text
    assert f"Compléter le compte rendu : {SITE}/lettres/{letter.pk}/compte-rendu/" in mail.text


def test_an_opinion_mail_gives_the_council_meeting_opinion_votes_and_remarks(smtp):
    school = make_school("Avis")
    letter = advance(make_letter(school), school, "pedagogical_council")
    cp_day = timezone.localtime(school.cp_meeting.starts_at).strftime("%d/%m/%Y à %H:%M")
    ca_day = timezone.localtime(school.ca_meeting.starts_at).strftime("%d/%m/%Y à %H:%M")
    mails = delivered(
        smtp,
        lambda: fire(
            letter,
            "record_pedagogical_opinion",
            school.cp_secretary,
            **opinion_payload(
                school.cp_meeting,
                "reserve",
                remarks="Alléger la <mission> 3.",
                board_meeting=school.ca_meeting.pk,
            ),
        ),
    )
    for person in (school.principal, school.referent1, school.referent2):
        text = to(mails, person).text
        assert "Conseil : Conseil pédagogique" in text
        assert f"Séance du : {cp_day}" in text
        assert "Avis : Réservé" in text
        assert "> Alléger la <mission> 3." in text
        assert "Saisi par : Anne Petit, secrétaire du conseil pédagogique" in text
        assert escape("Alléger la <mission> 3.") in to(mails, person).html
    # The CA's secretary is sent to the opinion form of the meeting it is on the agenda of.
    request = to(mails, school.ca_secretary)
    assert f"Avis attendu à la séance du : {ca_day}" in request.text
    assert f"{SITE}/seances/{school.ca_meeting.pk}/avis/" in request.text
    assert f'href="{SITE}/seances/{school.ca_meeting.pk}/avis/"' in request.html

    mails = delivered(
        smtp,
        lambda: fire(
            letter,
            "record_board_opinion",
            school.ca_secretary,
            **opinion_payload(school.ca_meeting),
        ),
    )
    for person in (school.principal, school.referent1, school.referent2):
        mail = to(mails, person)
        assert mail.subject.startswith("Lettre de mission à signer")
        text = mail.text
        assert "Conseil : Conseil d'administration" in text
        assert f"Séance du : {ca_day}" in text
        assert "Avis : Favorable" in text
        assert "Votes : 20 pour, 2 contre, 1 abstention, 0 ne prenant pas part au vote" in text
        assert "Membres présents : 23 sur 30 membres en exercice (quorum atteint)" in text
        assert "Saisi par : Luc Moreau, secrétaire du conseil d'administration" in text
        # A letter to sign: the link goes to the signature form.
        assert f"{SITE}/lettres/{letter.pk}/#action-sign" in text


def test_signatures_name_the_signer_and_quality_and_in_force_tells_every_signatory(smtp):
    school = make_school("Signatures")
    letter = advance(make_letter(school), school, "signature")
    # The deputy signs for the principal: she is told, with who signed and as what.
    mails = delivered(smtp, lambda: fire(letter, "sign", school.deputy, **shown(letter)))
    mail = to(mails, school.principal)
    assert [m.to for m in mails] == [school.principal.email]
    assert mail.subject.startswith("Lettre de mission signée pour vous")
    assert "Signée par : Julien Bernard" in mail.text
    assert "En qualité de : Pour le chef d'établissement et par délégation, l'adjoint" in mail.text
    assert f"Version signée : {letter.version}" in mail.text
    assert escape("Pour le chef d'établissement et par délégation, l'adjoint") in mail.html

    # A référent's signature tells nobody yet.
    assert delivered(smtp, lambda: fire(letter, "sign", school.referent1, **shown(letter))) == []

    # The last signature: every signatory is told, the last one included, and the
    # principal, with every signature and its quality.
    mails = delivered(smtp, lambda: fire(letter, "sign", school.referent2, **shown(letter)))
    told = {school.principal, school.deputy, school.referent1, school.referent2}
    assert sorted(m.to for m in mails) == sorted(u.email for u in told)
    for person in told:
        mail = to(mails, person)
        assert mail.subject.startswith("Lettre de mission en vigueur")
        text = flat(mail.text)
        assert "Signée par : Karim Benali" in text
        assert "En qualité de : Le référent numérique" in text
        assert "Julien Bernard — Pour le chef d'établissement et par délégation, l'adjoint" in text
        assert "Sophie Durand — Le référent numérique" in text
        assert "Karim Benali — Le référent numérique" in text


def test_a_paper_signature_names_its_signatory_and_who_recorded_it(
    smtp: WholeMessages, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    school = make_school("Papier-mail")
    letter = advance(make_letter(school), school, "signature")
    fire(letter, "sign", school.principal, **shown(letter))
    fire(letter, "sign", school.referent2, **shown(letter))
    # The principal records Sophie Durand's signature on the printed letter: the last.
    scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 signed on paper", "application/pdf")
    mails = delivered(
        smtp,
        lambda: fire(
            letter,
            "record_paper_signature",
            school.principal,
            signer=school.referent1.pk,
            scan=scan,
        ),
    )
    text = flat(to(mails, school.referent1).text)
    assert "Signée par : Sophie Durand" in text
    assert "En qualité de : Le référent numérique" in text
    assert "Signature : manuscrite, sur la version imprimée (scan joint à la lettre)" in text
    assert "Enregistrée par : Claire Martin, chef d'établissement" in text
    assert "Signée par : Claire Martin" not in text


def test_a_principal_who_signs_herself_gets_no_signature_mail(smtp):
    school = make_school("Signe-seule")
    letter = advance(make_letter(school), school, "signature")
    assert delivered(smtp, lambda: fire(letter, "sign", school.principal, **shown(letter))) == []


def test_a_new_version_mail_says_what_changed_and_who_changed_it(smtp):
    school = make_school("Version")
    letter = advance(make_letter(school), school, "concertation")
    mails = delivered(
        smtp,
        lambda: update_letter(
            letter_id=letter.pk,
            user=school.deputy,
            changes={"qualification": "PIX niveau 5"},
        ),
    )
    mail = to(mails, school.referent1)
    assert "Par : Julien Bernard, adjoint, par délégation du chef d'établissement" in mail.text
    assert "Nouvelle version : 2" in mail.text
    assert "après : PIX niveau 5" in mail.text
    assert f"{SITE}/lettres/{letter.pk}/?depuis=1#changements" in mail.text


def test_every_mail_says_where_to_choose_which_mails_come(smtp):
    school = make_school("Pied")
    letter = make_letter(school)
    mails = delivered(smtp, lambda: fire(letter, "open_concertation", school.principal))
    assert mails
    for mail in mails:
        assert (
            f"Pour choisir quels courriels vous recevez et quand : {SITE}/mes-notifications/"
            in mail.text
        )
        assert f'href="{SITE}/mes-notifications/"' in mail.html


# Every link of a whole lifecycle opens, for its recipient -------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value or "" for name, value in attrs if name == "href"]


def links_of(mail: Mail) -> set[str]:
    """Every link of a mail, in its text and its HTML (both say the same)."""
    in_text = set(re.findall(r"https?://\S+", mail.text))
    parser = _Links()
    parser.feed(mail.html)
    in_html = set(parser.hrefs)
    assert in_text == in_html, (mail.subject, in_text ^ in_html)
    return in_text


def follow(mail: Mail, recipients: dict[str, User], seen: list[str]) -> None:
    """Open each link of ``mail`` as its recipient: 200, and the place it names is on
    the page."""
    user = recipients[mail.to]
    client = Client()
    client.force_login(user)
    for link in links_of(mail):
        assert link.startswith(f"{SITE}/"), link
        parts = urlsplit(link)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.get(path)
        assert response.status_code == 200, (mail.subject, user.username, link)
        if parts.fragment:
            assert f'id="{parts.fragment}"' in response.content.decode(), (
                mail.subject,
                user.username,
                link,
            )
        seen.append(f"{mail.subject.split(' — ')[0]} → {parts.path}#{parts.fragment}")


def test_every_link_of_every_mail_of_a_lifecycle_opens_for_its_recipient(smtp):
    school = make_school("Liens")
    letter: MissionLetter = make_letter(school)
    p, deputy, r1, r2 = school.principal, school.deputy, school.referent1, school.referent2
    recipients = {u.email: u for u in school.people().values()}
    seen: list[str] = []
    topics: set[str] = set()

    def step(action: Callable[[], object]) -> None:
        for mail in delivered(smtp, action):
            topics.add(mail.subject.split(" — ")[0])
            follow(mail, recipients, seen)

    def again() -> dict[str, str]:
        letter.refresh_from_db()
        return shown(letter)

    step(lambda: fire(letter, "open_concertation", p))
    step(lambda: add_comment(letter_id=letter.pk, user=r1, body="Et le club robotique ?"))
    step(lambda: update_letter(letter_id=letter.pk, user=p, changes={"qualification": "PIX 5"}))
    step(lambda: fire(letter, "agree", r1, **again()))
    step(lambda: fire(letter, "agree", r2, **again()))
    step(lambda: fire(letter, "submit_to_pedagogical_council", p, meeting=school.cp_meeting.pk))
    step(lambda: fire(letter, "reopen_concertation", p, reason="Revoir la mission 3"))
    step(lambda: fire(letter, "agree", r1, **again()))
    step(lambda: fire(letter, "agree", r2, **again()))
    step(lambda: fire(letter, "submit_to_pedagogical_council", p))
    step(
        lambda: fire(
            letter,
            "record_pedagogical_opinion",
            school.cp_secretary,
            **opinion_payload(school.cp_meeting, board_meeting=school.ca_meeting.pk),
        )
    )
    step(
        lambda: fire(
            letter,
            "record_board_opinion",
            school.ca_secretary,
            **opinion_payload(school.ca_meeting),
        )
    )
    step(lambda: fire(letter, "sign", deputy, **again()))
    step(lambda: fire(letter, "sign", r1, **again()))
    step(lambda: fire(letter, "sign", r2, **again()))
    step(lambda: fire(letter, "open_report", p, reason="Départ de Sophie Durand"))
    complete_report(letter, r1)
    step(lambda: fire(letter, "submit_report", r1))
    step(lambda: fire(letter, "return_report", p, reason="Chiffrez les résultats"))
    step(lambda: fire(letter, "submit_report", r2))
    step(lambda: fire(letter, "acknowledge_report", p))
    letter.refresh_from_db()
    assert letter.state == "closed"

    assert topics >= {
        "Concertation ouverte sur votre lettre de mission",
        "Nouveau message dans la concertation",
        "Lettre de mission modifiée",
        "Un référent a donné son accord",
        "Avis attendu sur une lettre de mission",
        "Lettre de mission soumise aux conseils",
        "Concertation rouverte",
        "Avis enregistré sur la lettre de mission",
        "Lettre de mission à signer",
        "Lettre de mission signée pour vous",
        "Lettre de mission en vigueur",
        "Compte rendu de mission attendu",
        "Compte rendu de mission remis",
        "Compte rendu renvoyé",
        "Compte rendu reçu : lettre de mission close",
    }, topics
    # The places people act were among the links followed.
    places = "\n".join(seen)
    assert f"/seances/{school.cp_meeting.pk}/avis/" in places
    assert f"/seances/{school.ca_meeting.pk}/avis/" in places
    assert f"/lettres/{letter.pk}/#action-sign" in places
    assert f"/lettres/{letter.pk}/compte-rendu/" in places
    assert f"/lettres/{letter.pk}/#action-agree" in places
    assert "/mes-notifications/#" in places


# SITE_URL: the port of `make run`, and required in production --------------------------------


def _settings_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SITE_URL", "PORT", "WEB_PORT", "DATABASE_URL"}
    }
    env.update(SECRET_KEY="x", DJANGO_SETTINGS_MODULE="config.settings")
    env.update(extra)
    return env


PRINT_SITE_URL = "import django; django.setup(); from django.conf import settings; " + (
    "print(settings.SITE_URL)"
)


def test_the_default_site_url_follows_the_port_make_run_serves_on():
    done = subprocess.run(
        [sys.executable, "-c", PRINT_SITE_URL],
        cwd=ROOT,
        env=_settings_env(PORT="8001"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "http://127.0.0.1:8001"


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_the_procfile_gives_the_worker_and_beat_the_web_port(process):
    """honcho gives each process of the Procfile a PORT of its own (8001, 8101, 8201 for
    `PORT=8001 make run`); the worker, which writes the e-mails, links to the web's."""
    line = next(
        line
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith(f"{process}:")
    )
    command = line.split(":", 1)[1].strip()
    prefix = command[: command.index(".venv/bin/")]
    makefile = (ROOT / "Makefile").read_text()
    assert "PORT=$(PORT) WEB_PORT=$(PORT) $(BIN)/honcho -f Procfile start" in makefile
    done = subprocess.run(
        f"{prefix} {sys.executable} -c '{PRINT_SITE_URL}'",
        shell=True,
        cwd=ROOT,
        env=_settings_env(PORT="8101", WEB_PORT="8001"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "http://127.0.0.1:8001"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:8000", "notifications.E001"),
        ("http://localhost:8001/", "notifications.E001"),
        ("http://lettres.example.fr", "notifications.E002"),
        ("https://lettres.example.fr", None),
    ],
)
def test_check_deploy_requires_a_public_https_site_url(settings, url, error):
    settings.SITE_URL = url
    assert [message.id for message in site_url()] == ([error] if error else [])


def test_check_deploy_fails_without_site_url(tmp_path):
    env = _settings_env(ALLOWED_HOSTS="lettres.example.fr", VAR_DIR=str(tmp_path / "var"))
    env.pop("DEBUG", None)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "notifications.E001" in done.stderr + done.stdout
    assert "SITE_URL n'est pas défini" in done.stderr + done.stdout
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, "SITE_URL": "https://lettres.example.fr"},
        capture_output=True,
        text=True,
    )
    assert "notifications.E00" not in done.stderr + done.stdout
