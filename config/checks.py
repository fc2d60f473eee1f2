"""System checks of the project as a whole.

`lotse.E001`: the fast paths (docs/FASTPATHS.md) rely on private APIs of
Django, django-viewflow, django-fsm-2 and psycopg. Each app keeps them in
one module, `<app>.fastpaths`, whose docstring lists exactly what they rely
on and whose `REVIEWED_PINS` records the versions that list was reviewed
for.
When an installed version differs, `manage.py check` (and so the start of
the app and the test suite) fails until someone reviews the list against
the new version and updates the pins.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

from django.core.checks import Error, register

# Every module with fast paths and the libraries whose private APIs it
# relies on; add a new one here and to docs/FASTPATHS.md.
FASTPATH_MODULES = {
    "cases.fastpaths": ("Django", "django-viewflow", "django-fsm-2"),
    "workflows.fastpaths": ("Django", "django-viewflow", "django-fsm-2"),
    "config.fastpaths": ("psycopg",),
}


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@register()
def check_fastpath_pins(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for name, pinned in FASTPATH_MODULES.items():
        reviewed = getattr(importlib.import_module(name), "REVIEWED_PINS", {})
        for distribution in pinned:
            installed = installed_version(distribution)
            if reviewed.get(distribution) != installed:
                errors.append(
                    Error(
                        f"{name} was reviewed for {distribution} "
                        f"{reviewed.get(distribution)}, but {installed} is installed.",
                        hint=(
                            f"Check every item of the list in {name}'s docstring "
                            "(and docs/FASTPATHS.md) against the new version, run "
                            "tests/workflows/test_engine.py, then update REVIEWED_PINS."
                        ),
                        obj=name,
                        id="lotse.E001",
                    )
                )
    return errors
