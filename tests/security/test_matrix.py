"""Tenant isolation and roles, generated from the URLconf.

Every URL pattern under /console/ is visited by every kind of visitor. A pattern
that takes an object id is filled with an object of contract A and visited by
contract B's administrator: 404 on GET and POST, and the object unchanged. A new
URL pattern whose id this file does not know how to fill fails
`test_every_id_pattern_is_known` until it is taught below (FILLERS).
"""

import re

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import get_resolver, reverse

from devicekeys import services as key_services
from tests.conftest import SETUP


def console_patterns():
    """(url name, route, kwarg names) of every view under console/."""
    found = []

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, inner)
            elif route.startswith("console/") and pattern.name:
                found.append(
                    (namespace + pattern.name, route, tuple(re.findall(r"<(?:\w+:)?(\w+)>", route)))
                )

    walk(get_resolver().url_patterns)
    return found


PATTERNS = console_patterns()
ID_PATTERNS = [p for p in PATTERNS if p[2]]
PLAIN_PATTERNS = [p for p in PATTERNS if not p[2]]


def a_user(contract, make_user):
    return make_user(contract, f"victim-{contract.pk}")


def a_key(contract, make_user):
    return key_services.device_key_issue(
        contract=contract, user=a_user(contract, make_user), actor=SETUP
    )


def an_import_job(contract, make_user):
    from accounts.models import ImportJob, ImportStatus

    return ImportJob.objects.create(
        contract=contract, status=ImportStatus.REJECTED, file_name="staff.csv", lines_total=3
    )


# How to make, in a given contract, the object a URL's id names.
FILLERS = {
    ("accounts:user-created", "pk"): a_user,
    ("accounts:user-edit", "pk"): a_user,
    ("accounts:user-delete", "pk"): a_user,
    ("csvimport:user-import-job", "pk"): an_import_job,
    ("csvimport:user-import-progress", "pk"): an_import_job,
    ("csvimport:user-import-report", "pk"): an_import_job,
    ("devicekeys:key-detail", "pk"): a_key,
    ("devicekeys:key-rename", "pk"): a_key,
    ("devicekeys:key-reissue", "pk"): a_key,
    ("devicekeys:key-stop", "pk"): a_key,
    ("devicekeys:key-unstop", "pk"): a_key,
    ("devicekeys:key-delete", "pk"): a_key,
    ("devicekeys:user-keys-stop", "user_id"): a_user,
}


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
    before = {kwarg: model_to_dict(obj) for kwarg, obj in objects.items()}
    browser = Client()
    browser.force_login(admin_b)

    url = reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})
    data = {"device_name": "hijacked", "login_id": "hijacked", "create": "1", "email": "x@x.jp"}
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
        assert model_to_dict(obj) == before[kwarg]


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
        browser.force_login(support_staff)

    response = getattr(browser, method)(url)

    if who == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login") + "?next=")
    else:
        assert response.status_code == 403


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


@pytest.mark.parametrize("name, route, kwargs", PATTERNS, ids=[p[0] for p in PATTERNS])
def test_every_post_needs_the_csrf_token(name, route, kwargs, admin_a, contract_a, make_user):
    objects = {kwarg: FILLERS[(name, kwarg)](contract_a, make_user) for kwarg in kwargs}
    before = {kwarg: model_to_dict(obj) for kwarg, obj in objects.items()}
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_a)

    url = reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})
    response = browser.post(url, {"device_name": "changed", "create": "1"})

    assert response.status_code == 403
    for kwarg, obj in objects.items():
        obj.refresh_from_db()
        assert model_to_dict(obj) == before[kwarg]


@pytest.mark.parametrize("name, route, kwargs", PATTERNS, ids=[p[0] for p in PATTERNS])
def test_every_page_carries_the_security_headers(
    name, route, kwargs, admin_client_a, contract_a, make_user
):
    objects = {kwarg: FILLERS[(name, kwarg)](contract_a, make_user) for kwarg in kwargs}
    url = reverse(name, kwargs={kwarg: obj.pk for kwarg, obj in objects.items()})
    response = admin_client_a.get(url)
    assert response.status_code != 500
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
