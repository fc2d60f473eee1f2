"""Static files finder without the raw npm trees that django-viewflow ships.

django-viewflow 2.4 bundles ``viewflow/fonts/*/node_modules/``: copies of the
font packages whose CSS names files the wheel does not contain (Roboto's
``.woff2`` set). The manifest storage used with DEBUG off refuses such a
reference, so ``collectstatic`` failed and every page answered 500. Lotse
serves only its own stylesheet; viewflow's usable fonts stay collected from
``viewflow/fonts/<name>/`` beside those trees.

A finder (not a custom staticfiles AppConfig) keeps
``django.contrib.staticfiles`` in INSTALLED_APPS as it is, which tools such as
pytest-django's live server look for to serve static files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.staticfiles import finders

IGNORED = ["node_modules"]


class AppDirectoriesFinder(finders.AppDirectoriesFinder):
    def list(self, ignore_patterns: Iterable[str] | None) -> Iterable[Any]:
        return super().list([*(ignore_patterns or []), *IGNORED])
