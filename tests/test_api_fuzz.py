"""Schemathesis against a live server: every check, every phase (examples, coverage, fuzzing, stateful), once
anonymously and once with each role's token (two annotators, curator, researcher, admin).

A run fails on any server error and on any response that the OpenAPI schema (/api/schema/) does not describe:
an undocumented status code, a body, header or content type that does not match, a schema-valid request
refused or a schema-violating one accepted. What the schema cannot state is said once, in
tests/schemathesis.toml, with the reason (rules between parameters, credentials, data that must exist); nothing
is left out of the run.

The world holds labels from both annotators, a consensus, a gold label and a qualification item, so that the
records an annotator receives (blind annotation: no consensus, no gold) and those a curator receives are both
checked against the schema. The seed is fixed, so a failure reproduces with the `curl` line the report prints.

Bounds, so that `make test` stays within CI's time: examples, fuzzing and stateful sequences run for every role
(max-examples and max-steps in tests/schemathesis.toml), some 300 requests each; the coverage phase, which walks
every parameter's boundary and wrong-type values (some 2,500 requests, five times the rest of a run, whatever
the bounds), runs for the admin, whose requests reach every endpoint's validation. FUZZ_EVERY_PHASE=1 runs it
for every role (about two minutes each on a busy machine); it passed so when this test was written.

Uploads (`POST /api/imports/`) are fuzzed too, as multipart bodies with generated files: they are refused or
queued as import jobs (no worker runs here, so nothing is imported, which the import tests cover).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.actions import set_gold
from annotations.assignment.actions import mark_qualification_item
from annotations.models import Topic
from debate.actions import issue_api_token
from debate.models import Article, Comment
from debate.roles import Role
from tests.conftest import CLUSTER_MUNITIONS, STRIKES_IN_RUSSIA, import_seed, label

pytestmark = pytest.mark.django_db

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261130
ROLES: dict[str, Role | None] = {
    "anonymous": None,
    "annotator": Role.ANNOTATOR,
    "second_annotator": Role.ANNOTATOR,
    "curator": Role.CURATOR,
    "researcher": Role.RESEARCHER,
    "admin": Role.ADMIN,
}
RUN_TIMEOUT = 600
COVERAGE_ROLES = {"admin"}


def build_world(make_user: Callable[..., User], topics: dict[str, Topic]) -> dict[str, User]:
    """Two articles; both annotators label three comments and an article, the curator sets a gold label that
    is a qualification item. Returns the users by role name."""
    users = {name: make_user(role, f"fuzz-{name}") for name, role in ROLES.items() if role is not None}
    articles = [import_seed(CLUSTER_MUNITIONS), import_seed(STRIKES_IN_RUSSIA)]
    topic = topics["cluster-munitions"]
    comments = list(Comment.objects.filter(article=articles[0]).order_by("number")[:3])
    items: list[Comment | Article] = [*comments, articles[0]]
    for name, stance in (("annotator", "favor"), ("second_annotator", "against")):
        for item in items:
            label(users[name], item, topic, stance, confidence=2, note=f"{name} on {item.pk}")
    set_gold(actor=users["curator"], comment=comments[0], topic=topic, stance="favor", note="gold")
    mark_qualification_item(actor=users["curator"], comment=comments[0])
    return users


def run_schemathesis(base_url: str, env: dict[str, str], phases: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/api/schema/?format=json",
        "--seed",
        str(SEED),
        "--phases",
        phases,
    ]
    return subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def generated_cases(output: str) -> int:
    found = re.search(r"(\d+) generated", output)
    return int(found.group(1)) if found else 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", list(ROLES))
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(
    role: str, live_server: Any, make_user: Callable[..., User], topics: dict[str, Topic]
) -> None:
    users = build_world(make_user, topics)
    env = {"FUZZ_AUTHORIZATION": "", "FUZZ_LOGOUT_AUTHORIZATION": "", "FUZZ_LOGOUT_ALL_AUTHORIZATION": ""}
    if ROLES[role] is not None:
        # The logout operations revoke the token they carry: users of their own, of the same role.
        logout, logout_all = (make_user(ROLES[role], f"fuzz-{role}-{name}") for name in ("logout", "logout-all"))
        env["FUZZ_AUTHORIZATION"] = f"Token {issue_api_token(user=users[role]).token}"
        env["FUZZ_LOGOUT_AUTHORIZATION"] = f"Token {issue_api_token(user=logout).token}"
        env["FUZZ_LOGOUT_ALL_AUTHORIZATION"] = f"Token {issue_api_token(user=logout_all).token}"

    started = time.monotonic()
    every_phase = role in COVERAGE_ROLES or os.environ.get("FUZZ_EVERY_PHASE") == "1"
    phases = "examples,coverage,fuzzing,stateful" if every_phase else "examples,fuzzing,stateful"
    result = run_schemathesis(live_server.url, env, phases)
    seconds = time.monotonic() - started
    cases = generated_cases(result.stdout)
    print(f"schemathesis as {role} ({phases}): {cases} test cases in {seconds:.0f} s, exit {result.returncode}")

    assert result.returncode == 0, (
        f"schemathesis as {role} (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    # A run that generated (almost) nothing would pass without having tested anything.
    assert cases >= (2000 if every_phase else 150), result.stdout


# --- what the schema says, checked without a fuzzer (fast) ----------------------------------------------------


@pytest.fixture
def schema() -> dict[str, Any]:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return dict(response.json())


def operation(schema: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return dict(schema["paths"][path][method])


def test_the_errors_are_documented_with_their_json_detail(schema: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    comments = operation(schema, "/api/comments/")["responses"]
    label_put = operation(schema, "/api/comments/{comment_id}/annotations/{topic_slug}/", "put")["responses"]
    token = operation(schema, "/api/auth/token/", "post")["responses"]

    assert {"400", "401", "403", "404"} <= set(comments)
    assert comments["400"]["content"]["application/json"]["schema"] == error
    assert {"400", "401", "403", "404", "409", "412", "413"} <= set(label_put)
    assert "401" not in token
    assert {"400", "429"} <= set(token)
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


@pytest.mark.parametrize("component", ["LabelledComment", "LabelledArticle", "LabelledArticleDetail", "ThreadNode"])
def test_what_annotators_do_not_receive_is_not_required(schema: dict[str, Any], component: str) -> None:
    declared = schema["components"]["schemas"][component]
    blind = {"consensus", "gold", "author_takes_both_sides"} & set(declared["properties"])

    assert {"consensus", "gold"} <= blind
    assert not blind & set(declared["required"])
    assert "my_annotations" in declared["required"]


def test_the_exports_declare_their_filters_and_topics_all(schema: dict[str, Any]) -> None:
    def names(path: str) -> set[str]:
        return {parameter["name"] for parameter in operation(schema, path).get("parameters", [])}

    assert {"topic", "stance", "status", "search", "has_replies", "unannotated"} <= names("/api/export/comments.jsonl")
    for path in ("/api/export/annotations.jsonl", "/api/export/annotations.csv"):
        assert {"topic", "annotator", "updated_since", "outdated"} <= names(path)
    (every,) = operation(schema, "/api/topics/")["parameters"]
    assert (every["name"], every["schema"]["type"]) == ("all", "boolean")


def test_page_sizes_are_positive_and_request_bodies_strict(schema: dict[str, Any]) -> None:
    page_size = next(p for p in operation(schema, "/api/comments/")["parameters"] if p["name"] == "page_size")
    label_body = schema["components"]["schemas"]["LabelInputRequest"]

    assert page_size["schema"]["minimum"] == 1
    assert label_body["additionalProperties"] is False
    stance = label_body["properties"]["stance"]
    reference = stance.get("$ref") or stance["allOf"][0]["$ref"]
    assert schema["components"]["schemas"][reference.rsplit("/", 1)[1]]["enum"] == [
        "favor",
        "against",
        "neutral",
        "not_about",
    ]
