from django.apps import AppConfig


class LiveSharesConfig(AppConfig):
    name = "spyglass.liveshares"
    label = "liveshares"

    def ready(self):
        from . import hooks  # noqa: F401  plugs live shares into visible_tests, read_scope and sharedWithAccounts
