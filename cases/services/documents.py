"""Client documents and the CV (competence profile) of a case.

A document is a file the manager keeps for the case: a certificate, a
recognition notice, medical proof for an extension, a copy of an identity
document. Its type is told by its first bytes (never by its name), its
size is limited (`LOTSE_DOCUMENT_MAX_BYTES`), a document with special
category content (Art. 9 DSGVO: health) needs the person's active consent
to Art. 9 processing, and each has a date until which it is kept. Every
download writes an audit event naming the document (besides the read
access the interface logs).

The CV entries (education, work, languages with their level,
certificates) print as a German Lebenslauf (`cases.documents.cv`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.clock import local_date
from cases.errors import GuardFailed, InvalidArguments
from cases.models import Case, CaseStatus, Consent, CvEntry, Document
from cases.selectors import parse_pk
from cases.services.args import _choice_arg, _date_arg
from cases.services.base import CONTENT_WRITERS, _active_consent, _audit, _case_for_write
from config.errors import NotFound


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    label: str


# The allowlist: what a file is, by its first bytes.
DOCUMENT_TYPES: tuple[tuple[bytes, FileType], ...] = (
    (b"%PDF-", FileType("pdf", "application/pdf", "PDF")),
    (b"\x89PNG\r\n\x1a\n", FileType("png", "image/png", "PNG")),
    (b"\xff\xd8\xff", FileType("jpg", "image/jpeg", "JPEG")),
    (b"II*\x00", FileType("tif", "image/tiff", "TIFF")),
    (b"MM\x00*", FileType("tif", "image/tiff", "TIFF")),
)
# Kinds whose content is always of a special category (Art. 9: health).
ART9_KINDS = frozenset({Document.Kind.MEDICAL_PROOF})
# Kinds only the system writes (the consent scan, the printed plan).
UPLOAD_KINDS = [
    k for k in Document.Kind.values if k not in (Document.Kind.CONSENT_FORM, Document.Kind.PLAN_PDF)
]
OPEN_FOR_DOCUMENTS = frozenset(
    {
        CaseStatus.REGISTERED,
        CaseStatus.INITIAL_COUNSELLING,
        CaseStatus.PLANNING,
        CaseStatus.ACTIVE,
        CaseStatus.DORMANT,
        CaseStatus.CLOSING,
    }
)


class DocumentNotFound(NotFound):
    default_code = "document_not_found"


def file_type_of(content: bytes) -> FileType | None:
    """The allowlisted type `content` starts with, or None."""
    return next((kind for magic, kind in DOCUMENT_TYPES if content.startswith(magic)), None)


def max_megabytes() -> int:
    return max(1, settings.LOTSE_DOCUMENT_MAX_BYTES // 2**20)


def _writable(case: Case | int, actor: User, now: datetime) -> Case:
    locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
    if locked.status not in OPEN_FOR_DOCUMENTS:
        raise GuardFailed(_("The case is not open."), code="case_not_open")
    return locked


def document_upload(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    content: bytes,
    kind: str,
    title: str = "",
    file_name: str = "",
    sensitivity: str = Document.Sensitivity.NORMAL,
    retain_until: date | str | None = None,
    language: str = "",
    too_large: bool = False,
) -> Document:
    """Store a client document of the case.

    Raises InvalidArguments (400, code `file_too_large`, `file_empty`,
    `file_type_not_allowed` or `invalid`) for a file over the limit (the
    interface passes `too_large` without reading it), an empty one, a type
    outside the allowlist or a bad argument; GuardFailed (409,
    `art9_consent_missing`) for special-category content without the
    person's active Art. 9 consent. The file is removed again when the
    transaction fails.
    """
    if too_large or len(content) > settings.LOTSE_DOCUMENT_MAX_BYTES:
        raise InvalidArguments(
            _("The file is too large."),
            code="file_too_large",
            fields={"file": [_("At most %(n)d MB.") % {"n": max_megabytes()}]},
        )
    if not content:
        raise InvalidArguments(
            _("The file is empty."), code="file_empty", fields={"file": [_("The file is empty.")]}
        )
    file_type = file_type_of(content)
    if file_type is None:
        raise InvalidArguments(
            _("This kind of file is not accepted: upload a PDF, PNG, JPEG or TIFF file."),
            code="file_type_not_allowed",
            fields={"file": [_("The content is not a PDF, PNG, JPEG or TIFF file.")]},
        )
    kind = _choice_arg(kind, Document.Kind, field_name="kind", exclude=["CONSENT_FORM", "PLAN_PDF"])
    sensitivity = _choice_arg(sensitivity, Document.Sensitivity, field_name="sensitivity")
    if kind in ART9_KINDS:
        sensitivity = Document.Sensitivity.ART9
    title = str(title or "").strip()
    if len(title) > 200:
        raise InvalidArguments(
            _("The title is too long."), fields={"title": [_("At most 200 characters.")]}
        )
    keep = None
    if retain_until not in (None, ""):
        keep = _date_arg(retain_until, field_name="retain_until")
        if keep < local_date(now):
            raise InvalidArguments(
                _("The document cannot be kept until a day in the past."),
                fields={"retain_until": [_("Choose today or a later date.")]},
            )
    name = str(file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    stored: list[Any] = []
    try:
        with transaction.atomic():
            locked = _writable(case, actor, now)
            if sensitivity == Document.Sensitivity.ART9 and not _active_consent(
                locked, Consent.Scope.SPECIAL_CATEGORIES_ART9, now
            ):
                raise GuardFailed(
                    _(
                        "A document with health or other special-category content needs the"
                        " person's consent to Art. 9 processing. Record the consent first."
                    ),
                    code="art9_consent_missing",
                    fields={"sensitivity": [_("No active Art. 9 consent.")]},
                )
            document = Document(
                case=locked,
                kind=kind,
                sensitivity=sensitivity,
                sha256=hashlib.sha256(content).hexdigest(),
                language=str(language or "")[:50],
                uploaded_by=actor,
                uploaded_at=now,
                title=title,
                original_name=name,
                content_type=file_type.content_type,
                size=len(content),
                retain_until=keep,
            )
            document.file.save(
                f"fall-{locked.pk}-{kind.lower()}.{file_type.extension}",
                ContentFile(content),
                save=False,
            )
            stored.append((document.file.storage, document.file.name))
            document.save()
            history.created(document)
            _audit(
                case=locked,
                actor=actor,
                now=now,
                event_type="cases.document.uploaded",
                obj=document,
                reason=kind,
                data={"document_id": document.pk, "sensitivity": sensitivity},
            )
    except BaseException:
        for storage, stored_name in stored:
            storage.delete(stored_name)
        raise
    return document


def document_download(
    *, case: Case | int, document_id: Any, actor: User, now: datetime
) -> tuple[Document, bytes]:
    """Return a document of the case and its content, and record the
    download as an audit event naming the document (the case's managers
    only; 404 for a document of another case or one already deleted)."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        document = _document_of(locked, document_id)
        with document.file.open("rb") as handle:
            content = handle.read()
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.document.downloaded",
            obj=document,
            reason=document.kind,
            data={"document_id": document.pk},
        )
    return document, content


