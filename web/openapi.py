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
    "503": "The database is unavailable; try again shortly.",
}
# Errors only some operations can answer, by what the operation does.
WRITE_ERRORS = {  # `core.errors.DATABASE_ERRORS` maps a refused constraint to 409
    "409": "Conflicts with stored data: a duplicate, a missing reference, or still in use.",
}
BODY_ERRORS = {"415": "The request body is not of a media type the operation reads."}
WRITES = ("post", "put", "patch", "delete")
# The HTTP server (gunicorn, `--limit-request-line`) answers an over-long request line itself,
# before the application: its page is HTML.
URL_TOO_LONG = {
    "description": "The request line is longer than the HTTP server accepts (8190 bytes); "
    "answered by the HTTP server as an HTML page.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
# PostgreSQL text cannot hold NUL, so every text value refuses it (`JsonErrorMiddleware`,
# DRF's CharField): a pattern says so wherever a text has no pattern or choices of its own.
NO_NUL = "^[^\\u0000]*$"
# A text that must not be blank (minLength ≥ 1) is blank when only spaces are left: DRF's
# CharField strips it with str.strip(). These are the characters str.isspace() names, spelled
# out because \s means other characters in the ECMA regexes of OpenAPI clients.
SPACES = (
    "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{SPACES}][^\\u0000]*$"
# Request bodies whose service refuses a property it does not name (400 naming it).
CLOSED_BODIES = {
    "ThemeRequest",
    "PatchedThemeEditRequest",
    "PatchedLayerPatchRequest",
    "MapConfigRequest",
}


def add_error_responses(result, generator, request, public):
    """Adds the shared error responses to every operation that does not declare them, and
    states the rules every text and the closed request bodies keep."""
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
            errors = dict(SHARED_ERRORS)
            if method in WRITES:
                errors.update(WRITE_ERRORS)
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
            responses.setdefault("414", URL_TOO_LONG)
            for parameter in operation.get("parameters", []):
                # `core.params` refuses a blank value only where the parameter is required.
                _refuse_nul(parameter.get("schema", {}), blank=parameter.get("required", False))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _refuse_nul(media.get("schema", {}))
    for name, schema in schemas.items():
        if name.endswith("Request"):
            _refuse_nul(schema)
        if name in CLOSED_BODIES:
            schema["additionalProperties"] = False
    return result


def _refuse_nul(schema, blank: bool = True) -> None:
    """Adds `NO_NUL` (or `NOT_BLANK`, when it may not be empty) to every free text in `schema`
    (walking objects and arrays); `blank` False: the server does not check for blanks."""
    if not isinstance(schema, dict):
        return
    free = not ({"pattern", "enum", "format", "$ref"} & set(schema))
    if schema.get("type") == "string" and free:
        refuses_blank = blank and schema.get("minLength", 0) >= 1
        schema["pattern"] = NOT_BLANK if refuses_blank else NO_NUL
    for sub in schema.get("properties", {}).values():
        _refuse_nul(sub, blank)
    _refuse_nul(schema.get("items"), blank)
