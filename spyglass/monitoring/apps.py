from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "spyglass.monitoring"
    label = "monitoring"
