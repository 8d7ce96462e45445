"""Agent API routes, versioned under /agent/v1/."""

from django.urls import re_path

from . import views

AGENT = r"^agent/v1/agents/(?P<agent_id>[0-9]{1,18})/"

urlpatterns = [
    re_path(r"^agent/v1/register$", views.RegisterView.as_view(), name="agent-register"),
    re_path(AGENT + r"heartbeat$", views.HeartbeatView.as_view(), name="agent-heartbeat"),
    re_path(AGENT + r"assignments$", views.AssignmentsView.as_view(), name="agent-assignments"),
    re_path(AGENT + r"results$", views.ResultsView.as_view(), name="agent-results"),
]
