"""The permission matrix: every URL pattern, every method it accepts, with and without `HX-Request: true`,
valid and invalid input, for anonymous, two annotators, a curator, a researcher and an admin.

For every response it asserts that
- nothing is a server error (5xx);
- an annotator never receives a marker string that only the *other* annotator's labels hold (their notes and
  the text of their evidence), nor the curator's gold-label note: blind annotation holds on every path,
  error paths included;
- anonymous requests are refused (401, 403, or a redirect to a login page), except for the few public routes.
Positive controls check that each annotator does receive their own markers somewhere, so that a marker that
could never show up anyway would not make the test pass.

Every URL pattern the resolver knows must have an entry in MATRIX (the Django admin's are covered by one rule,
`admin_cases`): a new route without an entry fails `test_every_url_pattern_has_a_matrix_entry`. Methods a
route is *not* listed with must answer 405, so a method added to a view needs cases too.

Adding an entry, for a new route `path("widgets/<int:widget_id>/", ...)` under `/api/`:

    "api/widgets/<int:widget_id>/": [
        GET("/api/widgets/{comment}/"),            # valid: placeholders are ids of the shared world below
        GET("/api/widgets/{missing}/"),            # an id nothing has
        GET("/api/widgets/x/", unknown=True),      # does not resolve: 404 is fine, even for anonymous
        PUT("/api/widgets/{comment}/", {"stance": "favor"}),   # a JSON body under /api/, a form elsewhere
        PUT("/api/widgets/{comment}/", RAW("{not json")),      # a body sent as it is
    ],

The key is the pattern as the resolver spells it: run this test and the failure lists the missing keys
verbatim. Placeholders are the fields of `World` (`{article}`, `{comment}`, `{topic}`, `{missing}`,
`{user_a}`, ...). `public=True` marks a case anonymous users may see; `session=True` one that logs the
client in or out (the next request starts from a fresh login). World ids are real rows, so valid cases
exercise the rendering paths that could leak.

Speed: the world is built once for the module (inside a transaction rolled back at the end), each role's
run in a savepoint of its own; the whole matrix takes well under a minute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from annotations.actions import set_gold, set_stance
from annotations.assignment.actions import mark_qualification_item
from annotations.labels import LabelValues
from annotations.models import Annotation
from annotations.topics import DEFAULT_TOPICS
from debate.actions import relayout_article
from debate.models import Article, Author, Comment
from debate.roles import Role
from tests.conftest import PASSWORD

# Each test runs in a savepoint of its own (what one role's requests change is undone before the next role's
# run), inside the module's transaction that holds the world.
pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROLES = ("anonymous", "annotator_a", "annotator_b", "curator", "researcher", "admin")


# --- the cases -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RAW:
    """A body sent exactly as given (JSON that does not parse, a wrong content type)."""

    text: str
    content_type: str = "application/json"


@dataclass(frozen=True)
class ID:
    """A world id sent as a JSON number (`{"parent": ID("comment")}`); plain strings are formatted as text."""

    name: str


def fill(value: Any, world: World) -> Any:
    """A body with its placeholders filled in from the world."""
    if isinstance(value, str):
        return value.format(**vars(world))
    if isinstance(value, ID):
        return getattr(world, value.name)
    if isinstance(value, dict):
        return {fill(key, world): fill(inner, world) for key, inner in value.items()}
    if isinstance(value, list):
        return [fill(inner, world) for inner in value]
    return value


@dataclass(frozen=True)
class Case:
    method: str
    url: str  # with {placeholders} from World
    body: Any = None  # dict: JSON under /api/, a form elsewhere; RAW: as it is
    public: bool = False  # anonymous may use it (health, schema, docs, login, password reset)
    unknown: bool = False  # names nothing (the URL does not resolve, or an unknown format): 404 for anyone
    session: bool = False  # logs the client in or out

    def request(self, client: Client, world: World, htmx: bool) -> HttpResponseBase:
        url = self.url.format(**vars(world))
        headers = HTMX if htmx else {}
        if self.body is None:
            return client.generic(self.method, url, headers=headers)
        body = fill(self.body, world)
        if isinstance(body, RAW):
            data, content_type = body.text, body.content_type
        elif url.startswith("/api/"):
            data, content_type = json.dumps(body), "application/json"
        else:
            data, content_type = urlencode(body, doseq=True), "application/x-www-form-urlencoded"
        return client.generic(self.method, url, data, content_type=content_type, headers=headers)


def _case(method: str) -> Callable[..., Case]:
    def make(url: str, body: Any = None, **flags: bool) -> Case:
        return Case(method, url, body, **flags)

    return make


GET, POST, PUT, PATCH, DELETE = (_case(method) for method in METHODS)

# A multipart upload of one small document, as the import form and POST /api/imports/ take it.
UPLOAD = RAW(
    "--matrix\r\n"
    'Content-Disposition: form-data; name="files"; filename="matrix-upload.txt"\r\n'
    "Content-Type: text/plain\r\n\r\n"
    "A title\n\nA body.\n\r\n"
    "--matrix--\r\n",
    "multipart/form-data; boundary=matrix",
)
BAD_LABEL = {"stance": "maybe", "confidence": 7, "evidence": [{"start": -1, "end": 10**9, "text": 3}]}
NOT_JSON = RAW("{not json")
ARRAY = RAW("[1, 2]")


def label_cases(base: str) -> list[Case]:
    """The label and gold routes of an item, `base` being e.g. `/api/comments/{comment}`."""
    return [
        GET(f"{base}/annotations/{{topic}}/"),
        GET(f"{base}/annotations/{{bad_topic}}/"),
        PUT(f"{base}/annotations/{{topic}}/", {"stance": "against", "note": "matrix", "unsure": True}),
        PUT(f"{base}/annotations/{{topic}}/", BAD_LABEL),
        PUT(f"{base}/annotations/{{topic}}/", NOT_JSON),
        PUT(f"{base}/annotations/{{bad_topic}}/", {"stance": "favor"}),
        DELETE(f"{base}/annotations/{{topic}}/"),
    ]


def gold_cases(base: str) -> list[Case]:
    return [
        PUT(f"{base}/gold/{{topic}}/", {"stance": "favor", "note": "matrix gold"}),
        PUT(f"{base}/gold/{{topic}}/", {"stance": "maybe"}),
        PUT(f"{base}/gold/{{bad_topic}}/", {"stance": "favor"}),
        PUT(f"{base}/gold/{{topic}}/", ARRAY),
        DELETE(f"{base}/gold/{{topic}}/"),
        DELETE(f"{base}/gold/{{bad_topic}}/"),
    ]


def router_cases(name: str, detail: str, filters: list[dict[str, str]], writes: bool = False) -> dict[str, list[Case]]:
    """A DRF router's four patterns: list and detail, each also with a format suffix (`.json`)."""
    queries = ["", *(f"?{urlencode(query, safe='{}')}" for query in filters)]
    return {
        f"api/^{name}/$": [GET(f"/api/{name}/{query}") for query in queries],
        f"api/^{name}\\.(?P<format>[a-z0-9]+)/?$": [
            GET(f"/api/{name}.json"),
            GET(f"/api/{name}.xml", unknown=True),
        ],
        f"api/^{name}/(?P<{'slug' if name == 'topics' else 'pk'}>[^/.]+)/$": [
            GET(f"/api/{name}/{detail}/"),
            GET(f"/api/{name}/{{missing}}/"),
            GET(f"/api/{name}/not-an-id/"),
        ],
        f"api/^{name}/(?P<{'slug' if name == 'topics' else 'pk'}>[^/.]+)\\.(?P<format>[a-z0-9]+)/?$": [
            GET(f"/api/{name}/{detail}.json"),
            GET(f"/api/{name}/{{missing}}.json"),
            GET(f"/api/{name}/{detail}.xml", unknown=True),
        ],
    }


