"""URLs of the case part of API v1 (mounted under /api/v1/)."""

from django.urls import path, re_path

from cases import api

urlpatterns = [
    path("auth/token/", api.AuthTokenView.as_view(), name="api-token"),
    path("catalogues/", api.CatalogueListView.as_view(), name="api-catalogues"),
    path("cases/", api.CaseListView.as_view(), name="api-cases"),
    path("cases/<str:case_id>/", api.CaseDetailView.as_view(), name="api-case"),
    path(
        "cases/<str:case_id>/transitions/<slug:name>/",
        api.CaseTransitionView.as_view(),
        name="api-case-transition",
    ),
    path("cases/<str:case_id>/history/", api.CaseHistoryView.as_view(), name="api-case-history"),
    path("cases/<str:case_id>/consents/", api.ConsentListView.as_view(), name="api-consents"),
    path(
        "cases/<str:case_id>/consents/<str:consent_id>/withdraw/",
        api.ConsentWithdrawView.as_view(),
        name="api-consent-withdraw",
    ),
    path(
        "cases/<str:case_id>/consents/<str:consent_id>/evidence/",
        api.ConsentEvidenceView.as_view(),
        name="api-consent-evidence",
    ),
    path(
        "cases/<str:case_id>/consultations/",
        api.ConsultationListView.as_view(),
        name="api-consultations",
    ),
    path("cases/<str:case_id>/assessment/", api.AssessmentView.as_view(), name="api-assessment"),
    path("cases/<str:case_id>/plan/", api.PlanView.as_view(), name="api-plan"),
    path("cases/<str:case_id>/plan/goals/", api.GoalListView.as_view(), name="api-goals"),
    path(
        "cases/<str:case_id>/plan/goals/<str:goal_id>/",
        api.GoalDetailView.as_view(),
        name="api-goal",
    ),
    path(
        "cases/<str:case_id>/plan/goals/<str:goal_id>/measures/",
        api.MeasureListView.as_view(),
        name="api-measures",
    ),
    path("cases/<str:case_id>/referrals/", api.ReferralListView.as_view(), name="api-referrals"),
    path(
        "cases/<str:case_id>/referrals/<str:referral_id>/",
        api.ReferralDetailView.as_view(),
        name="api-referral",
    ),
    path(
        "cases/<str:case_id>/extension-requests/",
        api.CaseExtensionRequestView.as_view(),
        name="api-case-extension-requests",
    ),
    path(
        "extension-requests/", api.ExtensionRequestListView.as_view(), name="api-extension-requests"
    ),
    path(
        "extension-requests/<str:request_id>/approve/",
        api.ExtensionApproveView.as_view(),
        name="api-extension-approve",
    ),
    path(
        "extension-requests/<str:request_id>/reject/",
        api.ExtensionRejectView.as_view(),
        name="api-extension-reject",
    ),
    path("network-contacts/", api.NetworkContactListView.as_view(), name="api-network-contacts"),
]

# A case's client documents and CV (cases.api_documents).
from cases import api_documents  # noqa: E402

urlpatterns += [
    path(
        "cases/<str:case_id>/documents/",
        api_documents.DocumentListView.as_view(),
        name="api-documents",
    ),
    path(
        "cases/<str:case_id>/documents/<str:document_id>/",
        api_documents.DocumentDetailView.as_view(),
        name="api-document",
    ),
    path(
        "cases/<str:case_id>/cv-entries/",
        api_documents.CvEntryListView.as_view(),
        name="api-cv-entries",
    ),
    path(
        "cases/<str:case_id>/cv-entries/<str:entry_id>/",
        api_documents.CvEntryDetailView.as_view(),
        name="api-cv-entry",
    ),
]

# Anything else under /api/v1/ is a JSON 404 too, never Django's HTML page.
urlpatterns.append(re_path(r"^[\s\S]*$", api.not_found))