def document_delete(*, case: Case | int, document_id: Any, actor: User, now: datetime) -> Document:
    """Delete a document's file (its row stays, emptied, for the history):
    the manager removes it when it is no longer needed."""
    storage_names: list[Any] = []
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        document = _document_of(locked, document_id)
        if Consent.objects.filter(evidence=document).exists():
            raise GuardFailed(
                _("This scan is the evidence of a consent and stays with it."),
                code="document_is_evidence",
            )
        storage_names.append((document.file.storage, document.file.name))
        history.update_rows(Document.objects.filter(pk=document.pk), file="", sha256="", size=0)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.document.deleted",
            obj=document,
            reason=document.kind,
            data={"document_id": document.pk},
        )
        transaction.on_commit(lambda: [s.delete(n) for s, n in storage_names])
    document.refresh_from_db()
    return document


def _document_of(case: Case, document_id: Any) -> Document:
    number = parse_pk(document_id)
    document = (
        Document.objects.filter(case_id=case.pk, pk=number).exclude(file="").first()
        if number is not None
        else None
    )
    if document is None:
        raise DocumentNotFound(_("This document does not exist."))
    return document


# --- the CV (competence profile) ---------------------------------------------------

EARLIEST_CV_DATE = date(1940, 1, 1)


def _cv_date(value: Any, *, field_name: str, now: datetime) -> date | None:
    if value in (None, ""):
        return None
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidArguments(
            _("A date is not valid."), fields={field_name: [_("Use the form YYYY-MM-DD.")]}
        ) from None
    if not EARLIEST_CV_DATE <= day <= local_date(now):
        raise InvalidArguments(
            _("A date is not plausible."),
            fields={field_name: [_("Choose a date between 1940 and today.")]},
        )
    return day