COMMENT_FILTERS = [
    {"article": "{article}", "page_size": "1000"},
    {"topic": "{topic}", "stance": "against"},
    {"topic": "{topic}", "status": "unresolved"},
    {"annotator": "{user_a}", "topic": "{topic}"},
    {"annotator": "{user_b}"},
    {"unannotated": "true", "topic": "{topic}"},
    {"topic": "{topic}", "relation": "agrees", "thread_mix": "contested", "both_sides": "true"},
    {"topic": "{topic}", "relation_to_article": "opposes"},
    {"has_replies": "%s", "outdated": "maybe", "page_size": "null", "page": "x"},
    {"search": "munitions", "author": "writer a", "topic": "{bad_topic}"},
]
ANNOTATION_FILTERS = [
    {"article": "{article}", "item_type": "article"},
    {"annotator": "{user_a}"},
    {"annotator": "{user_b}", "topic": "{topic}", "stance": "favor"},
    {"comment": "{missing}", "updated_since": "not a date", "outdated": "%d"},
]

MATRIX: dict[str, list[Case]] = {
    # --- API: open to everyone
    "api/schema/": [GET("/api/schema/", public=True), GET("/api/schema/?format=json", public=True)],
    "api/docs/": [GET("/api/docs/", public=True), GET("/api/docs/?script", public=True)],
    "api/health/": [GET("/api/health/", public=True)],
    # --- API: tokens
    "api/auth/token/": [
        POST("/api/auth/token/", {"username": "{user_a}", "password": "wrong"}, public=True),
        POST("/api/auth/token/", {"username": "{user_b}"}, public=True),
        POST("/api/auth/token/", NOT_JSON, public=True),
        POST("/api/auth/token/", {"username": "{user_a}", "password": PASSWORD}, public=True),
    ],
    "api/auth/logout/": [POST("/api/auth/logout/"), POST("/api/auth/logout/", NOT_JSON)],
    "api/auth/logout-all/": [POST("/api/auth/logout-all/")],
    # --- API: corpus and labels
    **router_cases("topics", "{topic}", [{"all": "true"}, {"all": "%s"}]),
    **router_cases("comments", "{comment}", COMMENT_FILTERS),
    **router_cases("articles", "{article}", [{"topic": "{topic}", "stance": "favor"}, {"unannotated": "yes"}]),
    **router_cases("annotations", "{annotation_a}", ANNOTATION_FILTERS),
    "api/articles/<int:pk>/thread-report/": [
        GET("/api/articles/{article}/thread-report/"),
        GET("/api/articles/{missing}/thread-report/"),
        POST("/api/articles/{article}/thread-report/", {"2": [1]}),
        POST("/api/articles/{article}/thread-report/", {"99": [1], "x": "y"}),
        POST("/api/articles/{article}/thread-report/", NOT_JSON),
        POST("/api/articles/{missing}/thread-report/", {}),
    ],
    "api/comments/<int:comment_id>/annotations/<slug:topic_slug>/": [
        *label_cases("/api/comments/{comment}"),
        GET("/api/comments/{missing}/annotations/{topic}/"),
        PUT("/api/comments/{missing}/annotations/{topic}/", {"stance": "favor"}),
        GET("/api/comments/x/annotations/{topic}/", unknown=True),
    ],
    "api/articles/<int:article_id>/annotations/<slug:topic_slug>/": [
        *label_cases("/api/articles/{article}"),
        DELETE("/api/articles/{missing}/annotations/{topic}/"),
    ],
    "api/comments/<int:comment_id>/gold/<slug:topic_slug>/": [
        *gold_cases("/api/comments/{gold_comment}"),
        PUT("/api/comments/{missing}/gold/{topic}/", {"stance": "favor"}),
    ],
    "api/articles/<int:article_id>/gold/<slug:topic_slug>/": [
        *gold_cases("/api/articles/{article}"),
        DELETE("/api/articles/{missing}/gold/{topic}/"),
    ],
    "api/comments/<int:comment_id>/parent/": [
        PUT("/api/comments/{reply}/parent/", {"parent": ID("comment")}),
        PUT("/api/comments/{reply}/parent/", {"parent": None}),
        PUT("/api/comments/{comment}/parent/", {"parent": ID("reply")}),
        PUT("/api/comments/{reply}/parent/", {"parent": "x"}),
        PUT("/api/comments/{missing}/parent/", {"parent": None}),
    ],
    "api/threads/<int:comment_id>/": [GET("/api/threads/{comment}/"), GET("/api/threads/{missing}/")],
    "api/comments/<int:comment_id>/qualification/": [
        PUT("/api/comments/{gold_comment}/qualification/"),
        PUT("/api/comments/{comment}/qualification/"),
        DELETE("/api/comments/{gold_comment}/qualification/"),
        DELETE("/api/comments/{missing}/qualification/"),
    ],
    # --- API: quality and assignment
    "api/agreement/": [
        GET("/api/agreement/"),
        GET("/api/agreement/?topic={topic}&article={article}&items=comments"),
        GET("/api/agreement/?topic={bad_topic}&article=x&items=everything"),
    ],
    "api/agreement/confusion/": [
        GET("/api/agreement/confusion/?topic={topic}&a={user_a}&b={user_b}"),
        GET("/api/agreement/confusion/?topic={topic}"),
        GET("/api/agreement/confusion/?topic={bad_topic}&a=x&b=y&items=none"),
    ],
    "api/progress/": [GET("/api/progress/")],
    "api/distribution/": [GET("/api/distribution/?items=articles"), GET("/api/distribution/?items=x")],
    "api/articles/<int:article_id>/stance-summary/": [
        GET("/api/articles/{article}/stance-summary/"),
        GET("/api/articles/{missing}/stance-summary/"),
    ],
    "api/assignment/": [
        GET("/api/assignment/"),
        PUT("/api/assignment/", {"overlap_share": 1.0}),
        PUT("/api/assignment/", {"overlap_share": "lots", "unknown": 1}),
        PUT("/api/assignment/", ARRAY),
    ],
    "api/assignment/summary/": [GET("/api/assignment/summary/")],
    # --- API: stance suggestions (issue 16)
    "api/models/": [GET("/api/models/"), GET("/api/models/?topic={topic}"), GET("/api/models/?topic=nope")],
    "api/models/train/": [
        POST("/api/models/train/", {"topic": "{topic}"}),
        POST("/api/models/train/", {"topic": "nope"}),
        POST("/api/models/train/", ARRAY),
    ],
    "api/suggestions/settings/": [
        GET("/api/suggestions/settings/"),
        PUT("/api/suggestions/settings/", {"active_learning": False}),
        PUT("/api/suggestions/settings/", {"random_share": 7, "colour": "red"}),
        PUT("/api/suggestions/settings/", ARRAY),
    ],
    "api/assignment/annotators/<str:username>/": [
        PUT("/api/assignment/annotators/{user_b}/", {"paused": False}),
        PUT("/api/assignment/annotators/{user_b}/", {"qualification": "brilliant"}),
        PUT("/api/assignment/annotators/{user_b}/", ARRAY),
        PUT("/api/assignment/annotators/nobody-at-all/", {"paused": True}),
    ],
    "api/topics/<slug:slug>/guidelines/": [
        GET("/api/topics/{topic}/guidelines/"),
        GET("/api/topics/{bad_topic}/guidelines/"),
        POST("/api/topics/{topic}/guidelines/", {"note": "matrix", "guidelines": "Read carefully."}),
        POST("/api/topics/{topic}/guidelines/", {"colour": "blue"}),
        POST("/api/topics/{topic}/guidelines/", ARRAY),
    ],
    "api/history/": [
        GET("/api/history/"),
        GET("/api/history/?annotator={user_a}"),
        GET("/api/history/?annotator={user_b}&kind=annotation"),
        GET("/api/history/?comment=x&since=yesterday&kind=nonsense"),
    ],
    # --- API: exports
    "api/export/annotations.jsonl": [
        GET("/api/export/annotations.jsonl"),
        GET("/api/export/annotations.jsonl?annotator={user_b}"),
        GET("/api/export/annotations.jsonl?topic={bad_topic}&outdated=%s"),
    ],
    "api/export/annotations.csv": [
        GET("/api/export/annotations.csv?article={article}"),
        GET("/api/export/annotations.csv?stance=maybe"),
    ],
    "api/export/comments.jsonl": [
        GET("/api/export/comments.jsonl"),
        GET("/api/export/comments.jsonl?topic={topic}&stance=against&annotator={user_a}"),
        GET("/api/export/comments.jsonl?has_replies=%s&page_size=x"),
    ],
    # --- API: batch label writes, imports and releases
    "api/annotations/batch/": [
        POST(
            "/api/annotations/batch/",
            {"writes": [{"comment": ID("comment"), "topic": "{topic}", "stance": "favor", "note": "batch"}]},
        ),
        POST(
            "/api/annotations/batch/",
            {
                "writes": [
                    {"article": ID("article"), "topic": "{topic}", "delete": True},
                    {"comment": ID("missing"), "topic": "{bad_topic}", "stance": "maybe", "if_match": "x"},
                    {"comment": ID("comment"), "article": ID("article"), "topic": "{topic}"},
                ]
            },
        ),
        POST("/api/annotations/batch/", {"writes": "all of them"}),
        POST("/api/annotations/batch/", NOT_JSON),
    ],
    "api/imports/": [
        GET("/api/imports/"),
        POST("/api/imports/", UPLOAD),
        POST("/api/imports/", RAW("files=none", "application/x-www-form-urlencoded")),
        POST("/api/imports/", RAW("--x\r\nnot a multipart body", "multipart/form-data; boundary=x")),
    ],
    "api/imports/<int:pk>/": [GET("/api/imports/{missing}/"), GET("/api/imports/x/", unknown=True)],
    "api/releases/": [
        GET("/api/releases/"),
        POST("/api/releases/", {"name": "matrix release", "filters": {"topic": "{topic}"}}),
        POST("/api/releases/", {"name": "", "filters": {"topic": "{bad_topic}", "colour": "blue"}}),
        POST("/api/releases/", NOT_JSON),
    ],
    "api/releases/<int:pk>/": [GET("/api/releases/{missing}/")],
    "api/releases/<int:pk>/files/<str:name>": [
        GET("/api/releases/{missing}/files/annotations.jsonl"),
        GET("/api/releases/{missing}/files/..%2F..%2Fsettings.py", unknown=True),
    ],
    # --- accounts (password reset is served because the world sets EMAIL_URL)
    "accounts/login/": [
        GET("/accounts/login/", public=True),
        GET("/accounts/login/?next=/api/annotations/", public=True),
        POST("/accounts/login/", {"username": "{user_a}", "password": "wrong"}, public=True),
        POST("/accounts/login/", {}, public=True),
        PUT("/accounts/login/", {}, public=True),
        POST("/accounts/login/", {"username": "{user_b}", "password": PASSWORD}, public=True, session=True),
    ],
    "accounts/logout/": [POST("/accounts/logout/", session=True)],
    "accounts/password_change/": [
        GET("/accounts/password_change/"),
        POST("/accounts/password_change/", {"old_password": "wrong", "new_password1": "a", "new_password2": "b"}),
        PUT("/accounts/password_change/", {}),
    ],
    "accounts/password_change/done/": [GET("/accounts/password_change/done/")],
    "accounts/password_reset/": [
        GET("/accounts/password_reset/", public=True),
        POST("/accounts/password_reset/", {"email": "a@example.org"}, public=True),
        POST("/accounts/password_reset/", {"email": "not an address"}, public=True),
        PUT("/accounts/password_reset/", {}, public=True),
    ],
    "accounts/password_reset/done/": [GET("/accounts/password_reset/done/", public=True)],
    "accounts/reset/<uidb64>/<token>/": [
        GET("/accounts/reset/{uidb64}/{reset_token}/", public=True),
        GET("/accounts/reset/{uidb64}/wrong-token/", public=True),
        GET("/accounts/reset/x/y/", public=True),
        POST("/accounts/reset/x/y/", {"new_password1": "a", "new_password2": "a"}, public=True),
    ],
    "accounts/reset/done/": [GET("/accounts/reset/done/", public=True)],
    # --- pages
    "": [GET("/")],
    "articles/<int:article_id>/": [
        GET("/articles/{article}/"),
        GET("/articles/{article}/?at={comment}&from=x"),
        GET("/articles/{missing}/"),
        GET("/articles/x/", unknown=True),
    ],
    "articles/<int:article_id>/comments/": [
        GET("/articles/{article}/comments/?from=0&start=0"),
        GET("/articles/{article}/comments/?from=-5&start=x"),
        GET("/articles/{missing}/comments/"),
    ],
    "annotate/": [
        GET("/annotate/"),
        GET("/annotate/?after={comment}"),
        GET("/annotate/?after_article={article}"),
        GET("/annotate/?after=x&after_article={missing}"),
    ],
    "browse/": [
        GET("/browse/"),
        GET("/browse/?topic={topic}&stance=against"),
        GET("/browse/?topic={topic}&annotator={user_a}"),
        GET("/browse/?annotator={user_b}&topic={topic}&status=unresolved"),
        GET("/browse/?topic={topic}&relation=agrees&both_sides=true&page=9"),
        GET("/browse/?has_replies=%s&topic={bad_topic}&page=x"),
    ],
    "guidelines/seen/": [POST("/guidelines/seen/"), POST("/guidelines/seen/", {"topic": "{bad_topic}"})],
    "comments/<int:comment_id>/labels/": [
        POST("/comments/{comment}/labels/", {"do": "{topic}:favor"}),
        POST("/comments/{comment}/labels/", {"do": "{topic}:note", "note-{topic}": "matrix note"}),
        POST("/comments/{comment}/labels/", {"do": "{topic}:evidence", "start": "0", "end": "5"}),
        POST("/comments/{comment}/labels/", {"do": "{topic}:evidence", "start": "x", "end": "-1"}),
        POST("/comments/{comment}/labels/", {"do": "{topic}:remove:x"}),
        POST("/comments/{comment}/labels/", {"do": "{topic}:unsure", "version-{topic}": "999"}),
        POST("/comments/{comment}/labels/", {"do": "{topic}:explode"}),
        POST("/comments/{comment}/labels/", {"do": "{bad_topic}:favor"}),
        POST("/comments/{comment}/labels/", {}),
        POST("/comments/{comment}/labels/", {"do": "{topic}:clear"}),
        POST("/comments/{missing}/labels/", {"do": "{topic}:favor"}),
    ],
    "articles/<int:article_id>/labels/": [
        POST("/articles/{article}/labels/", {"do": "{topic}:against"}),
        POST("/articles/{article}/labels/", {"do": "{topic}:note", "note-{topic}": "matrix"}),
        POST("/articles/{article}/labels/", {"do": "{topic}:evidence", "start": "0", "end": "99999"}),
        POST("/articles/{article}/labels/", {"do": "{bad_topic}:favor"}),
        POST("/articles/{missing}/labels/", {"do": "{topic}:favor"}),
    ],
    "comments/<int:comment_id>/parent/": [
        POST("/comments/{reply}/parent/", {"parent_number": "#1"}),
        POST("/comments/{reply}/parent/", {"parent_number": ""}),
        POST("/comments/{reply}/parent/", {"parent_number": "#999"}),
        POST("/comments/{reply}/parent/", {"parent_number": "x"}),
        POST("/comments/{missing}/parent/", {"parent_number": "1"}),
    ],
    "adjudicate/": [
        GET("/adjudicate/"),
        GET("/adjudicate/?status=any&topic={topic}&article={article}"),
        GET("/adjudicate/?status=nonsense&topic={bad_topic}&article=x&page=x"),
    ],
    "adjudicate/<int:comment_id>/<slug:topic_slug>/": [
        POST("/adjudicate/{comment}/{topic}/", {"stance": "favor", "note": "matrix gold"}),
        POST("/adjudicate/{comment}/{topic}/", {"stance": "maybe"}),
        POST("/adjudicate/{gold_comment}/{topic}/", {"op": "clear", "return": "status=any"}),
        POST("/adjudicate/{unlabelled}/{topic}/", {"op": "clear"}),
        POST("/adjudicate/{comment}/{bad_topic}/", {"stance": "favor"}),
        POST("/adjudicate/{missing}/{topic}/", {"stance": "favor"}),
    ],
    "adjudicate/articles/<int:article_id>/<slug:topic_slug>/": [
        POST("/adjudicate/articles/{article}/{topic}/", {"stance": "against", "note": "matrix"}),
        POST("/adjudicate/articles/{article}/{topic}/", {"op": "clear"}),
        POST("/adjudicate/articles/{article}/{bad_topic}/", {"stance": "favor"}),
        POST("/adjudicate/articles/{missing}/{topic}/", {"stance": "favor"}),
    ],
    "imports/": [
        GET("/imports/"),
        POST("/imports/", UPLOAD),
        POST("/imports/", {}),
    ],
    "imports/<int:pk>/": [GET("/imports/{missing}/")],
    "releases/": [
        GET("/releases/"),
        POST("/releases/", {"name": "matrix release", "topic": "{topic}"}),
        POST("/releases/", {"name": "", "topic": "{bad_topic}", "item_type": "nonsense"}),
    ],
    "releases/<int:pk>/": [GET("/releases/{missing}/")],
    "dashboard/": [
        GET("/dashboard/"),
        GET("/dashboard/?items=comments&topic={topic}&a={user_a}&b={user_b}"),
        GET("/dashboard/?items=x&a=nobody"),
    ],
    "suggestions/train/": [POST("/suggestions/train/", {})],
    "assignment/": [
        GET("/assignment/"),
        POST("/assignment/", {"overlap_percent": "100", "overlap_annotators": "", "per_annotator_cap": ""}),
        POST("/assignment/", {"overlap_percent": "lots"}),
    ],
    "assignment/annotators/<str:username>/": [
        POST("/assignment/annotators/{user_b}/", {"do": "pause", "pause_reason": "matrix"}),
        POST("/assignment/annotators/{user_b}/", {"do": "resume"}),
        POST("/assignment/annotators/{user_b}/", {"do": "explode"}),
        POST("/assignment/annotators/nobody-at-all/", {"do": "pause"}),
    ],
    "assignment/qualification/<int:comment_id>/": [
        POST("/assignment/qualification/{gold_comment}/", {"do": "mark"}),
        POST("/assignment/qualification/{gold_comment}/", {"do": "unmark"}),
        POST("/assignment/qualification/{comment}/", {"do": "mark"}),
        POST("/assignment/qualification/{missing}/", {}),
    ],
}


