from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "spyglass.dashboards"
    label = "dashboards"
