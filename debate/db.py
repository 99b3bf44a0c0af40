"""Database helpers beneath the ORM: bulk writes, streamed reads and consistent snapshots.

Writing many rows at once, for the importers: ids drawn ahead, COPY for inserts, one UPDATE per batch.
On PostgreSQL these are what make a 5,000-comment document or a million labels a matter of seconds:
`bulk_create` compiles every value through the ORM into one huge INSERT, and `bulk_update` writes a
CASE WHEN per field whose cost grows with the square of the batch. Elsewhere (SQLite, for development)
they fall back to the ORM's bulk methods, which give the same rows.

The callers run these inside their own transaction; nothing here commits.

Reading many rows (exports, agreement): one query read through a server-side cursor in chunks, so memory
stays flat and the number of queries does not depend on the number of rows. Reads that must agree with each
other run in `one_snapshot()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter, itemgetter
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import CharField, F, Func, Lookup, Q, QuerySet

__all__ = [
    "CHUNK_SIZE",
    "UtcIsoText",
    "among",
    "binary_rows",
    "insert_rows",
    "one_snapshot",
    "reserve_ids",
    "stream_rows",
    "update_rows",
]

CHUNK_SIZE = 2000


def _primary_key(model: type[models.Model]) -> models.Field[Any, Any]:
    pk = model._meta.pk
    if pk is None:
        raise TypeError(f"{model.__name__} has no primary key")
    return pk


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """`count` fresh primary keys from the table's sequence; None where there is no sequence to draw from."""
    if connection.vendor != "postgresql":
        return None
    if not count:
        return []
    pk = _primary_key(model)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _fields(model: type[models.Model], with_pk: bool) -> list[models.Field[Any, Any]]:
    return [field for field in model._meta.local_concrete_fields if with_pk or not field.primary_key]


# Values of these fields go to psycopg as Python holds them; anything else is prepared by the field itself.
_PLAIN_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BooleanField,
    models.CharField,
    models.TextField,
    models.FloatField,
    models.ForeignKey,
)


def _preparer(field: models.Field[Any, Any]) -> Callable[[models.Model, Any], Any] | None:
    """How to turn a field's attribute into its database value, as bulk_create would (auto_now included);
    None for fields whose values go to psycopg as Python holds them."""
    if isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add):
        return lambda obj, value: field.pre_save(obj, True)
    if isinstance(field, _PLAIN_FIELDS) and not isinstance(field, models.JSONField):
        return None
    # The wrapper itself, not the `connection` proxy: one attribute lookup per value instead of several.
    wrapper = connections[DEFAULT_DB_ALIAS]
    return lambda obj, value: field.get_db_prep_save(value, connection=wrapper)


def _row_reader(fields: Sequence[models.Field[Any, Any]]) -> Callable[[models.Model], list[Any]]:
    """The database values of an object's fields, in order. Every attribute is read in one C-level call from
    the instance's dict (a new object has them all there), the few that need preparing then prepared: per
    row, a fifth of reading each field through its descriptor and a reader function."""
    names = [field.attname for field in fields]
    from_dict = itemgetter(*names) if len(names) > 1 else (lambda values: (values[names[0]],))
    from_attributes = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
    prepared = [(position, prepare) for position, field in enumerate(fields) if (prepare := _preparer(field))]

    def read(obj: models.Model) -> list[Any]:
        try:
            row = list(from_dict(obj.__dict__))
        except KeyError:  # a deferred field: read through the descriptors, which load it
            row = list(from_attributes(obj))
        for position, prepare in prepared:
            row[position] = prepare(obj, row[position])
        return row

    return read


