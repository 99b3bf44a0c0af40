"""`manage.py import_debate PATH...`: import seed files, or folders of them, one transaction per file."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from debate.actions import FileOutcome, import_file
from debate.thread_data import THREAD_DATA_SUFFIXES

logger = logging.getLogger(__name__)

_SUFFIXES = {".txt", *THREAD_DATA_SUFFIXES}


class Command(BaseCommand):
    help = "Import debate documents (seed-format .txt files, or folders of them). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="+", type=Path, help="Files, or folders of .txt (and .jsonl, .ndjson, .csv) files."
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="Import this many files at once, in separate processes (each file is still one transaction).",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Let a changed file update an article of the same file name that was imported from another folder.",
        )

    def handle(self, *args: Any, paths: list[Path], jobs: int = 1, replace: bool = False, **options: Any) -> None:
        if jobs < 1:
            raise CommandError("--jobs must be at least 1")
        found, failures = _expand(paths)
        files, refused = _importable(found)
        failures.extend(refused)
        for problem in failures:
            self.stderr.write(f"  failed     {problem}")
        counts: dict[str, int] = {"created": 0, "updated": 0, "unchanged": 0}
        for file, outcome in zip(files, _import_all(files, jobs, replace), strict=True):
            if outcome.result is None:
                failures.append(f"{shown(file)}: {outcome.reason}")
                self.stderr.write(f"  {outcome.outcome:<10} {shown(file)}: {outcome.reason}")
                continue
            counts[outcome.outcome] += 1
            self.stdout.write(f"  {outcome.outcome:<10} {outcome.line()}")
        summary = ", ".join(f"{count} {status}" for status, count in counts.items())
        if failures:
            raise CommandError(f"{len(failures)} path(s) failed; {summary}")
        self.stdout.write(self.style.SUCCESS(f"Imported {len(files)} file(s): {summary}"))


def shown(path: Path) -> str:
    """The path as printable text: bytes that are not UTF-8 appear as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _importable(files: list[Path]) -> tuple[list[Path], list[str]]:
    """The files whose names can key an article, and one line for each that cannot: a name that is not
    UTF-8 (no database column holds it), or a name that an earlier file of this run already has."""
    kept: list[Path] = []
    problems: list[str] = []
    first_with_name: dict[str, Path] = {}
    for file in files:
        try:
            file.name.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{shown(file)}: the file name is not valid UTF-8; rename the file")
            continue
        earlier = first_with_name.setdefault(file.name, file)
        if earlier is not file:
            problems.append(
                f"{shown(file)}: same file name as {shown(earlier)} in this run; articles are keyed by file name"
            )
            continue
        kept.append(file)
    return kept, problems


def _import_file(file: Path, replace: bool = False) -> FileOutcome:
    """What became of the file, through the import function the import API's jobs use too. One file's
    failure, whatever it is, must not stop the others."""
    try:
        data = file.read_bytes()
    except OSError as error:
        return FileOutcome(file.name, "refused", f"cannot read ({error.strerror})")
    return import_file(name=file.name, data=data, origin=str(file.resolve().parent), replace=replace)


def _import_all(files: list[Path], jobs: int, replace: bool) -> Iterator[FileOutcome]:
    """Results in file order. With several jobs, parsing and thread reconstruction (most of the work, and
    pure Python) run on several cores; the database serialises only what must be serialised."""
    import_one = functools.partial(_import_file, replace=replace)
    # One at a time inside a caller's transaction, whose data other processes could not see, and in a process
    # that runs other threads (a test server, a browser driver): forking it could copy a lock some thread holds.
    if jobs == 1 or len(files) < 2 or connection.in_atomic_block or threading.active_count() > 1:
        yield from map(import_one, files)
        return
    # Forked children must not share the parent's database connection; each opens its own.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(jobs, len(files)), mp_context=context) as pool:
        yield from pool.map(import_one, files)


def _expand(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The .txt files named or contained in `paths` (sorted per folder), and the paths that cannot be read."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            try:
                found = sorted(entry for entry in path.iterdir() if entry.suffix in _SUFFIXES and entry.is_file())
            except OSError as error:
                problems.append(f"{shown(path)}: cannot read folder ({error.strerror})")
                continue
            if not found:
                problems.append(f"{shown(path)}: folder holds no .txt, .jsonl, .ndjson or .csv files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            problems.append(f"{shown(path)}: not a regular file")
        else:
            problems.append(f"{shown(path)}: no such file or folder")
    return files, problems
