"""Querysets compiled to SQL once and run again with other values.

Building the SQL of a queryset costs Django more than running a primary-key lookup
costs the database (0.5 ms against 0.2 ms on the reference machine). For the one
path where that matters, the storage service's introspection of every request of
every app, a query is written with the ORM as usual, with a stand-in for each value
(an unlikely number or text of the right type); its SQL is compiled the first time
(per process and database) and reused, each stand-in replaced by the value of the
call. The rows come back as tuples of the queryset's `values_list` fields, each value
converted as the ORM converts it (an aware datetime on SQLite too).

Only the stand-ins vary between calls: the rest of the query is fixed when it is
written, which is what keeps the compiled SQL right.

The queries are reads, so they check the database connection the optimistic way:
where Django would first send `SELECT 1` (CONN_HEALTH_CHECKS, once a request), the
query itself goes, and on a connection found dead it is run once more on a new one.
The same safety, one round trip fewer.
"""

from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.db.models import QuerySet


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], **stand_ins):
        self._build = build
        self._stand_ins = stand_ins
        self._compiled: dict[str, tuple] = {}

    def _compile(self, using: str) -> tuple:
        queryset = self._build(**self._stand_ins)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        slots = []
        for param in params:
            slot = next(
                (
                    name
                    for name, stand_in in self._stand_ins.items()
                    if type(param) is type(stand_in) and param == stand_in
                ),
                None,
            )
            slots.append((slot, param))
        if set(self._stand_ins) - {slot for slot, _param in slots}:
            raise ValueError("a stand-in did not reach the query's parameters")
        return sql, slots, compiler, converters

    def rows(self, using: str = "default", **values) -> list[tuple]:
        """The rows of the query with these values in place of the stand-ins."""
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        sql, slots, compiler, converters = self._compiled[using]
        bound = [values[slot] if slot else param for slot, param in slots]
        connection = connections[using]
        optimistic = (
            connection.health_check_enabled
            and not connection.health_check_done
            and connection.connection is not None
            and not connection.in_atomic_block
        )
        if optimistic:
            connection.health_check_done = True  # the query checks it (below)
        try:
            rows = self._run(connection, sql, bound)
        except (InterfaceError, OperationalError):
            if not optimistic:
                raise
            connection.close()  # dead since its last request: a new one, once
            rows = self._run(connection, sql, bound)
        if converters:
            rows = [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return rows

    @staticmethod
    def _run(connection, sql: str, bound: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            return cursor.fetchall()