def insert_rows(
    objects: Sequence[models.Model], batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> None:
    """Insert these new rows, as `bulk_create` would (defaults and auto_now applied); objects without a
    primary key do not learn theirs on PostgreSQL, so set one with `reserve_ids` when it is needed later.
    `progress(rows)` is called after every `batch_size` rows written."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        for start in range(0, len(objects), batch_size):
            model._default_manager.bulk_create(objects[start : start + batch_size])
            if progress is not None:
                progress(min(len(objects), start + batch_size))
        return
    with_pk = objects[0].pk is not None
    if any((obj.pk is not None) != with_pk for obj in objects):
        raise ValueError("insert_rows needs every object with a primary key, or none")
    fields = _fields(model, with_pk)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    read = _row_reader(fields)
    # Django's error wrapper, so that a violated constraint is django.db.IntegrityError as with bulk_create.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for count, obj in enumerate(objects, start=1):
            copy.write_row(read(obj))
            if progress is not None and count % batch_size == 0:
                progress(count)
    if progress is not None:
        progress(len(objects))


def update_rows(objects: Sequence[models.Model], names: Sequence[str], batch_size: int = 1000) -> None:
    """Write these fields of these rows: on PostgreSQL one `UPDATE ... FROM (VALUES ...)` per batch."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objects, names, batch_size=batch_size)
        return
    meta = model._meta
    pk = _primary_key(model)
    fields = [meta.get_field(name) for name in names]
    concrete = [field for field in fields if isinstance(field, models.Field)]
    if len(concrete) != len(fields):
        raise ValueError(f"update_rows writes concrete fields only, not {names}")
    columns: list[models.Field[Any, Any]] = [pk, *concrete]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in columns) + ")"
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in concrete)
    names_list = ", ".join(quote(field.column) for field in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(objects), batch_size):
            batch = objects[start : start + batch_size]
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection=connection)
                for obj in batch
                for field in columns
            ]
            cursor.execute(  # identifiers quoted by the backend, values bound as parameters
                f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
                f"FROM (VALUES {', '.join([row] * len(batch))}) AS v({names_list}) "
                f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}",
                params,
            )


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Reads that must agree with each other see the database as of one instant.

    PostgreSQL gives each statement its own snapshot under READ COMMITTED, even inside a transaction, so the
    transaction asks for REPEATABLE READ (possible only as its first statement, hence not when nested).
    """
    nested = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not nested:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def stream_rows(rows: QuerySet[Any, tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Every row of a values_list queryset, fetched in chunks: through a binary cursor on PostgreSQL."""
    if connection.vendor == "postgresql":
        return binary_rows(rows)
    return rows.iterator(chunk_size=CHUNK_SIZE)


def binary_rows(rows: QuerySet[Any, tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The rows of a values_list queryset through a binary server-side cursor, as the ORM's iterator would
    give them (the queryset must need no converter beyond psycopg's: JSON arrives parsed, timestamps aware).

    In binary, PostgreSQL sends numbers and timestamps as stored and psycopg decodes them in C: for a million
    rows, a third less time than parsing their text, which is most of an export's time.
    """
    sql, params = rows.query.sql_with_params()
    # In a transaction of its own, the cursor streams rows as they are fetched; a holdable cursor (what the
    # ORM's iterator uses outside a transaction) would first copy the whole result aside on the server.
    with transaction.atomic():
        raw = connection.connection
        if raw is None:
            raise RuntimeError("no database connection inside an atomic block")
        with (
            connection.wrap_database_errors,
            raw.cursor(name=f"export_{id(rows):x}", binary=True, withhold=False) as cursor,
        ):
            cursor.itersize = CHUNK_SIZE
            cursor.execute(sql, params)
            yield from cursor


class UtcIsoText(Func):
    """A timestamp as the text `datetime.isoformat()` writes in UTC (microseconds only when not zero), made
    by PostgreSQL: a million rows then carry no datetime object each, loaded by psycopg and formatted again.
    `utc` is how the text ends: `+00:00` as isoformat writes it (the exports), `Z` as DRF renders it (the API)."""

    output_field = CharField()
    template = (
        "CASE WHEN date_trunc('second', %(expressions)s) = %(expressions)s "
        """THEN to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"%(utc)s"') """
        """ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"%(utc)s"') END"""
    )

    def __init__(self, expression: Any, *, utc: str = "+00:00") -> None:
        if utc not in ("+00:00", "Z"):
            raise ValueError(f"utc must be '+00:00' or 'Z', not {utc!r}")
        super().__init__(expression, utc=utc)

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = super().as_sql(compiler, connection, function, template, arg_joiner, **extra_context)
        # The expression is written out at each of its places in the template: its parameters, as often.
        return sql, tuple(params) * self.template.count("%(expressions)s")


class _AnyOf(Lookup[Any]):
    """`column = ANY(%s)` with the ids as one array parameter. `column IN (%s, %s, ...)` with a thousand
    placeholders costs more to build, to parse (psycopg: 7 ms for a page's suggestions) and to plan
    (PostgreSQL) than the query itself."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return self.rhs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, list(self.rhs)]


def among(column: str, ids: Iterable[int]) -> Q | _AnyOf:
    """Rows whose `column` (a path, joins allowed) is one of `ids`: one array parameter on PostgreSQL, IN
    elsewhere."""
    values = list(ids)
    if connection.vendor == "postgresql":
        return _AnyOf(F(column), values)
    return Q(**{f"{column}__in": values})
