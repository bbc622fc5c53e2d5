"""Browsers for tests: Django test clients that sign in the way a person does,
through the login page and, for a user ID, the key step.

    chrome = browser()
    sign_in(chrome, "taro-a")           # the password step
    enter_key(chrome, key.key)          # the key step
    signed_in_user(users_a[0])          # a fresh key issued and entered: a signed-in user ID
"""

from django.test import Client
from django.urls import reverse

from devicekeys import services
from tests.conftest import PASSWORD, SETUP

LOGIN = reverse("accounts:login")
KEY_STEP = reverse("signin:device-key")
HOME = reverse("accounts:user-home")
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Safari/605.1.15"
)
EDGE = CHROME + " Edg/130.0.0.0"


def browser(user_agent: str = CHROME, **defaults) -> Client:
    return Client(HTTP_USER_AGENT=user_agent, **defaults)


def sign_in(client: Client, login_id: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": login_id, "password": password, **extra})


def enter_key(client: Client, key: str):
    return client.post(KEY_STEP, {"key": key})


def signed_in_user(user, user_agent: str = CHROME) -> Client:
    """A browser in which `user` has just registered a newly issued key and signed in."""
    key = services.device_key_issue(contract=user.contract, user=user, actor=SETUP)
    client = browser(user_agent)
    assert sign_in(client, user.login_id).url == KEY_STEP
    assert enter_key(client, key.key).url == HOME
    return client
