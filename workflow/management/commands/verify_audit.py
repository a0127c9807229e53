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
        breaks = verify_chains()
        for found in breaks:
            self.stderr.write(f"Chaîne rompue — {found}")
        problems = verify_archives()
        for problem in problems:
            self.stderr.write(f"Archive altérée — {problem}")
        versions = verify_versions()
        for version in versions:
            self.stderr.write(f"Version altérée — {version}")
        scans = verify_scans()
        for scan in scans:
            self.stderr.write(f"Scan altéré — {scan}")
        stamps = verify_timestamps()
        for stamp in stamps:
            self.stderr.write(f"Horodatage qui ne correspond plus — {stamp}")
        if breaks:
            raise CommandError(f"Premier événement altéré : {breaks[0]}")
        if problems:
            raise CommandError(f"Première archive altérée : {problems[0]}")
        if versions:
            raise CommandError(f"Première version altérée : {versions[0]}")
        if scans:
            raise CommandError(f"Premier scan altéré : {scans[0]}")
        if stamps:
            raise CommandError(f"Premier horodatage qui ne correspond plus : {stamps[0]}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Historique intègre : {AuditEvent.objects.count()} événement(s), "
                f"{Archive.objects.count()} archive(s) et "
                f"{AuditTimestamp.objects.count()} horodatage(s) quotidien(s) vérifiés."
            )
        )