def cv_entry_add(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    kind: str,
    title: str,
    organisation: str = "",
    place: str = "",
    started_on: date | str | None = None,
    ended_on: date | str | None = None,
    level: str = "",
    recognised: bool = False,
    note: str = "",
) -> CvEntry:
    """Add one line to the client's CV (a language needs its level)."""
    kind = _choice_arg(kind, CvEntry.Kind, field_name="kind")
    title = str(title or "").strip()
    if not title or len(title) > 200:
        raise InvalidArguments(
            _("Say what it was (at most 200 characters)."),
            fields={"title": [_("This field is required.")]},
        )
    level = str(level or "")
    if level:
        level = _choice_arg(level, CvEntry.Level, field_name="level")
    if kind == CvEntry.Kind.LANGUAGE and not level:
        raise InvalidArguments(
            _("A language needs its level."), fields={"level": [_("Choose the level.")]}
        )
    start = _cv_date(started_on, field_name="started_on", now=now)
    end = _cv_date(ended_on, field_name="ended_on", now=now)
    if start and end and end < start:
        raise InvalidArguments(
            _("The end lies before the start."),
            fields={"ended_on": [_("Choose a date after the start.")]},
        )
    texts = {"organisation": organisation, "place": place, "note": note}
    limits = {"organisation": 200, "place": 100, "note": 300}
    for name, value in texts.items():
        if len(str(value or "")) > limits[name]:
            raise InvalidArguments(
                _("A text is too long."),
                fields={name: [_("At most %(n)d characters.") % {"n": limits[name]}]},
            )
    with transaction.atomic():
        locked = _writable(case, actor, now)
        entry = CvEntry.objects.create(
            case=locked,
            kind=kind,
            title=title,
            organisation=str(organisation or "").strip(),
            place=str(place or "").strip(),
            started_on=start,
            ended_on=end,
            level=level,
            recognised=bool(recognised),
            note=str(note or "").strip(),
            recorded_by=actor,
            recorded_at=now,
        )
        history.created(entry)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.cv_entry.added",
            obj=entry,
            reason=kind,
        )
    return entry


def cv_entry_remove(*, case: Case | int, entry_id: Any, actor: User, now: datetime) -> None:
    """Remove a line from the client's CV (the row stays, marked removed,
    for the history)."""
    with transaction.atomic():
        locked = _writable(case, actor, now)
        number = parse_pk(entry_id)
        entry = (
            CvEntry.objects.filter(case_id=locked.pk, pk=number, removed_at=None).first()
            if number is not None
            else None
        )
        if entry is None:
            raise NotFound(_("This CV entry does not exist."), code="cv_entry_not_found")
        history.update_rows(CvEntry.objects.filter(pk=entry.pk), removed_at=now)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.cv_entry.removed",
            obj=entry,
            reason=entry.kind,
        )
