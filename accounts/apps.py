from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and organisation")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.utils import timezone

        from accounts.services import session_started

        def _note_sign_in(sender, request, user, **kwargs) -> None:
            if request is not None and hasattr(request, "session"):
                session_started(session=request.session, now=timezone.now())

        user_logged_in.connect(_note_sign_in, dispatch_uid="accounts.session_started", weak=False)
