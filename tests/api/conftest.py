"""Fixtures of the app API's tests: an app registering with a key, and the storage
service's client."""

import base64
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from api import urls as api_urls
from api.forms import GRANT_TYPE
from api.services import api_client_create
from devicekeys import services as keys
from tests.conftest import PASSWORD, SETUP

TOKEN = reverse("api:token")
INTROSPECT = reverse("api:introspect")
REVOKE = reverse("api:revoke")
STATUS = reverse("api:device-status")
# Every endpoint of api/urls.py: a new one joins the tests that walk them all.
ENDPOINTS = [reverse(f"api:{route.name}") for route in api_urls.urlpatterns]


def post_form(client: Client, url: str, data: dict):
    """A POST as OAuth clients send it: application/x-www-form-urlencoded."""
    return client.post(url, urlencode(data), content_type="application/x-www-form-urlencoded")


def grant(client: Client | None = None, **params):
    """POST /api/oauth/token as an app: taro-a's password and the given key."""
    data = {
        "grant_type": GRANT_TYPE,
        "client_id": "ios",
        "username": "taro-a",
        "password": PASSWORD,
        **params,
    }
    data = {name: value for name, value in data.items() if value is not None}
    return post_form(client or Client(), TOKEN, data)


@pytest.fixture
def waiting_key(users_a):
    """A key of taro-a, 利用中 and not registered."""
    taro = users_a[0]
    return keys.device_key_issue(contract=taro.contract, user=taro, actor=SETUP)


@pytest.fixture
def app_token(waiting_key):
    """The access token of an iOS app of taro-a that registered `waiting_key`."""
    response = grant(device_key=waiting_key.key)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def storage(db):
    """The storage service: a Django test client authenticated as an API client."""
    api_client, secret = api_client_create(name="storage", actor=SETUP)
    basic = base64.b64encode(f"{api_client.client_id}:{secret}".encode()).decode()
    client = Client(HTTP_AUTHORIZATION=f"Basic {basic}")
    client.api_client = api_client
    return client


def introspect(storage, token):
    return post_form(storage, INTROSPECT, {"token": token}).json()
