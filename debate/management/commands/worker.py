"""`manage.py worker`: run background jobs, one at a time, until stopped (SIGTERM/SIGINT: after the current job).

django_tasks_db's worker with three things added: on PostgreSQL it waits for work with LISTEN, woken by the
NOTIFY that enqueueing sends on commit (so a job starts within milliseconds, not at the next poll); while it
waits it hands jobs of lost workers to `reap_stale_jobs`; and before it waits it does the work registered
for between jobs (`debate.jobs.register_idle`: the search vectors of newly imported comments, trainings that
fell due), a short batch at a time, so that a job never waits long.
Claiming stays the library's: `SELECT ... FOR UPDATE SKIP LOCKED` and the RUNNING mark in one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandParser
from django.db import OperationalError, close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from debate.jobs import IDLE_WORK, NOTIFY_CHANNEL, reap_stale_jobs

logger = logging.getLogger(__name__)


class ListeningWorker(Worker):
    def __init__(self, *, reap_every: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reap_every = reap_every
        self._listener: psycopg.Connection[Any] | None = None
        self._last_reap = 0.0
        self._idle_last: dict[str, float] = {}

    def _listen(self) -> psycopg.Connection[Any] | None:
        if connection.vendor != "postgresql":
            return None
        if self._listener is None or self._listener.closed:
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            params.pop("prepare_threshold", None)
            params.pop("server_side_binding", None)
            self._listener = psycopg.connect(**params, autocommit=True)
            self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return self._listener

    def _wait(self) -> None:
        """Until a job is enqueued (NOTIFY) or `interval` seconds have passed."""
        try:
            listener = self._listen()
        except psycopg.Error:
            logger.warning("cannot LISTEN; polling instead", exc_info=True)
            listener = None
        if listener is None:
            time.sleep(self.interval)
            return
        try:
            for _ in listener.notifies(timeout=self.interval, stop_after=1):
                break
        except psycopg.Error:
            logger.warning("LISTEN connection lost", exc_info=True)
            with contextlib.suppress(psycopg.Error):
                listener.close()
            self._listener = None
            time.sleep(self.interval)

    def _reap(self) -> None:
        if time.monotonic() - self._last_reap < self.reap_every:
            return
        self._last_reap = time.monotonic()
        try:
            handled = reap_stale_jobs()
        except Exception:
            logger.warning("reaping stale jobs failed", exc_info=True)
            return
        if handled:
            logger.warning("%d job(s) of lost workers queued again or failed", handled)

    def _idle_work(self) -> bool:
        """The registered work between jobs (`debate.jobs.register_idle`), each when its time has come; True if
        any did something (and may have more)."""
        did = False
        for work in IDLE_WORK.values():
            now = time.monotonic()
            if work.every and now - self._idle_last.get(work.name, -work.every) < work.every:
                continue
            self._idle_last[work.name] = now
            try:
                did = work.run() or did
            except Exception:
                logger.warning("%s between jobs failed", work.name, exc_info=True)
        return did

    def _claimed(self) -> Iterator[DBTaskResult[Any, Any]]:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
            except OperationalError as error:
                # A busy SQLite file: try again at the next round.
                if not is_locked_database_exception(error):
                    raise
                task_result = None
        if task_result is not None:
            yield task_result

    def run(self) -> None:
        logger.info("worker %s started", self.worker_id)
        while self.running:
            close_old_connections()
            self._reap()
            ran = False
            for task_result in self._claimed():
                self.run_task(task_result)
                ran = True
            close_old_connections()
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self.running and not ran and not self._idle_work():
                self._wait()


class Command(BaseCommand):
    help = "Run background jobs (imports, releases) until stopped; start as many as you want jobs at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between looks for work when nothing wakes the worker (default: JOB_POLL_SECONDS).",
        )
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after running this many jobs.")
        parser.add_argument("--worker-id", default=None, help="A name unique among the workers (default: host-pid).")

    def handle(
        self, *args: Any, interval: float | None, max_tasks: int | None, worker_id: str | None, **options: Any
    ) -> None:
        from django.conf import settings

        worker = ListeningWorker(
            queue_names=["default"],
            interval=settings.JOB_POLL_SECONDS if interval is None else interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=(worker_id or f"{socket.gethostname()}-{os.getpid()}")[:64],
            excluded_queue_names=[],
            reap_every=max(1.0, settings.JOB_HEARTBEAT_TIMEOUT / 4),
        )
        worker.configure_signals()
        worker.run()
