"""The signing keys: made on first use outside production, read from the one key
file by every process, checked at start, RS256 or ES256."""

import json
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from ssf import keys
from ssf.apps import _signing_keys_check


def test_outside_production_a_key_is_made_on_first_use_readable_by_the_owner_only(signing_keys):
    assert not signing_keys.exists()
    published = keys.public_jwks()
    assert signing_keys.exists()
    assert stat.S_IMODE(signing_keys.stat().st_mode) == 0o600
    stored = json.loads(signing_keys.read_text())
    assert stored["keys"][0]["kid"] == published["keys"][0]["kid"]
    assert "d" in stored["keys"][0]  # the private key, in the file only


def test_in_production_no_key_is_made(settings, signing_keys):
    settings.SSF_GENERATE_DEVELOPMENT_KEY = False
    with pytest.raises(ImproperlyConfigured):
        keys.signing_keys()
    assert not signing_keys.exists()
    [error] = _signing_keys_check()
    assert error.id == "ssf.E001"


@pytest.mark.parametrize(
    "content",
    ["", "{}", '{"keys": []}', "not json"],
)
def test_a_key_file_that_is_no_key_set_stops_the_checks(signing_keys, content):
    signing_keys.write_text(content)
    assert [error.id for error in _signing_keys_check()] == ["ssf.E001"]


def test_a_public_key_alone_cannot_sign(signing_keys):
    public = keys.new_key().as_dict(private=False)
    signing_keys.write_text(json.dumps({"keys": [public]}))
    assert "private" in _signing_keys_check()[0].msg


def test_without_a_key_file_setting_the_transmitter_is_off(settings):
    settings.SSF_SIGNING_KEYS_FILE = ""
    assert not keys.enabled()
    assert _signing_keys_check() == []


def test_a_p256_key_signs_es256(signing_keys):
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    signing_keys.write_text(json.dumps(KeySet([key]).as_dict(private=True)))
    token = keys.sign({"iss": "https://console.example.jp"})
    published = KeySet.import_key_set(keys.public_jwks())
    decoded = jwt.decode(token, published, algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.claims == {"iss": "https://console.example.jp"}
