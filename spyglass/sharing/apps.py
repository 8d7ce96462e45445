from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "spyglass.sharing"
    label = "sharing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from spyglass.monitoring import tests_service

        from . import (
            dashboard_snapshots,  # noqa: F401  ends dashboard snapshots' widgets with their live shares
            scope_provider,  # noqa: F401  registers the snapshot read scope
            services,  # noqa: F401  ends snapshots with the live shares they were made through
        )

        # Lists of tests show saved events, never share links (each stays readable by its id).
        tests_service.register_unlisted_tests(services.share_link_test_ids)
