"""Consents (DOMAIN.md §14.2): recording, evidence, withdrawal."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.errors import (
    MESSAGES,
    AlreadyDecided,
    InvalidArguments,
)
from cases.models import (
    Case,
    Consent,
    Document,
)
from cases.selectors import (
    DPO,
)
from cases.services.args import (
    _choice_arg,
    _full_clean,
    _not_in_future,
    _plausible,
    _text_arg,
)
from cases.services.base import (
    CONTENT_WRITERS,
    _active_consent,
    _audit,
    _case_for_write,
)


def _consent_basis(scope: str, legal_basis: Any) -> str:
    """Return the legal basis of a consent of `scope`: Art. 9(2)(a) for
    special categories (and only for them), Art. 6(1)(a) otherwise."""
    art9 = scope == Consent.Scope.SPECIAL_CATEGORIES_ART9
    expected = Consent.LegalBasis.CONSENT_ART9_2A if art9 else Consent.LegalBasis.CONSENT_ART6_1A
    if legal_basis in (None, ""):
        return str(expected)
    basis = _choice_arg(legal_basis, Consent.LegalBasis, field_name="legal_basis")
    if basis != expected:
        raise InvalidArguments(
            _("The legal basis does not fit the scope of the consent."),
            fields={
                "legal_basis": [
                    _("Special categories (Art. 9) need an explicit consent under Art. 9(2)(a).")
                    if art9
                    else _("Only special categories (Art. 9) rest on Art. 9(2)(a).")
                ]
            },
        )
    return basis


def _consent_giver(given_by: Any, guardian_name: Any) -> tuple[str, str]:
    giver = _choice_arg(given_by or Consent.GivenBy.PERSON, Consent.GivenBy, field_name="given_by")
    name = str(guardian_name or "").strip()
    if giver == Consent.GivenBy.LEGAL_GUARDIAN:
        return giver, _text_arg(name, field_name="guardian_name", max_length=200)
    if name:
        raise InvalidArguments(
            _("A guardian's name belongs only to a consent given by the legal guardian."),
            fields={"guardian_name": [_("Leave empty, or choose the legal guardian.")]},
        )
    return giver, ""


def consent_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    scope: str,
    form: str,
    language: str,
    given_at: datetime | None = None,
    interpreter: str = "",
    interpreter_language: str = "",
    recipient: str = "",
    valid_until: datetime | None = None,
    legal_basis: str | None = None,
    given_by: str = Consent.GivenBy.PERSON,
    guardian_name: str = "",
    purpose_version: str = "",
) -> Consent:
    """Record a consent the person (or, for a minor, the legal guardian)
    gave for this case (DOMAIN.md §14.2).

    `legal_basis` defaults to the one the scope needs; a basis that does
    not fit the scope, a guardian without a name or a name without a
    guardian is refused (400). The audit event names the codes only.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=(*CONTENT_WRITERS, DPO))
        given = _not_in_future(given_at or now, now=now, field_name="given_at")
        if valid_until is not None:
            _plausible(valid_until.date(), field_name="valid_until")
            if valid_until <= given:
                raise InvalidArguments(
                    _("A consent must be valid after it was given."),
                    fields={"valid_until": [_("Choose a later time.")]},
                )
        chosen_scope = _choice_arg(scope, Consent.Scope, field_name="scope")
        giver, guardian = _consent_giver(given_by, guardian_name)
        consent = Consent(
            person_id=locked.person_id,
            case=locked,
            scope=chosen_scope,
            legal_basis=_consent_basis(chosen_scope, legal_basis),
            given_by=giver,
            guardian_name=guardian,
            form=_choice_arg(form, Consent.Form, field_name="form"),
            language=_text_arg(language, field_name="language", max_length=50),
            interpreter=str(interpreter or "").strip(),
            interpreter_language=str(interpreter_language or "").strip(),
            recipient=str(recipient or "").strip(),
            purpose_version=str(purpose_version or "").strip(),
            given_at=given,
            valid_until=valid_until,
            recorded_by=actor,
        )
        _full_clean(consent)
        consent.save()
        history.created(consent)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.consent.recorded",
            obj=consent,
            reason=consent.scope,
            data={
                "legal_basis": consent.legal_basis,
                "given_by": consent.given_by,
                "form": consent.form,
            },
        )
    return consent


