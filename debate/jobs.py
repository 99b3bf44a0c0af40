"""Background jobs on the database we already have: Django's tasks API (the `django-tasks` backport) with the
`django_tasks_db` backend, whose worker claims a task row with `SELECT ... FOR UPDATE SKIP LOCKED` in the
transaction that marks it running, so that several workers on one PostgreSQL never run one task twice.

What the library leaves to us, kept here in one place:

* a `Job` row per piece of work, with its progress (done/total and a message, per file for imports), its
  result or one-line error, and a heartbeat. `enqueue_job` writes the job and its task row in the caller's
  transaction: the worker sees the task when, and only if, that transaction commits; on PostgreSQL a
  `NOTIFY` sent in the same transaction (delivered on commit) wakes the workers at once.
* `JobRun`: while a job runs, a thread of the worker writes the progress the job reports (several times a
  second, from its own database connection, so progress shows even inside the job's long transactions) and
  the heartbeat.
* `reap_stale_jobs`: a job whose heartbeat stopped (its worker was killed, or its machine died) is queued
  again when running it again is safe and it has attempts left, else marked failed; never left running.
  Every worker calls it while it waits for work.

The job kinds register their handler with `register` (imports here; releases from the annotations app,
which builds on this one).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks import TaskContext, task
from django_tasks import TaskResultStatus as TaskStatus
from django_tasks_db.models import DBTaskResult

from debate.models import Job

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "debate_jobs"
Handler = Callable[[Job, "JobRun"], dict[str, Any]]
_HANDLERS: dict[str, Handler] = {}


class WorkerLost(Exception):
    """The worker running a job stopped without finishing it (killed, crashed, machine lost)."""


def register(kind: str, handler: Handler) -> None:
    """`handler(job, run)` does the work of jobs of this kind and returns their result (JSON)."""
    _HANDLERS[kind] = handler


@dataclass(frozen=True)
class IdleWork:
    """Work a worker does between jobs, when none waits: `run()` does a short batch of it and says whether it
    did any (the worker then asks again before it waits); at most once every `every` seconds per worker."""

    name: str
    run: Callable[[], bool]
    every: float = 0.0


IDLE_WORK: dict[str, IdleWork] = {}


def register_idle(name: str, run: Callable[[], bool], *, every: float = 0.0) -> None:
    IDLE_WORK[name] = IdleWork(name, run, every)


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)


@task(takes_context=True)
def run_job(context: TaskContext, job_id: int) -> dict[str, Any]:
    """The one task: run the job `job_id` with its kind's handler, keeping its row up to date."""
    worker_ids = context.task_result.worker_ids
    return execute(job_id, worker=worker_ids[-1] if worker_ids else "")


def enqueue_job(
    *,
    kind: str,
    actor: User | None,
    max_attempts: int = 1,
    total: int = 0,
    message: str = "queued",
    before_enqueue: Callable[[Job], None] | None = None,
    options: dict[str, Any] | None = None,
) -> Job:
    """A new job and its task, in one transaction (the caller's, if any): both are visible on commit or not
    at all. `before_enqueue(job)` writes what the job will read (the uploaded files, say). Only work that is
    safe to run again (one transaction per unit, resumable) may have `max_attempts` above one."""
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, created_by=actor, max_attempts=max_attempts, total=total, message=message, options=options or {}
        )
        if before_enqueue is not None:
            before_enqueue(job)
        _enqueue_task(job)
    return job


def _enqueue_task(job: Job) -> None:
    result = run_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=result.id)
    job.task_id = uuid.UUID(str(result.id))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, str(job.pk)])