# --- the Django admin: one rule for all its routes --------------------------------------------------------


def admin_cases(route: str, world: World) -> list[Case] | None:
    """Cases for a route of the Django admin, or None if `route` is not one. Model routes get a real object
    (the first row), one that does not exist, and empty form posts (which change nothing)."""
    if not route.startswith("admin/"):
        return None
    fixed = {
        "admin/": [GET("/admin/")],
        "admin/login/": [GET("/admin/login/", public=True), POST("/admin/login/", {}, public=True)],
        "admin/logout/": [POST("/admin/logout/", session=True, public=True)],  # logging nobody out is harmless
        "admin/(?P<url>.*)$": [GET("/admin/no-such-page/"), GET("/admin/annotations/no-such-model/")],
        "admin/password_change/": [GET("/admin/password_change/"), POST("/admin/password_change/", {})],
        "admin/password_change/done/": [GET("/admin/password_change/done/")],
        "admin/autocomplete/": [GET("/admin/autocomplete/"), GET("/admin/autocomplete/?app_label=x&model_name=y")],
        "admin/jsi18n/": [GET("/admin/jsi18n/")],
        "admin/r/<path:content_type_id>/<path:object_id>/": [
            GET("/admin/r/{article_type}/{article}/"),
            GET("/admin/r/{article_type}/{missing}/"),
            GET("/admin/r/x/y/"),
        ],
        "admin/auth/user/<id>/password/": [
            GET("/admin/auth/user/{user_b_id}/password/"),
            POST("/admin/auth/user/{user_b_id}/password/", {}),
            GET("/admin/auth/user/{missing}/password/"),
        ],
    }
    if route in fixed:
        return fixed[route]
    match = re.fullmatch(r"admin/(\w+)/(\w+)/(.*)", route)
    if match is None:
        return None
    app, model, rest = match.groups()
    if (app, model) not in world.admin_objects:
        return None
    base = f"/admin/{app}/{model}/"
    some = world.admin_objects[(app, model)]
    cases = {
        "": [GET(base), GET(f"{base}?q=matrix&o=1"), GET(f"{base}?nonsense=1"), POST(base, {})],
        "<app_label>/": [],
        "add/": [GET(f"{base}add/"), POST(f"{base}add/", {})],
        "<path:object_id>/history/": [GET(f"{base}{some}/history/"), GET(f"{base}{{missing}}/history/")],
        "<path:object_id>/delete/": [GET(f"{base}{some}/delete/"), GET(f"{base}{{missing}}/delete/")],
        "<path:object_id>/change/": [
            GET(f"{base}{some}/change/"),
            POST(f"{base}{some}/change/", {}),
            GET(f"{base}{{missing}}/change/"),
            GET(f"{base}x/change/"),
        ],
        "<path:object_id>/": [GET(f"{base}{some}/")],
    }
    return cases.get(rest)


