"""Gunicorn settings for `make serve`, read from the environment (the README lists the variables).

gunicorn config.wsgi:application --config python:config.gunicorn
"""

from __future__ import annotations

import os
import time
from typing import Any

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Two per core: while one worker waits for PostgreSQL, the other keeps the core busy.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)))
# One thread per worker (gunicorn's sync worker) unless asked for more; a TLS proxy in front buffers slow clients.
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
# Exports of a million rows stream for longer than gunicorn's default 30 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
# Workers fork from a loaded application: faster start, and the code's memory pages are shared.
preload_app = True
# Heartbeat files on tmpfs, so that a slow disk cannot make the arbiter think a worker hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "warning").lower()


def when_ready(server: object) -> None:
    """In the arbiter, before the workers fork: import every view (URLconf, DRF, numpy for agreement) once,
    so that the workers share those pages instead of each importing them on its first request."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - evaluating the property imports the views
    # Everything loaded so far lives as long as the process: frozen, the collector no longer walks it on every
    # full collection (a pause of tens of milliseconds in the middle of a request), nor writes to its pages,
    # which the workers then keep sharing with the arbiter.
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    """Open the worker's database connection before its first request rather than during it, and note the
    worker's size at its start, against which `post_request` measures what requests made it gain."""
    from django.db import connection

    connection.ensure_connection()
    worker.started_kb = _resident_kb()


# A worker whose resident memory grew by more than this over its size at start (a million-row agreement, say)
# hands its freed heap back to the system after the request; if it is still above, it is replaced by a fresh
# fork of the arbiter once the response is out (as gunicorn's max_requests does, but triggered by memory): one
# big request must not keep a process big for ever. Measured from the worker's own start, not as an absolute
# size: a fork starts with the arbiter's pages (the preloaded application) already counted as resident, and an
# absolute limit that the application outgrows replaces the worker after every request. Serving pages and
# lists, a worker gains about 20 MB over its start (`make bench`, item 8: 87 -> 108 MB); the exports and the
# agreement of a million labels leave one at 40 MB more, which the limit gives back.
WORKER_GROWTH_KB = int(os.environ.get("GUNICORN_WORKER_GROWTH_MB") or 25) * 1024


def _resident_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def post_request(worker: Any, request: object, environ: object, response: object) -> None:
    limit = getattr(worker, "started_kb", 0) + WORKER_GROWTH_KB
    if _resident_kb() <= limit:
        return
    import contextlib
    import ctypes
    import gc

    started = time.perf_counter()
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    resident = _resident_kb()
    worker.log.info("Worker trimmed to %d MB in %.0f ms", resident // 1024, (time.perf_counter() - started) * 1000)
    if resident > limit:
        worker.log.info("Worker at %d MB after a request: replacing it with a fresh one", resident // 1024)
        worker.alive = False
