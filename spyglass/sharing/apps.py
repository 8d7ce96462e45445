from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "spyglass.sharing"
    label = "sharing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import (
            scope_provider,  # noqa: F401  registers the snapshot read scope
            services,  # noqa: F401  ends snapshots with the live shares they were made through
        )
