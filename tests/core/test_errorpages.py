"""Every error a browser can meet is a page of the console, in the viewer's language
(core/errorpages.py); the app API keeps its JSON."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from core import errorpages
from devicekeys.services import device_key_issue
from tests.azukeru.test_deployment import ROOT
from tests.conftest import SETUP, login_verified
from tests.devicekeys.browser import KEY_STEP, browser, enter_key, sign_in

LOGIN = reverse("accounts:login")
USER_LIST = reverse("accounts:user-list")
FRAME = '<a class="skip-link" href="#main">'  # base.html: the console's frame

# (status, what the Japanese page says, what the English one says)
PAGES = {
    400: ("リクエストを処理できませんでした", "The request could not be processed"),
    403: ("画面の有効期限が切れました", "This page has expired"),
    404: ("ページが見つかりません", "Page not found"),
    405: ("この方法では操作できません", "This cannot be done this way"),
    413: ("送信された内容が大きすぎます", "What was sent is too large"),
    414: ("アドレスが長すぎます", "The address is too long"),
    429: ("しばらくしてからもう一度お試しください", "Please try again in a moment"),
    500: ("ただいま処理を完了できませんでした", "Something went wrong"),
}


def in_language(language: str, **kwargs) -> Client:
    client = Client(**kwargs)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def assert_page(response, status: int, language: str):
    japanese, english = PAGES[status]
    page = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert f'<html lang="{language}">' in page
    assert (japanese if language == "ja" else english) in page
    assert (english if language == "ja" else japanese) not in page
    return page


LANGUAGES = pytest.mark.parametrize("language", ["ja", "en"])


@LANGUAGES
def test_a_host_not_served_gets_the_400_page(db, language):
    response = in_language(language).get(LOGIN, HTTP_HOST="attacker.example")
    page = assert_page(response, 400, language)
    assert "attacker" not in page and FRAME in page


@LANGUAGES
def test_a_form_sent_without_its_token_gets_the_csrf_page(db, language):
    response = in_language(language, enforce_csrf_checks=True).post(
        LOGIN, {"username": "taro-a", "password": "x"}
    )
    page = assert_page(response, 403, language)
    assert FRAME in page
    assert ("再読み込み" if language == "ja" else "reload") in page


@LANGUAGES
def test_a_page_not_for_this_account_gets_the_403_page(support_staff, language):
    client = login_verified(in_language(language), support_staff)
    response = client.get(reverse("accounts:console"))
    page = response.content.decode()
    assert response.status_code == 403 and FRAME in page
    assert f'<html lang="{language}">' in page
    said = "この画面は表示できません" if language == "ja" else "This page is not available"
    assert said in page


@LANGUAGES
def test_a_missing_page_gets_the_404_page_without_the_list_of_urls(db, language):
    page = assert_page(in_language(language).get("/no-such-page/"), 404, language)
    assert FRAME in page
    assert "console/" not in page and "urlpatterns" not in page.lower()


@LANGUAGES
def test_a_get_of_a_post_only_page_gets_the_405_page_with_allow(db, language):
    response = in_language(language).get(reverse("accounts:logout"))
    page = assert_page(response, 405, language)
    assert FRAME in page
    assert "POST" in response["Allow"]


@LANGUAGES
def test_a_body_over_the_limit_gets_the_413_page(db, settings, language):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = in_language(language).post(LOGIN, {"username": "x" * 2000, "password": "x"})
    page = assert_page(response, 413, language)
    assert ("1000\xa0バイト" if language == "ja" else "1000\xa0bytes") in page


@LANGUAGES
def test_a_search_of_10000_characters_in_the_address_gets_the_414_page(admin_a, language):
    client = in_language(language)
    client.force_login(admin_a)
    page = assert_page(client.get(USER_LIST, {"q": "検" * 10_000}), 414, language)
    assert FRAME in page and "admin-a" in page  # still the signed-in frame


def test_an_address_just_within_the_limit_is_served(admin_client_a):
    path_and_query = f"{USER_LIST}?q="
    search = "a" * (errorpages.MAX_URL_LENGTH - len(path_and_query))
    assert admin_client_a.get(USER_LIST, {"q": search}).status_code == 200


@LANGUAGES
def test_a_locked_out_sign_in_is_the_sign_in_page_with_429(users_a, language):
    client = in_language(language)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "taro-a", "Wrong7pass")
    response = sign_in(client, "taro-a")
    assert response.status_code == 429
    said = "一時的に制限しています" if language == "ja" else "temporarily"
    assert said in response.text and FRAME in response.text


@LANGUAGES
def test_too_many_wrong_keys_from_one_address_is_a_page_with_429(users_a, settings, language):
    settings.DEVICE_KEY_IP_FAILURE_LIMIT = 1
    for user in users_a[:2]:
        device_key_issue(contract=user.contract, user=user, actor=SETUP)
    first = browser()
    assert sign_in(first, users_a[0].login_id).url == KEY_STEP
    enter_key(first, "Wrong123")
    second = browser()
    second.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    assert sign_in(second, users_a[1].login_id).url == KEY_STEP
    response = enter_key(second, "Wrong123")
    assert response.status_code == 429
    assert FRAME in response.text and f'<html lang="{language}">' in response.text


@LANGUAGES
def test_a_bare_429_gets_the_page_and_how_long_to_wait(db, language):
    request = RequestFactory().get("/console/")
    request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = language
    request.user = AnonymousUser()
    bare = HttpResponse(status=429, headers={"Retry-After": "90"})
    with translation.override(language):
        response = errorpages.ErrorPageMiddleware(lambda r: bare)(request)
    page = assert_page(response, 429, language)
    assert response["Retry-After"] == "90"
    assert ("2分ほど" if language == "ja" else "2 minutes") in page


def boom(request):
    raise RuntimeError("the database said something about Zq7canary")


@pytest.mark.urls("tests.core.failing_urls")
@LANGUAGES
def test_a_failure_gets_the_500_page_without_the_database(language):
    """No `db` fixture: any query by the 500 page would fail the test."""
    response = in_language(language, raise_request_exception=False).get("/boom/")
    page = assert_page(response, 500, language)
    assert "Zq7canary" not in page and "RuntimeError" not in page


@pytest.mark.urls("tests.core.failing_urls")
def test_a_500_page_that_cannot_render_is_plain_text_in_both_languages(monkeypatch):
    def broken(name):
        raise RuntimeError("no template")

    monkeypatch.setattr(errorpages.loader, "get_template", broken)
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert "しばらくしてから" in response.text and "try again" in response.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("get", "/api/no-such-endpoint", 404, id="api 404"),
        pytest.param("get", "/.well-known/no-such-document", 404, id="well-known 404"),
        pytest.param("put", "/api/oauth/token", 405, id="api 405"),
        pytest.param("get", "/api/device/status?q=" + "x" * 10_000, 401, id="api long address"),
    ],
)
def test_the_api_keeps_its_json_errors(db, method, path, status):
    response = getattr(in_language("en"), method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_debug_is_off_unless_a_developer_turns_it_on():
    """The 404 page lists no URL because DEBUG is off in every setup by default."""
    script = "import azukeru.settings as s; print(s.DEBUG)"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_ENV": "development"}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.stdout.strip() == "False", run.stderr
