"""Tenant isolation and roles, generated from the URLconf.

Every URL pattern under /console/ is visited by every kind of visitor; so are the
pages of second factors (twostep, under /settings/ and /login/two-step/), which are
for administrators and support staff alike, and the re-confirmation page (本人確認,
/settings/confirm/). A pattern that takes an object id is
filled with an object of contract A and visited by contract B's administrator: 404
on GET and POST, and the object unchanged. A new URL pattern whose id this file does
not know how to fill fails `test_every_id_pattern_is_known` until it is taught below
(FILLERS).
"""

import re
from dataclasses import dataclass

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import get_resolver, reverse
from django_otp_webauthn.models import WebAuthnCredential

from api.registrations import app_registration_create
from devicekeys import services as key_services
from devicekeys.rules import Client as Client_
from tests.conftest import SETUP, login_verified


def patterns_under(*prefixes):
    """(url name, route, kwarg names) of every view whose route starts with a prefix."""
    found = []

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, inner)
            elif route.startswith(prefixes) and pattern.name:
                found.append(
                    (namespace + pattern.name, route, tuple(re.findall(r"<(?:\w+:)?(\w+)>", route)))
                )

    walk(get_resolver().url_patterns)
    return found


PATTERNS = patterns_under("console/")
# The script translations of the passkey ceremony are public, like any static file.
FACTOR_PATTERNS = [
    p
    for p in patterns_under("settings/", "login/two-step/")
    if p[0] != "otp_webauthn:js-i18n-catalog"
]
ALL_PATTERNS = PATTERNS + FACTOR_PATTERNS
ID_PATTERNS = [p for p in ALL_PATTERNS if p[2]]
PLAIN_PATTERNS = [p for p in PATTERNS if not p[2]]


def a_user(contract, make_user):
    return make_user(contract, f"victim-{contract.pk}")


def a_key(contract, make_user):
    return key_services.device_key_issue(
        contract=contract, user=a_user(contract, make_user), actor=SETUP
    )


def an_app_registration(contract, make_user):
    registration, _tokens = app_registration_create(
        contract=contract,
        user=make_user(contract, f"app-user-{contract.pk}"),
        client=Client_.TOOL,
        device_name="Tool",
    )
    return registration


def an_import_job(contract, make_user):
    from accounts.models import ImportJob, ImportStatus

    return ImportJob.objects.create(
        contract=contract, status=ImportStatus.REJECTED, file_name="staff.csv", lines_total=3
    )


@dataclass(frozen=True)
class Link:
    """A URL value that is no id (a signed token), and the row it would change."""

    pk: str
    model: object

    def refresh_from_db(self):
        self.model.refresh_from_db()


def an_email_change(contract, make_user):
    from accounts.models import Role, User
    from accounts.services import email_change_request

    administrator = User.objects.get(contract=contract, role=Role.ADMINISTRATOR)
    token = email_change_request(
        contract=contract, actor=administrator, user=administrator, email="changed@example.jp"
    )
    return Link(token, administrator)


def a_passkey(contract, make_user):
    from accounts.models import Role, User

    administrator = User.objects.get(contract=contract, role=Role.ADMINISTRATOR)
    return WebAuthnCredential.objects.create(
        user=administrator,
        name="Office PC",
        confirmed=True,
        credential_id=b"credential-%d" % contract.pk,
        public_key=b"key",
        aaguid="00000000-0000-0000-0000-000000000000",
    )


def snapshot(obj) -> dict:
    # The signed-in administrator's own row changes its last sign-in, and only that.
    return model_to_dict(getattr(obj, "model", obj), exclude=["last_login"])


# How to make, in a given contract, the object a URL's id names.
FILLERS = {
    ("accounts:settings-email-confirm", "token"): an_email_change,
    ("accounts:user-created", "pk"): a_user,
    ("accounts:user-edit", "pk"): a_user,
    ("accounts:user-delete", "pk"): a_user,
    ("accounts:user-apps", "pk"): a_user,
    ("accounts:user-apps-end", "pk"): a_user,
    ("accounts:user-app-end", "pk"): a_user,
    ("accounts:user-app-end", "registration_pk"): an_app_registration,
    ("accounts:user-sign-out", "pk"): a_user,
    ("csvimport:user-import-job", "pk"): an_import_job,
    ("csvimport:user-import-progress", "pk"): an_import_job,
    ("csvimport:user-import-report", "pk"): an_import_job,
    ("devicekeys:key-detail", "pk"): a_key,
    ("devicekeys:key-issued", "pk"): a_key,
    ("devicekeys:key-rename", "pk"): a_key,
    ("devicekeys:key-reissue", "pk"): a_key,
    ("devicekeys:key-stop", "pk"): a_key,
    ("devicekeys:key-unstop", "pk"): a_key,
    ("devicekeys:key-delete", "pk"): a_key,
    ("devicekeys:user-keys-stop", "user_id"): a_user,
    ("twostep:passkey-rename", "pk"): a_passkey,
    ("twostep:passkey-delete", "pk"): a_passkey,
}


