"""The app's real processes for tests that need them: `make run` as a newcomer types it (SQLite, its own worker)
and gunicorn on the test database, on free ports, stopped with their process groups."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings

from tests.conftest import PASSWORD, database_url, wait_for


def free_port() -> int:
    """A port the system chose as free: other tests of other checkouts on the machine start servers too, and a
    fixed range hands two of them the same port (the loser then asks the winner's server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to the process group (a server's workers, make's children), SIGKILL if it outlives `timeout`."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def make_run(folder: Path, **env: str) -> Iterator[str]:
    """`make run` on an SQLite database in `folder` (the admin's password is PASSWORD); its base URL."""
    port = free_port()
    environment = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment |= {
        "DATABASE_URL": sqlite_url(folder),
        "DEBATE_PASSWORD": PASSWORD,
        "PORT": str(port),
        **env,
    }
    server = subprocess.Popen(
        ["make", "run"],
        cwd=settings.BASE_DIR,
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(base), timeout=240, interval=0.5)
        yield base
    finally:
        stop(server)


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'db.sqlite3'}"


def start_gunicorn(env: dict[str, str] | None = None, workers: int = 2) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn serving the app on the test database, as `make serve` runs it; the process and its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url(), **(env or {})},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: healthy(url), timeout=60)
    return process, url


def manage(*args: str, database: str, **env: str) -> str:
    """`manage.py ARGS` on that database, as an operator runs it; its output."""
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        env={**environment, "DATABASE_URL": database, "DEBATE_PASSWORD": PASSWORD, **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
