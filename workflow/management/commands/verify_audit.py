from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflow.audit import verify_chains
from workflow.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes de l'historique de chaque lettre. Sort en erreur en "
        "nommant le premier événement altéré."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = verify_chains()
        if breaks:
            for found in breaks:
                self.stderr.write(f"Chaîne rompue — {found}")
            raise CommandError(f"Premier événement altéré : {breaks[0]}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Historique intègre : {AuditEvent.objects.count()} événement(s) vérifié(s)."
            )
        )
