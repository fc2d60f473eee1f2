from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running Lotse: backup and restore (no models)."""

    name = "operations"
    verbose_name = "Operations"
