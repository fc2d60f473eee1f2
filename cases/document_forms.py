"""Forms of the documents and CV pages (shape only; the services check)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.types import choice_field
from cases.forms import DateInput
from cases.models import CvEntry, Document
from cases.services.documents import UPLOAD_KINDS


class DocumentUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG, JPEG or TIFF; the content is checked, not the file name."),
    )
    kind = forms.ChoiceField(label=_("Kind of document"))
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"),
        choices=Document.Sensitivity.choices,
        initial=Document.Sensitivity.NORMAL,
        widget=forms.RadioSelect,
        help_text=_(
            "Health and other special categories (Art. 9 GDPR) only with the person's"
            " Art. 9 consent. Medical proof always counts as such."
        ),
    )
    retain_until = forms.DateField(
        label=_("Keep until"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: as long as the case file is kept."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Document.Kind.choices)
        choice_field(self, "kind").choices = [(k, labels[k]) for k in UPLOAD_KINDS]
        self.fields["file"].widget.attrs["accept"] = ".pdf,.png,.jpg,.jpeg,.tif,.tiff"
        self.max_bytes = settings.LOTSE_DOCUMENT_MAX_BYTES

    def upload_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        upload = data["file"]
        too_large = upload.size > self.max_bytes
        return {
            "content": b"" if too_large else upload.read(),
            "too_large": too_large,
            "file_name": upload.name,
            "kind": data["kind"],
            "title": data["title"],
            "sensitivity": data["sensitivity"],
            "retain_until": data["retain_until"],
        }


class CvEntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CvEntry.Kind.choices)
    title = forms.CharField(
        label=_("What"),
        max_length=200,
        help_text=_("Degree or school, job, language, certificate."),
    )
    organisation = forms.CharField(
        label=_("Where (school, employer, issuer)"), max_length=200, required=False
    )
    place = forms.CharField(label=_("Place or country"), max_length=100, required=False)
    started_on = forms.DateField(label=_("From"), required=False, widget=DateInput())
    ended_on = forms.DateField(label=_("Until"), required=False, widget=DateInput())
    level = forms.ChoiceField(
        label=_("Level (languages)"),
        choices=[("", "–"), *CvEntry.Level.choices],
        required=False,
    )
    recognised = forms.BooleanField(label=_("Recognised in Germany"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
