"""Stance suggestions over HTTP on PostgreSQL: training, quality on unlabelled comments, who sees what."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from annotations.bulk import LabelRow, import_labels
from annotations.models import Annotation, Assignment, AssignmentReason, Suggestion, SuggestionModel, Topic
from annotations.suggestions.actions import train_topic
from annotations.suggestions.queries import in_random_stream
from debate.actions import import_document
from debate.models import Comment, Job
from debate.synthetic import generate_corpus
from tests.conftest import Api, Workers, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

STANCES = ("favor", "against", "neutral", "not_about")


def stance_corpus(topics: dict[str, Topic], *, articles: int, per_article: int, seed: int) -> dict[int, dict[str, str]]:
    """Stance-bearing synthetic comments, imported; their reference stances by comment id."""
    reference: dict[int, dict[str, str]] = {}
    for document in generate_corpus(
        seed=seed, articles=articles, comments_per_article=per_article, topics=sorted(topics)
    ):
        result = import_document(source=document.source, data=document.data)
        ids = dict(Comment.objects.filter(article_id=result.article_id).values_list("number", "pk"))
        for comment in document.comments:
            reference[ids[comment.number]] = comment.stances
    return reference


def label_by_three(
    topics: dict[str, Topic],
    reference: dict[int, dict[str, str]],
    comment_ids: list[int],
    annotators: list[User],
    *,
    agreement: float = 0.8,
    seed: int = 1,
) -> None:
    """Each annotator labels these comments: the reference stance with probability `agreement`, else another."""
    rng = random.Random(seed)
    rows = []
    for comment_id in comment_ids:
        for slug, topic in topics.items():
            truth = reference[comment_id][slug]
            for user in annotators:
                stance = truth if rng.random() < agreement else rng.choice([s for s in STANCES if s != truth])
                rows.append(LabelRow(comment_id=comment_id, topic_id=topic.pk, annotator_id=user.pk, stance=stance))
    import_labels(labels=rows)


def _all_trained(api: Api, count: int) -> list[dict[str, Any]] | None:
    models = api.get("/models/").json()["models"]
    return models if len(models) == count else None


def test_after_300_labelled_items_suggestions_on_300_unlabelled_beat_the_baseline(
    topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User], workers: Workers
) -> None:
    """Issue 16's acceptance: trained by a worker on 300 items labelled by three annotators, through the API."""
    reference = stance_corpus(topics, articles=4, per_article=150, seed=21)
    ids = sorted(reference)
    labelled, unlabelled = ids[:300], ids[300:]
    annotators = [make_user("annotator", f"ann{n}") for n in range(3)]
    label_by_three(topics, reference, labelled, annotators)

    curator = api_as("curator")
    queued = curator.post("/models/train/", {})
    assert queued.status_code == 202, queued.text
    assert sorted(queued.json()["topics"]) == sorted(topics)
    again = curator.post("/models/train/", {}).json()  # already queued: not twice
    assert (again["job"], sorted(again["already_pending"])) == (None, sorted(topics))
    workers.start()
    models = wait_for(lambda: _all_trained(curator, len(topics)), timeout=300)
    assert Job.objects.get(pk=queued.json()["job"]).status == Job.Status.DONE
    for model in models:
        assert model["usable"], model["reason"]
        assert model["version"] == 1
        assert model["label_count"] >= 250  # consensus items: unanimous or majority
        for stage in ("about", "stance", "overall"):
            figures = model["metrics"][stage]
            assert figures["beats_baseline"]
            assert figures["macro_f1"] >= max(figures["baseline_macro_f1"], figures["chance_macro_f1"]) + 0.05
        assert model["metrics"]["calibration"] == "sigmoid"
        assert 0 <= model["metrics"]["overall"]["ece"] < 0.15
    assert Suggestion.objects.count() == len(ids) * len(topics)

    listed = curator.get("/models/").json()
    assert listed["current"] == dict.fromkeys(topics, 1)
    records = {row["id"]: row for row in curator.all_pages("/comments/", page_size=1000)}
    figures = {}
    for slug in topics:
        truth = [reference[c][slug] for c in unlabelled]
        suggested = [records[c]["suggestions"][slug] for c in unlabelled]
        assert {s["model_version"] for s in suggested} == {1}
        accuracy = sum(s["stance"] == t for s, t in zip(suggested, truth, strict=True)) / len(truth)
        majority = Counter(truth).most_common(1)[0][1] / len(truth)
        high = [s["stance"] == t for s, t in zip(suggested, truth, strict=True) if s["band"] == "high"]
        figures[slug] = (round(accuracy, 3), round(majority, 3), len(high), round(sum(high) / max(1, len(high)), 3))
        assert accuracy >= majority + 0.3, figures
        assert len(high) >= 30, figures
        assert sum(high) / len(high) >= 0.85, figures
    print("suggestions on 300 unlabelled comments (accuracy, majority, high-band size, high-band accuracy):", figures)


