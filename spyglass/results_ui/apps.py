from django.apps import AppConfig


class ResultsUiConfig(AppConfig):
    name = "spyglass.results_ui"
    label = "results_ui"
    verbose_name = "spyglass results component"