EVIDENCE_TYPES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def consent_evidence_attach(
    *, consent: Consent, actor: User, now: datetime, content: bytes, language: str = ""
) -> Consent:
    """Store the scan of a signed consent (PDF, PNG or JPEG) as the case's
    document and link it to the consent as its evidence.

    Raises InvalidArguments (400) for another kind of file, an empty or a
    too large one, AlreadyDecided (409) when the consent has its evidence.
    The file is removed again when this transaction fails (called inside
    an outer transaction that rolls back later, it would stay: interfaces
    call it on its own).
    """
    if not content or len(content) > settings.LOTSE_EVIDENCE_MAX_BYTES:
        raise InvalidArguments(
            _("The file is empty or too large."),
            fields={
                "file": [_("At most %(n)d MB.") % {"n": settings.LOTSE_EVIDENCE_MAX_BYTES // 2**20}]
            },
        )
    kind = next((ext for magic, ext in EVIDENCE_TYPES.items() if content.startswith(magic)), None)
    if kind is None:
        raise InvalidArguments(
            _("The scan must be a PDF, PNG or JPEG file."),
            fields={"file": [_("Upload a PDF, PNG or JPEG file.")]},
        )
    stored: list[Any] = []
    try:
        with transaction.atomic():
            locked = _case_for_write(
                case=consent.case_id, actor=actor, now=now, who=(*CONTENT_WRITERS, DPO)
            )
            row = Consent.objects.select_for_update().get(pk=consent.pk)
            if row.evidence_id is not None:
                raise AlreadyDecided(
                    _("This consent already has its evidence document."), code="evidence_exists"
                )
            document = Document(
                case=locked,
                kind=Document.Kind.CONSENT_FORM,
                sensitivity=(
                    Document.Sensitivity.ART9
                    if row.scope == Consent.Scope.SPECIAL_CATEGORIES_ART9
                    else Document.Sensitivity.NORMAL
                ),
                sha256=hashlib.sha256(content).hexdigest(),
                language=str(language or row.language)[:50],
                uploaded_by=actor,
                uploaded_at=now,
            )
            document.file.save(f"einwilligung-{row.pk}.{kind}", ContentFile(content), save=False)
            stored.append((document.file.storage, document.file.name))
            document.save()
            history.created(document)
            before = history.values_of(row)
            row.evidence = document
            row.save(update_fields=["evidence"])
            history.updated(row, before)
            _audit(
                case=locked,
                actor=actor,
                now=now,
                event_type="cases.consent.evidence_attached",
                obj=row,
                reason=row.scope,
                data={"document_id": document.pk},
            )
    except BaseException:
        # The rows were rolled back; the file must not outlive them.
        for storage, name in stored:
            storage.delete(name)
        raise
    return row


def _erase_art9_documents(case: Case) -> int:
    """Erase at once the health documents (Art. 9) that rested only on the
    withdrawn explicit consent (DOMAIN.md §14.5); the signed consent forms
    stay as proof (Art. 7(1)). Files go once the transaction commits."""
    documents = (
        Document.objects.filter(
            case__person_id=case.person_id, sensitivity=Document.Sensitivity.ART9
        )
        .exclude(kind=Document.Kind.CONSENT_FORM)
        .exclude(file="")
    )
    names = [(d.file.storage, d.file.name) for d in documents]
    erased = history.update_rows(documents, file="", sha256="", language="")
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names], robust=True)
    return erased


def consent_withdraw(*, consent: Consent, actor: User, now: datetime, channel: str) -> Consent:
    """Record that a consent was withdrawn, and how; processing under it
    stops.

    Withdrawing the case-processing consent itself is the transition
    `withdraw_consent`, which also closes the case.
    """
    channel = _choice_arg(channel, Consent.WithdrawalChannel, field_name="channel")
    with transaction.atomic():
        locked = _case_for_write(
            case=consent.case_id, actor=actor, now=now, who=(*CONTENT_WRITERS, DPO)
        )
        row = Consent.objects.select_for_update().get(pk=consent.pk)
        if row.withdrawn_at is not None:
            raise AlreadyDecided(MESSAGES["already_decided"])
        if row.given_at > now:
            raise InvalidArguments(
                _("A consent cannot be withdrawn before it was given."),
                fields={"withdrawn_at": [_("Choose a later time.")]},
            )
        before = history.values_of(row)
        row.withdrawn_at = now
        row.withdrawal_channel = channel
        row.save(update_fields=["withdrawn_at", "withdrawal_channel"])
        history.updated(row, before)
        erased = 0
        if row.scope == Consent.Scope.SPECIAL_CATEGORIES_ART9 and not _active_consent(
            locked, Consent.Scope.SPECIAL_CATEGORIES_ART9, now
        ):
            erased = _erase_art9_documents(locked)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.consent.withdrawn",
            obj=row,
            reason=row.scope,
            data={"channel": channel, "erased_documents": erased},
        )
    return row
