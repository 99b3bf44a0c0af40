"""What a label is about: a comment, or the article itself.

Labels, gold labels, consensus rows and history events all name their item by (article, comment), with
comment NULL for the article's own item. `LabelItem` is that pair in Python, built from either model, so the
actions, views and API say "this item" once instead of branching on which kind it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from annotations.models import ItemType
from debate.models import Article, Comment


@dataclass(frozen=True)
class LabelItem:
    article_id: int
    comment: Comment | None
    article: Article | None  # loaded for article items (its body is what evidence points into)

    @classmethod
    def of(cls, target: Comment | Article) -> LabelItem:
        if isinstance(target, Comment):
            return cls(article_id=target.article_id, comment=target, article=None)
        return cls(article_id=target.pk, comment=None, article=target)

    @property
    def item_type(self) -> ItemType:
        return ItemType.ARTICLE if self.comment is None else ItemType.COMMENT

    @property
    def comment_id(self) -> int | None:
        return None if self.comment is None else self.comment.pk

    @property
    def body(self) -> str:
        target = self.comment if self.comment is not None else self.article
        if target is None:
            raise ValueError("an item is a comment or an article")
        return target.body

    @property
    def keys(self) -> dict[str, Any]:
        """The lookup of this item's rows: `Annotation.objects.filter(**item.keys, ...)`."""
        return {"article_id": self.article_id, "comment_id": self.comment_id}

    def __str__(self) -> str:
        return f"article {self.article_id}" if self.comment is None else f"comment {self.comment_id}"


def label_item(*, comment: Comment | None = None, article: Article | None = None) -> LabelItem:
    """The item of an action's `comment=` or `article=` argument: exactly one of them."""
    if (comment is None) == (article is None):
        raise TypeError("name the item: comment=<Comment> for a comment, or article=<Article> for the article itself")
    return LabelItem.of(comment if comment is not None else article)  # type: ignore[arg-type]
