"""``manage.py bench_data``: the benchmark's data set (bench/README.md), built by ``bench.data``."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.data import (
    ESTABLISHMENTS_PER_ACADEMY,
    SECOND_LETTER_SHARE,
    BenchDataRefused,
    generate,
)


class Command(BaseCommand):
    help = (
        "Génère un jeu de données à l'échelle nationale pour le banc d'essai (bench/) : "
        "établissements, personnes, lettres dans tous les états avec leur historique. "
        "Refusé sans ALLOW_BENCH_DATA ; jamais en production (mot de passe « bench »)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--establishments", type=int, default=7800)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--seed", type=int, default=8)
        parser.add_argument(
            "--per-academy",
            type=int,
            default=ESTABLISHMENTS_PER_ACADEMY,
            help="établissements par académie (700 : la plus grande académie)",
        )
        parser.add_argument(
            "--second-letter-share",
            type=float,
            default=SECOND_LETTER_SHARE,
            help="part des établissements-années qui ont une seconde lettre (0 à 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["establishments"] < 1 or options["years"] < 1:
            raise CommandError("--establishments et --years : au moins 1.")
        if options["per_academy"] < 1 or not 0 <= options["second_letter_share"] <= 1:
            raise CommandError("--per-academy : au moins 1 ; --second-letter-share : de 0 à 1.")
        try:
            summary = generate(
                options["establishments"],
                options["years"],
                seed=options["seed"],
                per_academy=options["per_academy"],
                second_letter_share=options["second_letter_share"],
                log=self.stdout.write,
            )
        except BenchDataRefused as exc:
            raise CommandError(str(exc)) from exc
        states = ", ".join(f"{state} {count}" for state, count in sorted(summary.states.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.academies} académies, {summary.establishments} établissements, "
                f"{summary.users} comptes, {summary.letters} lettres ({states}), "
                f"{summary.events} événements, {summary.comments} commentaires, "
                f"{summary.meetings} séances, {summary.opinions} avis, "
                f"{summary.signatures} signatures, {summary.outbox} demandes traitées."
            )
        )
