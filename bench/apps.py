from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's tooling (bench/README.md), installed for its ``bench_data`` command."""

    name = "bench"
    verbose_name = "Banc d'essai"
