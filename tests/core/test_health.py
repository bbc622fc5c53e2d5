"""/healthz and /readyz: for load balancers, before sessions, sign-in, host and HTTPS
checks; a failure says "not ready" and nothing more."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.db.migrations.executor import MigrationExecutor
from django.test import Client


@pytest.fixture
def balancer(settings):
    """A load balancer: plain HTTP, by IP address, production's HTTPS redirect on."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["console.example.jp"]
    return Client(HTTP_HOST="10.0.0.5")


def test_healthz_answers_without_the_database(balancer, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = balancer.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")
    assert not response.cookies
    assert response["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_and_the_migrations_once(
    balancer, db, django_assert_max_num_queries
):
    first = balancer.get("/readyz")
    assert (first.status_code, first.text) == (200, "ready")
    with django_assert_max_num_queries(1):  # then one SELECT 1 a check
        assert balancer.get("/readyz").status_code == 200
    assert not first.cookies


def test_a_database_away_is_not_ready_and_says_no_more(balancer, db, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.9 failed: password wrong")

    with monkeypatch.context() as patched:
        patched.setattr(CursorWrapper, "execute", refuse)
        response = balancer.get("/readyz")
    assert (response.status_code, response.text) == (503, "not ready")
    assert "OperationalError" in caplog.text and "password" not in caplog.text


def test_unapplied_migrations_are_not_ready(balancer, db, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: ["x"])
    response = balancer.get("/readyz")
    assert (response.status_code, response.text) == (503, "not ready")


def test_only_get_and_head(balancer, db):
    assert balancer.post("/healthz").status_code == 405
    assert balancer.head("/readyz").status_code == 200


def test_any_other_path_still_meets_every_check(balancer, db):
    assert balancer.get("/healthz/x").status_code == 400  # the host is checked again
