from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications.selectors import outbox_report, smtp_health


class Command(BaseCommand):
    help = (
        "État de la file des traitements : demandes et courriels en attente, en échec (avec "
        "la dernière erreur) et âge du plus ancien élément en attente."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--max-age",
            type=int,
            default=None,
            metavar="MINUTES",
            help="Sortir en erreur si un élément attend depuis plus de MINUTES minutes.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = outbox_report()
        age = report.oldest_pending_age
        self.stdout.write(f"Demandes en attente : {report.pending_requests}")
        self.stdout.write(f"Demandes en échec : {report.failed_requests}")
        self.stdout.write(f"Courriels en attente : {report.pending_emails}")
        self.stdout.write(f"Courriels réservés au récapitulatif : {report.held_for_digest}")
        self.stdout.write(f"Courriels en échec : {report.failed_emails}")
        self.stdout.write(
            "Plus ancien élément en attente : "
            + (f"{int(age.total_seconds() // 60)} min" if age is not None else "aucun")
        )
        smtp = smtp_health()
        if smtp.failing and smtp.failing_since is not None:
            since = timezone.localtime(smtp.failing_since).strftime("%d/%m/%Y %H:%M")
            self.stdout.write(
                f"Serveur de courriel : en échec depuis le {since} "
                f"(dernière erreur : {smtp.last_error})"
            )
        else:
            self.stdout.write("Serveur de courriel : aucun échec en cours")
        for failure in report.recent_failures:
            self.stdout.write(
                f"  échec {failure.key} ({failure.attempts} tentative(s)) : {failure.last_error}"
            )
        if (
            options["max_age"] is not None
            and age is not None
            and (age.total_seconds() > options["max_age"] * 60)
        ):
            raise CommandError(f"Un élément attend depuis plus de {options['max_age']} minutes.")
        if not report.healthy:
            raise CommandError("Des envois ou des archives sont en échec.")
