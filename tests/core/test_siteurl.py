"""SITE_URL: the one address links in mails are built from, checked when the settings
load, and required in production."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.siteurl import parse_site_url, site_url
from tests.azukeru.test_deployment import PRODUCTION_ENV, run_manage


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://console.example.jp", "https://console.example.jp"),
        ("https://console.example.jp/", "https://console.example.jp"),
        ("http://localhost:8000", "http://localhost:8000"),
        (" https://console.example.jp:8443 ", "https://console.example.jp:8443"),
        ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
    ],
)
def test_an_absolute_http_url_is_kept_without_its_trailing_slash(value, kept):
    assert parse_site_url(value) == kept


@pytest.mark.parametrize(
    "value",
    [
        "",
        "console.example.jp",
        "//console.example.jp",
        "ftp://console.example.jp",
        "javascript:alert(1)",
        "https://",
        "https://console.example.jp/azukeru",
        "https://console.example.jp/?next=/",
        "https://console.example.jp/#top",
        "https://console.example.jp?",
        "https://user:secret@console.example.jp",
        "https://console.example.jp:port",
        "https://console.example.jp:99999",
    ],
)
def test_anything_else_is_refused_with_a_clear_message(value):
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        parse_site_url(value)


def test_site_url_puts_a_path_of_the_console_on_it(settings):
    settings.SITE_URL = "https://console.example.jp"
    assert site_url("/login/") == "https://console.example.jp/login/"
    for not_a_path in ("login/", "//evil.example/", "https://evil.example/"):
        with pytest.raises(ValueError, match="path of this site"):
            site_url(not_a_path)


def test_production_refuses_to_start_without_site_url_or_with_a_bad_one():
    env = {name: value for name, value in PRODUCTION_ENV.items() if name != "SITE_URL"}
    missing = run_manage("check", env=env)
    assert missing.returncode != 0 and "SITE_URL" in missing.stderr
    bad = run_manage("check", env={**env, "SITE_URL": "https://console.example.jp/path"})
    assert bad.returncode != 0 and "SITE_URL" in bad.stderr
