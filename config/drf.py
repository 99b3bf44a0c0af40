"""DRF plumbing shared by every endpoint: pagination, one-line errors and the JSON parser.

DRF imports this module (DEFAULT_PARSER_CLASSES) while `rest_framework.views` is itself being imported,
so nothing here may import that module at import time: DRF's own exception handler is imported on use.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import parsers
from rest_framework.exceptions import APIException, NotFound, ParseError, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from debate.errors import DomainError, status_for


class Pagination(PageNumberPagination):
    """Pages of PAGE_SIZE records; `page_size` asks for another size, capped at `max_page_size`.

    DRF quietly falls back to the default size for a `page_size` that is no positive whole number (`null`,
    `0`, `abc`): here that is a 400 naming the parameter, as every other malformed parameter is."""

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Any) -> int | None:
        value = request.query_params.get(self.page_size_query_param)
        if value is not None and not (value.isascii() and value.isdigit() and int(value) > 0):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"{value!r} is not a whole number of at least 1 (at most {self.max_page_size} are served)"
                    ]
                }
            )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Records per page (default {self.page_size}; at most {self.max_page_size})"
        return parameters


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error summed up in `detail` as one line that names what is wrong.

    Validation errors keep their per-field structure under `errors` for clients that want it.
    """
    from rest_framework.views import exception_handler as drf_exception_handler  # see the module docstring

    status = status_for(exc)  # the same statuses the pages answer with
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc), **exc.extra}, status=status)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, ObjectDoesNotExist):
        exc = NotFound(str(exc) or "not found")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if status is not None:
        response.status_code = status
    if isinstance(exc, ValidationError):
        response.data = {"detail": one_line(exc.detail), "errors": exc.detail}
    elif isinstance(exc, APIException | Http404) and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response


def one_line(detail: Any, prefix: str = "") -> str:
    """Flatten DRF's nested error structure into `field: message; other.0.field: message`."""
    if isinstance(detail, dict):
        parts = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "detail") else str(key)
            parts.append(one_line(value, f"{prefix}.{name}" if prefix and name else prefix or name))
        return "; ".join(part for part in parts if part)
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            message = " ".join(str(item) for item in detail)
            return f"{prefix}: {message}" if prefix else message
        return "; ".join(
            one_line(item, f"{prefix}.{number}" if prefix else str(number))
            for number, item in enumerate(detail)
            if item
        )
    message = str(detail)
    return f"{prefix}: {message}" if prefix else message


class JSONParser(parsers.JSONParser):
    """DRF's parser, with a 400 rather than a 500 for JSON nested too deeply for Python's own parser."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
