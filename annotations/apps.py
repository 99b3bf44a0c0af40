from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Annotations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from annotations import signals  # noqa: F401  # registers the receivers
        from annotations.releases import build_release
        from annotations.suggestions.jobs import run_training, train_due_topics
        from debate import jobs
        from debate.models import Job

        jobs.register(Job.Kind.RELEASE, build_release)
        jobs.register(Job.Kind.TRAIN, run_training)
        jobs.register_idle(
            "due trainings", train_due_topics, every=float(getattr(settings, "SUGGESTION_CHECK_SECONDS", 10))
        )
