"""`manage.py thread_report PATH... [--reference FILE]`: how good the reply links of seed files are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from debate.seed_parser import SeedFormatError, decode_document, parse_document
from debate.thread_report import (
    BadReference,
    DocumentLinks,
    Reference,
    build_report,
    parse_reference,
    reconstructed_links,
    render_report,
    report_as_dict,
)


class Command(BaseCommand):
    help = (
        "Rebuild the reply links of seed files (nothing is imported) and report, per method (mention, quote, "
        "content), how many links were made with their scores; with --reference, their precision, recall and "
        "primary-parent accuracy against hand-made links (JSON: {document name: {comment number: [parents, "
        "primary first]}}; see debate/thread_report.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Seed-format .txt files, or folders of them.")
        parser.add_argument(
            "--reference",
            action="append",
            type=Path,
            default=[],
            help=(
                "A reference file of links, or a folder of *.json ones; give it again for more (their documents "
                "are merged)."
            ),
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, paths: list[Path], reference: list[Path], json: bool = False, **options: Any) -> None:
        documents = [_links_of(file) for file in _expand(paths)]
        names = [document.name for document in documents]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate:
            raise CommandError(f"two documents are named {duplicate}; the reference could not tell them apart")
        try:
            merged = _read_references(reference) if reference else None
            report = build_report(documents, merged)
        except BadReference as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_dumps(report_as_dict(report)) if json else render_report(report))


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.txt"))
            if not found:
                raise CommandError(f"{path}: no .txt files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"{path}: no such file or folder")
    return files


def _links_of(file: Path) -> DocumentLinks:
    try:
        document = parse_document(decode_document(file.read_bytes()))
    except SeedFormatError as error:
        raise CommandError(f"{file}: {error}") from None
    except OSError as error:
        raise CommandError(f"{file}: {error.strerror}") from None
    return reconstructed_links(file.name, document)


def _read_references(paths: list[Path]) -> Reference:
    merged: Reference = {}
    files: list[Path] = []
    for path in paths:
        found = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not found:
            raise CommandError(f"{path}: no .json reference files in this folder")
        files.extend(found)
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        try:
            part = parse_reference(data)
        except BadReference as error:
            raise CommandError(f"{file}: {error}") from None
        for name in part.keys() & merged.keys():
            raise CommandError(f"{file}: {name} is also in another reference file")
        merged |= part
    return merged
