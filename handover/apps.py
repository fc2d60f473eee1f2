from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoverConfig(AppConfig):
    name = "handover"
    verbose_name = _("Handovers")

    def ready(self) -> None:
        from cases import case_data
        from cases.duplicates import register_intake_finder
        from handover.models import Handover, HandoverMember
        from handover.selectors import handovers_visible_to, intake_candidates
        from handover.services.erasure import (
            handover_anonymise,
            handover_members_of_case,
            handovers_of_case,
        )
        from notifications.links import register_visibility

        def visible_ids(user: object, ids: set[int]) -> set[int]:
            return set(
                handovers_visible_to(user=user).filter(pk__in=ids).values_list("pk", flat=True)
            )

        register_visibility("handover", visible_ids)
        # Walk-ins are checked against the waiting handovers too.
        register_intake_finder(intake_candidates)
        # Art. 15 and erasure reach the handover a case came from.
        case_data.register(
            "handover",
            Handover,
            _("Handover"),
            rows=handovers_of_case,
            anonymise=handover_anonymise,
        )
        case_data.register(
            "handover_persons",
            HandoverMember,
            _("Handed-over persons"),
            rows=handover_members_of_case,
            anonymise=None,  # handover_anonymise blanks the member rows too
        )
