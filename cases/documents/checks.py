"""`manage.py check` warns when a document language cannot be printed
because the server lacks its fonts (scripts/ensure_fonts.sh installs them)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Warning, register


@register()
def check_document_fonts(app_configs: Any, **kwargs: Any) -> list[Warning]:
    from cases.documents import fonts
    from cases.documents.languages import DOCUMENT_LANGUAGES

    problems = []
    for language in DOCUMENT_LANGUAGES:
        missing = fonts.missing_files(
            {language.script}, latin_fallback=language.code in ("de", "en")
        )
        if missing:
            problems.append(
                Warning(
                    f"Client documents in '{language.code}' cannot be printed: "
                    f"{', '.join(missing)} missing in {fonts.font_dir()}.",
                    hint=f"apt-get install {fonts.DEBIAN_PACKAGE} (make does so), "
                    "or set LOTSE_FONT_DIR to a directory holding these files.",
                    id="cases.W001",
                )
            )
    return problems
