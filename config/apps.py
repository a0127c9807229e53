from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The project's own configuration as an app, for what only an app can do: register
    the deployment's system checks (``config.checks``)."""

    name = "config"
    verbose_name = "Configuration"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the system checks)
