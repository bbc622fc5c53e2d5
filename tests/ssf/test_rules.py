"""The transmitter's pure rules: receiver URLs, retries, receivers' answers."""

from datetime import UTC, datetime

import pytest

from ssf import rules
from ssf.rules import ReceiverUrlError, check_receiver_url

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    ["https://storage.example.jp/ssf/events", "https://storage.example.jp:8443/e?stream=1"],
)
def test_public_https_receivers_are_taken(url):
    assert check_receiver_url(url, allow_insecure=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://storage.example.jp/events",
        "https://localhost/e",
        "https://app.localhost/e",
        "https://127.0.0.1/e",
        "https://10.1.2.3/e",
        "https://172.16.0.1/e",
        "https://192.168.1.1/e",
        "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "https://[::1]/e",
        "https://[fd00::1]/e",
        "https://0.0.0.0/e",
        "https://storage.example.jp/e#frag",
        "https://storage.example.jp/ä",
        "https://storage.example.jp:99999/e",
        "",
        "https://" + "a" * 2000 + ".jp/",
    ],
)
def test_other_receivers_are_refused(url):
    with pytest.raises(ReceiverUrlError):
        check_receiver_url(url, allow_insecure=False)


def test_local_http_receivers_only_with_the_switch():
    url = "http://127.0.0.1:8001/events"
    assert check_receiver_url(url, allow_insecure=True) == url
    with pytest.raises(ReceiverUrlError):
        check_receiver_url(url, allow_insecure=False)


def test_retries_back_off_and_stop_after_the_last_attempt():
    delays = [rules.next_attempt_at(attempts=n, now=NOW) - NOW for n in range(1, 8)]
    assert delays == sorted(delays) and delays[0].total_seconds() == 10
    assert rules.next_attempt_at(attempts=rules.MAX_ATTEMPTS, now=NOW) is None


@pytest.mark.parametrize(
    ("status", "body", "final", "words"),
    [
        (400, b'{"err": "invalid_key", "description": "kid unknown"}', True, "err=invalid_key"),
        (400, b"not json", True, "HTTP 400"),
        (401, b"", False, "HTTP 401"),
        (429, b"", False, "HTTP 429"),
        (503, b"<html>", False, "HTTP 503"),
    ],
)
def test_only_a_400_is_final(status, body, final, words):
    is_final, described = rules.refusal(status, body)
    assert is_final is final
    assert words in described


def test_202_and_other_successes_are_delivered():
    assert rules.delivered(202) and rules.delivered(200) and not rules.delivered(302)


def test_only_supported_events_are_delivered():
    asked = ["urn:x", rules.CREDENTIAL_CHANGE, rules.SESSION_REVOKED]
    assert rules.events_delivered(asked) == [rules.SESSION_REVOKED, rules.CREDENTIAL_CHANGE]


@pytest.mark.parametrize("value", ["abc_-09", "A" * 64])
def test_stream_ids(value):
    assert rules.is_stream_id(value)


@pytest.mark.parametrize("value", ["", "a" * 65, "a b", "ä", "a\x00", 5, None])
def test_no_stream_ids(value):
    assert not rules.is_stream_id(value)
