from django.apps import AppConfig


class StreamsConfig(AppConfig):
    name = "spyglass.streams"
    label = "streams"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from spyglass.telemetry.collector import register

        from .gauges import stream_backlog

        register(stream_backlog)
