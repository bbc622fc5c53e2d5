"""GET /.well-known/oauth-authorization-server (RFC 8414): the issuer is SITE_URL,
the document validates with a library nobody here wrote, and every endpoint it names
answers."""

from urllib.parse import urlsplit

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from django.test import Client

from api.forms import GRANT_TYPE
from tests.api.conftest import post_form

METADATA = "/.well-known/oauth-authorization-server"
SITE = "https://console.example.jp"


@pytest.fixture
def document(db, settings):
    settings.SITE_URL = SITE
    response = Client().get(METADATA)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_issuer_is_site_url_where_the_document_is_served(document):
    # RFC 8414 §3: the document's URL is the issuer's with the well-known path inserted.
    assert document["issuer"] == SITE
    assert document["issuer"] + METADATA == f"{SITE}/.well-known/oauth-authorization-server"


def test_the_document_validates(document):
    AuthorizationServerMetadata(document).validate()  # raises on any RFC 8414 fault


def test_it_names_the_grants_and_how_clients_authenticate(document):
    assert document["grant_types_supported"] == [GRANT_TYPE, "password", "refresh_token"]
    assert document["token_endpoint"] == f"{SITE}/api/oauth/token"
    assert document["introspection_endpoint"] == f"{SITE}/api/oauth/introspect"
    assert document["revocation_endpoint"] == f"{SITE}/api/oauth/revoke"
    assert document["token_endpoint_auth_methods_supported"] == ["none"]
    assert document["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert document["revocation_endpoint_auth_methods_supported"] == ["none"]


@pytest.mark.parametrize(
    "endpoint", ["token_endpoint", "introspection_endpoint", "revocation_endpoint"]
)
def test_every_endpoint_it_names_answers(document, endpoint):
    url = urlsplit(document[endpoint])
    assert f"{url.scheme}://{url.netloc}" == SITE
    response = post_form(Client(), url.path, {})
    assert response.status_code in (400, 401)  # an OAuth error of a request with nothing
    assert "error" in response.json()


def test_other_methods_and_paths_under_well_known_answer_json(db):
    response = Client().post(METADATA)
    assert (response.status_code, response["Allow"]) == (405, "GET, HEAD")
    assert response.json()["error"] == "invalid_request"
    missing = Client().get("/.well-known/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"error": "invalid_request", "error_description": "Not Found."}
