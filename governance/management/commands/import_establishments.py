from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.directory import SKIP_REASONS, DirectoryFileError, import_directory

# How many invalid UAIs the report names; the count covers them all.
SHOWN_INVALID_UAIS = 10


class Command(BaseCommand):
    help = (
        "Importe les académies et les EPLE publics (collèges, lycées, lycées professionnels, "
        "EREA) depuis l'export CSV du jeu de données « Annuaire de l'éducation » "
        "(fr-en-annuaire-education, data.education.gouv.fr). Relancer ne change rien ; les "
        "lignes écartées sont comptées par motif."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path", help="Le fichier CSV exporté (séparateur point-virgule, UTF-8)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        on_terminal = self.stderr.isatty()

        def progress(rows: int) -> None:
            self.stderr.write(f"\r{rows} lignes lues…", ending="")
            self.stderr.flush()

        try:
            with path.open(encoding="utf-8-sig", newline="") as lines:
                result = import_directory(lines, progress=progress if on_terminal else None)
        except OSError as exc:
            raise CommandError(f"Lecture de {path} impossible : {exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} n'est pas un fichier texte en UTF-8 : {exc}") from exc
        except DirectoryFileError as exc:
            raise CommandError(f"{path} : {exc}") from exc
        finally:
            if on_terminal:
                self.stderr.write("")

        write = self.stdout.write
        write(f"Annuaire importé depuis {path.name} : {result.rows} ligne(s) lue(s).")
        write(
            f"Établissements : {result.created} créé(s), {result.updated} mis à jour, "
            f"{result.unchanged} inchangé(s) ; {result.closed} marqué(s) fermé(s), "
            f"{result.reopened} rouvert(s)."
        )
        created = ", ".join(result.academies_created) or "aucune"
        updated = ", ".join(result.academies_updated) or "aucune"
        write(f"Académies créées : {created} ; renommées : {updated}.")
        write(f"Lignes écartées : {result.skipped_rows}.")
        for reason, label in SKIP_REASONS.items():
            count = result.skipped[reason]
            if not count:
                continue
            line = f"  - {label} : {count}"
            if reason == "uai_invalide":
                shown = result.invalid_uais[:SHOWN_INVALID_UAIS]
                more = count - len(shown)
                line += " (" + ", ".join(shown) + (f" et {more} autre(s)" if more else "") + ")"
            write(line)
        if result.repeated_uais:
            repeated = ", ".join(
                f"{uai} ({count} lignes)" for uai, count in result.repeated_uais.items()
            )
            write(
                f"UAI présents sur plusieurs lignes : {len(result.repeated_uais)} — {repeated} ; "
                "la dernière ligne de chacun est retenue."
            )
        self.stdout.write(self.style.SUCCESS("Import de l'annuaire terminé."))
