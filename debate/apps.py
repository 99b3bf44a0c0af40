from django.apps import AppConfig


class CorpusConfig(AppConfig):
    """The corpus: articles, their authors, comments and reply links."""

    name = "debate"
    verbose_name = "Corpus"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from debate.signals import revoke_tokens_on_password_change

        pre_save.connect(
            revoke_tokens_on_password_change, sender=get_user_model(), dispatch_uid="revoke_tokens_on_password_change"
        )

        from config.tokens import connect_signals

        connect_signals()

        from debate import jobs
        from debate.actions import index_comment_search
        from debate.imports import run_import
        from debate.models import Job

        jobs.register(Job.Kind.IMPORT, run_import)
        # Imports commit without search vectors: the workers compute them between jobs (see CommentSearch).
        jobs.register_idle("search vectors", lambda: index_comment_search() > 0)
