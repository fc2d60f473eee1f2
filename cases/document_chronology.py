"""The case's documents and CV as entries of the case chronology.

The chronology (`cases.chronology`, a registry of entry sources: issue 20)
is built on another branch; this module gives it the documents' entries
and registers them when the registry is there (`register_chronology`,
called from `CasesConfig.ready`): without it, nothing happens. One query
for any number of documents.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Document


def document_entries(*, case: Case) -> list[tuple[date, datetime, Document]]:
    """(day, moment, document) for each of the case's documents (one query);
    a deleted file is still an entry (shown as deleted)."""
    rows = Document.objects.filter(case_id=case.pk).select_related("uploaded_by").order_by("pk")
    return [(timezone.localdate(row.uploaded_at), row.uploaded_at, row) for row in rows]


def register_chronology() -> bool:
    """Register the documents as the chronology's kind `document` (False
    when this branch has no chronology registry)."""
    try:
        chronology = importlib.import_module("cases.chronology")
    except ImportError:
        return False

    def source(case: Case) -> Iterator[object]:
        for day, moment, row in document_entries(case=case):
            yield chronology.Entry(
                kind="document", day=day, moment=moment, obj=row, cancelled=not row.file
            )

    chronology.register(
        "document", _("Documents"), source, template="cases/chronology/document.html", order=50
    )
    return True
