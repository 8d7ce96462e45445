from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "spyglass.api"
    label = "api"
