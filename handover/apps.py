from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoverConfig(AppConfig):
    name = "handover"
    verbose_name = _("Handovers")

    def ready(self) -> None:
        from handover.selectors import handovers_visible_to
        from notifications.links import register_visibility

        def visible_ids(user: object, ids: set[int]) -> set[int]:
            return set(
                handovers_visible_to(user=user).filter(pk__in=ids).values_list("pk", flat=True)
            )

        register_visibility("handover", visible_ids)