def test_blind_annotation_hints_only_on_an_annotators_single_items(
    topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    reference = stance_corpus(topics, articles=2, per_article=150, seed=22)
    ids = sorted(reference)
    annotators = [make_user("annotator", f"ann{n}") for n in range(3)]
    cm = {"cluster-munitions": topics["cluster-munitions"]}
    label_by_three(cm, reference, ids[:240], annotators)
    training = train_topic(topic=topics["cluster-munitions"])
    assert training.model.usable, training.model.reason

    ann = api_as(annotators[0])
    researcher_name = "rhea"
    researcher = api_as("researcher", researcher_name)
    # Default assignment: every item is in the overlap sample, so no annotator sees a hint, and the panel says why.
    records = ann.all_pages("/comments/", page_size=1000)
    assert all(row["suggestions"] == {} for row in records)
    assert all("consensus" not in row for row in records)
    seen = researcher.all_pages("/comments/", page_size=1000)
    assert sum(bool(row["suggestions"]) for row in seen) == len(ids)  # every comment, whatever its band
    page = Client()
    page.force_login(annotators[0])
    assert "every item is in the agreement overlap sample" in page.get("/annotate/").content.decode()
    assert ann.get("/models/").status_code == 403
    assert researcher.get("/models/").status_code == 200

    curator = api_as("curator")
    response = curator.put("/assignment/", {"overlap_share": 0.2, "overlap_annotators": 3})
    assert response.status_code == 200, response.text
    ann.get("/comments/", unannotated="true")  # the plan is made when a queue is read
    single = set(
        Assignment.objects.filter(annotator=annotators[0], reason=AssignmentReason.SINGLE).values_list(
            "comment_id", flat=True
        )
    )
    overlap = set(Assignment.objects.filter(reason=AssignmentReason.OVERLAP).values_list("comment_id", flat=True))
    assert single
    assert overlap
    hinted = {
        row["id"]: row["suggestions"] for row in ann.all_pages("/comments/", page_size=1000) if row["suggestions"]
    }
    assert hinted
    assert set(hinted) <= single  # never an overlap item, never someone else's
    assert not set(hinted) & overlap
    for hints in hinted.values():
        for hint in hints.values():
            assert hint["band"] in ("high", "medium")
            assert hint["model_version"] == 1
    banded = set(Suggestion.objects.filter(comment_id__in=single).exclude(band="").values_list("comment_id", flat=True))
    assert set(hinted) == banded

    # The thread page's panels mark the same hints (none on overlap items); researchers see every suggestion.
    def thread_hints(client: Client, marker: str = "data-hint") -> dict[int, set[str]]:
        marked: dict[int, set[str]] = {}
        for article_id in sorted(set(Comment.objects.values_list("article_id", flat=True))):
            for start in range(0, 150, 50):
                html = client.get(f"/articles/{article_id}/", {"from": start}).content.decode()
                for part in html.split('data-comment-id="')[1:]:
                    comment_id, rest = part.split('"', 1)
                    rest = rest.split('data-comment-id="', 1)[0]
                    if comment_id.isdigit() and f'{marker}="' in rest:
                        marked[int(comment_id)] = {chunk.split('"', 1)[0] for chunk in rest.split(f'{marker}="')[1:]}
        return marked

    on_threads = thread_hints(page)
    assert set(on_threads) == set(hinted)
    for comment_id, stances in on_threads.items():
        assert stances == {hint["stance"] for hint in hinted[comment_id].values()}
    watcher = Client()
    watcher.force_login(User.objects.get(username=researcher_name))
    assert set(thread_hints(watcher, "data-suggestion")) == set(Suggestion.objects.values_list("comment_id", flat=True))

    # What the annotator was shown is stored with the label; a label on an overlap item records no hint.
    hinted_id = min(set(hinted) - set(ids[:240]))
    hint = hinted[hinted_id]["cluster-munitions"]
    other = "against" if hint["stance"] != "against" else "favor"
    assert ann.put(f"/comments/{hinted_id}/annotations/cluster-munitions/", {"stance": other}).status_code == 201
    stored = Annotation.objects.get(comment_id=hinted_id, annotator=annotators[0], topic__slug="cluster-munitions")
    assert (stored.suggestion_shown, stored.suggested_stance, stored.suggestion_model_version) == (
        True,
        hint["stance"],
        1,
    )
    assert stored.stance == other  # a hint is never the answer
    overlap_id = next(iter(overlap - set(ids[:240])))
    assert ann.put(f"/comments/{overlap_id}/annotations/cluster-munitions/", {"stance": "favor"}).status_code == 201
    stored = Annotation.objects.get(comment_id=overlap_id, annotator=annotators[0], topic__slug="cluster-munitions")
    assert (stored.suggestion_shown, stored.suggested_stance, stored.suggestion_model_version) == (False, "", None)

    # The dashboard and /api/models/ count it: one hint shown, not accepted; the learning curve has v1.
    usage = researcher.get("/models/").json()["hints"]["cluster-munitions"]
    assert (usage["shown"], usage["accepted"], usage["acceptance_rate"]) == (1, 0, 0.0)
    assert usage["unhinted"] >= 1
    board = Client()
    board.force_login(make_user("curator", "cura"))
    html = board.get("/dashboard/").content.decode()
    assert 'data-learning-curve="cluster-munitions"' in html
    assert "Hints shown on 1 label, accepted 0 (0%)" in html
    assert "data-train-now" in html
    queued = board.post("/suggestions/train/")
    assert queued.status_code == 302
    assert Job.objects.get().options == {"topics": sorted(topics, key=lambda slug: topics[slug].ordering)}
    assert page.post("/suggestions/train/").status_code == 403  # annotators do not train
    assert Job.objects.count() == 1

    # Hints off: nothing for annotators, still everything for researchers.
    assert curator.put("/suggestions/settings/", {"hints": False}).status_code == 200
    assert all(row["suggestions"] == {} for row in ann.all_pages("/comments/", page_size=1000))
    assert sum(bool(row["suggestions"]) for row in researcher.all_pages("/comments/", page_size=1000)) == len(ids)


def test_model_disagrees_with_consensus_filter(
    topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    reference = stance_corpus(topics, articles=2, per_article=130, seed=23)
    ids = sorted(reference)
    cm = {"cluster-munitions": topics["cluster-munitions"]}
    label_by_three(cm, reference, ids, [make_user("annotator", f"ann{n}") for n in range(3)], agreement=0.75)
    assert train_topic(topic=topics["cluster-munitions"]).model.usable
    curator = api_as("curator")
    disagree = {
        row["id"]: row
        for row in curator.all_pages("/comments/", topic="cluster-munitions", model_disagrees="true", page_size=1000)
    }
    agree = curator.all_pages("/comments/", topic="cluster-munitions", model_disagrees="false", page_size=1000)
    assert disagree
    with_stance = [
        row
        for row in curator.all_pages("/comments/", topic="cluster-munitions", page_size=1000)
        if row["consensus"]["cluster-munitions"]["stance"] is not None  # not unresolved
    ]
    assert len(disagree) + len(agree) == len(with_stance)
    for row in disagree.values():
        assert row["suggestions"]["cluster-munitions"]["stance"] != row["consensus"]["cluster-munitions"]["stance"]
    for row in agree:
        assert row["suggestions"]["cluster-munitions"]["stance"] == row["consensus"]["cluster-munitions"]["stance"]
    # The model disagrees where the consensus is wrong more often than where it is right.
    consensus_wrong = {
        row["id"]
        for row in curator.all_pages("/comments/", topic="cluster-munitions", page_size=1000)
        if row["consensus"].get("cluster-munitions", {}).get("stance")
        not in (None, reference[row["id"]]["cluster-munitions"])
    }
    assert consensus_wrong
    assert len(consensus_wrong & set(disagree)) / max(1, len(consensus_wrong)) > len(
        set(disagree) - consensus_wrong
    ) / max(1, len(agree) + len(disagree) - len(consensus_wrong))
    annotator = api_as("annotator")
    refused = annotator.get("/comments/", topic="cluster-munitions", model_disagrees="true")
    assert refused.status_code == 403
    assert curator.get("/comments/", model_disagrees="true").status_code == 400  # needs a topic


def test_too_few_or_random_labels_give_no_model_that_is_used(
    topics: dict[str, Topic], make_user: Callable[..., User]
) -> None:
    reference = stance_corpus(topics, articles=1, per_article=160, seed=24)
    ids = sorted(reference)
    cm = topics["cluster-munitions"]
    annotators = [make_user("annotator", f"ann{n}") for n in range(3)]
    label_by_three({"cluster-munitions": cm}, reference, ids[:12], annotators, agreement=1.0)
    out = StringIO()
    call_command("train_suggestions", "--topics=cluster-munitions", stdout=out)
    assert "not trained: needs at least 10" in out.getvalue()
    first = SuggestionModel.objects.get(topic=cm)
    assert (first.version, first.usable, first.metrics) == (1, False, {})
    assert not Suggestion.objects.exists()

    # Random labels that three annotators agree on: learnable by nobody.
    rng = random.Random(5)
    noise = {c: {"cluster-munitions": rng.choice(STANCES)} for c in ids[12:]}
    label_by_three({"cluster-munitions": cm}, noise, ids[12:], annotators, agreement=1.0)
    out = StringIO()
    call_command("train_suggestions", "--topics=cluster-munitions", stdout=out)
    assert "not used: cross-validated quality does not beat the majority-class baseline (nor chance)" in out.getvalue()
    second = SuggestionModel.objects.get(topic=cm, version=2)
    assert not second.usable
    assert not second.metrics["overall"]["beats_baseline"]
    assert second.metrics["overall"]["macro_f1"] < second.metrics["overall"]["chance_macro_f1"] + 0.05
    assert not Suggestion.objects.exists()
    assert bytes(second.data) == b""


def test_settings_and_training_are_for_curators(api_as: Callable[..., Api], topics: dict[str, Topic]) -> None:
    curator, annotator, researcher = api_as("curator"), api_as("annotator"), api_as("researcher")
    settings = curator.get("/suggestions/settings/").json()
    assert settings["hints"] is True
    assert settings["active_learning"] is False
    assert settings["random_share"] == 0.2
    changed = curator.put("/suggestions/settings/", {"active_learning": True, "random_share": 0.3})
    assert changed.status_code == 200
    assert (changed.json()["active_learning"], changed.json()["random_share"]) == (True, 0.3)
    assert curator.put("/suggestions/settings/", {"random_share": 2}).status_code == 400
    assert curator.put("/suggestions/settings/", {"retrain_every": 0}).status_code == 400
    assert curator.put("/suggestions/settings/", {"colour": "red"}).status_code == 400
    for api in (annotator, researcher):
        assert api.get("/suggestions/settings/").status_code == 403
        assert api.post("/models/train/", {}).status_code == 403
    assert not Job.objects.exists()
    assert curator.post("/models/train/", {"topic": "nope"}).status_code == 400
    assert curator.get("/models/", topic="nope").status_code == 400


def test_new_consensus_labels_queue_a_training_job_every_n(
    topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User], settings: Any
) -> None:
    """Labels in over HTTP: the write that completes `retrain_every` new consensus labels queues a job, once."""
    settings.SUGGESTION_CHECK_SECONDS = 0  # count on every write (a process counts once per 10 s by default)
    reference = stance_corpus(topics, articles=1, per_article=40, seed=25)
    ids = sorted(reference)
    curator = api_as("curator")
    assert curator.put("/suggestions/settings/", {"retrain_every": 5}).status_code == 200
    writers = [api_as("annotator", f"ann{n}") for n in range(2)]
    for comment_id in ids[:4]:
        for api in writers:
            assert (
                api.put(f"/comments/{comment_id}/annotations/cluster-munitions/", {"stance": "favor"}).status_code
                == 201
            )
    assert not Job.objects.exists()  # 4 consensus labels
    for api in writers:
        api.put(f"/comments/{ids[4]}/annotations/cluster-munitions/", {"stance": "against"})
    job = Job.objects.get()
    assert (job.kind, job.status, job.options) == ("train", "queued", {"topics": ["cluster-munitions"]})
    for api in writers:  # a 6th: the job is still queued, no second one
        api.put(f"/comments/{ids[5]}/annotations/cluster-munitions/", {"stance": "against"})
    assert Job.objects.count() == 1
    out = StringIO()
    call_command("train_suggestions", "--topics=cluster-munitions", "--job", stdout=out)
    assert "already queued or running" in out.getvalue()


def test_a_topic_made_due_inside_the_check_window_is_trained_by_the_workers_check(
    topics: dict[str, Topic], api_as: Callable[..., Api], settings: Any
) -> None:
    """Each process counts a topic's consensus labels at most once per window: the label that makes the topic
    due can fall inside it, and with no write after it, only the workers' check between jobs queues the job."""
    from annotations.suggestions import jobs as suggestion_jobs
    from debate.jobs import IDLE_WORK

    settings.SUGGESTION_CHECK_SECONDS = 3600
    suggestion_jobs._LAST_CHECK.clear()
    reference = stance_corpus(topics, articles=1, per_article=20, seed=27)
    ids = sorted(reference)
    assert api_as("curator").put("/suggestions/settings/", {"retrain_every": 3}).status_code == 200
    writers = [api_as("annotator", f"ann{n}") for n in range(2)]
    for comment_id in ids[:3]:
        for api in writers:
            api.put(f"/comments/{comment_id}/annotations/cluster-munitions/", {"stance": "favor"})
    assert not Job.objects.exists()  # due since the third item's second label, but counted only at the first

    check = IDLE_WORK["due trainings"]
    assert check.every == 10  # the default window, read when the app loaded
    assert check.run() is False
    job = Job.objects.get()
    assert (job.kind, job.status, job.options) == ("train", "queued", {"topics": ["cluster-munitions"]})
    check.run()  # queued already: no second job
    assert Job.objects.count() == 1


def test_the_loop_labels_in_job_trains_hints_appear_queue_reorders(
    topics: dict[str, Topic],
    api_as: Callable[..., Api],
    make_user: Callable[..., User],
    workers: Workers,
    settings: Any,
) -> None:
    """With a worker: labels written over HTTP queue the training, the worker trains, hints appear on the
    annotator's single items (API and browse page), and the queue serves those by uncertainty, every fifth at
    random, recording the stream on each label."""
    settings.SUGGESTION_CHECK_SECONDS = 0
    reference = stance_corpus(topics, articles=2, per_article=150, seed=26)
    annotators = [make_user("annotator", f"ann{n}") for n in range(3)]
    curator = api_as("curator")
    assert curator.put("/assignment/", {"overlap_share": 0.5, "overlap_annotators": 3}).status_code == 200
    apis = [api_as(user) for user in annotators]
    for api in apis:
        api.get("/comments/", unannotated="true")  # the plan
    overlap = sorted(
        set(Assignment.objects.filter(reason=AssignmentReason.OVERLAP).values_list("comment_id", flat=True))
    )
    # Two annotators' labels and most of the third's arrive in bulk; the last overlap item over HTTP.
    label_by_three(topics, reference, overlap, annotators[1:])
    label_by_three(topics, reference, overlap[:-1], annotators[:1], seed=2)
    assert curator.put("/suggestions/settings/", {"retrain_every": 1, "active_learning": True}).status_code == 200
    assert not Job.objects.exists()
    workers.start()
    for slug in topics:
        response = apis[0].put(f"/comments/{overlap[-1]}/annotations/{slug}/", {"stance": reference[overlap[-1]][slug]})
        assert response.status_code == 201
    models = wait_for(lambda: _all_trained(curator, len(topics)), timeout=300)
    assert all(model["usable"] for model in models), [m["reason"] for m in models]
    assert set(Job.objects.values_list("kind", "status")) == {("train", "done")}

    single = set(
        Assignment.objects.filter(annotator=annotators[0], reason=AssignmentReason.SINGLE).values_list(
            "comment_id", flat=True
        )
    )
    hinted = {row["id"] for row in apis[0].all_pages("/comments/", page_size=1000) if row["suggestions"]}
    assert hinted
    assert hinted <= single
    page = Client()
    page.force_login(annotators[0])
    shown = set()
    for number in range(1, 20):
        browse = page.get("/browse/", {"page": number}).content.decode()
        for part in browse.split('data-comment-id="')[1:]:
            comment_id, rest = part.split('"', 1)
            if 'data-hint="' in rest:
                shown.add(int(comment_id))
        if "Next →" not in browse:
            break
    assert shown
    assert shown <= hinted  # the browse panel marks exactly the hints the API gives

    # The queue: single items by the model's uncertainty, every fifth from the random stream.
    streams: list[str] = []
    for _ in range(5):
        html = page.get("/annotate/").content.decode()
        served = int(html.split('" data-next-unfinished', 1)[0].rsplit("?after=", 1)[1])  # not its parents
        assert served in single
        pending = single - set(Annotation.objects.filter(annotator=annotators[0]).values_list("comment_id", flat=True))
        uncertainty = {
            c: max(Suggestion.objects.filter(comment_id=c).values_list("uncertainty", flat=True)) for c in pending
        }
        random_stream = {c for c in pending if in_random_stream(c, 0.2)}
        if len(streams) < 4:
            candidates = {c: u for c, u in uncertainty.items() if c not in random_stream}
            assert uncertainty[served] == max(candidates.values())
        else:
            assert served == min(random_stream, key=lambda c: ((c * 2654435761) % 4294967296 % 10_000, c))
        for slug in topics:
            assert apis[0].put(f"/comments/{served}/annotations/{slug}/", {"stance": "neutral"}).status_code == 201
        streams.append(Annotation.objects.filter(annotator=annotators[0], comment_id=served).first().stream)  # type: ignore[union-attr]
    assert streams == ["uncertain"] * 4 + ["random"]


def served_on_the_page(page: Client) -> int:
    """The comment the queue page serves now (its "next" link continues after it)."""
    html = page.get("/annotate/").content.decode()
    return int(html.split('" data-next-unfinished', 1)[0].rsplit("?after=", 1)[1])


def test_the_api_queue_follows_the_pages_active_learning_order(
    topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    """`GET /api/comments/?unannotated=true` with active learning on: the page's next item first, overlap items
    in their queue places, the single items' places by uncertainty with every fifth from the random stream; a
    label written over the API records its stream, and the order moves on as the page's does."""
    reference = stance_corpus(topics, articles=3, per_article=150, seed=22)  # the first 240: a usable model
    ids = sorted(reference)
    cm = topics["cluster-munitions"]
    label_by_three({"cluster-munitions": cm}, reference, ids[:240], [make_user("annotator", f"a{n}") for n in range(3)])
    assert train_topic(topic=cm).model.usable
    curator = api_as("curator")
    assert curator.put("/assignment/", {"overlap_share": 0.2, "overlap_annotators": 3}).status_code == 200
    dan = make_user("annotator", "dan")
    api = api_as(dan)
    file_order = [row["id"] for row in api.all_pages("/comments/", unannotated="true", page_size=1000)]
    assert curator.put("/suggestions/settings/", {"active_learning": True}).status_code == 200
    listed = [row["id"] for row in api.all_pages("/comments/", unannotated="true", page_size=7)]
    assert sorted(listed) == sorted(file_order)
    assert listed != file_order

    mine = {a.comment_id: a for a in Assignment.objects.filter(annotator=dan)}
    singles = [pk for pk in listed if mine[pk].reason == AssignmentReason.SINGLE]
    assert len(singles) >= 15
    by_position = sorted(listed, key=lambda pk: mine[pk].position)
    # Overlap (and check) items keep their places; single items fill the single places.
    assert [mine[pk].reason == AssignmentReason.SINGLE for pk in listed] == [
        mine[pk].reason == AssignmentReason.SINGLE for pk in by_position
    ]
    assert [pk for pk in listed if pk not in singles] == [pk for pk in by_position if pk not in singles]
    # The single items: four by uncertainty, then one from the random stream (in hash order), and so on.
    uncertainty = {
        pk: max(Suggestion.objects.filter(comment_id=pk).values_list("uncertainty", flat=True)) for pk in singles
    }
    random_stream = sorted(
        (pk for pk in singles if in_random_stream(pk, 0.2)),
        key=lambda pk: ((pk * 2654435761) % 4294967296 % 10_000, pk),
    )
    uncertain = sorted((pk for pk in singles if pk not in random_stream), key=lambda pk: (-uncertainty[pk], pk))
    expected = []
    for turn in range(len(singles)):
        first, second = (random_stream, uncertain) if turn % 5 == 4 else (uncertain, random_stream)
        expected.append((first or second).pop(0))
    assert singles == expected

    page = Client()
    page.force_login(dan)
    for _ in range(3):
        served = served_on_the_page(page)
        assert listed[0] == served
        for slug in topics:
            assert api.put(f"/comments/{served}/annotations/{slug}/", {"stance": "neutral"}).status_code == 201
        stored = Annotation.objects.filter(annotator=dan, comment_id=served).values_list("stream", flat=True)
        assert set(stored) == ({"uncertain"} if mine[served].reason == AssignmentReason.SINGLE else {""})
        listed = [row["id"] for row in api.get("/comments/", unannotated="true", page_size=5).json()["results"]]
        assert served not in listed
    assert served_on_the_page(page) == listed[0]
