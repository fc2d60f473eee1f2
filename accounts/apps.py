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

        from django.db.models.signals import post_save

        from accounts.models import User
        from accounts.tokens import api_tokens_revoke_stale

        def _revoke_tokens(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
            # A changed password, deactivation or new role ends the
            # account's API tokens (they also fail their stamp check).
            if not raw and set(update_fields or ["all"]) != {"last_login"}:
                api_tokens_revoke_stale(user=instance)

        post_save.connect(
            _revoke_tokens, sender=User, dispatch_uid="accounts.revoke_tokens", weak=False
        )
