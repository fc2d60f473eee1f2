"""The API's JSON parser, with bounds checked before the body is parsed.

A body larger than LOTSE_API_MAX_BODY_BYTES answers 413; one nested deeper
than LOTSE_API_MAX_JSON_DEPTH, or with a string longer than
LOTSE_API_MAX_STRING_LENGTH characters, answers 400 - all as the
contract's JSON error body, never a RecursionError or a worker tied up by
a huge value. The checks run over the raw text with linear regular
expressions, so their cost is bounded by the body size.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

# A JSON string literal (with escapes), or one bracket outside strings.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = _("The request is too large.")


def json_bounds_check(text: str) -> None:
    """Raise ParseError if `text` nests too deep or holds an over-long string."""
    max_depth = settings.LOTSE_API_MAX_JSON_DEPTH
    max_string = settings.LOTSE_API_MAX_STRING_LENGTH + 2  # with the quotes
    depth = 0
    for match in _TOKEN.finditer(text):
        found = match.group()
        if found in "[{":
            depth += 1
            if depth > max_depth:
                raise exceptions.ParseError(
                    _("The JSON is nested more than %(depth)d levels deep.") % {"depth": max_depth}
                )
        elif found in "]}":
            depth -= 1
        elif len(found) > max_string:
            raise exceptions.ParseError(
                _("A text in the request is longer than %(length)d characters.")
                % {"length": settings.LOTSE_API_MAX_STRING_LENGTH}
            )


def read_bounded(stream: Any, limit: int) -> bytes:
    """Read at most `limit` bytes of the body; RequestTooLarge beyond."""
    if stream is None:
        return b""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise RequestTooLarge(
            _("The request is larger than %(size)d KB.") % {"size": limit // 1024}
        )
    return data


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = read_bounded(stream, settings.LOTSE_API_MAX_BODY_BYTES)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise exceptions.ParseError(_("The request body is not valid UTF-8.")) from None
        json_bounds_check(text)
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise exceptions.ParseError(_("The request body is not valid JSON.")) from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
