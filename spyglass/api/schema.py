"""OpenAPI descriptions of our authentication schemes (loaded by ApiConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "spyglass.api.auth.TokenAuthentication"
    name = ["basicAuth", "bearerAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "basic", "description": "e-mail as user name, API token as password"},
            {"type": "http", "scheme": "bearer", "description": "the API token"},
        ]


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "spyglass.api.auth.SessionAuth"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
