"""OpenAPI post-processing: every operation documents the JSON errors it can answer.

Views declare their success responses; the error statuses every endpoint shares (bad input,
not signed in, not allowed, not found, too large) are added here in one place, all with the
one error body of `core.errors.ErrorSerializer`.
"""

SHARED_ERRORS = {
    "400": "Bad input: the field named in the error is wrong.",
    "401": "Not signed in (or the token expired) and the resource is not public.",
    "403": "Signed in, but the caller's positions do not allow this.",
    "404": "No such resource, or none the caller may see.",
    "413": "The request or upload is larger than allowed.",
    "414": "The request URL is longer than the server accepts.",
}


def add_error_responses(result, generator, request, public):
    """Adds the shared error responses to every operation that does not declare them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if "Error" not in schemas:  # `core.errors.ErrorSerializer`, referenced by the views
        raise RuntimeError(
            "no view refers to core.errors.ErrorSerializer: the Error schema is missing"
        )
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in SHARED_ERRORS.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    return result
