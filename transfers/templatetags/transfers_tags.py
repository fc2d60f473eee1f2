"""The case page's links to the transfer screens (and the origin of a case
taken over from another installation)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Role
from transfers.selectors import imported_package_of_case

register = template.Library()


@register.inclusion_tag("transfers/_case_links.html")
def case_transfer_links(case: Any, user: Any, content: bool) -> dict[str, Any]:
    """Links for the case page: hand over (supervisor), export a package
    (the case's manager), and where a taken-over case came from."""
    return {
        "case": case,
        "may_transfer": user.role == Role.SUPERVISOR,
        "may_export": content,
        "imported": imported_package_of_case(case=case) if content else None,
    }
