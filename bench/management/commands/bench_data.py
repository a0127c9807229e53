"""``manage.py bench_data``: the benchmark's data set (bench/README.md), built by ``bench.data``."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.data import BenchDataRefused, generate


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

    def handle(self, *args: Any, **options: Any) -> None:
        if options["establishments"] < 1 or options["years"] < 1:
            raise CommandError("--establishments et --years : au moins 1.")
        try:
            summary = generate(
                options["establishments"],
                options["years"],
                seed=options["seed"],
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
