"""`manage.py import_debate PATH...`: import seed files, or folders of them, one transaction per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from debate.actions import ImportRefused, import_document
from debate.parsing import SeedFormatError


class Command(BaseCommand):
    help = "Import debate documents (seed-format .txt files, or folders of them). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Files or folders of .txt files.")

    def handle(self, *args: Any, paths: list[Path], **options: Any) -> None:
        files, failures = _expand(paths)
        for problem in failures:
            self.stderr.write(f"  failed     {problem}")
        counts: dict[str, int] = {"created": 0, "updated": 0, "unchanged": 0}
        for file in files:
            try:
                result = import_document(source=file.name, data=file.read_bytes())
            except (SeedFormatError, ImportRefused) as error:
                failures.append(f"{file}: {error}")
                self.stderr.write(f"  failed     {file}: {error}")
                continue
            except OSError as error:
                failures.append(f"{file}: cannot read ({error.strerror})")
                self.stderr.write(f"  failed     {file}: cannot read ({error.strerror})")
                continue
            counts[result.status] += 1
            ignored = f", {result.ignored_lines} line(s) of page chrome ignored" if result.ignored_lines else ""
            self.stdout.write(
                f"  {result.status:<10} {file.name}: {result.comments} comments, "
                f"{result.reply_links} reply links{ignored}"
            )
        summary = ", ".join(f"{count} {status}" for status, count in counts.items())
        if failures:
            raise CommandError(f"{len(failures)} path(s) failed; {summary}")
        self.stdout.write(self.style.SUCCESS(f"Imported {len(files)} file(s): {summary}"))


def _expand(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The .txt files named or contained in `paths` (sorted per folder), and the paths that cannot be read."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            try:
                found = sorted(entry for entry in path.iterdir() if entry.suffix == ".txt" and entry.is_file())
            except OSError as error:
                problems.append(f"{path}: cannot read folder ({error.strerror})")
                continue
            if not found:
                problems.append(f"{path}: folder holds no .txt files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            problems.append(f"{path}: not a regular file")
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems
