"""Use cases that write the corpus. Each runs in one transaction; views and commands call these."""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from knox.models import AuthToken

from debate.db import insert_rows, one_snapshot, reserve_ids, update_rows
from debate.errors import Conflict
from debate.models import SEARCH_CONFIG, Article, Author, Comment, CommentSearch, ImportFile, Job, ReplyLink
from debate.reply_threads import (
    CommentText,
    Link,
    ThreadedComment,
    article_quotes,
    reconstruct_threads,
    tree_layout,
)
from debate.seed_parser import ParsedComment, ParsedDocument, SeedFormatError, decode_document, parse_document
from debate.thread_data import format_of, parse_thread_data
from debate.thread_report import DocumentLinks, ReportLink, ThreadReport, build_report

logger = logging.getLogger(__name__)

ImportStatus = Literal["created", "updated", "unchanged"]

_LAYOUT_FIELDS = ["depth", "thread_order", "root"]
_THREAD_FIELDS = ["position", "parent", "parent_is_manual", "quotes_article", "quoted_spans", *_LAYOUT_FIELDS]


class ImportRefused(Conflict):
    """The file is valid, but importing it would destroy work; the message says what, in one line."""


@dataclass(frozen=True)
class ImportResult:
    source: str
    status: ImportStatus
    article_id: int
    comments: int
    reply_links: int
    ignored_lines: int = 0


FileProgress = Callable[[str, float], None]
"""(what is being done, share of the file done from 0 to 1): called often; the receiver throttles."""

_PHASES = 3  # reading, linking replies, writing: each a third of a file's progress


def _no_progress(message: str, share: float) -> None:
    return None


