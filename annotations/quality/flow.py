"""How stances flow along reply links. Pure: no Django.

For a reply and the comment it answers, both with a consensus stance on a topic:

* ``agrees``: the same stance;
* ``opposes``: one favors, the other is against;
* ``shifts``: anything else, i.e. one of them addresses the topic and the other does not, or one takes a
  side and the other is neutral.

The rule itself is `annotations.vocabulary.relation`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from annotations.vocabulary import Relation, relation, takes_both_sides

__all__ = ["FlowSummary", "Relation", "relation", "summarise", "takes_both_sides"]


@dataclass
class FlowSummary:
    """Stance counts of an article's comments on one topic, what its labelled reply links do, and how the
    comments answering the article itself relate to the article's own stance."""

    stances: Counter[str] = field(default_factory=Counter)
    relations: Counter[str] = field(default_factory=Counter)
    article_stance: str | None = None
    article_relations: Counter[str] = field(default_factory=Counter)

    @property
    def labelled_links(self) -> int:
        return sum(self.relations.values())

    @property
    def share_opposing(self) -> float | None:
        """Opposing links among links whose two ends both have a consensus stance; None when there are none."""
        return self.relations[Relation.OPPOSES] / self.labelled_links if self.labelled_links else None

    def as_dict(self) -> dict[str, object]:
        return {
            "stances": dict(sorted(self.stances.items())),
            "reply_links": {name.value: self.relations[name] for name in Relation},
            "labelled_reply_links": self.labelled_links,
            "share_opposing": self.share_opposing,
            "article_stance": self.article_stance,
            "answers_to_article": {name.value: self.article_relations[name] for name in Relation},
            "labelled_answers_to_article": sum(self.article_relations.values()),
        }


def summarise(
    stances: Iterable[str],
    links: Iterable[tuple[str, str]],
    *,
    article_stance: str | None = None,
    article_links: Iterable[tuple[str, str]] = (),
) -> FlowSummary:
    """`stances`: consensus stances of the comments; `links`: (parent stance, reply stance) pairs;
    `article_stance`: the article's own consensus stance; `article_links`: (article stance, comment stance)
    pairs of the comments that answer the article (top-level ones and those quoting it)."""
    summary = FlowSummary(article_stance=article_stance)
    summary.stances.update(stances)
    summary.relations.update(relation(parent, reply) for parent, reply in links)
    summary.article_relations.update(relation(article, comment) for article, comment in article_links)
    return summary