APP_INDEX = re.compile(r"admin/\^\(\?P<app_label>(.*)\)/\$")


def cases_for(route: str, world: World) -> list[Case] | None:
    if route in MATRIX:
        return MATRIX[route]
    if APP_INDEX.fullmatch(route):
        return [GET("/admin/annotations/"), GET("/admin/debate/")]
    return admin_cases(route, world)


# --- the world ---------------------------------------------------------------------------------------------


@dataclass
class World:
    article: int
    comment: int  # labelled by both annotators
    reply: int  # answers `comment`
    gold_comment: int  # has a gold label (with the curator's marker in its note)
    unlabelled: int
    topic: str
    bad_topic: str
    missing: int
    annotation_a: int
    annotation_b: int
    user_a: str
    user_b: str
    user_b_id: int
    uidb64: str
    reset_token: str
    article_type: int
    markers: dict[str, list[str]] = field(default_factory=dict)  # owner -> marker strings
    admin_objects: dict[tuple[str, str], str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def _user(username: str, role: Role) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.org")
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    if role is Role.ADMIN:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


def build_world() -> World:
    from annotations.models import Topic

    for values in DEFAULT_TOPICS:
        Topic.objects.update_or_create(slug=values["slug"], defaults={k: v for k, v in values.items() if k != "slug"})
    topic = Topic.objects.filter(is_active=True).order_by("ordering", "slug").first()
    assert topic is not None
    users = {
        "annotator_a": _user("matrix-ann-a", Role.ANNOTATOR),
        "annotator_b": _user("matrix-ann-b", Role.ANNOTATOR),
        "curator": _user("matrix-curator", Role.CURATOR),
        "researcher": _user("matrix-researcher", Role.RESEARCHER),
        "admin": _user("matrix-admin", Role.ADMIN),
    }
    writer = Author.objects.create(name="writer a")
    article = Article.objects.create(
        source="matrix.txt",
        content_sha256="0" * 64,
        title="Cluster munitions for the matrix",
        body="An article about cluster munitions, which some favor and others oppose.",
        author=writer,
    )
    bodies = ["First comment on munitions.", "@writer a: A reply to the first.", "Gold here.", "Nobody labels me."]
    comments = Comment.objects.bulk_create(
        Comment(article=article, number=n + 1, position=n, author=writer, body=body) for n, body in enumerate(bodies)
    )
    comments[1].parent = comments[0]
    comments[1].save(update_fields=["parent"])
    relayout_article(article_id=article.pk)
    first, reply, gold_item, unlabelled = (Comment.objects.get(pk=c.pk) for c in comments)

    markers: dict[str, list[str]] = {"annotator_a": [], "annotator_b": [], "curator": []}
    labels: dict[str, list[Annotation]] = {"annotator_a": [], "annotator_b": []}
    for role, stance in (("annotator_a", "favor"), ("annotator_b", "against")):
        for number, item in enumerate((first, reply, gold_item, article)):
            note, evidence = f"MX-{role}-note-{number}-q7", f"MX-{role}-evidence-{number}-z3"
            target: dict[str, Any] = {"comment": item} if isinstance(item, Comment) else {"article": item}
            written = set_stance(
                actor=users[role], **target, topic=topic, values=LabelValues(stance, note=note)
            ).annotation
            labels[role].append(written)
            markers[role] += [note, evidence]
        # Evidence text must equal the item's body, so text only this annotator's evidence holds cannot be
        # written through the API: it is planted in the stored spans, which is what a leak would show.
        for number, written in enumerate(labels[role]):
            Annotation.objects.filter(pk=written.pk).update(
                evidence=[{"start": 0, "end": 5, "text": f"MX-{role}-evidence-{number}-z3"}]
            )
    gold_note = "MX-curator-gold-note-k9"
    set_gold(actor=users["curator"], comment=gold_item, topic=topic, stance="favor", note=gold_note)
    markers["curator"].append(gold_note)
    mark_qualification_item(actor=users["curator"], comment=gold_item)

    admin_objects: dict[tuple[str, str], str] = {}
    for model in admin.site._registry:
        row = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        admin_objects[(model._meta.app_label, str(model._meta.model_name))] = str(row if row is not None else 1)
    user_b = users["annotator_b"]
    return World(
        article=article.pk,
        comment=first.pk,
        reply=reply.pk,
        gold_comment=gold_item.pk,
        unlabelled=unlabelled.pk,
        topic=topic.slug,
        bad_topic="no-such-topic",
        missing=987654321,
        annotation_a=labels["annotator_a"][0].pk,
        annotation_b=labels["annotator_b"][0].pk,
        user_a=users["annotator_a"].username,
        user_b=user_b.username,
        user_b_id=user_b.pk,
        uidb64=urlsafe_base64_encode(force_bytes(user_b.pk)),
        reset_token=default_token_generator.make_token(user_b),
        article_type=ContentType.objects.get_for_model(Article).pk,
        markers=markers,
        admin_objects=admin_objects,
        users=users,
    )


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module, inside a transaction rolled back at its end; password reset is served."""
    with (
        override_settings(
            EMAIL_URL="smtp://127.0.0.1:1", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build_world()
        transaction.set_rollback(True)


# --- running it ---------------------------------------------------------------------------------------------


def url_patterns() -> list[str]:
    """Every URL pattern of the project, spelt as its route (the resolver's prefixes joined)."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns, ""))


def body_of(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    content: bytes = response.content  # type: ignore[attr-defined]
    return content + response.get("Location", "").encode()


def log_in(client: Client, role: str, world: World) -> Client:
    """The client signed in as `role` (or signed out, for anonymous). One client per role: each new Client
    builds the middleware anew, and whitenoise's scan of the static files would be most of the run's time."""
    client.logout()
    if role != "anonymous":
        client.force_login(world.users[role], backend="django.contrib.auth.backends.ModelBackend")
    return client


def client_for(role: str, world: World) -> Client:
    return log_in(Client(), role, world)


@dataclass
class Run:
    """What one role's pass over the matrix saw."""

    failures: list[str] = field(default_factory=list)
    seen: bytes = b""
    requests: int = 0


def run_matrix(role: str, world: World) -> Run:
    run = Run()
    forbidden: list[str] = []
    if role.startswith("annotator_"):
        other = "annotator_b" if role == "annotator_a" else "annotator_a"
        forbidden = world.markers[other] + world.markers["curator"]
    client = client_for(role, world)
    for route in url_patterns():
        for case in cases_for(route, world) or []:
            for htmx in (False, True):
                response = case.request(client, world, htmx)
                run.requests += 1
                body = body_of(response)
                where = f"{role} {case.method} {case.url} {'htmx ' if htmx else ''}-> {response.status_code}"
                if response.status_code >= 500:
                    run.failures.append(f"{where}: server error")
                for marker in forbidden:
                    if marker.encode() in body:
                        run.failures.append(f"{where}: leaks {marker}")
                if role == "anonymous" and not (case.public or _refused(response, case)):
                    run.failures.append(f"{where}: anonymous not refused")
                if role.startswith("annotator_"):
                    run.seen += body
                if case.session:  # a login or logout must not carry over
                    log_in(client, role, world)
    return run


def _refused(response: HttpResponseBase, case: Case) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 404 and case.unknown:
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and location.startswith(("/accounts/login/", "/admin/login/"))


# --- the tests ---------------------------------------------------------------------------------------------


def test_every_url_pattern_has_a_matrix_entry(world: World) -> None:
    missing = [route for route in url_patterns() if cases_for(route, world) is None]

    assert missing == [], "add an entry to MATRIX for each (see the module docstring): " + ", ".join(
        repr(route) for route in missing
    )


def test_every_matrix_entry_names_a_url_pattern() -> None:
    stale = sorted(set(MATRIX) - set(url_patterns()))

    assert stale == []


@pytest.mark.parametrize("role", ROLES)
def test_the_matrix(role: str, world: World) -> None:
    run = run_matrix(role, world)

    assert run.failures == []
    assert run.requests > 500
    if role.startswith("annotator_"):
        # Positive control: the annotator's own markers do reach them, so the leak check can see a leak.
        own = world.markers[role]
        assert [marker for marker in own if marker.encode() not in run.seen] == []


def test_methods_a_route_is_not_listed_with_answer_405(world: World) -> None:
    """An admin passes every permission check, so only the method decides. Django's own views (the admin, the
    accounts pages) are not ours: some answer any method (a reset link redirects before looking at it)."""
    client = client_for("admin", world)
    wrong, probes = [], 0
    for route in url_patterns():
        cases = cases_for(route, world) or []
        if not cases:
            continue
        url = next(case for case in cases if not case.unknown).url.format(**vars(world))
        if resolve(url.partition("?")[0]).func.__module__.startswith("django."):
            continue
        listed = {case.method for case in cases}
        probes += len(set(METHODS) - listed)
        for method in sorted(set(METHODS) - listed):
            status = client.generic(method, url).status_code
            if status != 405:
                wrong.append(f"{method} {url} -> {status}")
    assert wrong == []
    assert probes > 100
