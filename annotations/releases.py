"""Dataset releases: a background job writes immutable files under RELEASES_ROOT, the web only serves them.

One pass over the labels writes `annotations.jsonl`, `annotations.csv` and `annotations.parquet` together,
one pass over the comments `comments.jsonl` and `comments.parquet` (the export rows of `annotations.export`,
streamed through server-side cursors; Parquet in row groups), so memory stays flat whatever the size. The
files go to a hidden folder, are made read-only, described in `manifest.json` (sha256 and rows) and a
`README.md` dataset card, and the folder is renamed into place: a release is there whole or not at all, and
later label changes never touch it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import QueryDict
from django_filters import FilterSet

from annotations.export.formats import ANNOTATION_COLUMNS, csv_lines, to_json
from annotations.export.rows import annotation_rows, comment_rows
from annotations.filters import AnnotationFilter, CommentFilter
from annotations.guidelines import guideline_history
from annotations.models import Annotation, Release, Topic
from annotations.quality.queries import agreement
from annotations.release_card import ANNOTATION_FEATURES, COMMENT_FEATURES, dataset_card
from debate.db import one_snapshot
from debate.jobs import JobRun
from debate.models import Article, Comment, Job, ReplyLink

if tuple(name for name, _ in ANNOTATION_FEATURES) != ANNOTATION_COLUMNS:  # a new export column needs its feature
    raise ImportError("annotations.releases: ANNOTATION_FEATURES must name every export column, in order")

ROW_GROUP = 50_000
FILE_MODE = 0o444
_ARROW_TYPES = {"int64": pa.int64(), "string": pa.string(), "bool": pa.bool_()}
# Filters a release takes: those of the label export and of the comment export.
RELEASE_FILTERS = sorted(set(AnnotationFilter.base_filters) | set(CommentFilter.base_filters))


def release_root() -> Path:
    return Path(settings.RELEASES_ROOT)


def release_path(release: Release) -> Path:
    return release_root() / release.folder


CONTENT_TYPES = {
    ".jsonl": "application/x-ndjson; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
}


def release_file_names(release: Release) -> list[str]:
    return [file["name"] for file in release.manifest.get("files", [])] + (
        ["manifest.json"] if release.manifest else []
    )


def release_view(release: Release, request: Any, *, card: bool = True) -> dict[str, Any]:
    """A release as the API answers it and its page shows it."""
    from django.urls import reverse

    job = release.job
    files = []
    if job.status == Job.Status.DONE and release.manifest:
        entries = [*release.manifest.get("files", [])]
        manifest_file = release_path(release) / "manifest.json"
        entries.append(
            {
                "name": "manifest.json",
                "sha256": _sha256(manifest_file) if manifest_file.is_file() else None,
                "rows": None,
            }
        )
        for entry in entries:
            url = reverse("api:release-file", kwargs={"pk": release.pk, "name": entry["name"]})
            files.append({**entry, "url": request.build_absolute_uri(url)})
    view = {
        "id": release.pk,
        "name": release.name,
        "status": job.status,
        "live": job.status in (Job.Status.QUEUED, Job.Status.RUNNING),
        "progress": {"done": job.done, "total": job.total, "message": job.message},
        "error": job.error,
        "filters": release.filters,
        "created_by": release.created_by.get_username() if release.created_by else None,
        "created_at": release.created_at,
        "finished_at": job.finished_at,
        "files": files,
    }
    if card:
        view["card"] = release.card
    return view


def app_version() -> str:
    try:
        return version("debate-annotator")
    except Exception:
        return "0.1.0"


def validate_filters(filters: Mapping[str, Any], user: User) -> dict[str, str]:
    """The filters as the exports take them; unknown names or invalid values raise ValidationError."""
    unknown = sorted(set(filters) - set(RELEASE_FILTERS))
    if unknown:
        raise ValidationError(
            {"filters": [f"unknown filter(s) {', '.join(unknown)}; use {', '.join(RELEASE_FILTERS)}"]}
        )
    cleaned = {str(key): str(value) for key, value in filters.items() if value not in (None, "")}
    _annotations(cleaned, user)
    _comments(cleaned, user)
    return cleaned


def _request(filters: Mapping[str, str], user: User) -> Any:
    params = QueryDict(mutable=True)
    params.update(filters)
    return SimpleNamespace(user=user, GET=params, query_params=params)


def _filtered(
    filterset_class: type[FilterSet], filters: Mapping[str, str], user: User, queryset: QuerySet[Any]
) -> QuerySet[Any]:
    request = _request(filters, user)
    names = set(filterset_class.base_filters)
    data = QueryDict(mutable=True)
    data.update({key: value for key, value in filters.items() if key in names})
    filterset = filterset_class(data, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError(
            {"filters": [f"{name}: {' '.join(map(str, problems))}" for name, problems in filterset.errors.items()]}
        )
    return filterset.qs


def _annotations(filters: Mapping[str, str], user: User) -> QuerySet[Annotation]:
    return _filtered(AnnotationFilter, filters, user, Annotation.objects.visible_to(user))


def _comments(filters: Mapping[str, str], user: User) -> QuerySet[Comment]:
    return _filtered(CommentFilter, filters, user, Comment.objects.all())


class _Digest:
    """A file being written, with its sha256 and row count."""

    def __init__(self, path: Path, stack: ExitStack) -> None:
        self.path = path
        self.file: IO[bytes] = stack.enter_context(path.open("wb"))
        self.sha = hashlib.sha256()
        self.rows = 0

    def write(self, text: str, rows: int = 1) -> None:
        data = text.encode("utf-8")
        self.file.write(data)
        self.sha.update(data)
        self.rows += rows


def _schema(features: Iterable[tuple[str, str]]) -> pa.Schema:
    return pa.schema([(name, _ARROW_TYPES[dtype]) for name, dtype in features])


class _Parquet:
    def __init__(self, path: Path, features: tuple[tuple[str, str], ...]) -> None:
        self.path = path
        self.schema = _schema(features)
        self.names = [name for name, _ in features]
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self.columns: dict[str, list[Any]] = {name: [] for name in self.names}
        self.rows = 0

    def add(self, row: Mapping[str, Any]) -> None:
        for name in self.names:
            self.columns[name].append(row.get(name))
        self.rows += 1
        if len(self.columns[self.names[0]]) >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.columns[self.names[0]]:
            self.writer.write_table(pa.table(self.columns, schema=self.schema))
            self.columns = {name: [] for name in self.names}

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _annotation_parquet_row(row: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(row)
    flat["evidence"] = _json_text(row.get("evidence"))
    for name in ("created_at", "updated_at"):
        flat[name] = _text(row.get(name))
    return flat


def _comment_parquet_row(record: Mapping[str, Any]) -> dict[str, Any]:
    flat = {name: record.get(name) for name, _ in COMMENT_FEATURES}
    for name in ("reply_to", "annotations", "consensus", "gold"):
        flat[name] = _json_text(record.get(name))
    return flat


def _every(rows: Iterable[Mapping[str, Any]], report: Callable[[int], None]) -> Iterator[Mapping[str, Any]]:
    for count, row in enumerate(rows, start=1):
        if count % 1000 == 0:
            report(count)
        yield row


def build_release(job: Job, run: JobRun) -> dict[str, Any]:
    release = Release.objects.select_related("created_by").get(job=job)
    user = release.created_by
    if user is None:  # the creator's account was deleted while the job waited: nobody to filter for
        raise RuntimeError("the release's creator no longer exists")
    filters = dict(release.filters)
    root = release_root()
    root.mkdir(parents=True, exist_ok=True)
    final = release_path(release)
    if final.exists():  # written by an earlier attempt that was lost just before recording it
        shutil.rmtree(final)
    work = Path(tempfile.mkdtemp(prefix=f".{release.folder}.", dir=root))
    try:
        manifest = _write_files(release, user, filters, work, run)
        for path in work.iterdir():
            path.chmod(FILE_MODE)
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    Release.objects.filter(pk=release.pk).update(manifest=manifest, card=(final / "README.md").read_text("utf-8"))
    run.final_message(f"{manifest['files'][0]['rows']:,} label rows, {manifest['files'][3]['rows']:,} comments")
    return {"release": release.pk, "files": len(manifest["files"])}


def _write_files(release: Release, user: User, filters: dict[str, str], work: Path, run: JobRun) -> dict[str, Any]:
    created_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    with one_snapshot():
        labels = _annotations(filters, user)
        comments = _comments(filters, user)
        label_total = labels.count()
        comment_total = comments.count()
        total = label_total + comment_total
        run.progress(done=0, total=total, message="writing labels")

        def labels_done(count: int) -> None:
            run.progress(done=count, message=f"writing labels: {count:,} of {label_total:,}")

        def comments_done(count: int) -> None:
            run.progress(done=label_total + count, message=f"writing comments: {count:,} of {comment_total:,}")

        with ExitStack() as stack:
            jsonl = _Digest(work / "annotations.jsonl", stack)
            csv = _Digest(work / "annotations.csv", stack)
            parquet = _Parquet(work / "annotations.parquet", ANNOTATION_FEATURES)

            def also_jsonl_and_parquet(rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
                for row in rows:
                    jsonl.write(to_json(row) + "\n")
                    parquet.add(_annotation_parquet_row(row))
                    yield row

            lines = csv_lines(also_jsonl_and_parquet(_every(annotation_rows(labels), labels_done)), ANNOTATION_COLUMNS)
            csv.write(next(lines), rows=0)  # the header
            for line in lines:
                csv.write(line)
            parquet.close()
        topics = list(Topic.objects.values_list("slug", flat=True))
        with ExitStack() as stack:
            comments_file = _Digest(work / "comments.jsonl", stack)
            comments_parquet = _Parquet(work / "comments.parquet", COMMENT_FEATURES)
            for record in _every(comment_rows(comments, topics), comments_done):
                comments_file.write(to_json(record) + "\n")
                comments_parquet.add(_comment_parquet_row(record))
            comments_parquet.close()
        run.progress(done=total, message="agreement and the dataset card")
        chosen = Topic.objects.filter(slug=filters["topic"]) if filters.get("topic") else Topic.objects.all()
        history = [entry for entry in guideline_history(chosen) if entry["current"]]
        figures = {}
        for topic in Topic.objects.filter(slug__in={row["topic"] for row in history}).order_by("ordering", "slug"):
            report = agreement(topic)
            figures[topic.slug] = {
                **report.alpha.as_dict(),
                "annotators": report.annotators,
                "labels": report.labels,
            }
        link_methods = dict(
            ReplyLink.objects.filter(source__in=comments).values_list("method").annotate(n=Count("pk")).order_by()
        )
        annotators = labels.values("annotator_id").distinct().count()
        articles = Article.objects.filter(pk__in=comments.values("article_id")).count()
    files: list[dict[str, Any]] = [
        {"name": jsonl.path.name, "sha256": jsonl.sha.hexdigest(), "rows": jsonl.rows},
        {"name": csv.path.name, "sha256": csv.sha.hexdigest(), "rows": csv.rows},
        {"name": parquet.path.name, "sha256": _sha256(parquet.path), "rows": parquet.rows},
        {"name": comments_file.path.name, "sha256": comments_file.sha.hexdigest(), "rows": comments_file.rows},
        {"name": comments_parquet.path.name, "sha256": _sha256(comments_parquet.path), "rows": comments_parquet.rows},
    ]
    card = dataset_card(
        name=release.name,
        created_at=created_at,
        app_version=app_version(),
        filters=filters,
        rows={file["name"]: file["rows"] for file in files},
        topics=history,
        agreement=figures,
        annotators=annotators,
        link_methods=link_methods,
        articles=articles,
    )
    (work / "README.md").write_text(card, encoding="utf-8")
    files.append({"name": "README.md", "sha256": _sha256(work / "README.md"), "rows": None})
    manifest = {
        "name": release.name,
        "release": release.pk,
        "created_at": created_at,
        "app_version": app_version(),
        "filters": filters,
        "files": files,
        "topics": [
            {key: entry[key] for key in ("topic", "version", "statement", "guidelines", "created_at")}
            for entry in history
        ],
        "agreement": figures,
        "annotators": annotators,
        "reply_link_methods": link_methods,
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
