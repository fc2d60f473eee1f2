"""Tags of the workspace's list rows, as Python: an {% include %} per row
and cell cost most of a page's time (`make bench`, workspace)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext

from cases.models import CaseStatus

register = template.Library()


@register.simple_tag
def case_link(case_pk: int) -> SafeString:
    """The one link from a list row to its case file."""
    return format_html('<a href="{}">#{}</a>', reverse("cases:detail", args=[case_pk]), case_pk)


@register.simple_tag
def deadline(case: Any, today: date) -> SafeString:
    """The case's next deadline (annotated as `deadline`), what it is, and
    whether it has passed."""
    day = case.deadline
    if day is None:
        return SafeString("–")
    overdue = (
        format_html(' <span class="badge error">{}</span>', gettext("overdue"))
        if day < today
        else ""
    )
    kind = (
        pgettext("deadline", "plan review")
        if case.status == CaseStatus.ACTIVE and day == case.next_review_at
        else pgettext("deadline", "end of period")
    )
    return format_html(
        '{}{}<br><small class="hint">{}</small>', date_format(day, "d.m.Y"), overdue, kind
    )


@register.simple_tag
def select_options(field: Any) -> SafeString:
    """The <option>s of a filter's choice field in one pass (Django's widget
    templates render each option through two includes)."""
    current = "" if field.value() is None else str(field.value())
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, SafeString(" selected") if str(value) == current else "", label)
            for value, label in field.field.choices
        ),
    )