def filled_url(name, kwargs, contract, make_user) -> str:
    """The URL of pattern `name` with each id filled by a new object of `contract`."""
    objects = {kwarg: FILLERS[(name, kwarg)](contract, make_user) for kwarg in kwargs}
    return reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})


def test_every_id_pattern_is_known():
    unknown = [
        (name, kwarg)
        for name, _route, kwargs in ID_PATTERNS
        for kwarg in kwargs
        if (name, kwarg) not in FILLERS
    ]
    assert unknown == [], "teach FILLERS how to make the object these URL ids name"


@pytest.mark.parametrize("name, route, kwargs", ID_PATTERNS, ids=[p[0] for p in ID_PATTERNS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_contracts_id_is_404_and_nothing_changes(
    name, route, kwargs, method, contract_a, admin_b, make_user
):
    objects = {kwarg: FILLERS[(name, kwarg)](contract_a, make_user) for kwarg in kwargs}
    before = {kwarg: snapshot(obj) for kwarg, obj in objects.items()}
    browser = login_verified(Client(), admin_b)  # past the second step: nothing stops it sooner

    url = reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})
    data = {"device_name": "hijacked", "login_id": "hijacked", "create": "1", "email": "x@x.jp"}
    data["name"] = "hijacked"
    response = getattr(browser, method)(url, data)

    if response.status_code == 405:
        # A view refusing the method before it looks anything up gives the same answer
        # for any id, so it tells nothing about another contract's objects.
        missing = reverse(name, kwargs=dict.fromkeys(kwargs, 999_999_999))
        assert getattr(browser, method)(missing, data).status_code == 405
    else:
        assert response.status_code == 404
    for kwarg, obj in objects.items():
        obj.refresh_from_db()
        assert snapshot(obj) == before[kwarg]


@pytest.mark.parametrize("name, route, kwargs", PATTERNS, ids=[p[0] for p in PATTERNS])
@pytest.mark.parametrize("who", ["anonymous", "user", "support"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_an_administrator_gets_in(
    name, route, kwargs, who, method, contract_a, users_a, support_staff, make_user
):
    objects = {kwarg: FILLERS[(name, kwarg)](contract_a, make_user) for kwarg in kwargs}
    url = reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})
    browser = Client()
    if who == "user":
        browser.force_login(users_a[0])
    elif who == "support":
        login_verified(browser, support_staff)

    response = getattr(browser, method)(url)

    if who == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login") + "?next=")
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    "name, route, kwargs", FACTOR_PATTERNS, ids=[p[0] for p in FACTOR_PATTERNS]
)
@pytest.mark.parametrize("who", ["anonymous", "user"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_second_factors_are_for_administrators_and_support_staff(
    name, route, kwargs, who, method, contract_a, users_a, make_user
):
    objects = {kwarg: FILLERS[(name, kwarg)](contract_a, make_user) for kwarg in kwargs}
    before = {kwarg: snapshot(obj) for kwarg, obj in objects.items()}
    url = reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})
    browser = Client()
    if who == "user":
        browser.force_login(users_a[0])

    response = getattr(browser, method)(url, {"name": "changed"})

    if who == "anonymous" and response.status_code == 302:
        assert response.url.startswith(reverse("accounts:login") + "?next=")
    else:
        assert response.status_code in (401, 403)
    for kwarg, obj in objects.items():
        obj.refresh_from_db()
        assert snapshot(obj) == before[kwarg]


@pytest.mark.parametrize("name, route, kwargs", PLAIN_PATTERNS, ids=[p[0] for p in PLAIN_PATTERNS])
def test_the_administrator_of_another_contract_sees_only_their_own(
    name, route, kwargs, admin_b, users_a, contract_a
):
    browser = Client()
    browser.force_login(admin_b)
    response = browser.get(reverse(name))
    assert response.status_code in (200, 302, 405)
    if response.status_code == 200 and not response.streaming:
        page = response.content.decode()
        assert "taro-a" not in page and "hana-a" not in page


@pytest.mark.parametrize(
    "name, route, kwargs",
    PATTERNS + FACTOR_PATTERNS,
    ids=[p[0] for p in PATTERNS + FACTOR_PATTERNS],
)
def test_every_post_needs_the_csrf_token(name, route, kwargs, admin_a, contract_a, make_user):
    objects = {kwarg: FILLERS[(name, kwarg)](contract_a, make_user) for kwarg in kwargs}
    before = {kwarg: snapshot(obj) for kwarg, obj in objects.items()}
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_a)

    url = reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})
    response = browser.post(url, {"device_name": "changed", "create": "1", "name": "changed"})

    assert response.status_code == 403
    for kwarg, obj in objects.items():
        obj.refresh_from_db()
        assert snapshot(obj) == before[kwarg]


@pytest.mark.parametrize(
    "name, route, kwargs",
    PATTERNS + FACTOR_PATTERNS,
    ids=[p[0] for p in PATTERNS + FACTOR_PATTERNS],
)
def test_every_page_carries_the_security_headers(
    name, route, kwargs, admin_client_a, contract_a, make_user
):
    response = admin_client_a.get(filled_url(name, kwargs, contract_a, make_user))
    assert response.status_code != 500
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
