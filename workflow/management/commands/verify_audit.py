from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflow.audit.chain import verify_archives, verify_chains, verify_scans, verify_versions
from workflow.audit.timestamps import verify_timestamps
from workflow.models import Archive, AuditEvent, AuditTimestamp


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes de l'historique de chaque lettre, chaque archive PDF "
        "conservée, chaque version, chaque scan de signature manuscrite et chaque horodatage "
        "quotidien de l'historique. Sort en erreur en nommant le premier élément altéré."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # Each check, what its findings are called, and the first one's words.
        checks: list[tuple[Sequence[object], str, str]] = [
            (verify_chains(), "Chaîne rompue", "Premier événement altéré"),
            (verify_archives(), "Archive altérée", "Première archive altérée"),
            (verify_versions(), "Version altérée", "Première version altérée"),
            (verify_scans(), "Scan altéré", "Premier scan altéré"),
            (
                verify_timestamps(),
                "Horodatage qui ne correspond plus",
                "Premier horodatage qui ne correspond plus",
            ),
        ]
        for findings, label, _first in checks:
            for found in findings:
                self.stderr.write(f"{label} — {found}")
        for findings, _label, first in checks:
            if findings:
                raise CommandError(f"{first} : {findings[0]}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Historique intègre : {AuditEvent.objects.count()} événement(s), "
                f"{Archive.objects.count()} archive(s) et "
                f"{AuditTimestamp.objects.count()} horodatage(s) quotidien(s) vérifiés."
            )
        )
