"""Application configs that belong to the project as a whole."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class LotseConfig(AppConfig):
    """The project itself: registers the project-wide system checks."""

    name = "config"
    label = "lotse"
    verbose_name = "Lotse"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers
        from config.fastpaths import tune_psycopg

        tune_psycopg()


class LotseAdminConfig(AdminConfig):
    """The admin with Lotse's site (config.admin_site.LotseAdminSite)."""

    default_site = "config.admin_site.LotseAdminSite"
