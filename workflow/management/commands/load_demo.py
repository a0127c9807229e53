from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from governance import demo as governance_demo
from workflow.models import MissionLetter
from workflow.services import demo as workflow_demo


class Command(BaseCommand):
    help = (
        "Charge les données de démonstration (académie de Dijon, Lycée Carnot, comptes "
        "de démonstration au mot de passe « demo »). Relancer ne change rien. "
        "Jamais en production."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.ALLOW_DEMO_DATA:
            raise CommandError(
                "Les données de démonstration sont refusées ici (ALLOW_DEMO_DATA est faux) : "
                "leurs comptes ont un mot de passe connu de tous."
            )
        with transaction.atomic():
            demo = governance_demo.load()
            workflow_demo.load(demo)
        self.stdout.write(
            self.style.SUCCESS(
                f"Données de démonstration prêtes : {demo.academy}, {demo.carnot}, "
                f"{demo.college}, années {demo.current_year} et {demo.next_year}, "
                f"{len(demo.users)} comptes (mot de passe « demo »), "
                f"{MissionLetter.objects.count()} lettres de mission."
            )
        )
