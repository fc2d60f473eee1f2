"""URLs of the case part of API v1 (mounted under /api/v1/)."""

from django.urls import path, re_path

from cases import api, api_corrections, api_people, api_privacy

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
        "cases/<str:case_id>/clock-facts/",
        api.ClockFactListView.as_view(),
        name="api-clock-facts",
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
    # The manager's day (issue 20): corrections, cancellations, needs, chronology.
    *[
        path(
            f"{prefix}/{action}/",
            getattr(api_corrections, f"{view}{action.title()}View").as_view(),
            name=f"api-{slug}-{action}",  # e.g. api-consultation-correct
        )
        for prefix, view, slug in (
            ("cases/<str:case_id>/consultations/<str:entry_id>", "Consultation", "consultation"),
            ("cases/<str:case_id>/referrals/<str:entry_id>", "Referral", "referral"),
            ("cases/<str:case_id>/assessments/<str:entry_id>", "Assessment", "assessment"),
            ("cases/<str:case_id>/plan/goals/<str:entry_id>", "Goal", "goal"),
            (
                "cases/<str:case_id>/plan/goals/<str:goal_id>/measures/<str:measure_id>",
                "Measure",
                "measure",
            ),
            ("network-contacts/<str:contact_id>", "NetworkContact", "network-contact"),
        )
        for action in ("correct", "cancel")
    ],
    path(
        "cases/<str:case_id>/assessments/",
        api_corrections.AssessmentHistoryView.as_view(),
        name="api-assessments",
    ),
    path(
        "cases/<str:case_id>/chronology/",
        api_corrections.ChronologyView.as_view(),
        name="api-chronology",
    ),
]

# Persons and households kept current, a member's own case (cases.api_people).
urlpatterns += [
    path("persons/<str:person_id>/", api_people.PersonView.as_view(), name="api-person"),
    path(
        "households/<str:household_id>/",
        api_people.HouseholdDetailView.as_view(),
        name="api-household",
    ),
    path(
        "households/<str:household_id>/members/",
        api_people.HouseholdMembersView.as_view(),
        name="api-household-members",
    ),
    path(
        "households/<str:household_id>/members/<str:person_id>/",
        api_people.HouseholdMemberView.as_view(),
        name="api-household-member",
    ),
    path(
        "households/<str:household_id>/members/<str:person_id>/case/",
        api_people.HouseholdMemberCaseView.as_view(),
        name="api-household-member-case",
    ),
]

# Voluntariness and data protection (issue 18).
urlpatterns += [
    path(
        "cases/<str:case_id>/plan/draft/",
        api_privacy.PlanDraftView.as_view(),
        name="api-plan-draft",
    ),
    path(
        "cases/<str:case_id>/plan/agree/",
        api_privacy.PlanAgreeView.as_view(),
        name="api-plan-agree",
    ),
    path(
        "cases/<str:case_id>/plan/change/",
        api_privacy.PlanChangeView.as_view(),
        name="api-plan-change",
    ),
    path(
        "cases/<str:case_id>/anonymous-mode/",
        api_privacy.AnonymousModeView.as_view(),
        name="api-anonymous-mode",
    ),
    path(
        "cases/<str:case_id>/legal-hold/",
        api_privacy.LegalHoldView.as_view(),
        name="api-legal-hold",
    ),
    path("cases/<str:case_id>/erasure/", api_privacy.ErasureView.as_view(), name="api-erasure"),
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
