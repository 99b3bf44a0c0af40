"""Input no view should ever see, refused once for the whole site, before any view runs.

PostgreSQL stores no NUL character in text, and UTF-8 has no encoding for a lone surrogate (JSON can spell
one, `"\\ud800"`): either would reach the database as a DataError or a UnicodeEncodeError, a 500. So a request
whose path, query string, form fields or JSON body holds such text is answered 400, naming where; and a body
over the upload limit (DATA_UPLOAD_MAX_MEMORY_SIZE) 413. Under /api/ the answer is JSON with a one-line
`detail`, as every API error; htmx requests get a fragment holding the error alone; other pages a small page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

# NUL, and the surrogate code points, which only ever appear in a Python str as halves of nothing.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """What is wrong with `text` for the database, in a few words, or None when it can be stored."""
    match = UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "a NUL character"
    return f"a lone surrogate (U+{ord(match.group()):04X}), which UTF-8 cannot encode"


def _json_strings(value: Any) -> Iterator[tuple[str | None, str, str]]:
    """Every string in a parsed JSON document, key or value: (the field it is in, as `evidence.0.text`, None
    for the body itself; how to name the place in a message; the string). A loop over an explicit stack, since a
    body may nest far deeper than Python's recursion limit."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield (where or None), (repr(where) if where else "the body"), item
        elif isinstance(item, dict):
            for key, inner in item.items():
                place = f"{where}.{key}" if where else str(key)
                yield (where or None), f"the key {key!r} in {where!r}" if where else f"the key {key!r}", key
                stack.append((place, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}.{index}" if where else str(index), inner) for index, inner in enumerate(item))


def _parse_json(body: bytes) -> Any:
    """The body as JSON, or None when it is no JSON at all (the API's parser answers that with its own 400)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


@dataclass(frozen=True)
class Problem:
    message: str
    field: str | None = None  # the parameter or field it is in, for the API's `errors`


def _first_unstorable(places: Iterable[tuple[str | None, str, str]]) -> Problem | None:
    for field, place, text in places:
        found = unstorable(text)
        if found:
            return Problem(f"{place} holds {found}", field)
    return None


def _fields(kind: str, data: QueryDict) -> Iterator[tuple[str | None, str, str]]:
    for name, values in data.lists():
        yield None, f"the name of a {kind}", name
        for value in values:
            yield name, f"{kind} {name!r}", value


class RefuseUnstorableInput:
    """A 400 for text the database cannot store in the path, the query string, form fields or a JSON body;
    a 413 for a body over the upload limit. Goes before every middleware that reads the request's data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            problem = self.problem(request)
        except (RequestDataTooBig, TooManyFieldsSent):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return refuse(
                request,
                Problem(f"the request body is over the upload limit of {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)"),
                status=413,
            )
        if problem is not None:
            return refuse(request, problem, status=400)
        return self.get_response(request)

    def problem(self, request: HttpRequest) -> Problem | None:
        """The first thing in the request the database could not store."""
        found = unstorable(request.path)
        if found:
            return Problem(f"the URL path holds {found}")
        problem = _first_unstorable(_fields("query parameter", request.GET))
        if problem is not None or request.method in ("GET", "HEAD", "OPTIONS"):
            return problem
        content_type = request.content_type or ""
        if content_type == "multipart/form-data":
            return self.upload_problem(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _content_length(request) > limit:
            raise RequestDataTooBig("body over DATA_UPLOAD_MAX_MEMORY_SIZE")
        if content_type == "application/x-www-form-urlencoded":
            return _first_unstorable(_fields("form field", request.POST))
        if content_type == "application/json" or content_type.endswith("+json"):
            return _first_unstorable(_json_strings(_parse_json(request.body)))
        return None

    @staticmethod
    def upload_problem(request: HttpRequest) -> Problem | None:
        """Multipart bodies carry files, to which DATA_UPLOAD_MAX_MEMORY_SIZE does not apply: a body larger than
        any upload may be (FILE_UPLOAD_MAX_MEMORY_SIZE) is left unread for the view to refuse by its size; else
        its fields and file names are checked, and more files than Django parses is the import's own 400."""
        if _content_length(request) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
            return None
        try:
            fields = list(_fields("form field", request.POST))
            names = [(None, "a file name", file.name or "") for _, files in request.FILES.lists() for file in files]
        except TooManyFilesSent:
            return Problem(f"too many files; at most {settings.IMPORT_MAX_FILES} at once")
        except MultiPartParserError as error:  # Django's own answer would be its HTML 400 page, also under /api/
            return Problem(f"the multipart body cannot be read: {error}")
        return _first_unstorable([*fields, *names])


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def refuse(request: HttpRequest, problem: Problem, *, status: int) -> HttpResponse:
    """JSON under /api/ (the one-line `detail`, and under `errors` the field it names, as the API's own
    validation errors); a fragment for htmx; else a small page: each holding the message alone."""
    message = problem.message
    if request.path.startswith("/api/"):
        body: dict[str, Any] = {"detail": message}
        if problem.field is not None:
            body["errors"] = {problem.field: [message]}
        return JsonResponse(body, status=status)
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(render_to_string("_refusal.html", {"message": message}), status=status)
    title = "Request too large" if status == 413 else "Bad request"
    page = render_to_string("_refused_page.html", {"message": message, "title": title, "status": status})
    return HttpResponse(page, status=status)
