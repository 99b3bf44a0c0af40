"""Measure the server's memory while it streams the exports, for several dataset sizes.

    .venv/bin/python bench/export_memory.py --rows 10000 100000 [--extra-comments 20000]

For each size: fills the PostgreSQL database `debate_bench` (created if missing) with the seed corpus and
exactly that many annotations (bulk inserts: set-up speed, not the code under test), starts the app under
gunicorn (one sync worker, DEBUG off) and streams /api/export/annotations.jsonl, .csv and /comments.jsonl
with a researcher's token, sampling the worker's VmRSS from /proc every 20 ms. Prints one line per export
and a JSON summary. Flat memory means: the peak while streaming exceeds the warmed-up baseline by about the
same small amount whatever the number of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "debate_bench"
EXPORTS = ["/api/export/annotations.jsonl", "/api/export/annotations.csv", "/api/export/comments.jsonl"]
# 171 labels (one annotator's: 57 comments × 3 topics); one comment of the strikes piece.
WARM_UP = [{"annotator": "bench-annotator-0"}, {"annotator": "bench-annotator-0"}, {"author": "steve"}]


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "DJANGO_DEBUG": "false",  # with DEBUG on, Django keeps every query it ran: memory would grow anyway
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
    }


def create_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
    env = environment()
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [PYTHON, "manage.py", "import_debate", "fixtures/seeds"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


FILL = """
import sys
from django.contrib.auth.models import Group, User
from debate.actions import issue_api_token
from annotations.models import Annotation, Topic
from annotations.topics import DEFAULT_TOPICS
from debate.models import Comment

from debate.models import Article

rows, extra_comments = int(sys.argv[1]), int(sys.argv[2])
Annotation.objects.all().delete()  # first: labels protect their comments
Comment.objects.filter(article__source="bench-synthetic.txt").delete()
Article.objects.filter(source="bench-synthetic.txt").delete()
if extra_comments:
    synthetic = Article.objects.create(source="bench-synthetic.txt", content_sha256="0" * 64, title="Synthetic")
    Comment.objects.bulk_create(
        (Comment(article=synthetic, number=n + 1, position=n, thread_order=n,
                 body=f"Synthetic comment {n} about cluster munitions, strikes and trainers.")
         for n in range(extra_comments)),
        batch_size=5000,
    )
for values in DEFAULT_TOPICS:
    Topic.objects.update_or_create(slug=values["slug"], defaults={k: v for k, v in values.items() if k != "slug"})
Annotation.objects.all().delete()
User.objects.filter(username__startswith="bench-annotator-").delete()
items = [(comment, topic) for comment in Comment.objects.order_by("pk") for topic in Topic.objects.all()]
annotators = User.objects.bulk_create(
    User(username=f"bench-annotator-{i}") for i in range(-(-rows // len(items)))
)
stances = ["favor", "against", "neutral", "not_about"]
batch = []
for n in range(rows):
    comment, topic = items[n % len(items)]
    body = comment.body
    batch.append(Annotation(
        article_id=comment.article_id, comment=comment, topic=topic, annotator=annotators[n // len(items)],
        stance=stances[n % 4],
        unsure=n % 7 == 0, confidence=(n % 3) + 1, note=f"benchmark note {n}, with a comma and \\"quotes\\"",
        evidence=[{"start": 0, "end": min(20, len(body)), "text": body[:20]}] if body else [],
    ))
    if len(batch) == 5000:
        Annotation.objects.bulk_create(batch)
        batch = []
Annotation.objects.bulk_create(batch)
researcher, _ = User.objects.get_or_create(username="bench-researcher")
researcher.groups.add(Group.objects.get_or_create(name="researcher")[0])
print(issue_api_token(user=researcher).token, Annotation.objects.count())
"""


def fill(rows: int, extra_comments: int) -> str:
    """Exactly `rows` annotations, spread over the seed comments and `extra_comments` synthetic ones; returns
    the researcher's token."""
    result = subprocess.run(
        [PYTHON, "-c", "import django; django.setup(); exec(open(0).read())", str(rows), str(extra_comments)],
        input=FILL,
        cwd=ROOT,
        env=environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    token, count = result.stdout.split()
    assert int(count) == rows, (count, rows)
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def worker_of(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def start_server(port: int) -> tuple[subprocess.Popen[bytes], int]:
    server = subprocess.Popen(
        [
            GUNICORN,
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment(),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health/", timeout=2).status_code == 200:
                return server, worker_of(server.pid)
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def stream(client: httpx.Client, path: str, pid: int) -> dict[str, Any]:
    """Stream one export to nowhere while sampling the worker's resident memory."""
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(status_kb(pid, "VmRSS"))
            time.sleep(0.02)

    before = status_kb(pid, "VmRSS")
    sampler = threading.Thread(target=sample)
    started = time.monotonic()
    sampler.start()
    size = lines = 0
    try:
        with client.stream("GET", path) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
    finally:
        done.set()
        sampler.join()
    return {
        "path": path,
        "bytes": size,
        "lines": lines,
        "seconds": round(time.monotonic() - started, 2),
        "rss_before_kb": before,
        "rss_peak_kb": max(samples, default=before),
        "rss_after_kb": status_kb(pid, "VmRSS"),
        "hwm_after_kb": status_kb(pid, "VmHWM"),
        "samples": len(samples),
    }


def measure(rows: int, extra_comments: int) -> list[dict[str, Any]]:
    token = fill(rows, extra_comments)
    port = free_port()
    server, worker = start_server(port)
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {token}"}, timeout=600
        )
        # Warm up every code path on a small slice of the same size whatever the total, so that the baseline
        # includes imports and caches but not the memory of a big first request.
        for path, params in zip(EXPORTS, WARM_UP, strict=True):
            client.get(path, params=params).raise_for_status()
        results = []
        for path in EXPORTS:
            result = stream(client, path, worker)
            result["rows_in_db"] = rows
            result["comments_in_db"] = 57 + extra_comments
            results.append(result)
            growth = (result["rss_peak_kb"] - result["rss_before_kb"]) / 1024
            print(
                f"{rows:>7} rows/{57 + extra_comments} comments  {path:<32} "
                f"{result['bytes'] / 1e6:6.1f} MB in {result['seconds']:5.1f} s  "
                f"RSS before {result['rss_before_kb'] / 1024:5.1f} MiB  peak {result['rss_peak_kb'] / 1024:5.1f} MiB "
                f"(+{growth:.1f})  after {result['rss_after_kb'] / 1024:5.1f} MiB  "
                f"VmHWM {result['hwm_after_kb'] / 1024:5.1f} MiB",
                flush=True,
            )
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--extra-comments",
        type=int,
        default=0,
        help="Synthetic comments to add to the 57 of the seeds, so that labels spread over more comment records.",
    )
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    arguments = parser.parse_args()
    create_database()
    results = [result for rows in arguments.rows for result in measure(rows, arguments.extra_comments)]
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2))
    json.dump(results, sys.stdout, indent=None)
    print()


if __name__ == "__main__":
    main()
