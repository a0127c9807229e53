from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from notifications.selectors import outbox_report


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