def _phase(progress: FileProgress, phase: int, label: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        progress(f"{label} {done:,} of {total:,}", (phase + (done / total if total else 0.0)) / _PHASES)

    return report


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector off while one file is read, searched and written.

    An import allocates hundreds of thousands of small objects (tokens, trigrams, spans, model instances) that
    live until its end, so the collector's passes over the older generations rescan them again and again: for
    a 5,000-comment file about 0.1 s of the import's 1.1-1.2 s of CPU (medians of 10 imports each way), which
    cProfile charged to whatever function happened to allocate. The import makes no reference cycles that need
    collecting meanwhile: reference counting frees its garbage as usual, and the collector runs afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_cycle_collection_paused()
def import_document(
    *,
    source: str,
    data: bytes,
    origin: str = "",
    replace: bool = False,
    progress: FileProgress | None = None,
    on_success: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Import one file's bytes under the name `source`, all or nothing.

    The format follows the name: `.jsonl`/`.ndjson` and `.csv` are thread data whose parents are given
    (`debate.thread_data`), anything else the seed text format. The same bytes again write nothing. A changed
    file updates the article in place: comments whose number, author and text are unchanged keep their
    identity (and what is attached to them), and a curator's manual parent survives. Articles are keyed by
    file name; `origin` says where this file comes from (the command passes its folder), and a changed file
    under a name first imported from another origin is refused unless `replace`: a namesake from another
    folder must not silently overwrite an article.
    Raises SeedFormatError for a malformed file or a value too long to store, and ImportRefused when the
    new version would delete a comment that something (an annotation) still depends on, or comes from
    another origin. `progress` hears how far reading, reply reconstruction and writing have got;
    `on_success(result)` runs inside the file's transaction (reading and reconstruction happen before it).
    """
    report = progress or _no_progress
    digest = hashlib.sha256(data).hexdigest()
    existing = Article.objects.filter(source=source).first()
    if existing is not None and existing.content_sha256 == digest:
        result = ImportResult(
            source=source,
            status="unchanged",
            article_id=existing.pk,
            comments=Comment.objects.filter(article=existing).count(),
            reply_links=ReplyLink.objects.filter(source__article=existing).count(),
        )
        if on_success is not None:
            with transaction.atomic():
                on_success(result)
        return result
    if existing is not None and existing.origin != origin and not replace:
        raise ImportRefused(
            f"an article named {source} was imported from {existing.origin or 'elsewhere'} with other content; "
            "replace it with this file explicitly (import_debate --replace) or rename the file"
        )
    report("reading", 0.0)
    kind = format_of(source)
    if kind == "seed":
        document = parse_document(decode_document(data), progress=_phase(report, 0, "reading line"))
    else:
        document = parse_thread_data(data, kind, progress=_phase(report, 0, "reading line"))
    _check_lengths(source, document)
    count = len(document.comments)
    linking = _phase(report, 1, "linking replies: comment")
    texts = [CommentText(c.author, c.body) for c in document.comments]
    if document.given_structure:
        quotes = article_quotes(document.body, texts, progress=lambda done: linking(done, count))
        threads = [_given(comment, thread) for comment, thread in zip(document.comments, quotes, strict=True)]
    else:
        threads = reconstruct_threads(
            document.body,
            texts,
            article_author=document.author,
            numbers=[c.number for c in document.comments],
            progress=lambda done: linking(done, count),
        )
    report("writing", 2 / _PHASES)
    writing = _phase(report, 2, "writing rows")
    with transaction.atomic():
        authors = _authors_by_name([document.author, *(comment.author for comment in document.comments)])
        article, created = Article.objects.select_for_update().update_or_create(
            source=source,
            defaults={
                "content_sha256": digest,
                "title": document.title,
                "title_derived": document.title_derived,
                "subtitle": document.subtitle,
                "body": document.body,
                "tags": list(document.tags),
                "author": authors.get(document.author or ""),
                "author_bio": document.author_bio,
                "origin": origin,
            },
        )
        comments = _save_comments(article, document, threads, authors, writing)
        links = _save_reply_links(comments, threads, new_article=created)
        result = ImportResult(
            source=source,
            status="created" if created else "updated",
            article_id=article.pk,
            comments=len(comments),
            reply_links=links,
            ignored_lines=len(document.ignored_lines),
        )
        if on_success is not None:
            on_success(result)
    report("written", 1.0)
    return result


def _given(comment: ParsedComment, thread: ThreadedComment) -> ThreadedComment:
    """Thread data knows each comment's parent: that is its one link (method `given`) and its parent. The
    search for quotes of the article (`article_quotes`) still tells which comments quote it, and where."""
    parent = comment.given_parent
    links = () if parent is None else (Link(target=parent, method="given", score=1.0, evidence="", position=0),)
    return ThreadedComment(
        links=links, parent=parent, quotes_article=thread.quotes_article, quoted_spans=thread.quoted_spans
    )


Outcome = Literal["created", "updated", "unchanged", "refused"]


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file, as the command prints it and the import API reports it."""

    name: str
    outcome: Outcome
    reason: str = ""  # one line, for a refused file
    result: ImportResult | None = None

    def line(self) -> str:
        if self.result is None:
            return f"{self.name}: {self.reason}"
        ignored = f", {self.result.ignored_lines} line(s) of page chrome ignored" if self.result.ignored_lines else ""
        return f"{self.name}: {self.result.comments} comments, {self.result.reply_links} reply links{ignored}"


def import_file(
    *,
    name: str,
    data: bytes,
    origin: str = "",
    replace: bool = False,
    progress: FileProgress | None = None,
    on_success: Callable[[ImportResult], None] | None = None,
) -> FileOutcome:
    """Import one file, whatever happens: the one import function of `manage.py import_debate` and of the
    import jobs behind `POST /api/imports/`. A file that cannot be imported is refused with a one-line
    reason and leaves nothing behind; an unexpected error is such a reason too (LOG_LEVEL=debug logs its
    traceback). `on_success` runs inside the file's transaction, so that what it records (an import job's
    outcome for the file) commits with the file, or not at all."""
    try:
        result = import_document(
            source=name, data=data, origin=origin, replace=replace, progress=progress, on_success=on_success
        )
    except (SeedFormatError, ImportRefused) as error:
        return FileOutcome(name, "refused", str(error))
    except Exception as error:
        logger.debug("importing %s failed", name, exc_info=True)
        first_line = next(iter(str(error).strip().splitlines()), "")
        return FileOutcome(name, "refused", f"unexpected error, file skipped ({type(error).__name__}: {first_line})")
    return FileOutcome(name, result.status, "", result)


def _check_lengths(source: str, document: ParsedDocument) -> None:
    """Refuse, in one line, any value longer than its column, before anything is written, rather than fail
    with a DataError half-way. The parser already keeps titles, subtitles and commenters' names short (a
    longer "NAME says:" is a sentence of the comment) and comment numbers to nine digits; checked here once
    more, against the columns themselves, so that a change to either side cannot reopen the gap."""

    def limit(model: type[Article] | type[Author], name: str) -> int:
        field = model._meta.get_field(name)
        if not isinstance(field, models.CharField):
            raise TypeError(f"{model.__name__}.{name} is not a CharField")
        return int(field.max_length or 0)

    for what, value, most in [
        ("file name", source, limit(Article, "source")),
        ("title", document.title, limit(Article, "title")),
        ("subtitle", document.subtitle, limit(Article, "subtitle")),
        ("article author", document.author or "", limit(Author, "name")),
    ]:
        if len(value) > most:
            raise SeedFormatError(f"{what} is {len(value)} characters long; at most {most} are allowed")


def _authors_by_name(names: Iterable[str | None]) -> dict[str, Author]:
    wanted = {name for name in names if name}
    if not wanted:
        return {}
    # ignore_conflicts lets two imports that introduce the same commenter run side by side.
    Author.objects.bulk_create([Author(name=name) for name in sorted(wanted)], ignore_conflicts=True)
    return {author.name: author for author in Author.objects.filter(name__in=wanted)}


_COMMENT_ATTNAMES = tuple(field.attname for field in Comment._meta.concrete_fields)


def _new_comment(values: dict[str, object]) -> Comment:
    """A new Comment from every field's value (foreign keys by id), passed to the model positionally in field
    order: Model.__init__ then skips matching keywords and the related-object descriptors, a third of its
    time per comment. A field added to Comment is a KeyError here until it gets its value."""
    return Comment(*map(values.__getitem__, _COMMENT_ATTNAMES))


def _save_comments(
    article: Article,
    document: ParsedDocument,
    threads: Sequence[ThreadedComment],
    authors: dict[str, Author],
    progress: Callable[[int, int], None] | None = None,
) -> list[Comment]:
    """Comments of the document in file order, saved, with parents and tree layout."""
    previous = {comment.number: comment for comment in Comment.objects.filter(article=article)}
    comments: list[Comment] = []
    kept_ids: set[int] = set()
    stored: dict[int, tuple[object, ...]] = {}  # thread fields of kept comments as the database has them
    for position, (parsed, thread) in enumerate(zip(document.comments, threads, strict=True)):
        author = authors[parsed.author] if parsed.author else None
        old = previous.get(parsed.number)
        if old is not None and old.body == parsed.body and old.author_id == (author.pk if author else None):
            comment = old
            kept_ids.add(old.pk)
            stored[old.pk] = _thread_values(old)
        else:
            comment = _new_comment(
                {
                    "id": None,
                    "article_id": article.pk,
                    "number": parsed.number,
                    "position": position,
                    "author_id": author.pk if author else None,
                    "body": parsed.body,
                    "parent_id": None,
                    "parent_is_manual": False,
                    "root_id": None,
                    "depth": 0,
                    "thread_order": 0,
                    "quotes_article": False,
                    "external_id": parsed.external_id,
                    "posted_at": parsed.posted_at,
                    "quoted_spans": [],
                }
            )
        comment.position = position
        comment.quotes_article = thread.quotes_article
        comment.quoted_spans = [
            {
                "start": span.start,
                "end": span.end,
                "source": None if span.source is None else document.comments[span.source].number,
            }
            for span in thread.quoted_spans
        ]
        comments.append(comment)

    stale = [comment.pk for comment in previous.values() if comment.pk not in kept_ids]
    if stale:
        try:
            Comment.objects.filter(pk__in=stale).delete()
        except ProtectedError as error:
            number_of = {comment.pk: number for number, comment in previous.items()}
            numbers = sorted({number_of.get(getattr(obj, "comment_id", 0), 0) for obj in error.protected_objects})
            raise ImportRefused(
                f"replacing it would lose {len(error.protected_objects)} annotation(s) on comment(s) "
                + ", ".join(f"#{number}" for number in numbers)
                + ", which the new version removes or changes"
            ) from None
    new = [comment for comment in comments if comment.pk is None]
    # Ids drawn first, so that parents, roots and layout are known before any row is written: the new comments
    # take one INSERT with everything, and only kept comments that moved take an UPDATE. (Inserting, then
    # updating every row with bulk_update's CASE WHEN per field, took seconds for thousands of comments.)
    reserved = reserve_ids(Comment, len(new))
    if reserved is None:
        Comment.objects.bulk_create(new)
    else:
        for comment, pk in zip(new, reserved, strict=True):
            comment.pk = pk

    index_of = {comment.pk: index for index, comment in enumerate(comments)}
    parents = [
        _parent_index(index, comment, thread, index_of, comments)
        for index, (comment, thread) in enumerate(zip(comments, threads, strict=True))
    ]
    _apply_layout(comments, parents)
    if reserved is None:
        Comment.objects.bulk_update(comments, _THREAD_FIELDS, batch_size=1000)
    else:
        insert_rows(new, progress=None if progress is None else lambda done: progress(done, len(new)))
        moved = [
            comment for comment in comments if comment.pk in stored and _thread_values(comment) != stored[comment.pk]
        ]
        update_rows(moved, _THREAD_FIELDS)
    return comments


_THREAD_ATTNAMES = [f"{name}_id" if name in ("parent", "root") else name for name in _THREAD_FIELDS]


def _thread_values(comment: Comment) -> tuple[object, ...]:
    return tuple(getattr(comment, attname) for attname in _THREAD_ATTNAMES)


def _apply_layout(comments: Sequence[Comment], parents: Sequence[int | None]) -> list[Comment]:
    """Set depth, thread order and thread root from the parents (indices into `comments`, always earlier).

    Returns the comments whose layout changed."""
    roots: list[int] = []
    changed = []
    for index, (comment, parent, (depth, order)) in enumerate(
        zip(comments, parents, tree_layout(parents), strict=True)
    ):
        roots.append(index if parent is None else roots[parent])
        root_id = comments[roots[index]].pk
        if (comment.depth, comment.thread_order, comment.root_id) != (depth, order, root_id):
            comment.depth, comment.thread_order, comment.root_id = depth, order, root_id
            changed.append(comment)
    return changed


def _parent_index(
    index: int, comment: Comment, thread: ThreadedComment, index_of: dict[int, int], comments: list[Comment]
) -> int | None:
    """A curator's parent if it still stands (exists and comes earlier), else the reconstructed one."""
    if comment.parent_is_manual:
        if comment.parent_id is None:
            return None
        manual = index_of.get(comment.parent_id)
        if manual is not None and manual < index:
            return manual
        comment.parent_is_manual = False
    comment.parent_id = None if thread.parent is None else comments[thread.parent].pk
    return thread.parent


def _save_reply_links(
    comments: Sequence[Comment], threads: Sequence[ThreadedComment], *, new_article: bool = False
) -> int:
    """Replace the automatic links of these comments; manual links stay. A new article has none to replace."""
    manual_pairs = {
        (comment.pk, comment.parent_id) for comment in comments if comment.parent_is_manual and comment.parent_id
    }
    if not new_article:
        stale = ReplyLink.objects.filter(source_id__in=[comment.pk for comment in comments])
        for source_id, target_id in manual_pairs:
            stale = stale.exclude(source_id=source_id, target_id=target_id, method=ReplyLink.Method.MANUAL)
        stale.delete()
    links = [
        ReplyLink(
            source_id=comment.pk,
            target_id=comments[link.target].pk,
            method=link.method,
            score=link.score,
            evidence=link.evidence,
            position=link.position,
            basis=link.basis,
        )
        for comment, thread in zip(comments, threads, strict=True)
        for link in thread.links
        if (comment.pk, comments[link.target].pk) not in manual_pairs
    ]
    insert_rows(links)
    return len(links) + len(manual_pairs)


@transaction.atomic
def index_comment_search(*, limit: int = 250) -> int:
    """Compute the search vectors of up to `limit` comments still waiting for one (see `CommentSearch`) and
    return how many. Workers call it whenever they have no job, so that imports commit without this cost;
    several can run at once, each taking rows the others have not locked. Nothing to do off PostgreSQL.

    A worker looks for a queued job between two calls, so `limit` bounds how long a job that arrives meanwhile
    waits: 250 bodies take 30-60 ms here, where 2,000 held a new import back for 0.15-0.4 s (the gap between
    `Job.created_at` and `started_at` while the previous import's vectors were being computed)."""
    if connection.vendor != "postgresql":
        return 0
    table = CommentSearch._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(  # table names from the models; the values are parameters
            f"UPDATE {table} AS s SET vector = to_tsvector(%s::regconfig, COALESCE(c.body, '')) "  # noqa: S608
            f"FROM {Comment._meta.db_table} AS c "
            f"WHERE c.id = s.comment_id AND s.comment_id IN ("
            f"SELECT comment_id FROM {table} WHERE vector IS NULL ORDER BY comment_id LIMIT %s "
            f"FOR UPDATE SKIP LOCKED)",
            [SEARCH_CONFIG, limit],
        )
        return int(cursor.rowcount)


@transaction.atomic
def relayout_article(*, article_id: int) -> None:
    """Recompute depth, thread order and roots after a parent changed; writes only the rows that moved."""
    comments = list(
        Comment.objects.select_for_update()
        .filter(article_id=article_id)
        .order_by("position")
        .only("id", "parent_id", "depth", "thread_order", "position", "root_id")
    )
    index_of = {comment.pk: index for index, comment in enumerate(comments)}
    moved = _apply_layout(comments, [None if c.parent_id is None else index_of[c.parent_id] for c in comments])
    update_rows(moved, _LAYOUT_FIELDS)


def article_thread_report(*, article_id: int, reference: dict[int, tuple[int, ...]] | None = None) -> ThreadReport:
    """The reply-link report of an imported article, from its stored links (a curator's included, as
    `manual`) and parents; with `reference` (links of this article only, in printed numbers), precision,
    recall and primary-parent accuracy. Raises Article.DoesNotExist, and BadReference for a reference
    naming comments the article does not have."""
    with one_snapshot():
        article = Article.objects.only("source").get(pk=article_id)
        comments = list(
            Comment.objects.filter(article_id=article_id).order_by("position").values_list("number", "parent__number")
        )
        links = list(
            ReplyLink.objects.filter(source__article_id=article_id)
            .order_by("source__position", "position")
            .values_list("source__number", "target__number", "method", "score")
        )
    document = DocumentLinks(
        name=article.source,
        numbers=tuple(number for number, _ in comments),
        links=tuple(ReportLink(child, parent, method, score) for child, parent, method, score in links),
        primary=dict(comments),
    )
    return build_report([document], None if reference is None else {article.source: reference})


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once: only its digest is stored
    expiry: datetime | None


@transaction.atomic
def issue_api_token(*, user: AbstractBaseUser) -> IssuedToken:
    """A new API token for `user`, valid for REST_KNOX["TOKEN_TTL"]; expired tokens of the user go."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    return IssuedToken(token=token, expiry=instance.expiry)


@transaction.atomic
def revoke_api_tokens(*, user: AbstractBaseUser, token: AuthToken | None = None) -> int:
    """Revoke one token of `user`, or all of them; the number revoked."""
    tokens = AuthToken.objects.filter(user=user)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    revoked: int = tokens.delete()[0]
    return revoked


UPLOAD_ORIGIN = "upload"


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


@transaction.atomic
def start_import(*, actor: AbstractBaseUser, uploads: Sequence[Upload], replace: bool = False) -> Job:
    """An import job for these uploaded files, queued on commit. Each file will be imported by `import_file`
    (as the command does), one transaction per file; a second file of the same name in one upload is refused
    at once, as the command refuses it. The bytes wait in the database, nowhere else."""
    from debate.jobs import enqueue_job  # the job plumbing builds on the models, and this module on it

    def store(job: Job) -> None:
        seen: set[str] = set()
        files = []
        for position, upload in enumerate(uploads):
            duplicate = upload.name in seen
            seen.add(upload.name)
            files.append(
                ImportFile(
                    job=job,
                    position=position,
                    name=upload.name,
                    size=len(upload.data),
                    data=b"" if duplicate else upload.data,
                    outcome=ImportFile.Outcome.REFUSED if duplicate else "",
                    reason="same file name as an earlier file of this upload; articles are keyed by file name"
                    if duplicate
                    else "",
                    message="refused" if duplicate else "queued",
                )
            )
        ImportFile.objects.bulk_create(files)

    return enqueue_job(
        kind=Job.Kind.IMPORT,
        actor=actor,  # type: ignore[arg-type]
        max_attempts=settings.IMPORT_JOB_ATTEMPTS,
        total=len(uploads),
        message="queued",
        before_enqueue=store,
        options={"replace": replace},
    )
