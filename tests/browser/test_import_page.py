"""The import page in Chromium: drop files, watch each file's progress, see each outcome; and the newcomer's
path, `make run` on SQLite with its worker, importing a file through the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Browser, FilePayload, Page, expect

from debate.models import Article, ImportFile, Job
from tests.conftest import CLUSTER_MUNITIONS, PASSWORD, SEEDS, Workers, wait_for
from tests.processes import make_run

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PAGES = Path(settings.BASE_DIR) / "test-artifacts" / "pages"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}


def shoot(page: Page, name: str) -> None:
    PAGES.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(PAGES / f"{name}-{label}.png"), full_page=True)


THREAD_DATA = (
    b'{"title": "Given threads", "author": "Ed", "body": "Tanks arrived in the port today.", "tags": ["t"]}\n'
    b'{"id": "a", "parent_id": null, "author": "Ann", "body": "Good."}\n'
    b'{"id": "b", "parent_id": "a", "author": "Bob", "body": "No."}\n'
)


def test_curators_import_through_the_page_and_watch_each_file(
    open_as: Callable[..., Page], make_user: Callable[..., User], workers: Workers
) -> None:
    curator = make_user("curator")
    page = open_as(curator)
    page.click("nav >> text=Import")
    expect(page.locator("h1")).to_have_text("Import documents")
    page.wait_for_load_state("load")  # the dropzone's script listens for the files chosen: it must have run
    files: list[FilePayload] = [
        {"name": CLUSTER_MUNITIONS, "mimeType": "text/plain", "buffer": (SEEDS / CLUSTER_MUNITIONS).read_bytes()},
        {"name": "given.jsonl", "mimeType": "application/json", "buffer": THREAD_DATA},
        {"name": "broken.jsonl", "mimeType": "application/json", "buffer": b'{"id": "x"}\n'},
    ]
    page.set_input_files("input[name=files]", files)
    expect(page.locator("[data-dropzone-files]")).to_have_text(f"{CLUSTER_MUNITIONS}, given.jsonl, broken.jsonl")
    page.click("button:has-text('Import')")
    card = page.locator("[data-job]").first
    expect(card).to_have_attribute("data-status", "queued")
    shoot(page, "import-queued")
    workers.start()
    expect(card).to_have_attribute("data-status", "done", timeout=60_000)
    rows = card.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-outcome", "created")
    expect(rows.nth(0).locator(".outcome")).to_contain_text("36 comments, 18 reply links")
    expect(rows.nth(1)).to_have_attribute("data-outcome", "created")
    expect(rows.nth(2)).to_have_attribute("data-outcome", "refused")
    expect(rows.nth(2).locator(".reason")).to_have_text(
        "line 1: the first record must be the article (title, author, body, tags)"
    )
    expect(page.locator("[data-dropzone-files]")).to_have_text("")
    shoot(page, "import-done")
    assert Article.objects.filter(source__in=[CLUSTER_MUNITIONS, "given.jsonl"]).count() == 2
    # The outcome links to the thread.
    rows.nth(0).locator(".outcome a").click()
    expect(page.locator("h1")).to_have_text("US Considering Sending Banned Weapons to Ukraine")


def test_a_running_import_shows_each_files_progress(
    open_as: Callable[..., Page], make_user: Callable[..., User], workers: Workers
) -> None:
    from debate.actions import Upload, start_import
    from debate.synthetic import generate_document

    curator = make_user("curator")
    document = generate_document(seed=3, number=1, comments=4000)
    job = start_import(
        actor=curator, uploads=[Upload(document.source, document.data), Upload("second.txt", document.data)]
    )
    page = open_as(curator, width=1440)
    page.goto("/imports/")
    workers.start()
    wait_for(lambda: ImportFile.objects.filter(job=job, done__gt=0, outcome="").exists(), interval=0.02)
    card = page.locator(f"#import-{job.pk}")
    bar = card.locator("tbody tr").first.locator("progress")
    page.reload()
    expect(card).to_have_attribute("data-status", "running")
    assert 0 < int(bar.get_attribute("value") or 0) < 1000
    expect(card.locator(".file-message").first).not_to_be_empty()
    shoot(page, "import-running")
    expect(card).to_have_attribute("data-status", "done", timeout=120_000)
    assert Job.objects.get(pk=job.pk).status == Job.Status.DONE


def test_annotators_have_no_import_page(open_as: Callable[..., Page], make_user: Callable[..., User]) -> None:
    page = open_as(make_user("annotator"))
    expect(page.locator("nav >> text=Import")).to_have_count(0)
    assert page.goto("/imports/").status == 403  # type: ignore[union-attr]


def test_the_newcomer_imports_a_file_through_the_page_of_make_run(browser: Browser, tmp_path: Path) -> None:
    """`make run` as a newcomer types it (SQLite, its own worker), then the import page in Chromium."""
    with make_run(tmp_path) as base:
        context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.goto("/imports/")
        payload: FilePayload = {"name": "given.jsonl", "mimeType": "application/json", "buffer": THREAD_DATA}
        page.set_input_files("input[name=files]", [payload])
        page.click("button:has-text('Import')")
        card = page.locator("[data-job]").first
        expect(card).to_have_attribute("data-status", "done", timeout=60_000)
        expect(card.locator("tbody tr").first).to_have_attribute("data-outcome", "created")
        shoot(page, "import-make-run")
        context.close()


def test_a_release_through_its_pages(
    open_as: Callable[..., Page],
    make_user: Callable[..., User],
    workers: Workers,
    tmp_path: Path,
    seeds: Any,
    topics: Any,
) -> None:
    from django.test import override_settings

    with override_settings(RELEASES_ROOT=tmp_path):
        workers.start(RELEASES_ROOT=str(tmp_path))
        page = open_as(make_user("researcher"), width=1440)
        page.click("nav >> text=Releases")
        expect(page.locator("h1")).to_have_text("Dataset releases")
        page.fill("#release-name", "Seed debates, first look")
        page.select_option("#release-topic", "cluster-munitions")
        page.click("button:has-text('Create release')")
        expect(page.locator("h1")).to_have_text("Seed debates, first look")
        expect(page.locator("#release-status")).to_have_attribute("data-status", "done", timeout=60_000)
        expect(page.locator("#dataset-card")).to_contain_text("Label scheme")
        expect(page.locator("[data-file]")).to_have_count(7)
        with page.expect_download() as download:
            page.click("[data-file='annotations.csv'] a")
        assert download.value.suggested_filename == "annotations.csv"
        shoot(page, "release-done")
        page.goto("/releases/")
        expect(page.locator("[data-release]")).to_have_count(1)
        shoot(page, "releases")
