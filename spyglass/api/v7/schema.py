"""OpenAPI of the two versions: each document describes its own routes; v7's errors are problem details."""

from drf_spectacular.openapi import AutoSchema

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


class V7AutoSchema(AutoSchema):
    """v7's views answer plain objects, so drf-spectacular names a collection's GET `…_retrieve` like its item's
    (`/v7/roles` and `/v7/roles/{role_id}` collided): a GET of a path that does not end in a parameter is a list."""

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        if self.method == "GET" and not self.path.rstrip("/").endswith("}") and operation_id.endswith("_retrieve"):
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id


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
