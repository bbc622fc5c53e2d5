"""Administrator sign-in, sign-out, throttling and session limits."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.conftest import PASSWORD

LOGIN = reverse("accounts:login")
CONSOLE = reverse("accounts:console")
WRONG = "ログインIDまたはパスワードが正しくありません。"


def sign_in(client, login_id, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": login_id, "password": password, **extra})


def test_login_page_shows_the_guides_fields(client, db):
    page = client.get(LOGIN).content.decode()
    assert "ログインID" in page and "パスワード" in page
    assert 'autocomplete="current-password"' in page


def test_administrator_signs_in_and_lands_in_the_console(client, admin_a):
    response = sign_in(client, "admin-a")
    assert response.status_code == 302
    assert response.url == CONSOLE
    page = client.get(CONSOLE)
    assert page.status_code == 200
    assert "admin-a" in page.content.decode()


def test_login_id_is_matched_case_insensitively(client, admin_a):
    response = sign_in(client, "ADMIN-A")
    assert response.url == CONSOLE


@pytest.mark.parametrize("login_id, password", [("admin-a", "Wrong7pass"), ("nobody-x", PASSWORD)])
def test_wrong_password_and_unknown_login_id_get_the_same_message(
    client, admin_a, login_id, password
):
    response = sign_in(client, login_id, password)
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_unsafe_next_is_ignored(client, admin_a):
    response = sign_in(client, "admin-a", next="https://evil.example/phish")
    assert response.url == CONSOLE


def test_safe_next_is_followed(client, admin_a):
    response = sign_in(client, "admin-a", next="/console/?x=1")
    assert response.url == "/console/?x=1"


def test_session_key_is_rotated_at_sign_in(client, admin_a):
    session = client.session
    session["before"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    old_key = session.session_key

    sign_in(client, "admin-a")

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != old_key
    assert not Session.objects.filter(session_key=old_key).exists()


def test_logout_is_post_only_and_ends_the_session(admin_client_a):
    assert admin_client_a.get(reverse("accounts:logout")).status_code == 405
    assert admin_client_a.get(CONSOLE).status_code == 200

    response = admin_client_a.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert admin_client_a.get(CONSOLE).status_code == 302


@pytest.mark.parametrize(
    ("language", "said"), [("ja", "ログアウトしました。"), ("en", "You have signed out.")]
)
def test_the_sign_in_page_says_the_sign_out_happened_in_the_viewers_language(
    admin_client_a, language, said
):
    admin_client_a.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = admin_client_a.post(reverse("accounts:logout"), follow=True)

    assert page.redirect_chain[-1][0] == LOGIN
    assert said in page.text
    assert said not in admin_client_a.get(LOGIN).text  # said once


def test_a_sign_out_without_a_session_says_nothing_of_one(client, db):
    page = client.post(reverse("accounts:logout"), follow=True)
    assert "ログアウトしました" not in page.text


class TestThrottling:
    def test_the_fifth_failure_locks_the_login_id_even_for_the_right_password(
        self, client, admin_a
    ):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert sign_in(client, "admin-a", "Wrong7pass").status_code == 200
        fifth = sign_in(client, "admin-a", "Wrong7pass")
        assert fifth.status_code == 429
        assert "15分後" in fifth.content.decode()

        response = sign_in(client, "admin-a")

        assert response.status_code == 429
        assert "一時的に制限" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_lock_counts_the_login_id_case_insensitively(self, client, admin_a):
        for login_id in ["admin-a", "ADMIN-A", "Admin-A", "admin-A", "aDmin-a"]:
            sign_in(client, login_id, "Wrong7pass")
        assert sign_in(client, "admin-a").status_code == 429

    def test_four_failures_do_not_lock(self, client, admin_a):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(client, "admin-a", "Wrong7pass")
        assert sign_in(client, "admin-a").url == CONSOLE

    def test_lock_is_lifted_after_the_cool_off(self, client, admin_a):
        with time_machine.travel("2026-04-01 10:00 +0900", tick=False) as clock:
            for _ in range(settings.AXES_FAILURE_LIMIT):
                sign_in(client, "admin-a", "Wrong7pass")
            assert sign_in(client, "admin-a").status_code == 429

            clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))

            assert sign_in(client, "admin-a").url == CONSOLE

    def test_other_login_ids_are_not_locked(self, client, admin_a, admin_b):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "admin-a", "Wrong7pass")
        assert sign_in(client, "admin-b").url == CONSOLE


class TestSessionLimits:
    def test_idle_session_expires(self, client, admin_a):
        with time_machine.travel("2026-04-01 10:00 +0900", tick=False) as clock:
            sign_in(client, "admin-a")
            clock.shift(settings.SESSION_IDLE_TIMEOUT - timedelta(minutes=1))
            assert client.get(CONSOLE).status_code == 200

            clock.shift(settings.SESSION_IDLE_TIMEOUT + timedelta(minutes=1))
            response = client.get(CONSOLE)

            assert response.status_code == 302
            assert response.url.startswith(LOGIN)
            assert "_auth_user_id" not in client.session
            page = client.get(response.url).content.decode()
            assert "一定時間操作がなかったため" in page

    def test_activity_keeps_the_session_alive_until_the_absolute_lifetime(self, client, admin_a):
        with time_machine.travel("2026-04-01 08:00 +0900", tick=False) as clock:
            sign_in(client, "admin-a")
            step = settings.SESSION_IDLE_TIMEOUT - timedelta(minutes=5)
            elapsed = timedelta(0)
            while elapsed + step < settings.SESSION_ABSOLUTE_LIFETIME:
                clock.shift(step)
                elapsed += step
                assert client.get(CONSOLE).status_code == 200

            clock.shift(step)

            response = client.get(CONSOLE)
            assert response.status_code == 302
            page = client.get(response.url).text
            assert "ログインから12時間が経過したため" in page
            assert "一定時間操作がなかったため" not in page
