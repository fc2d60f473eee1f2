"""Parsing and checking the arguments of case services (400 with the field)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from cases.errors import (
    InvalidArguments,
)
from cases.models import (
    Catalogue,
    CatalogueEntry,
)


def _entry(catalogue: Catalogue, key: Any, *, field_name: str, day: date) -> CatalogueEntry:
    entry = CatalogueEntry.objects.filter(catalogue=catalogue, key=str(key or "")).first()
    if entry is None or not entry.is_valid_on(day):
        raise InvalidArguments(
            _("Please choose a valid value."),
            fields={field_name: [_("Unknown or inactive value: %(key)s") % {"key": key}]},
        )
    return entry


def _date_arg(value: Any, *, field_name: str, default: date | None = None) -> date:
    if value in (None, ""):
        if default is not None:
            return default
        raise InvalidArguments(
            _("A date is missing."), fields={field_name: [_("This field is required.")]}
        )
    if isinstance(value, datetime):
        return _plausible(value.date(), field_name=field_name)
    if isinstance(value, date):
        return _plausible(value, field_name=field_name)
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidArguments(
            _("A date is not valid."), fields={field_name: [_("Use the form YYYY-MM-DD.")]}
        )
    return _plausible(parsed, field_name=field_name)


EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def _plausible(day: date, *, field_name: str) -> date:
    """Refuse dates no case can have (typos such as 0202 for 2020)."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidArguments(
            _("A date is not plausible."),
            fields={field_name: [_("Choose a date between 2000 and 2100.")]},
        )
    return day


def _choice_arg(value: Any, choices: type, *, field_name: str, exclude: Iterable[str] = ()) -> str:
    if value not in choices.values or value in exclude:
        raise InvalidArguments(
            _("Please choose a valid value."),
            fields={field_name: [_("Unknown value: %(value)s") % {"value": value}]},
        )
    return str(value)


def _text_arg(value: Any, *, field_name: str, max_length: int = 300) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidArguments(
            _("A required text is missing."), fields={field_name: [_("This field is required.")]}
        )
    if len(text) > max_length:
        raise InvalidArguments(
            _("A text is too long."),
            fields={field_name: [_("At most %(n)d characters.") % {"n": max_length}]},
        )
    return text


def _not_in_future(moment: datetime, *, now: datetime, field_name: str) -> datetime:
    _plausible(moment.date(), field_name=field_name)
    if moment > now:
        raise InvalidArguments(
            _("This cannot lie in the future."),
            fields={field_name: [_("Choose now or an earlier time.")]},
        )
    return moment


def _full_clean(obj: Any, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise InvalidArguments(
            _("Some values are not valid."),
            fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()},
        ) from None
