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


ERROR_RESPONSES = {
    "400": "Bad request: the errorMessage names the field or parameter",
    "401": "Missing or invalid credentials",
    "403": "The role lacks the permission (Regular Users cannot POST)",
    "404": "Not found, or not visible to this account group",
    "405": "Method not allowed",
    "406": "Unknown format",
    "413": "Request body larger than 1 MiB",
    "415": "Unsupported content type",
    "429": "Rate limit exceeded (organization requests, failed logins)",
}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents the v6 error statuses and their {"errorMessage"} body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {"errorMessage": {"type": "string"}},
        "required": ["errorMessage"],
    }
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if path in ("/v6/openapi.json", "/v6/docs/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": ref}, "text/xml": {"schema": ref}},
                    },
                )
    return result
