"""The case pages (German paths, like the rest of the UI)."""

from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("<str:case_pk>/", views.case_detail, name="detail"),
    path("<str:case_pk>/beratung/", views.consultation_new, name="consultation_new"),
    path("<str:case_pk>/plan.pdf", views.plan_pdf, name="plan_pdf"),
    path("<str:case_pk>/einwilligung.pdf", views.consent_pdf, name="consent_pdf"),
]

# Client documents and the CV (cases.document_views).
from cases import document_views  # noqa: E402

urlpatterns += [
    path("<str:case_pk>/dokumente/neu/", document_views.document_upload, name="document_upload"),
    path(
        "<str:case_pk>/dokumente/<str:document_pk>/",
        document_views.document_download,
        name="document_download",
    ),
    path(
        "<str:case_pk>/dokumente/<str:document_pk>/loeschen/",
        document_views.document_delete,
        name="document_delete",
    ),
    path("<str:case_pk>/lebenslauf/", document_views.cv_page, name="cv"),
    path(
        "<str:case_pk>/lebenslauf/<str:entry_pk>/entfernen/",
        document_views.cv_entry_remove,
        name="cv_entry_remove",
    ),
    path("<str:case_pk>/lebenslauf.pdf", document_views.cv_pdf, name="cv_pdf"),
]
