"""The device credential's pure parts: an app token's key id."""

import pytest

from devicekeys import credentials

SECRET_PART = "A" * 43


@pytest.mark.parametrize("key_id", [1, 42, 2**31, 2**63 - 1])
def test_an_app_tokens_key_id_is_read(key_id):
    assert credentials.key_id_of(credentials.new_token("ios", key_id=key_id)) == key_id


@pytest.mark.parametrize(
    "token",
    [
        f"azd_{2**63}.{SECRET_PART}",  # beyond the largest id the database holds
        f"azd_{10**19 - 1}.{SECRET_PART}",
        f"azd_{10**19}.{SECRET_PART}",
        f"azd_0.{SECRET_PART}",
        f"azd_-1.{SECRET_PART}",
        f"azd_01.{SECRET_PART}",
        f"azd_0x10.{SECRET_PART}",
        f"azd_１.{SECRET_PART}",  # a full-width digit
        "azd_99999999999999999999_x",
        f"azd_1.{SECRET_PART[:-1]}",
        SECRET_PART,
    ],
)
def test_a_token_naming_no_possible_key_has_no_key_id(token):
    assert credentials.key_id_of(token) is None
