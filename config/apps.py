"""Application configs that belong to the project as a whole."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class LotseStaticFilesConfig(StaticFilesConfig):
    """Static files without the raw npm trees that django-viewflow ships.

    django-viewflow 2.4 bundles ``viewflow/fonts/*/node_modules/``: copies of the
    font packages whose CSS names files the wheel does not contain (Roboto's
    ``.woff2`` set). The manifest storage used with DEBUG off refuses such a
    reference, so ``collectstatic`` failed and every page answered 500. Lotse
    serves only its own stylesheet; viewflow's usable fonts stay collected from
    ``viewflow/fonts/<name>/`` beside those trees.
    """

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "node_modules"]


class LotseConfig(AppConfig):
    """The project itself: registers the project-wide system checks."""

    name = "config"
    label = "lotse"
    verbose_name = "Lotse"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers


class LotseAdminConfig(AdminConfig):
    """The admin with Lotse's site (config.admin_site.LotseAdminSite)."""

    default_site = "config.admin_site.LotseAdminSite"
