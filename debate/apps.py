from django.apps import AppConfig


class CorpusConfig(AppConfig):
    """The corpus: articles, their authors, comments and reply links."""

    name = "debate"
    verbose_name = "Corpus"
    default_auto_field = "django.db.models.BigAutoField"
