"""What drf-spectacular cannot see in the views, added to the OpenAPI schema once for every operation.

- The errors every API endpoint can answer, each a JSON object with a one-line `detail` (config.drf):
  400 for any malformed parameter or body (config.middleware refuses text the database cannot store, for every
  endpoint), 401 and 403 where a token or a role is needed, 404 where a path or a parameter names something,
  409 for a write that clashes with the current state, 412 where `If-Match`/`If-None-Match` is understood, 413
  for a body over the upload limit, 503 when the health check cannot reach the database.
- Fields that blind annotation leaves out of an annotator's records (marked `x-omitted-for-annotators` where
  they are declared) are not required, since an annotator never receives them.
- Filter parameters that the pages send empty from their forms (`?stance=`: no filter) say so
  (`allowEmptyValue`).

Registered as a postprocessing hook in SPECTACULAR_SETTINGS; `tests/test_api_fuzz.py` holds the server to it.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What is wrong, in one line, naming the parameter or field"},
        "errors": {"description": "For a malformed request: the message per parameter or field"},
    },
    "required": ["detail"],
}
BLIND_MARKER = "x-omitted-for-annotators"
METHODS = ("get", "put", "post", "patch", "delete")
# Reached without credentials: no 401 or 403 (the token endpoint's own refusal is its 400 and 429).
PUBLIC = frozenset({"/api/health/", "/api/auth/token/", "/api/schema/"})
ERRORS = {
    400: "Malformed: a parameter, header or body field the server refuses, named in `detail`",
    401: "No valid credentials: send `Authorization: Token <token>` (POST /api/auth/token/)",
    403: "Your role may not do this",
    404: "Nothing at this path, or an id or slug in a parameter names nothing",
    409: "The write clashes with the current state; `detail` says how",
    412: "The precondition (`If-Match`, `If-None-Match`) does not hold; `version` is the current label's",
    413: "The request body is over the upload limit",
    503: "The database cannot be reached",
}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters", [])
    statuses = [400]
    if path not in PUBLIC:
        statuses += [401, 403]
    if "{" in path or any(parameter["in"] == "query" for parameter in parameters):
        statuses.append(404)
    if method in ("put", "post", "delete") and path not in PUBLIC and not path.startswith("/api/auth/"):
        statuses.append(409)
    if any(
        parameter["in"] == "header" and parameter["name"] in ("If-Match", "If-None-Match") for parameter in parameters
    ):
        statuses.append(412)
    if "requestBody" in operation:
        statuses.append(413)
    if path == "/api/health/":
        statuses.append(503)
    return statuses


def _optional_blind_fields(components: dict[str, Any]) -> None:
    for schema in components.get("schemas", {}).values():
        properties = schema.get("properties", {})
        blind = {name for name, field in properties.items() if field.get(BLIND_MARKER)}
        if blind and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in blind]


def _empty_filters(operation: dict[str, Any]) -> None:
    """A list's filters (not its pagination) treat an empty value as no filter at all."""
    for parameter in operation.get("parameters", []):
        if (
            parameter["in"] == "query"
            and parameter["name"] not in ("page", "page_size")
            and not parameter.get("required")
        ):
            parameter["allowEmptyValue"] = True


def _json_bodies(operation: dict[str, Any]) -> None:
    """DRF also parses forms, but a form cannot carry what the JSON bodies hold (null, nested lists, numbers
    and booleans as such): where a body is JSON, the schema promises JSON only. Uploads stay multipart."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        for media_type in [name for name in content if name != "application/json"]:
            del content[media_type]


def _required_not_empty(operation: dict[str, Any]) -> None:
    """A required query parameter sent empty is as missing (a 400): it needs at least one character."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] == "query" and parameter.get("required") and schema.get("type") == "string":
            schema.setdefault("minLength", 1)


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """The postprocessing hook (see the module docstring)."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    _optional_blind_fields(components)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, item in result.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            _empty_filters(operation)
            _json_bodies(operation)
            _required_not_empty(operation)
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                documented = responses.setdefault(str(status), {"description": ERRORS[status]})
                documented.setdefault("content", {"application/json": {"schema": reference}})
    return result
