"""OpenAPI of the two versions: each document describes its own routes; v7's errors are problem details."""

from . import conventions

ERROR_RESPONSES = {
    "400": "Bad request: `errors` names each field (ValidationError)",
    "401": "Missing or invalid credentials",
    "403": "The role lacks the permission (Regular Users cannot write)",
    "404": "Not found, or not visible to this account group",
    "406": "Accept is neither application/hal+json nor application/json",
    "415": "The body is not application/json",
    "429": "Rate limit exceeded",
}


def only_v6(endpoints):
    """Preprocessing hook of /v6/openapi.json: the v7 routes have a document of their own."""
    return [e for e in endpoints if not e[0].startswith(conventions.PREFIX)]


def add_problem_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "field": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        if path in ("/v7/openapi.json", "/v7/docs/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {conventions.PROBLEM: {"schema": ref}}}
                )
    return result
