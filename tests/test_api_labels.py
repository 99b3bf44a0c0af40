"""Writing one's own label over HTTP: PUT/GET/DELETE, versions and ETags, errors, and the change history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.db import DatabaseError, transaction

from annotations.models import Annotation, ChangeEvent, Consensus, Topic
from annotations.serializers import AnnotationSerializer, annotation_record
from debate.models import Article, Comment
from tests.conftest import Api, comments_by_number

pytestmark = pytest.mark.django_db(transaction=True)

CM = "cluster-munitions"


@pytest.fixture
def comment(cluster_article: Article, topics: dict[str, Topic]) -> Comment:
    """Comment 1 of the cluster-munitions piece: "Ukraine is begging for them. ..."."""
    return comments_by_number(cluster_article)[1]


def label_path(comment: Comment | int, topic: str = CM) -> str:
    comment_id = comment if isinstance(comment, int) else comment.pk
    return f"/comments/{comment_id}/annotations/{topic}/"


def stored(comment: Comment, topic: str = CM) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in Annotation.objects.filter(comment=comment, topic__slug=topic).values(
            "annotator__username", "stance", "unsure", "confidence", "note", "evidence", "version"
        )
    ]


def history(comment: Comment) -> list[tuple[str, int | None]]:
    return list(ChangeEvent.objects.filter(comment_id=comment.pk).order_by("id").values_list("action", "version"))


def assert_one_line_error(response: httpx.Response, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "\n" not in detail
    for fragment in fragments:
        assert fragment in detail, detail
    return detail


def test_put_creates_with_201_version_1_and_an_etag(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator", "ann")

    response = api.put(label_path(comment), {"stance": "favor", "unsure": True, "confidence": 2, "note": "begs"})

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert {key: body[key] for key in ("comment", "article", "comment_number", "topic", "annotator")} == {
        "comment": comment.pk,
        "article": comment.article_id,
        "comment_number": 1,
        "topic": CM,
        "annotator": "ann",
    }
    assert (body["stance"], body["unsure"], body["confidence"], body["note"], body["version"]) == (
        "favor",
        True,
        2,
        "begs",
        1,
    )
    assert stored(comment) == [
        {
            "annotator__username": "ann",
            "stance": "favor",
            "unsure": True,
            "confidence": 2,
            "note": "begs",
            "evidence": [],
            "version": 1,
        }
    ]


def test_put_is_idempotent_and_a_change_bumps_the_version(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator", "ann")
    api.put(label_path(comment), {"stance": "favor"})

    again = api.put(label_path(comment), {"stance": "favor"})
    changed = api.put(label_path(comment), {"stance": "against", "confidence": 3})

    assert again.status_code == 200
    assert again.json()["version"] == 1
    assert again.headers["ETag"] == '"1"'
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.headers["ETag"] == '"2"'
    assert stored(comment)[0]["stance"] == "against"
    assert history(comment) == [("create", 1), ("update", 2)]  # the repeat recorded nothing


def test_put_replaces_every_field_it_omits_with_the_default(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator", "ann")
    api.put(label_path(comment), {"stance": "favor", "unsure": True, "confidence": 1, "note": "x"})

    response = api.put(label_path(comment), {"stance": "favor"})

    assert response.status_code == 200
    assert (response.json()["unsure"], response.json()["confidence"], response.json()["note"]) == (False, None, "")


def test_get_returns_the_callers_label_with_its_etag(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator", "ann")
    api.put(label_path(comment), {"stance": "neutral"})
    api.put(label_path(comment), {"stance": "favor"})

    response = api.get(label_path(comment))

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["stance"] == "favor"


def test_get_without_a_label_is_404_naming_comment_and_topic(api_as: Callable[..., Api], comment: Comment) -> None:
    response = api_as("annotator").get(label_path(comment))

    assert_one_line_error(response, 404, f"no label for comment {comment.pk}", CM)


def test_if_match_with_the_current_version_writes(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator")
    etag = api.put(label_path(comment), {"stance": "favor"}).headers["ETag"]

    response = api.put(label_path(comment), {"stance": "against"}, headers={"If-Match": etag})
    weak = api.put(label_path(comment), {"stance": "neutral"}, headers={"If-Match": 'W/"2"'})
    listed = api.put(label_path(comment), {"stance": "favor"}, headers={"If-Match": '"1", "3"'})

    assert [response.status_code, weak.status_code, listed.status_code] == [200, 200, 200]
    assert listed.headers["ETag"] == '"4"'


def test_a_stale_if_match_gets_412_and_changes_nothing(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator", "ann")
    api.put(label_path(comment), {"stance": "favor", "note": "first"})
    api.put(label_path(comment), {"stance": "against", "note": "second"})
    before, events = stored(comment), history(comment)

    response = api.put(label_path(comment), {"stance": "neutral"}, headers={"If-Match": '"1"'})
    delete = api.delete(label_path(comment), headers={"If-Match": '"1"'})

    assert_one_line_error(response, 412, "the current version is 2")
    assert response.json()["version"] == 2
    assert_one_line_error(delete, 412, "the current version is 2")
    assert stored(comment) == before
    assert history(comment) == events


def test_if_match_on_a_label_that_does_not_exist_is_412(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator")

    star = api.put(label_path(comment), {"stance": "favor"}, headers={"If-Match": "*"})
    numbered = api.put(label_path(comment), {"stance": "favor"}, headers={"If-Match": '"1"'})

    assert_one_line_error(star, 412, "no label exists")
    assert_one_line_error(numbered, 412, "no label exists")
    assert stored(comment) == []


def test_if_none_match_star_writes_a_first_label_only(api_as: Callable[..., Api], comment: Comment) -> None:
    """A client's first write says "there is no label yet": a label made meanwhile (another tab) is not
    overwritten, and the answer says which version is there now."""
    api = api_as("annotator", "ann")

    first = api.put(label_path(comment), {"stance": "favor"}, headers={"If-None-Match": "*"})
    again = api.put(label_path(comment), {"stance": "against"}, headers={"If-None-Match": "*"})
    both = api.put(label_path(comment), {"stance": "against"}, headers={"If-None-Match": "*", "If-Match": '"1"'})
    other = api.put(label_path(comment), {"stance": "against"}, headers={"If-None-Match": '"1"'})

    assert first.status_code == 201
    assert first.headers["ETag"] == '"1"'
    assert_one_line_error(again, 412, "the current version is 1")
    assert again.json()["version"] == 1
    assert_one_line_error(both, 400, "If-None-Match")
    assert_one_line_error(other, 400, "If-None-Match")
    assert [row["stance"] for row in stored(comment)] == ["favor"]
    assert history(comment) == [("create", 1)]


def test_a_malformed_if_match_is_400_naming_the_header(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator")
    api.put(label_path(comment), {"stance": "favor"})

    response = api.put(label_path(comment), {"stance": "against"}, headers={"If-Match": "version-one"})

    assert_one_line_error(response, 400, "If-Match", "version-one")
    assert stored(comment)[0]["stance"] == "favor"


def test_delete_removes_the_label_with_204_then_404(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator", "ann")
    api.put(label_path(comment), {"stance": "favor"})

    deleted = api.delete(label_path(comment), headers={"If-Match": '"1"'})
    again = api.delete(label_path(comment))

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert stored(comment) == []
    assert_one_line_error(again, 404, "no label")
    assert api.get(label_path(comment)).status_code == 404
    consensus = Consensus.objects.get(comment=comment, topic__slug=CM)
    assert (consensus.stance, consensus.status, consensus.n) == (None, None, 0)


def test_versions_never_repeat_after_delete_and_recreate(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator")
    api.put(label_path(comment), {"stance": "favor"})
    api.put(label_path(comment), {"stance": "against"})
    api.delete(label_path(comment))

    recreated = api.put(label_path(comment), {"stance": "neutral"})
    stale = api.put(label_path(comment), {"stance": "favor"}, headers={"If-Match": '"1"'})

    assert recreated.status_code == 201
    assert recreated.json()["version"] == 3
    assert recreated.headers["ETag"] == '"3"'
    assert stale.status_code == 412
    assert history(comment) == [("create", 1), ("update", 2), ("delete", 2), ("create", 3)]


def test_labels_of_different_annotators_and_topics_are_separate(api_as: Callable[..., Api], comment: Comment) -> None:
    ann, bob = api_as("annotator", "ann"), api_as("annotator", "bob")

    responses = [
        ann.put(label_path(comment), {"stance": "favor"}),
        bob.put(label_path(comment), {"stance": "against"}),
        ann.put(label_path(comment, "strikes-in-russia"), {"stance": "not_about"}),
    ]

    assert [response.status_code for response in responses] == [201, 201, 201]
    assert [response.json()["version"] for response in responses] == [1, 1, 1]
    assert Annotation.objects.filter(comment=comment).count() == 3
    assert bob.get(label_path(comment)).json()["stance"] == "against"
    assert bob.get(label_path(comment, "strikes-in-russia")).status_code == 404


def test_evidence_is_stored_sorted_and_without_duplicates(api_as: Callable[..., Api], comment: Comment) -> None:
    body = comment.body
    second = {"start": 8, "end": 20, "text": body[8:20]}
    first = {"start": 0, "end": 7, "text": body[0:7]}

    annotator = api_as("annotator")
    response = annotator.put(label_path(comment), {"stance": "favor", "evidence": [second, first, second]})

    assert response.status_code == 201
    assert response.json()["evidence"] == [first, second]
    assert stored(comment)[0]["evidence"] == [first, second]
    # Read back under the lock as values, not as the column's JSON text: the same label again changes nothing.
    again = annotator.put(label_path(comment), {"stance": "favor", "evidence": [first, second]})
    assert (again.status_code, again.headers["ETag"], again.json()["version"]) == (200, '"1"', 1)


def test_consensus_follows_each_write(api_as: Callable[..., Api], comment: Comment) -> None:
    ann, bob, cy = api_as("annotator"), api_as("annotator"), api_as("curator")

    def consensus() -> tuple[str | None, str | None, int]:
        row = Consensus.objects.get(comment=comment, topic__slug=CM)
        return row.stance, row.status, row.n

    ann.put(label_path(comment), {"stance": "favor"})
    assert consensus() == ("favor", "single", 1)
    bob.put(label_path(comment), {"stance": "against"})
    assert consensus() == (None, "unresolved", 2)
    cy.put(label_path(comment), {"stance": "favor"})
    assert consensus() == ("favor", "majority", 3)
    bob.put(label_path(comment), {"stance": "favor"})
    assert consensus() == ("favor", "unanimous", 3)
    cy.delete(label_path(comment))
    ann.delete(label_path(comment))
    assert consensus() == ("favor", "single", 1)


# Errors: each a 4xx with a one-line `detail` naming what is wrong; nothing is written.


def test_unknown_topic_in_the_path_is_404_naming_it(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator")

    put = api.put(label_path(comment, "no-such-topic"), {"stance": "favor"})
    get = api.get(label_path(comment, "no-such-topic"))
    delete = api.delete(label_path(comment, "no-such-topic"))

    for response in (put, get, delete):
        assert_one_line_error(response, 404, "unknown topic 'no-such-topic'")
    assert not Annotation.objects.exists()


def test_unknown_comment_is_404_naming_it(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator")

    for comment_id in (0, 999_999, 10**30):  # the last does not fit the id column
        response = api.put(label_path(comment_id), {"stance": "favor"})
        assert_one_line_error(response, 404, f"no comment with id {comment_id}")


def test_stance_outside_the_choices_is_400_listing_them(api_as: Callable[..., Api], comment: Comment) -> None:
    response = api_as("annotator").put(label_path(comment), {"stance": "pro"})

    assert_one_line_error(response, 400, "stance", "'pro'", "favor, against, neutral, not_about")
    assert response.json()["errors"]["stance"]
    assert not Annotation.objects.exists()


def test_evidence_that_does_not_match_the_body_is_400_naming_the_span(
    api_as: Callable[..., Api], comment: Comment
) -> None:
    good = {"start": 0, "end": 7, "text": comment.body[:7]}
    bad = {"start": 8, "end": 12, "text": "nope"}

    response = api_as("annotator").put(label_path(comment), {"stance": "favor", "evidence": [good, bad]})

    assert_one_line_error(response, 400, "evidence", "span 1 (8–12)", "'nope'", repr(comment.body[8:12]))
    assert not Annotation.objects.exists()


def test_evidence_outside_the_body_is_400_naming_the_span(api_as: Callable[..., Api], comment: Comment) -> None:
    end = len(comment.body) + 5

    response = api_as("annotator").put(
        label_path(comment), {"stance": "favor", "evidence": [{"start": 0, "end": end, "text": "x"}]}
    )

    assert_one_line_error(response, 400, "evidence", f"span 0 (0–{end})", "outside the comment body")


WRONG_TYPES: list[tuple[dict[str, Any], str]] = [
    ({"stance": 3}, "stance"),
    ({"stance": None}, "stance"),
    ({"stance": ["favor"]}, "stance"),
    ({}, "stance"),
    ({"stance": "favor", "unsure": "maybe"}, "unsure"),
    ({"stance": "favor", "unsure": None}, "unsure"),
    ({"stance": "favor", "confidence": "high"}, "confidence"),
    ({"stance": "favor", "confidence": 4}, "confidence"),
    ({"stance": "favor", "confidence": 0}, "confidence"),
    ({"stance": "favor", "confidence": 10**40}, "confidence"),
    ({"stance": "favor", "confidence": 1.5}, "confidence"),
    ({"stance": "favor", "note": ["a"]}, "note"),
    ({"stance": "favor", "note": {"a": 1}}, "note"),
    ({"stance": "favor", "note": "\x00"}, "note"),
    ({"stance": "favor", "note": "x" * 10_001}, "note"),
    ({"stance": "favor", "evidence": "the first words"}, "evidence"),
    ({"stance": "favor", "evidence": [[0, 7]]}, "evidence"),
    ({"stance": "favor", "evidence": [{"start": 0, "end": 7}]}, "evidence"),
    ({"stance": "favor", "evidence": [{"start": "a", "end": 7, "text": "Ukraine"}]}, "evidence"),
    ({"stance": "favor", "evidence": [{"start": -1, "end": 7, "text": "Ukraine"}]}, "evidence"),
    ({"stance": "favor", "evidence": [{"start": 0, "end": 7, "text": "Ukraine", "x": 1}]}, "evidence"),
    ({"stance": "favor", "stanse": "favor"}, "stanse"),
]


def test_wrong_types_are_400_naming_the_field(api_as: Callable[..., Api], comment: Comment) -> None:
    # One test over many payloads: each would otherwise pay for a database flush.
    api = api_as("annotator")
    wrong = []
    for payload, field in WRONG_TYPES:
        response = api.put(label_path(comment), payload)
        body = response.json()
        detail = body.get("detail", "")
        if not (
            response.status_code == 400
            and isinstance(detail, str)
            and "\n" not in detail
            and field in detail
            and field in body.get("errors", {})
        ):
            wrong.append(f"{str(payload)[:80]} -> {response.status_code} {str(body)[:200]}")

    assert wrong == []
    assert not Annotation.objects.exists()


def test_a_lone_surrogate_in_the_note_is_400_not_500(api_as: Callable[..., Api], comment: Comment) -> None:
    # Python's json accepts "\ud800"; PostgreSQL cannot store it.
    response = api_as("annotator").put(
        label_path(comment),
        content=b'{"stance": "favor", "note": "half a pair: \\ud800"}',
        headers={"Content-Type": "application/json"},
    )

    assert_one_line_error(response, 400, "note")
    assert not Annotation.objects.exists()


NOT_JSON_OBJECTS: list[tuple[bytes, str]] = [
    (b'{"stance": "favor"', "JSON parse error"),
    (b'["favor"]', "Expected a dictionary"),
    (b'"favor"', "Expected a dictionary"),
    (b'{"stance": "favor", "confidence": NaN}', "JSON parse error"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),  # deeper than Python's parser can go
    (b'{"stance": "favor", "evidence": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
]


def test_a_body_that_is_not_a_json_object_is_400(api_as: Callable[..., Api], comment: Comment) -> None:
    api = api_as("annotator")
    wrong = []
    for content, fragment in NOT_JSON_OBJECTS:
        response = api.put(label_path(comment), content=content, headers={"Content-Type": "application/json"})
        detail = response.json().get("detail", "") if response.headers["Content-Type"] == "application/json" else ""
        if response.status_code != 400 or fragment not in detail or "\n" in detail:
            wrong.append((content[:40], response.status_code, response.text[:120]))

    assert wrong == []
    assert not Annotation.objects.exists()


def test_a_closed_topic_takes_no_labels_409(api_as: Callable[..., Api], comment: Comment) -> None:
    Topic.objects.filter(slug=CM).update(is_active=False)

    response = api_as("annotator").put(label_path(comment), {"stance": "favor"})

    assert_one_line_error(response, 409, "closed")
    assert not Annotation.objects.exists()


# History


def test_history_records_create_update_delete_with_old_and_new_values(
    api_as: Callable[..., Api], comment: Comment
) -> None:
    api = api_as("annotator", "ann")
    api.put(label_path(comment), {"stance": "favor", "note": "a"})
    api.put(label_path(comment), {"stance": "against", "note": "b"})
    api.delete(label_path(comment))

    events = api.get("/history/", comment_id=comment.pk).json()["results"]

    assert [(e["action"], e["version"], e["actor"], e["annotator"], e["topic"]) for e in events] == [
        ("create", 1, "ann", "ann", CM),
        ("update", 2, "ann", "ann", CM),
        ("delete", 2, "ann", "ann", CM),
    ]
    create, update, delete = events
    assert create["before"] is None
    assert create["after"]["stance"] == "favor"
    assert (update["before"]["stance"], update["before"]["note"]) == ("favor", "a")
    assert (update["after"]["stance"], update["after"]["note"]) == ("against", "b")
    assert delete["before"]["stance"] == "against"
    assert delete["after"] is None
    assert all(event["comment"] == comment.pk and event["article"] == comment.article_id for event in events)


def test_history_is_append_only_in_the_database(api_as: Callable[..., Api], comment: Comment) -> None:
    api_as("annotator").put(label_path(comment), {"stance": "favor"})
    event = ChangeEvent.objects.get()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChangeEvent.objects.filter(pk=event.pk).update(actor_username="someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChangeEvent.objects.filter(pk=event.pk).delete()

    assert ChangeEvent.objects.get().actor_username == event.actor_username


def test_the_label_record_a_write_answers_with_is_what_the_serializer_gives(
    api_as: Callable[..., Api], comment: Comment, cluster_article: Article, topics: dict[str, Topic]
) -> None:
    """The label writes answer with `annotation_record`, built without DRF's per-instance fields; the
    serializer still describes it in the schema and serves the lists: the two must never drift apart."""
    api = api_as("annotator")
    assert api.put(label_path(comment), json={"stance": "favor", "evidence": [], "lead_time_ms": 12}).status_code == 201
    assert api.put(f"/articles/{cluster_article.pk}/annotations/{CM}/", json={"stance": "against"}).status_code == 201
    Topic.objects.filter(slug=CM).update(guideline_version=5)  # both labels now outdated
    labels = list(Annotation.objects.select_related("comment", "topic", "annotator").order_by("pk"))
    assert [label.comment_id is None for label in labels] == [False, True]
    for label in labels:
        record, serialized = annotation_record(label), dict(AnnotationSerializer(label).data)
        assert record == serialized
        assert list(record) == list(serialized)
        assert record["outdated"] is True
