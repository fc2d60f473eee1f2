from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        from appointments.chronology import register_chronology
        from appointments.models import Appointment
        from appointments.services import appointments_anonymise
        from cases import case_data

        register_chronology()
        # Art. 15 and erasure reach the case's appointments.
        case_data.register(
            "appointments",
            Appointment,
            _("Appointments"),
            rows=lambda case: Appointment.objects.filter(case_id=case.pk).order_by("pk"),
            anonymise=appointments_anonymise,
        )
