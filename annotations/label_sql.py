"""The database side of a label write on PostgreSQL: one statement that writes the label, appends its history
event and recomputes the item's consensus.

`annotations.actions` decides everything first (permissions, values, the precondition against the current
label, read under the item's lock); this module only turns that decision into SQL. One statement, not four:
PostgreSQL runs every data-modifying part of a `WITH` exactly once, in one snapshot taken after the caller
took the item's lock, so the consensus is computed from every label committed before (the other annotators'
rows, read here) plus this label's new stance (written by the same statement, which its own snapshot cannot
see). The consensus rule is `annotations.consensus.compute_consensus`, in SQL; a test holds the two equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import connection

from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, ItemType

ANNOTATION = Annotation._meta.db_table
EVENT = ChangeEvent._meta.db_table
CONSENSUS = Consensus._meta.db_table
GOLD = GoldLabel._meta.db_table

# compute_consensus: gold first; no labels, nothing; one label `single`; all alike `unanimous`; at least two
# thirds `majority` (3·top ≥ 2·n is top/n ≥ 2/3 exactly); else `unresolved` without a stance.
_CONSENSUS = f"""
labels AS (
    SELECT stance FROM {ANNOTATION}
    WHERE article_id = %(article)s AND {{comment_match}} AND topic_id = %(topic)s AND annotator_id <> %(annotator)s
    UNION ALL SELECT %(stance)s::varchar
), counted AS (
    SELECT stance, count(*)::int AS c FROM labels GROUP BY stance
), summary AS (
    SELECT coalesce(sum(c), 0)::int AS n, coalesce(max(c), 0)::int AS top,
           (SELECT stance FROM counted ORDER BY c DESC, stance LIMIT 1) AS top_stance,
           coalesce(jsonb_object_agg(stance, c), '{{}}'::jsonb) AS counts
    FROM counted
), gold AS (
    SELECT (SELECT stance FROM {GOLD} WHERE article_id = %(article)s AND {{comment_match}} AND topic_id = %(topic)s)
        AS stance
), consensus AS (
    UPDATE {CONSENSUS} SET
        stance = CASE WHEN gold.stance IS NOT NULL THEN gold.stance
                      WHEN s.n = 0 THEN NULL
                      WHEN s.n = 1 OR s.top = s.n OR 3 * s.top >= 2 * s.n THEN s.top_stance END,
        status = CASE WHEN gold.stance IS NOT NULL THEN 'gold'
                      WHEN s.n = 0 THEN NULL
                      WHEN s.n = 1 THEN 'single'
                      WHEN s.top = s.n THEN 'unanimous'
                      WHEN 3 * s.top >= 2 * s.n THEN 'majority'
                      ELSE 'unresolved' END,
        n = s.n,
        counts = s.counts
    FROM summary AS s, gold
    WHERE {CONSENSUS}.id = %(consensus)s
    RETURNING 1
)"""  # noqa: S608 - table names from the models; every value is a parameter

_EVENT_COLUMNS = (
    "kind, action, at, actor_id, actor_username, item_type, comment_id, article_id, topic_slug, "
    "annotator_username, version, before, after"
)

_INSERT = f"""
WITH next AS (
    SELECT coalesce(max(version), 0) + 1 AS version FROM {EVENT}
    WHERE kind = 'annotation' AND article_id = %(article)s AND {{comment_match}} AND topic_slug = %(topic_slug)s
      AND annotator_username = %(annotator_username)s
), written AS (
    INSERT INTO {ANNOTATION} (article_id, comment_id, topic_id, annotator_id, stance, unsure, confidence, note,
                              evidence, version, guideline_version, lead_time_ms, created_at, updated_at)
    SELECT %(article)s, %(comment)s, %(topic)s, %(annotator)s, %(stance)s, %(unsure)s, %(confidence)s, %(note)s,
           %(evidence)s::jsonb, next.version, %(guideline_version)s, %(lead_time_ms)s, %(now)s, %(now)s
    FROM next
    RETURNING id, version
), event AS (
    INSERT INTO {EVENT} ({_EVENT_COLUMNS})
    SELECT 'annotation', 'create', %(now)s, %(actor)s, %(actor_username)s, %(item_type)s, %(comment)s, %(article)s,
           %(topic_slug)s, %(annotator_username)s, written.version, NULL,
           jsonb_set(%(after)s::jsonb, '{{version}}', to_jsonb(written.version))
    FROM written
    RETURNING 1
), {_CONSENSUS}
SELECT id, version FROM written"""  # noqa: S608 - as above

_UPDATE = f"""
WITH written AS (
    UPDATE {ANNOTATION} SET stance = %(stance)s, unsure = %(unsure)s, confidence = %(confidence)s, note = %(note)s,
        evidence = %(evidence)s::jsonb, version = %(version)s, guideline_version = %(guideline_version)s,
        lead_time_ms = %(lead_time_ms)s, updated_at = %(now)s
    WHERE id = %(id)s
    RETURNING id, version
), event AS (
    INSERT INTO {EVENT} ({_EVENT_COLUMNS})
    VALUES ('annotation', 'update', %(now)s, %(actor)s, %(actor_username)s, %(item_type)s, %(comment)s, %(article)s,
            %(topic_slug)s, %(annotator_username)s, %(version)s, %(before)s::jsonb, %(after)s::jsonb)
    RETURNING 1
){{consensus}}
SELECT id, version FROM written"""  # noqa: S608 - as above


def _comment_match(comment_id: int | None) -> str:
    return "comment_id = %(comment)s" if comment_id is not None else "comment_id IS NULL"


_LABEL_FIELDS = Annotation._meta.concrete_fields
_LABEL_ATTNAMES = [field.attname for field in _LABEL_FIELDS]
# The fields whose database value the ORM converts on reading (JSON text into values): the same here.
_LABEL_CONVERTED = [
    (position, field) for position, field in enumerate(_LABEL_FIELDS) if hasattr(field, "from_db_value")
]
_READ_LABEL = (
    f"SELECT {', '.join(connection.ops.quote_name(field.column) for field in _LABEL_FIELDS)} FROM {ANNOTATION} "  # noqa: S608
    "WHERE article_id = %(article)s AND {comment_match} AND topic_id = %(topic)s AND annotator_id = %(annotator)s"
)


def read_label(*, article_id: int, comment_id: int | None, topic_id: int, annotator_id: int) -> Annotation | None:
    """The annotator's label on the item and topic (at most one: the unique constraints), or None.

    Written out because every label write reads it: the ORM compiled this query anew each time, 1.2-1.5 ms of
    CPU, and this costs 0.2 ms (1,000 reads each way, `time.process_time`). Any database the app runs on."""
    with connection.cursor() as cursor:
        cursor.execute(
            _READ_LABEL.format(comment_match=_comment_match(comment_id)),
            {"article": article_id, "comment": comment_id, "topic": topic_id, "annotator": annotator_id},
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, field in _LABEL_CONVERTED:
        values[position] = field.from_db_value(values[position], None, connection)
    return Annotation.from_db(connection.alias, _LABEL_ATTNAMES, values)


def write_label(
    *,
    consensus_id: int,
    article_id: int,
    comment_id: int | None,
    topic_id: int,
    topic_slug: str,
    annotator_id: int,
    annotator_username: str,
    actor_id: int,
    actor_username: str,
    fields: Mapping[str, object],
    lead_time_ms: int | None,
    now: datetime,
    current_id: int | None,
    version: int | None,
    before: Mapping[str, object] | None,
    after: Mapping[str, object],
    recompute: bool,
) -> tuple[int, int]:
    """Insert (current_id None) or update the label, append its event, recompute the consensus (always for an
    insert; for an update when `recompute`); returns the label's id and version. The caller holds the lock."""
    params: dict[str, Any] = {
        "consensus": consensus_id,
        "article": article_id,
        "comment": comment_id,
        "topic": topic_id,
        "topic_slug": topic_slug,
        "annotator": annotator_id,
        "annotator_username": annotator_username,
        "actor": actor_id,
        "actor_username": actor_username,
        "item_type": str(ItemType.ARTICLE if comment_id is None else ItemType.COMMENT),
        "stance": fields["stance"],
        "unsure": fields["unsure"],
        "confidence": fields["confidence"],
        "note": fields["note"],
        "evidence": json.dumps(fields["evidence"]),
        "guideline_version": fields["guideline_version"],
        "lead_time_ms": lead_time_ms,
        "now": now,
        "id": current_id,
        "version": version,
        "before": json.dumps(before) if before is not None else None,
        "after": json.dumps(after),
    }
    match = _comment_match(comment_id)
    sql = _INSERT if current_id is None else _UPDATE.replace("{consensus}", ("," + _CONSENSUS) if recompute else "")
    sql = sql.replace("{comment_match}", match)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]), int(row[1])
