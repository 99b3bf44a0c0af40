"""The three topics the project started with. The data migration creates them; more come via the admin."""

from __future__ import annotations

_STANCES = """
Judge the comment's own position on the statement above, as written by its author:

- **favor**: the comment argues for the statement, or clearly takes it for granted as right.
- **against**: the comment argues against it, or clearly rejects it.
- **neutral**: the comment discusses the topic (facts, consequences, questions, both sides) without taking
  a side.
- **not_about**: the comment does not address the topic at all.

Quoted text is not the commenter's view: a comment that quotes an opinion in order to attack it takes the
opposite side. Sarcasm counts for what it means, not what it says. Mark **unsure** when you hesitate
between two stances, and select the words that decided it as evidence.
"""

DEFAULT_TOPICS = [
    {
        "slug": "cluster-munitions",
        "name": "Cluster munitions",
        "statement": "The US and allies should supply cluster munitions to Ukraine",
        "ordering": 10,
        "guidelines": (
            "**Statement:** The US and allies should supply cluster munitions to Ukraine.\n"
            + _STANCES
            + """
Examples: "Give Ukraine whatever the hell it wants" is **favor**; "We shouldn't be helping these
weapons proliferate" is **against**; a comment on dud rates that draws no conclusion is **neutral**;
a comment about drone operators or the Geneva Conventions in general is **not_about** unless it ties
them to supplying cluster munitions.
"""
        ),
    },
    {
        "slug": "strikes-in-russia",
        "name": "Strikes into Russia",
        "statement": "Ukraine should be allowed to strike targets inside Russia with Western-supplied weapons",
        "ordering": 20,
        "guidelines": (
            "**Statement:** Ukraine should be allowed to strike targets inside Russia with Western-supplied "
            "weapons.\n"
            + _STANCES
            + """
Arguments about escalation risk lean **against** only when the comment concludes the restriction
should stay; speculation about Putin's intentions with no conclusion about the weapons is **neutral** or
**not_about**. Strikes with Ukraine's own weapons are **not_about** unless compared with Western ones.
"""
        ),
    },
    {
        "slug": "trainers-in-ukraine",
        "name": "Trainers in Ukraine",
        "statement": "Western military trainers should be deployed inside Ukraine",
        "ordering": 30,
        "guidelines": (
            "**Statement:** Western military trainers should be deployed inside Ukraine.\n"
            + _STANCES
            + """
"Trainers are a bad idea" is **against**; a historical comparison with advisors in Vietnam offered as
a warning is **against**, offered as a plain fact it is **neutral**.
"""
        ),
    },
]
