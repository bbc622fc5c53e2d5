"""A stock resource server and a lost phone, without push: django-oauth-toolkit on its
default settings (RESOURCE_SERVER_TOKEN_CACHING_SECONDS = 10 hours) caches each
introspection answer until the answer's `exp`, so that the console's short-lived
tokens bound how long a stopped phone keeps its files: at most `expires_in`."""

import time

import pytest

from devicekeys import services as keys
from tests.storage_service.conftest import register

pytestmark = pytest.mark.django_db(transaction=True)

# API_ACCESS_TOKEN_SECONDS of these tests: short, and long enough for a loaded machine to
# ask once before the token expires.
LIFETIME = 5


@pytest.fixture(autouse=True)
def _short_tokens(settings):
    settings.API_ACCESS_TOKEN_SECONDS = LIFETIME


def test_dot_caches_an_answer_no_longer_than_its_exp(console, storage_service, admin_a, users_a):
    _key, grant = register(console, users_a[0], admin_a)
    asked = time.time()

    storage_service.assert_serves(grant["access_token"])

    [cached_until] = storage_service.cached_until()
    assert cached_until <= asked + grant["expires_in"] + 1


def test_without_push_a_stopped_phone_is_refused_within_expires_in_and_never_later(
    console, storage_service, admin_a, users_a
):
    taro = users_a[0]
    key, grant = register(console, taro, admin_a)
    token = grant["access_token"]
    assert grant["expires_in"] == LIFETIME
    storage_service.assert_serves(token)
    [cached_until] = storage_service.cached_until()

    stopped = time.time()
    keys.device_key_stop(contract=taro.contract, key=key, actor=admin_a)
    # Judged by when each request began, not by how long a loaded machine took to
    # answer it: DOT serves only a request that began before the answer's exp.
    while True:
        began = time.time()
        if storage_service.files(token) != 200:
            break
        assert began < cached_until <= stopped + LIFETIME, "served after expires_in"
        time.sleep(0.05)

    print(f"\n停止 → refused by DOT without push: {time.time() - stopped:.2f} s")
    for _ in range(5):  # and never served again
        assert storage_service.files(token) != 200
        time.sleep(0.1)
