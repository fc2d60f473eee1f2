"""German task screens and the routes of the flow's human tasks.

The node routes come from viewflow (`CaseFlow.instance.urls`), reduced to
execute, detail, assign and unassign of human tasks, each guarded (see
workflows.nodes); there is no undo, revive or cancel route.
"""

from django.urls import include, path

from workflows import views
from workflows.flows import CaseFlow

app_name = "workflows"

_flow_patterns, _flow_app, _flow_namespace = CaseFlow.instance.urls

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("freigaben/", views.approvals, name="approvals"),
    path("fall/<str:case_pk>/", views.case_flow, name="case"),
    path("fall/<str:case_pk>/aktion/<slug:name>/", views.case_action, name="case_action"),
    path("ablauf.svg", views.flow_chart, {"flow_class": CaseFlow}, name="flow_chart"),
    path("ablauf/<str:process_pk>.svg", views.process_chart, name="process_chart"),
    path("ablauf/", include((_flow_patterns, _flow_app), namespace=_flow_namespace)),
]
