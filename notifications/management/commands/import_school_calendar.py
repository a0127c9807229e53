from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.models import HolidayZone
from notifications.school_calendar import (
    SAMPLE,
    CalendarFileError,
    ImportResult,
    import_school_calendar,
    import_school_calendar_ics,
    zone_from_file_name,
)

# The zones the ministry publishes an iCalendar file for.
ZONE_CHOICES = {
    zone.value.lower(): zone.value
    for zone in (HolidayZone.A, HolidayZone.B, HolidayZone.C, HolidayZone.CORSE)
}


class Command(BaseCommand):
    help = (
        "Charge les vacances scolaires de chaque zone (périodes sans rappel) depuis un export "
        "CSV du jeu de données « Calendrier scolaire » (fr-en-calendrier-scolaire, "
        "data.education.gouv.fr), ou depuis le fichier iCalendar d'une zone "
        "(Calendrier_Scolaire_Zone_A.ics), et donne à chaque académie nommée sa zone. Sans "
        "fichier : l'exemple livré (vacances de Noël 2026-2027). Relancer ne change rien ; "
        "un fichier plus récent corrige les dates."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            default=str(SAMPLE),
            help="Le fichier CSV exporté (séparateur point-virgule), ou un fichier .ics.",
        )
        parser.add_argument(
            "--zone",
            help=(
                "La zone d'un fichier .ics (A, B, C ou corse) ; par défaut, celle de son nom "
                "publié (Calendrier_Scolaire_Zone_A.ics) ou celle que chaque événement nomme."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        zone = options.get("zone")
        if zone is not None and zone.lower() not in ZONE_CHOICES:
            raise CommandError(f"Zone « {zone} » inconnue : A, B, C ou corse.")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Lecture de {path} impossible : {exc}") from exc
        is_ics = path.suffix.lower() == ".ics" or data.lstrip(b"\xef\xbb\xbf \r\n").startswith(
            b"BEGIN:VCALENDAR"
        )
        try:
            if is_ics:
                zone = ZONE_CHOICES[zone.lower()] if zone else zone_from_file_name(path.name)
                result = import_school_calendar_ics(data, zone)
            elif zone is not None:
                raise CommandError(
                    "--zone ne vaut que pour un fichier .ics : le CSV donne la zone de chaque "
                    "ligne."
                )
            else:
                result = import_school_calendar(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} n'est pas un fichier texte en UTF-8 : {exc}") from exc
        except CalendarFileError as exc:
            raise CommandError(f"{path} : {exc}") from exc
        self._report(path, result, "événement(s) ignoré(s)" if is_ics else "ligne(s) ignorée(s)")

    def _report(self, path: Path, result: ImportResult, skipped: str) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Calendrier scolaire chargé depuis {path.name} : {result.created} période(s) "
                f"créée(s), {result.updated} corrigée(s), {result.unchanged} inchangée(s) ; "
                f"{result.skipped_rows} {skipped} (enseignants, territoires sans calendrier "
                "ici, dates manquantes)."
            )
        )
        if result.academies_set:
            self.stdout.write(
                "Zone des académies : "
                + ", ".join(f"{name} → {zone}" for name, zone in result.academies_set)
                + f" ; {result.academies_unchanged} déjà à jour."
            )
        else:
            self.stdout.write(
                f"Zone des académies : aucune changée ; {result.academies_unchanged} déjà à jour."
            )