def execute(job_id: int, *, worker: str = "") -> dict[str, Any]:
    """Run a queued job in this process; a job that is not queued (already run, or taken over) is left alone."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, status=Job.Status.QUEUED).first()
        if job is None:
            return {"skipped": f"job {job_id} is not queued"}
        now = timezone.now()
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.worker = worker[:64]
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "worker", "error"])
    run = JobRun(job)
    run.start()
    try:
        result = _HANDLERS[job.kind](job, run)
    except Exception as error:
        run.stop()
        logger.warning("job %s failed", job.pk, exc_info=True)
        first_line = next(iter(str(error).strip().splitlines()), "")
        _finish(job, Job.Status.FAILED, error=f"{type(error).__name__}: {first_line}"[:2000], run=run)
        return {"error": job.error}
    run.stop()
    _finish(job, Job.Status.DONE, result=result, run=run)
    return result


def _finish(job: Job, status: str, *, run: JobRun, result: dict[str, Any] | None = None, error: str = "") -> None:
    state = run.snapshot()
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=status,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        result=result or {},
        error=error,
        done=state.done if status == Job.Status.FAILED else max(state.done, state.total),
        total=state.total,
        message=state.final_message or ("done" if status == Job.Status.DONE else f"failed: {error}"[:300]),
    )
    job.status = status
    job.error = error


@dataclass
class _State:
    done: int = 0
    total: int = 0
    message: str = ""
    final_message: str = ""
    # Per unit (an import's file): id -> (done, total, message); written and forgotten by the flusher.
    units: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    version: int = 0


class JobRun:
    """A running job's progress, reported by the job's code and written by a thread of its own every
    `JOB_PROGRESS_SECONDS` (and at least every `JOB_HEARTBEAT_SECONDS`, as the heartbeat)."""

    def __init__(self, job: Job, unit_writer: Callable[[dict[int, tuple[int, int, str]]], None] | None = None):
        self.job = job
        self._state = _State(done=job.done, total=job.total, message=job.message)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.unit_writer = unit_writer
        self.writes = 0

    def progress(self, *, done: int | None = None, total: int | None = None, message: str | None = None) -> None:
        with self._lock:
            if done is not None:
                self._state.done = done
            if total is not None:
                self._state.total = total
            if message is not None:
                self._state.message = message[:300]
            self._state.version += 1

    def unit(self, unit_id: int, *, done: int, total: int, message: str) -> None:
        with self._lock:
            self._state.units[unit_id] = (done, total, message[:300])
            self._state.version += 1

    def final_message(self, message: str) -> None:
        with self._lock:
            self._state.final_message = message[:300]

    def snapshot(self) -> _State:
        with self._lock:
            return _State(
                self._state.done,
                self._state.total,
                self._state.message,
                self._state.final_message,
                dict(self._state.units),
                self._state.version,
            )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"job-{self.job.pk}-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        written = -1
        last_beat = 0.0
        try:
            while not self._stopped.wait(settings.JOB_PROGRESS_SECONDS):
                state = self.snapshot()
                beat_due = time.monotonic() - last_beat >= settings.JOB_HEARTBEAT_SECONDS
                if state.version == written and not beat_due:
                    continue
                try:
                    self._write(state)
                except Exception:
                    # A busy SQLite file, a dropped connection: the next round tries again.
                    logger.warning("job %s: progress not written", self.job.pk, exc_info=True)
                    close_old_connections()
                    continue
                written, last_beat = state.version, time.monotonic()
        finally:
            connection.close()

    def _write(self, state: _State) -> None:
        with transaction.atomic():
            Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING).update(
                done=state.done, total=state.total, message=state.message, heartbeat_at=timezone.now()
            )
            if self.unit_writer is not None and state.units:
                self.unit_writer(state.units)
        self.writes += 1
        with self._lock:
            for unit_id, values in state.units.items():
                if self._state.units.get(unit_id) == values:
                    del self._state.units[unit_id]


def reap_stale_jobs() -> int:
    """Jobs whose worker stopped sending heartbeats: queued again if they may run again, else failed. Each is
    handled by one worker (row locks, SKIP LOCKED). Also closes task rows left running by a lost worker.
    Returns how many jobs were handled."""
    now = timezone.now()
    cutoff = now - heartbeat_timeout()
    handled = 0
    with transaction.atomic():
        stale = list(
            Job.objects.select_for_update(skip_locked=True).filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
        )
        for job in stale:
            _close_task(job.task_id, now, "the worker running this job stopped sending heartbeats")
            if job.attempts < job.max_attempts:
                job.status = Job.Status.QUEUED
                job.message = f"the worker was lost; queued again (attempt {job.attempts + 1} of {job.max_attempts})"
                job.save(update_fields=["status", "message"])
                _enqueue_task(job)
            else:
                job.status = Job.Status.FAILED
                job.finished_at = now
                job.error = (
                    f"the worker running it stopped (killed or crashed) on attempt {job.attempts} of "
                    f"{job.max_attempts}; nothing of an unfinished step was kept"
                )
                job.message = "failed: worker lost"
                job.save(update_fields=["status", "finished_at", "error", "message"])
            handled += 1
        # Task rows a lost worker left RUNNING although their job has moved on.
        finished_jobs = Job.objects.exclude(status=Job.Status.RUNNING).values("task_id")
        orphans = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskStatus.RUNNING, started_at__lt=cutoff, id__in=finished_jobs
        )
        for task_id in orphans.values_list("id", flat=True):
            _close_task(task_id, now, "the worker running this task stopped before recording its end")
    return handled


def _close_task(task_id: Any, now: Any, why: str) -> None:
    if task_id is None:
        return
    DBTaskResult.objects.filter(id=task_id, status=TaskStatus.RUNNING).update(
        status=TaskStatus.FAILED,
        finished_at=now,
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=why,
    )
