"""Share link routes. The id pattern is loose on purpose: links.find_snapshot is the one judge of well-formedness."""

from django.urls import re_path

from . import dashboard_views, views

LINK = r"(?P<link_id>[^/]{0,200})"

urlpatterns = [
    re_path(r"^s/" + LINK + r"/$", views.share_page, name="share-page"),
    re_path(r"^s/" + LINK + r"/results$", views.results_part, name="share-results"),
    re_path(r"^s/" + LINK + r"/comments$", views.post_comment, name="share-comment"),
    re_path(r"^s/" + LINK + r"/download\.(?P<fmt>csv|json)$", views.download, name="share-download"),
    re_path(r"^s/d/" + LINK + r"/$", dashboard_views.dashboard_share_page, name="dashboard-share-page"),
    re_path(r"^s/d/" + LINK + r"/comments$", dashboard_views.dashboard_comment, name="dashboard-share-comment"),
    re_path(
        r"^s/d/" + LINK + r"/widgets/(?P<position>[0-9]{1,4})\.json$",
        dashboard_views.dashboard_widget_download,
        name="dashboard-share-download",
    ),
    re_path(
        r"^s/d/" + LINK + r"/widgets/(?P<position>[0-9]{1,4})\.csv$",
        dashboard_views.dashboard_widget_csv,
        name="dashboard-share-csv",
    ),
    re_path(r"^s(?:/(?P<rest>.*))?$", views.unmatched, name="share-unmatched"),
]
