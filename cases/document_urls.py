"""The pages of a case's client documents and CV, mounted under
/dokumente/fall/<case_pk>/ (views in `cases.document_views`)."""

from django.urls import path

from cases import document_views

app_name = "documents"

urlpatterns = [
    path("fall/<str:case_pk>/neu/", document_views.document_upload, name="upload"),
    path("fall/<str:case_pk>/lebenslauf/", document_views.cv_page, name="cv"),
    path(
        "fall/<str:case_pk>/<str:document_pk>/", document_views.document_download, name="download"
    ),
    path(
        "fall/<str:case_pk>/<str:document_pk>/loeschen/",
        document_views.document_delete,
        name="delete",
    ),
    path(
        "fall/<str:case_pk>/lebenslauf/<str:entry_pk>/entfernen/",
        document_views.cv_entry_remove,
        name="cv_entry_remove",
    ),
    path("fall/<str:case_pk>/lebenslauf.pdf", document_views.cv_pdf, name="cv_pdf"),
]
