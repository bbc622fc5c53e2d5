"""The device credential's pure parts: a browser's token."""

from devicekeys import credentials


def test_a_browsers_token_is_256_random_bits_with_no_app_prefix():
    token = credentials.new_token()
    assert len(token) == 43 and not token.startswith(credentials.APP_TOKEN_PREFIX)
    assert token != credentials.new_token()
