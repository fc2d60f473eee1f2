from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    name = "transfers"
    verbose_name = _("Case transfers")

    def ready(self) -> None:
        from cases import case_data
        from transfers.erasure import transfer_packages_anonymise, transfer_packages_of_case
        from transfers.models import TransferPackage

        # Art. 15 lists the packages (the received case file itself is the
        # case's own data, listed there); erasure removes that copy.
        case_data.register(
            "transfer_packages",
            TransferPackage,
            _("Transfer packages"),
            rows=transfer_packages_of_case,
            anonymise=transfer_packages_anonymise,
            exclude=("payload",),
        )
