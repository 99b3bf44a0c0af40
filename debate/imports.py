"""The import job: the uploaded files of a `Job` of kind `import`, each through `actions.import_file` (the
command's import function), one transaction per file.

Running it again is safe, so a job whose worker is lost is retried: a file's outcome commits in the file's
own transaction, and a retry takes up the files that have none yet.
"""

from __future__ import annotations

from typing import Any

from debate.actions import UPLOAD_ORIGIN, ImportResult, import_file
from debate.jobs import JobRun
from debate.models import ImportFile, Job

PERMILLE = 1000


def write_file_progress(units: dict[int, tuple[int, int, str]]) -> None:
    for file_id, (done, total, message) in units.items():
        # A file whose outcome is in (committed after this round began) keeps its final figures.
        ImportFile.objects.filter(pk=file_id, outcome="").update(done=done, total=total, message=message)


def run_import(job: Job, run: JobRun) -> dict[str, Any]:
    run.unit_writer = write_file_progress
    replace = bool(job.options.get("replace"))
    files = list(ImportFile.objects.filter(job=job).order_by("position").defer("data"))
    finished = sum(1 for file in files if file.outcome)
    run.progress(done=finished, total=len(files), message=f"{finished} of {len(files)} file(s) imported")
    for file in files:
        if file.outcome:
            continue
        data = bytes(ImportFile.objects.filter(pk=file.pk).values_list("data", flat=True).get())
        label = f"file {file.position + 1} of {len(files)}: {file.name}"
        run.progress(message=label)

        def progress(message: str, share: float, file_id: int = file.pk) -> None:
            run.unit(file_id, done=min(PERMILLE, round(share * PERMILLE)), total=PERMILLE, message=message)

        def record(result: ImportResult, file_id: int = file.pk) -> None:
            ImportFile.objects.filter(pk=file_id).update(
                outcome=result.status,
                article_id=result.article_id,
                comments=result.comments,
                reply_links=result.reply_links,
                data=b"",
                done=PERMILLE,
                total=PERMILLE,
                message=result.status,
            )

        outcome = import_file(
            name=file.name, data=data, origin=UPLOAD_ORIGIN, replace=replace, progress=progress, on_success=record
        )
        if outcome.result is None:
            ImportFile.objects.filter(pk=file.pk).update(
                outcome=ImportFile.Outcome.REFUSED, reason=outcome.reason, data=b"", message="refused"
            )
        finished += 1
        run.progress(done=finished, message=f"{finished} of {len(files)} file(s) imported")
    counts: dict[str, int] = dict.fromkeys(ImportFile.Outcome.values, 0)
    for status in ImportFile.objects.filter(job=job).values_list("outcome", flat=True):
        counts[status] += 1
    run.final_message(", ".join(f"{count} {status}" for status, count in counts.items() if count) or "no files")
    return counts
