"""manage.py ssf_signing_key: a new key file, and a rotation of the one in use."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ssf import keys


def run(*args) -> dict:
    out = StringIO()
    call_command("ssf_signing_key", *args, stdout=out)
    return json.loads(out.getvalue())


def test_a_new_key_file_holds_one_private_rsa_key(signing_keys):
    signing_keys.write_text(json.dumps(run()))
    (key,) = keys.signing_keys().keys
    assert key.key_type == "RSA" and key.is_private


def test_a_rotation_puts_the_new_key_first_and_keeps_the_old(client, signing_keys):
    old = keys.public_jwks()["keys"][0]["kid"]
    signing_keys.write_text(json.dumps(run("--file", str(signing_keys))))
    published = [key["kid"] for key in client.get("/api/ssf/jwks").json()["keys"]]
    assert len(published) == 2 and published[1] == old
    assert keys.signing_keys().keys[0].kid == published[0]


def test_a_file_that_is_no_key_set_is_refused(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    with pytest.raises(CommandError, match="no JSON Web Key Set"):
        run("--file", str(broken))
