from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from governance.services import load_catalogue


class Command(BaseCommand):
    help = (
        "Charge le catalogue des missions (documents sources 003 et 004). "
        "Sans effet s'il est déjà chargé."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Remplace aussi les intitulés modifiés depuis l'administration.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_catalogue(overwrite=options["overwrite"])
        self.stdout.write(
            f"Catalogue : {result.headings_created} rubrique(s) et {result.items_created} "
            f"mission(s) créées, {result.items_updated} mise(s) à jour."
        )
