"""Only a contract's administrator may open the console."""

from urllib.parse import parse_qs, urlparse

from django.urls import get_resolver, reverse

from tests.conftest import login_verified
from tests.devicekeys.browser import signed_in_user

CONSOLE = reverse("accounts:console")


def test_anonymous_is_sent_to_sign_in_with_next(client, db):
    response = client.get(CONSOLE)
    assert response.status_code == 302
    target = urlparse(response.url)
    assert target.path == reverse("accounts:login")
    assert parse_qs(target.query)["next"] == [CONSOLE]


def test_user_id_gets_403(users_a):
    client = signed_in_user(users_a[0])  # through the sign-in page and the key step
    response = client.get(CONSOLE)
    assert response.status_code == 403
    assert "管理者でログインしたときのみ" in response.content.decode()


def test_support_staff_gets_403_in_the_console(client, support_staff):
    login_verified(client, support_staff)
    assert client.get(CONSOLE).status_code == 403


def test_support_staff_reaches_django_admin_at_support(client, support_staff):
    login_verified(client, support_staff)
    assert client.get("/support/").status_code == 200
    assert client.get("/admin/").status_code == 404


def test_administrator_is_not_support_staff(admin_client_a):
    response = admin_client_a.get("/support/")
    assert response.status_code == 403  # the console's page, not a sign-in that leads back
    assert "この画面はサポート担当者のみご利用になれます。" in response.content.decode()


def test_root_leads_the_administrator_to_the_console(admin_client_a):
    assert admin_client_a.get("/").url == CONSOLE


def walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from walk(pattern.url_patterns, route)
        else:
            yield route, pattern.callback


def test_every_console_view_is_guarded():
    """A console URL added later without the guard fails here."""
    console = [
        (route, view)
        for route, view in walk(get_resolver().url_patterns)
        if route.startswith("console/")
    ]
    assert console
    unguarded = [route for route, view in console if not getattr(view, "administrator_only", False)]
    assert unguarded == []
