from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "spyglass.web"
    label = "web"
    verbose_name = "spyglass web app"

    def ready(self):
        from spyglass.web.staticfiles import ensure_collected

        # Pages name static files by their hashed names, which exist once collected (spyglass/web/staticfiles.py).
        ensure_collected()
