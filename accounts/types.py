"""Types for requests that passed authentication.

Every interface that acts for a person runs behind authentication
(`login_required`, the two-factor middleware, DRF's `IsAuthenticated`), so
its `request.user` is a `User`, never `AnonymousUser`. These types say so to
mypy; at run time they are the plain request classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User

if TYPE_CHECKING:

    class AuthenticatedHttpRequest(HttpRequest):
        user: User

    class AuthenticatedRequest(Request):
        user: User

else:
    AuthenticatedHttpRequest = HttpRequest
    AuthenticatedRequest = Request

__all__ = ["AuthenticatedHttpRequest", "AuthenticatedRequest", "choice_field", "request_user"]


def request_user(request: HttpRequest | Request) -> User:
    """Return the signed-in user of a request behind authentication.

    Raises PermissionDenied for an anonymous request (an interface that
    forgot its authentication), never acting for nobody.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """Return the form's choice field `name` (to fill its choices at run time)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field")
    return field
