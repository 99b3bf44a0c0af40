"""Guards the annotations app puts on writes of the corpus app, which cannot know about labels."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_save
from django.dispatch import receiver

from annotations.models import Annotation, GoldLabel
from debate.actions import ImportRefused
from debate.models import Article


@receiver(pre_save, sender=Article)
def keep_the_text_of_a_labelled_article(sender: type[Article], instance: Article, raw: bool = False, **_: Any) -> None:
    """A re-import must not change the text of an article that has labels of its own: they judge that text,
    and their evidence spans point into it (as a changed comment with labels is refused, not replaced)."""
    if raw or instance.pk is None:
        return
    stored = Article.objects.filter(pk=instance.pk).values_list("body", flat=True).first()
    if stored is None or stored == instance.body:
        return
    labels = Annotation.objects.filter(article_id=instance.pk, comment=None).count()
    gold = GoldLabel.objects.filter(article_id=instance.pk, comment=None).count()
    if labels or gold:
        raise ImportRefused(
            f"replacing it would change the text of article {instance.pk}, which has {labels} label(s) and "
            f"{gold} gold label(s) of its own; the new version changes the article text they judge"
        )
