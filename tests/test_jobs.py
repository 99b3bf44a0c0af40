"""Background jobs with real worker processes on PostgreSQL: enqueued on commit, progress, exactly once with
several workers, and a worker killed with SIGKILL (the job is retried when safe, else failed; never half-applied)."""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from debate.actions import Upload, start_import
from debate.models import Article, Comment, CommentSearch, ImportFile, Job
from debate.synthetic import generate_document
from tests.conftest import SEEDS, Workers, wait_for

pytestmark = pytest.mark.timeout(180)


def finished(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.status in (Job.Status.DONE, Job.Status.FAILED) else None


def seed_uploads(*names: str) -> list[Upload]:
    return [Upload(name, (SEEDS / name).read_bytes()) for name in names]


def test_a_job_is_enqueued_on_commit_and_not_at_all_when_rolled_back(
    workers: Workers, make_user: Callable[..., User]
) -> None:
    curator = make_user("curator")

    def failing_request() -> None:
        with transaction.atomic():
            start_import(actor=curator, uploads=seed_uploads("000_e41b44eaa1304eb1.txt"))
            raise RuntimeError("the request failed after enqueueing")

    with pytest.raises(RuntimeError):
        failing_request()
    assert not Job.objects.exists()
    assert not DBTaskResult.objects.exists()

    job = start_import(actor=curator, uploads=seed_uploads("000_e41b44eaa1304eb1.txt", "002_67ebe6d974f15d13.txt"))
    assert DBTaskResult.objects.get().id == job.task_id
    workers.start()
    wait_for(lambda: finished(job))
    assert job.status == Job.Status.DONE, job.error
    assert (job.done, job.total, job.attempts) == (2, 2, 1)
    assert job.result["created"] == 2
    files = list(ImportFile.objects.filter(job=job))
    assert [(f.outcome, f.comments, f.done, f.total) for f in files] == [
        ("created", 36, 1000, 1000),
        ("created", 21, 1000, 1000),
    ]
    assert all(bytes(f.data) == b"" for f in files)  # the bytes are not kept once imported
    task = DBTaskResult.objects.get()
    assert task.status == "SUCCESSFUL"
    assert len(task.worker_ids) == 1
    # With no job left, the worker computes the search vectors the import committed without.
    assert wait_for(lambda: not CommentSearch.objects.filter(vector__isnull=True).exists())
    assert CommentSearch.objects.count() == Comment.objects.count() == 57


def test_several_workers_run_every_job_exactly_once(workers: Workers, make_user: Callable[..., User]) -> None:
    curator = make_user("curator")
    names = sorted(path.name for path in SEEDS.glob("*.txt"))
    jobs = [start_import(actor=curator, uploads=seed_uploads(name)) for name in names * 4]
    for _ in range(3):
        workers.start()
    for job in jobs:
        wait_for(functools.partial(finished, job))
    assert {job.status for job in jobs} == {Job.Status.DONE}
    assert [job.attempts for job in jobs] == [1] * len(jobs)
    # A job's own row is done before the task library marks its task: wait for the library too.
    wait_for(lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists())
    tasks = list(DBTaskResult.objects.all())
    assert len(tasks) == len(jobs)
    assert {task.status for task in tasks} == {"SUCCESSFUL"}
    assert [len(task.worker_ids) for task in tasks] == [1] * len(jobs)
    outcomes = list(ImportFile.objects.order_by("job_id").values_list("outcome", flat=True))
    assert outcomes[: len(names)] == ["created"] * len(names)
    assert outcomes[len(names) :] == ["unchanged"] * (len(outcomes) - len(names))


def big_document(comments: int) -> Upload:
    document = generate_document(seed=7, number=1, comments=comments)
    return Upload(document.source, document.data)


def kill_while_running(workers: Workers, job: Job) -> None:
    first = workers.start()
    # Killed while the file is under way: progress shows before its transaction commits.
    wait_for(lambda: ImportFile.objects.filter(job=job, done__gt=0, outcome="").exists(), interval=0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING


def test_a_killed_workers_job_is_taken_up_again_when_that_is_safe(
    workers: Workers, make_user: Callable[..., User]
) -> None:
    job = start_import(actor=make_user("curator"), uploads=[big_document(6000)])
    assert job.max_attempts == 3
    kill_while_running(workers, job)
    assert not Article.objects.exists()  # the file's one transaction did not commit
    workers.start()
    wait_for(lambda: finished(job))
    assert job.status == Job.Status.DONE, job.error
    assert job.attempts == 2
    assert Comment.objects.count() == 6000
    statuses = sorted(DBTaskResult.objects.values_list("status", "exception_class_path"))
    assert statuses == [("FAILED", "debate.jobs.WorkerLost"), ("SUCCESSFUL", "")]


@override_settings(IMPORT_JOB_ATTEMPTS=1)
def test_a_killed_workers_job_fails_when_it_may_not_run_again(workers: Workers, make_user: Callable[..., User]) -> None:
    job = start_import(actor=make_user("curator"), uploads=[big_document(6000)])
    kill_while_running(workers, job)
    workers.start()
    wait_for(lambda: finished(job))
    assert job.status == Job.Status.FAILED
    assert "worker running it stopped" in job.error
    assert not Article.objects.exists()
    assert not Comment.objects.exists()
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED"]
