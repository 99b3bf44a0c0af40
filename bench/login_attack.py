"""Another user's request times while clients guess passwords: `python -m bench.login_attack`.

Starts the production server (`make serve`: gunicorn, PostgreSQL, PBKDF2 password hashing) on a database of
its own (LOGIN_ATTACK_DATABASE_URL, by default postgres://postgres@127.0.0.1:5432/debate_login_attack,
dropped and created afresh) and measures one researcher's `GET /api/articles/`, one request at a time:

1. quiet: nobody else on the server;
2. attack: ATTACKERS clients (8 by default), each with an address of its own in X-Forwarded-For as the TLS
   proxy would set it, POST wrong passwords for one account to /api/auth/token/ as fast as the server
   answers, never waiting for Retry-After; meanwhile the account's owner logs in from another address;
3. flood: for comparison, the same number of clients asking for `/api/health/` (no database work beyond
   `SELECT 1`) as fast as the server answers: what any request flood costs the others on these workers;
4. (with --unlimited) the same attack against a server whose login limits are set out of reach: the server
   as it was before the limits, for comparison.

Prints p50/p95 of the researcher's requests in each phase, and what the attackers and the owner were answered.
Everything stays on 127.0.0.1; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.client import Server
from bench.run import ServerProcess, fresh_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/debate_login_attack"
PASSWORD = "the owner's own long passphrase"
VICTIM = "victim"
LIMIT_VARIABLES = ["LOGIN_FAILURES_PER_ACCOUNT_AND_CLIENT", "LOGIN_FAILURES_PER_CLIENT", "LOGIN_FAILURES_PER_ACCOUNT"]
READER = "reader"


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    attack_answers: Counter[int] = field(default_factory=Counter)
    warmup_answers: Counter[int] = field(default_factory=Counter)
    warmup_s: float = 0
    owner_status: int | None = None
    owner_ms: float | None = None

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "phase": self.name,
            "requests": len(ordered),
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
            "attack_answers": dict(sorted(self.attack_answers.items())),
            "warmup_s": self.warmup_s,
            "warmup_answers": dict(sorted(self.warmup_answers.items())),
            "owner_login": self.owner_status,
            "owner_login_ms": None if self.owner_ms is None else round(self.owner_ms, 1),
        }


def from_address(server: Server, client_address: str) -> Server:
    """A client of the same server whose requests the TLS proxy marks as coming from `client_address`."""
    client = Server(server.port)
    client.headers = {**client.headers, "X-Forwarded-For": client_address}
    return client


def log_in(server: Server, username: str, password: str, client_address: str) -> str:
    answer = from_address(server, client_address).request(
        "POST", "/api/auth/token/", body={"username": username, "password": password}, timeout=300
    )
    if answer.status != 200:
        raise RuntimeError(f"{username} could not log in: {answer.status} {answer.body[:200]!r}")
    return str(answer.json()["token"])


def measure(reader: Server, seconds: float, phase: Phase) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = reader.get("/api/articles/")
        if answer.status != 200:
            raise RuntimeError(f"the researcher's request failed: {answer.status}")
        phase.latencies_ms.append(answer.seconds * 1000)


def run_phase(
    server: ServerProcess,
    name: str,
    attackers: int,
    seconds: float,
    reader_address: str,
    warmup: float = 0,
    flood: bool = False,
) -> dict[str, Any]:
    phase = Phase(name)
    reader = Server(server.port, log_in(server.url, READER, PASSWORD, reader_address))
    stop = threading.Event()
    lock = threading.Lock()

    def attack(number: int) -> None:
        client = from_address(server.url, f"203.0.113.{number + 1}")
        guess = 0
        while not stop.is_set():
            guess += 1
            if flood:
                status = client.request("GET", "/api/health/", timeout=300).status
            else:
                body = {"username": VICTIM, "password": f"guess-{guess}"}
                status = client.request("POST", "/api/auth/token/", body=body, timeout=300).status
            with lock:
                phase.attack_answers[status] += 1

    threads = [threading.Thread(target=attack, args=(number,), daemon=True) for number in range(attackers)]
    for thread in threads:
        thread.start()
    try:
        if attackers and not flood:
            # Until every attacker has been locked out (or `warmup` seconds): the first few guesses of each
            # are real password checks, PBKDF2 in production, and cost what they cost with or without limits.
            deadline = time.monotonic() + warmup
            while time.monotonic() < deadline and phase.attack_answers[429] < attackers:
                time.sleep(0.2)
            phase.warmup_s = round(warmup - (deadline - time.monotonic()), 1)
            with lock:
                phase.warmup_answers, phase.attack_answers = phase.attack_answers, Counter()
            started = time.perf_counter()
            log_in(server.url, VICTIM, PASSWORD, "198.51.100.99")  # the owner, from their own address
            phase.owner_status, phase.owner_ms = 200, (time.perf_counter() - started) * 1000
        measure(reader, seconds, phase)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=330)
    return phase.summary()


def create_users() -> None:
    from django.contrib.auth.models import Group, User

    for username, role in [(READER, "researcher"), (VICTIM, "annotator")]:
        user = User.objects.create_user(username=username, password=PASSWORD)  # PBKDF2, as in production
        user.groups.add(Group.objects.get_or_create(name=role)[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attackers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20, help="Measuring time of each phase.")
    parser.add_argument("--workers", type=int, default=4, help="Gunicorn workers (WEB_CONCURRENCY).")
    parser.add_argument(
        "--warmup",
        type=float,
        default=60,
        help="Attack this long at most before measuring (until every attacker is locked out, with limits).",
    )
    parser.add_argument(
        "--unlimited", action="store_true", help="Also run the attack against a server without login limits."
    )
    arguments = parser.parse_args(argv)
    url = os.environ.get("LOGIN_ATTACK_DATABASE_URL", DEFAULT_DATABASE_URL)
    fresh_database(url)
    os.environ.update({"DATABASE_URL": url, "DJANGO_PRODUCTION": "false"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    create_users()

    results = []
    with tempfile.TemporaryDirectory(prefix="login-attack-") as workdir:
        out_of_reach = dict.fromkeys(LIMIT_VARIABLES, "1000000000")
        plans: list[tuple[str, dict[str, str]]] = [("limited", {})]
        if arguments.unlimited:
            plans.append(("unlimited", out_of_reach))
        for label, limits in plans:
            saved = {key: os.environ.get(key) for key in limits}
            os.environ.update(limits)
            (Path(workdir) / label).mkdir()
            server = ServerProcess(url, arguments.workers, Path(workdir) / label)
            try:
                if label == "limited":
                    results.append(run_phase(server, "quiet", 0, arguments.seconds, "198.51.100.1"))
                    flood = run_phase(
                        server,
                        "flood (health checks)",
                        arguments.attackers,
                        arguments.seconds,
                        "198.51.100.3",
                        flood=True,
                    )
                    results.append(flood)
                name = f"attack ({label})"
                results.append(
                    run_phase(server, name, arguments.attackers, arguments.seconds, "198.51.100.2", arguments.warmup)
                )
            finally:
                server.stop()
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            from axes.models import AccessAttempt

            AccessAttempt.objects.all().delete()  # the next server starts from a clean slate

    width = max(len(result["phase"]) for result in results)
    print(
        f"{'phase':<{width}}  requests  p50 ms  p95 ms  owner's login        "
        "attackers were answered: before measuring | while measuring"
    )
    for result in results:
        owner = "" if result["owner_login"] is None else f"{result['owner_login']} in {result['owner_login_ms']} ms"
        before = ", ".join(f"{count}x {status}" for status, count in result["warmup_answers"].items())
        during = ", ".join(f"{count}x {status}" for status, count in result["attack_answers"].items())
        attack = f"{before} in {result['warmup_s']} s | {during}" if during else ""
        print(
            f"{result['phase']:<{width}}  {result['requests']:>8}  {result['p50_ms']:>6}  {result['p95_ms']:>6}  "
            f"{owner:<19}  {attack}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
