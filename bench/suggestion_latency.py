"""Time suggestions add to a queue page (issue 16): `python -m bench.suggestion_latency [--repeats N]`.

Against the database of DATABASE_URL, which must hold a corpus with trained models (e.g. `generate_corpus
--stance-text` and `train_suggestions`): with the overlap share at 20% (so that hints are on), an annotator's
`/annotate/` page is fetched in-process (Django's test client, no network) alternately with hints on and off,
and the medians are compared. Prints the medians and their difference in milliseconds."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from annotations.assignment.actions import update_assignment_settings
    from annotations.management.commands.generate_corpus import ensure_user
    from annotations.models import Suggestion, SuggestionSettings
    from annotations.suggestions.actions import update_suggestion_settings
    from debate.roles import Role

    curator = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench-curator")
    update_assignment_settings(actor=curator, values={"overlap_share": 0.2, "overlap_annotators": 3})
    # A newcomer: their queue holds single items nobody labelled, so the page serves one with its hints.
    annotator = ensure_user("bench-annotator", Role.ANNOTATOR)
    if not Suggestion.objects.exists():
        sys.stderr.write("needs annotators and trained models: generate_corpus --stance-text, train_suggestions\n")
        return 2
    client = Client()
    client.force_login(annotator)
    client.get("/annotate/")  # the plan
    times: dict[bool, list[float]] = {True: [], False: []}
    for repeat in range(args.repeats):
        for hints in (True, False) if repeat % 2 else (False, True):
            update_suggestion_settings(actor=curator, values={"hints": hints})
            started = time.perf_counter()
            response = client.get("/annotate/")
            times[hints].append(time.perf_counter() - started)
            assert response.status_code == 200
            assert hints == (b"data-hints-off" not in response.content)
    update_suggestion_settings(actor=curator, values={"hints": SuggestionSettings().hints})
    on, off = (statistics.median(times[flag]) * 1000 for flag in (True, False))
    hinted = b'data-hint="' in client.get("/annotate/").content  # (hints are off again by now: False)
    figures = {"hints_on_ms": round(on, 2), "hints_off_ms": round(off, 2), "added_ms": round(on - off, 2)}
    print(json.dumps({**figures, "repeats": args.repeats, "marker_seen_with_hints_off": hinted}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
