"""core.prepared: a queryset compiled once, run with new values, its values converted
as the ORM converts them, and a dead connection replaced once."""

from datetime import datetime
from unittest import mock

import pytest
from django.db import connection

from accounts.models import User
from core.prepared import PreparedQuery
from tests.parallel import on_postgresql

BY_LOGIN_ID = PreparedQuery(
    lambda login_id: User.objects.filter(login_id=login_id).values_list("pk", "created_at"),
    login_id="\x00stand-in\x00",
)


def test_the_same_sql_serves_every_value(users_a, users_b):
    query = PreparedQuery(
        lambda login_id: User.objects.filter(login_id=login_id).values_list("pk", "created_at"),
        login_id="\x00stand-in\x00",
    )
    with mock.patch.object(query, "_compile", wraps=query._compile) as compiled:
        found = {name: query.rows(login_id=name) for name in ("taro-a", "jiro-b", "nobody")}
    assert compiled.call_count == 1
    assert [pk for pk, _at in found["taro-a"]] == [users_a[0].pk]
    assert [pk for pk, _at in found["jiro-b"]] == [users_b[0].pk]
    assert found["nobody"] == []
    [(_pk, created_at)] = found["taro-a"]
    assert isinstance(created_at, datetime) and created_at.tzinfo is not None


def test_a_stand_in_that_does_not_reach_the_query_is_an_error(db):
    wrong = PreparedQuery(lambda login_id: User.objects.all().values_list("pk"), login_id="x")
    with pytest.raises(ValueError, match="stand-in"):
        wrong.rows(login_id="x")


@on_postgresql("needs a server connection to break")
def test_a_connection_dead_since_the_last_request_is_replaced_once(users_a):
    BY_LOGIN_ID.rows(login_id="taro-a")  # a connection exists
    connection.connection.close()  # the server went away between two requests
    connection.health_check_done = False  # a new request: Django would SELECT 1 first
    with mock.patch.object(connection, "is_usable", side_effect=AssertionError("no SELECT 1")):
        [(pk, _at)] = BY_LOGIN_ID.rows(login_id="taro-a")
    assert pk == users_a[0].pk
