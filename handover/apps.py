from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoverConfig(AppConfig):
    name = "handover"
    verbose_name = _("Handovers")

    def ready(self) -> None:
        from cases.duplicates import register_intake_finder
        from handover.selectors import handovers_visible_to, intake_candidates
        from notifications.links import register_visibility

        def visible_ids(user: object, ids: set[int]) -> set[int]:
            return set(
                handovers_visible_to(user=user).filter(pk__in=ids).values_list("pk", flat=True)
            )

        register_visibility("handover", visible_ids)
        # Walk-ins are checked against the waiting handovers too.
        register_intake_finder(intake_candidates)
