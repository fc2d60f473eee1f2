"""The consent form and the data-protection information (Art. 13 GDPR) the
client receives when consenting, as one PDF to print, in German and (unless
German) the client's language (DOMAIN.md §8, §14.2: specific, informed in a
language the person understands, documented, revocable, granular).

The form has one yes/no block per consent scope the system records
(`Consent.Scope`), each explained in plain words; the client signs the form,
the manager records each consent given (with `INFORMATION_VERSION` as the
version of the information text) and uploads the scan as its evidence.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_noop as N_
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, SimpleDocTemplate, Spacer, Table

from cases.documents.layout import WIDTH, Document, date_text, grid
from cases.documents.plan import signature_lines
from cases.documents.text import Text
from cases.models import Case, Consent, Person

INFORMATION_VERSION = "2026-12"
TITLE = N_("Consent to data processing")

# Per scope: what the client agrees to, in plain words.
SCOPE_TEXTS = {
    Consent.Scope.CASE_PROCESSING: N_(
        "Your integration manager stores and uses your data to counsel you: your "
        "personal details, your situation, the consultations, your Integrationsplan "
        "and referrals to other services."
    ),
    Consent.Scope.SPECIAL_CATEGORIES_ART9: N_(
        "Information about your health, a disability or an illness is stored only "
        "with this separate consent. It can be needed, for example, to extend the "
        "counselling period."
    ),
    Consent.Scope.HANDOVER_IN: N_(
        "The refugee social work of the collective accommodation may pass on your "
        "details and what it knows about your needs to the integration management "
        "of your municipality."
    ),
    Consent.Scope.HANDOVER_OUT: N_(
        "If you move away or change to another service, your integration manager "
        "may pass your case on to the integration management there."
    ),
    Consent.Scope.TRANSFER_TO_RECIPIENT: N_(
        "Your integration manager may pass on data to the recipient named here, "
        "only for the purpose named here (for example the Jobcenter or the "
        "immigration office)."
    ),
    Consent.Scope.TEAM_SHARING: N_(
        "Other integration managers of the same team may see your case, for "
        "example to stand in for your integration manager during an absence."
    ),
    Consent.Scope.MESSENGER_CONTACT: N_(
        "Your integration manager may contact you by messenger, for example about "
        "appointments. Messengers are not fully secure: no details about your "
        "situation are sent that way."
    ),
}
WITH_RECIPIENT = {Consent.Scope.TRANSFER_TO_RECIPIENT, Consent.Scope.HANDOVER_OUT}

# The information sheet (Art. 13 GDPR): heading and text of each section.
INFORMATION = [
    (
        N_("Who is responsible for your data"),
        N_(
            "%(traeger)s is responsible for your data (the controller). You can reach "
            "the controller and its data protection officer through your integration "
            "manager, %(manager)s, or at the addresses below."
        ),
    ),
    (
        N_("Why we process your data"),
        N_(
            "To counsel and support you in the integration management: to record "
            "consultations, to agree and review your Integrationsplan and to refer you "
            "to other services. The state that funds the counselling receives only "
            "figures without names."
        ),
    ),
    (
        N_("Legal basis"),
        N_(
            "Your consent (Art. 6(1)(a) GDPR); for information about your health, your "
            "explicit consent (Art. 9(2)(a) GDPR)."
        ),
    ),
    (
        N_("Who sees your data"),
        N_(
            "Only your integration manager and the person standing in for them. The "
            "team leader sees only dates and the status of your case. Nobody else "
            "receives your data without your separate consent."
        ),
    ),
    (
        N_("How long your data are kept"),
        N_(
            "Until the end of the %(years)s. calendar year after your counselling has "
            "ended. Then your data are deleted or made anonymous."
        ),
    ),
    (
        N_("Your rights"),
        N_(
            "You may ask which data are stored about you and receive a copy, have "
            "wrong data corrected, have data deleted or their use restricted, take "
            "your data with you and object to their use (Art. 15 to 21 GDPR)."
        ),
    ),
    (
        N_("Withdrawing your consent"),
        N_(
            "You can withdraw your consent at any time, for the future, in any form: "
            "in person, in writing, by phone or by e-mail. What was done before stays "
            "lawful. If you withdraw the consent to the processing of your case data, "
            "the counselling ends and your data are deleted, except what must be kept "
            "as proof."
        ),
    ),
    (
        N_("Voluntary"),
        N_(
            "Your consent is voluntary. If you do not consent, you will have no "
            "disadvantage for your residence or your benefits."
        ),
    ),
    (
        N_("Complaints"),
        N_(
            "You may complain to the data protection supervisory authority of your "
            "federal state. Decisions about you are never made automatically."
        ),
    ),
]


def _checkbox() -> Drawing:
    box = Drawing(4 * mm, 4 * mm)
    box.add(Rect(0, 0, 3.6 * mm, 3.6 * mm, fillColor=None, strokeWidth=0.8))  # type: ignore[arg-type]  # reportlab's stubs type shape kwargs as a TypedDict
    return box


def consent_pdf(
    *,
    case: Case,
    person: Person,
    manager_name: str,
    language: str,
    now: datetime,
) -> bytes:
    """Return the consent form and the information sheet as PDF bytes.
    Raises `fonts.FontsMissing` when the language's script has no font."""
    doc = Document(language)
    name = ", ".join(part for part in (person.family_name, person.given_names) if part)
    label_width = 56 * mm

    def yes_no() -> Table:
        cells = [
            [_checkbox(), doc.label("Yes, I consent.", size=9)],
            [_checkbox(), doc.label("No, I do not consent.", size=9)],
        ]
        table = Table(cells, colWidths=[7 * mm, WIDTH / 2 - 7 * mm], hAlign="LEFT")
        table.setStyle(grid())
        return table

    facts = Table(
        [
            [doc.label("Client"), Text(name, size=10)],
            [doc.label("Date of birth"), Text(date_text(person.date_of_birth), size=10)],
            [doc.label("Controller"), Text(case.traeger.name, size=10)],
            [doc.label("Integration manager"), Text(manager_name, size=10)],
            [
                doc.label("Version of the information text"),
                Text(INFORMATION_VERSION, size=10),
            ],
        ],
        colWidths=[label_width, WIDTH - label_width],
    )
    facts.setStyle(grid())
    story: list[Any] = [
        *doc.title(TITLE),
        Text(
            doc.de("%(traeger)s · case %(case)s", traeger=case.traeger.name, case=case.pk),
            size=8.5,
            align="center",
            space_before=1 * mm,
        ),
        Spacer(1, 4 * mm),
        *doc.review_notice(),
        facts,
        Spacer(1, 3 * mm),
        doc.paragraph(
            "I have received the information on data protection (version %(version)s) "
            "in a language I understand, and my questions have been answered. I decide "
            "on each consent separately. Each consent is voluntary and can be withdrawn "
            "at any time for the future.",
            version=INFORMATION_VERSION,
        ),
    ]
    for scope in Consent.Scope:
        block: list[Any] = [
            *doc.heading_of(doc.choice(scope.label)),
            doc.paragraph(SCOPE_TEXTS[scope]),
        ]
        if scope in WITH_RECIPIENT:
            block += [
                Spacer(1, 5 * mm),
                Text("_" * 80, size=10),
                *doc.label("Recipient and purpose"),
            ]
        block.append(yes_no())
        story.append(KeepTogether(block))
    story.append(
        KeepTogether(
            [
                *doc.heading("Signatures"),
                doc.paragraph(
                    "For a minor, the legal guardian signs and writes their name beside "
                    "the signature."
                ),
                signature_lines(
                    doc,
                    [
                        "Place, date",
                        "Signature of the client",
                        "Signature of the interpreter (if one took part)",
                    ],
                    ["Place, date", "Signature of the integration manager", ""],
                ),
            ]
        )
    )

    story += [PageBreak(), *doc.title("Information on data protection (Art. 13 GDPR)")]
    story += [Spacer(1, 3 * mm), *doc.review_notice()]
    values: dict[str, Any] = {
        "traeger": case.traeger.name,
        "manager": manager_name,
        "years": settings.LOTSE_RETENTION_YEARS,
    }
    for heading, text in INFORMATION:
        story.append(KeepTogether([*doc.heading(heading), doc.paragraph(text, **values)]))
    contacts = Table(
        [
            [doc.label("Address of the controller"), Spacer(1, 12 * mm)],
            [doc.label("Contact of the data protection officer"), Spacer(1, 12 * mm)],
        ],
        colWidths=[label_width, WIDTH - label_width],
    )
    contacts.setStyle(grid())
    story += [Spacer(1, 3 * mm), contacts]
    story.append(
        Text(
            doc.de("Version of the information text") + f": {INFORMATION_VERSION}",
            size=8,
            space_before=3 * mm,
        )
    )

    buffer = io.BytesIO()
    footer = doc.footer(TITLE, now)
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=22 * mm,
        title=f"{doc.de(TITLE)} {case.pk}",
        lang=language,
        invariant=True,
    ).build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
