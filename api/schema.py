"""The OpenAPI schema's shared parts: the bearer token, and the error answers every
operation may give, so a client (and schemathesis) knows each status code's body."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR = {
    "type": "object",
    "description": "What went wrong: ``detail`` for the request, or a list of messages "
    "per field (``non_field_errors`` for the whole body).",
    "additionalProperties": True,
    "properties": {"detail": {"type": "string"}},
}
ERRORS = {
    "400": "Bad input: messages per field.",
    "401": "No token, or a token expired, revoked or unknown.",
    "403": "Your role (or a read-only token) does not allow this.",
    "404": "No such object in your schools.",
    "405": "This method is not allowed here.",
    "429": "Too many requests for this token; retry after the Retry-After header's seconds.",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (pw_…), made on the API tokens page.",
        }


def add_error_responses(result, generator, request, public):
    """Every operation documents the error answers it may give."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ERRORS
            for code, text in codes.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
            if method == "get" and any(
                p.get("name") == "If-None-Match" for p in operation.get("parameters", [])
            ):
                operation["responses"].setdefault("304", {"description": "Not modified."})
    return result
