from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from notifications.school_calendar import SAMPLE, CalendarFileError, import_school_calendar


class Command(BaseCommand):
    help = (
        "Charge les vacances scolaires de chaque zone (périodes sans rappel) depuis un export "
        "CSV du jeu de données « Calendrier scolaire » (fr-en-calendrier-scolaire, "
        "data.education.gouv.fr). Sans fichier : l'exemple livré (vacances de Noël "
        "2026-2027). Relancer ne change rien ; un fichier plus récent corrige les dates."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            default=str(SAMPLE),
            help="Le fichier CSV exporté (séparateur point-virgule).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Lecture de {path} impossible : {exc}") from exc
        try:
            result = import_school_calendar(text)
        except CalendarFileError as exc:
            raise CommandError(f"{path} : {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Calendrier scolaire chargé depuis {path.name} : {result.created} période(s) "
                f"créée(s), {result.updated} corrigée(s), {result.unchanged} inchangée(s) ; "
                f"{result.skipped_rows} ligne(s) ignorée(s) (enseignants, outre-mer, dates "
                "manquantes)."
            )
        )
