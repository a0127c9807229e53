from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflow.audit.chain import verify_archives, verify_chains, verify_versions
from workflow.models import Archive, AuditEvent


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes de l'historique de chaque lettre et chaque archive PDF "
        "conservée. Sort en erreur en nommant le premier événement ou la première archive "
        "altérés."
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
        if breaks:
            raise CommandError(f"Premier événement altéré : {breaks[0]}")
        if problems:
            raise CommandError(f"Première archive altérée : {problems[0]}")
        if versions:
            raise CommandError(f"Première version altérée : {versions[0]}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Historique intègre : {AuditEvent.objects.count()} événement(s) et "
                f"{Archive.objects.count()} archive(s) vérifiés."
            )
        )
