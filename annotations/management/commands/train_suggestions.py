"""`manage.py train_suggestions [--topics SLUGS]`: train the topics' stance models now and print their quality.

Each model is measured by cross-validation against the majority-class baseline before it is stored; one that
does not beat the baseline is stored (for the learning curve) but not used, and the command says why.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Topic
from annotations.suggestions.actions import train_topic
from annotations.suggestions.jobs import enqueue_training


class Command(BaseCommand):
    help = "Train the stance suggestion model of every active topic (or of --topics) on its consensus labels."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topics", default="", help="Comma-separated topic slugs (default: every active topic).")
        parser.add_argument(
            "--job", action="store_true", help="Queue a background job for a worker (`manage.py worker`) instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = [slug.strip() for slug in options["topics"].split(",") if slug.strip()]
        topics = list(Topic.objects.filter(slug__in=wanted) if wanted else Topic.objects.active())
        unknown = sorted(set(wanted) - {topic.slug for topic in topics})
        if unknown:
            raise CommandError(f"unknown topic(s): {', '.join(unknown)}; see /api/topics/")
        if options["job"]:
            job = enqueue_training(topics=topics, actor=None)
            if job is None:
                self.stdout.write("training of these topics is already queued or running")
            else:
                self.stdout.write(f"queued job {job.pk}: {', '.join(job.options['topics'])}")
            return
        for topic in topics:
            training = train_topic(topic=topic)
            model = training.model
            metrics = model.metrics
            if not metrics:
                self.stdout.write(f"{topic.slug}: v{model.version} not trained: {model.reason}")
                continue
            about, stance = metrics["about"], metrics["stance"]
            line = (
                f"{topic.slug}: v{model.version} on {model.label_count} consensus labels in {model.seconds:.1f} s; "
                f"about macro-F1 {about['macro_f1']:.3f} (baseline {about['baseline_macro_f1']:.3f}), "
                f"stance macro-F1 {stance['macro_f1']:.3f} (baseline {stance['baseline_macro_f1']:.3f}), "
                f"accuracy {metrics['overall']['accuracy']:.3f} "
                f"(baseline {metrics['overall']['baseline_accuracy']:.3f}), "
                f"ECE {metrics['overall']['ece']:.3f}"
            )
            if model.usable:
                self.stdout.write(self.style.SUCCESS(f"{line}; {training.suggestions} suggestions"))
            else:
                self.stdout.write(self.style.WARNING(f"{line}; not used: {model.reason}"))
