"""`manage.py export_annotations --format jsonl|csv --out FILE`: the long-format label dataset."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotations.export.formats import ANNOTATION_COLUMNS, csv_lines, jsonl_lines
from annotations.export.rows import annotation_rows
from annotations.models import Annotation


class Command(BaseCommand):
    help = "Export every label in long format (one row per annotation), as the API's export does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--out", required=True, help="File to write; '-' for standard output.")
        parser.add_argument("--topic", help="Only this topic (slug).")

    def handle(self, *args: Any, format: str, out: str, topic: str | None, **options: Any) -> None:
        annotations = Annotation.objects.all()
        if topic is not None:
            annotations = annotations.for_topic(topic)
            if not annotations.exists():
                raise CommandError(f"no labels for topic {topic!r}")
        total = annotations.count()
        rows = tqdm(annotation_rows(annotations), total=total, unit=" rows", file=sys.stderr, disable=out == "-")
        lines = jsonl_lines(rows) if format == "jsonl" else csv_lines(rows, ANNOTATION_COLUMNS)
        if out == "-":
            for line in lines:
                self.stdout.write(line, ending="")
            return
        path = Path(out)
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as file:
                file.writelines(lines)
            partial.replace(path)  # a reader never sees a half-written file
        except OSError as error:
            # Cleaning up can fail for the same reason as writing (say, the parent is a file): not worth a traceback.
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise CommandError(f"cannot write {out}: {error.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {total} label(s) to {path}"))
