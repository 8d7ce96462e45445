from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "spyglass.telemetry"
    label = "telemetry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from spyglass.monitoring import results

        from . import counters

        results.register_on_write(counters.count_results)
