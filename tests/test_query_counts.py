"""The queries of every list page do not grow with its rows, and stay within the
target of 10 a request (the whole request: session, account, page).

Each page is asked for twice, with a few rows and with more than two pages of
them, and must cost the same queries both times: a page that starts querying per
row fails here. The device check's one query is asserted in
tests/devicekeys/test_enforcement.py.
"""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from audit.actions import Action
from audit.models import ActorRole, AuditEntry
from devicekeys import rules
from devicekeys.models import DeviceKey
from tests.conftest import login_verified

MAX_QUERIES = 10
FEW, MANY = 3, 120  # rows of each kind: one page, then three pages of 50
_numbers = itertools.count(1)


def add_rows(contract, count: int) -> None:
    """`count` more user IDs, each with a key (every other one registered), and as
    many again for the first user ID, and `count` audit entries."""
    users = User.objects.bulk_create(
        User(
            login_id=f"row-{n:04d}", email=f"row-{n}@example.jp", contract=contract, role=Role.USER
        )
        for n in (next(_numbers) for _ in range(count))
    )
    first = User.objects.filter(contract=contract, role=Role.USER).order_by("pk").first()
    keys = []
    for user in [*users, *[first] * count]:
        n = next(_numbers)
        value = f"Q{n:07d}"
        key = DeviceKey(contract=contract, user=user, device_name=f"pc-{n}")
        key.key_suffix = rules.key_suffix(value)
        if n % 2:
            key.key_hash, key.registered_at = f"hash-{n}", timezone.now()
        else:
            key.key = value
        keys.append(key)
    DeviceKey.objects.bulk_create(keys)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            contract=contract,
            action=Action.USER_CREATED,
            actor_login_id="admin-a",
            actor_role=ActorRole.ADMINISTRATOR,
            target=user.login_id,
        )
        for user in users
    )


def queries(client, url: str, query: dict) -> int:
    client.get(url, query)  # the first request of a session stamps it
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    return len(captured)


def first_user_id(contract) -> dict:
    return {"user_id": User.objects.filter(contract=contract, role=Role.USER).earliest("pk").pk}


CONSOLE_LISTS = [
    ("accounts:user-list", {}),
    ("accounts:user-list", {"page": 2}),
    ("accounts:user-list", {"q": "row-", "sort": "-created_at", "page": 2}),
    ("devicekeys:key-list", {}),
    ("devicekeys:key-list", {"page": 2}),
    ("devicekeys:key-list", {"login_id": "row-", "status": "active", "sort": "registered"}),
    ("devicekeys:key-issue", {}),
    ("devicekeys:key-issue", {"q": "row-"}),
    ("audit:entry-list", {}),
    ("audit:entry-list", {"before": 10**9, "action": "user_created", "login_id": "row-"}),
]


@pytest.mark.parametrize(("name", "query"), CONSOLE_LISTS)
def test_console_lists_cost_the_same_few_queries_whatever_the_rows(
    admin_client_a, contract_a, name, query
):
    url = reverse(name)
    add_rows(contract_a, FEW)
    few = queries(admin_client_a, url, query)
    add_rows(contract_a, MANY - FEW)
    assert queries(admin_client_a, url, query) == few <= MAX_QUERIES


def test_the_keys_of_one_login_id_cost_the_same_few_queries(admin_client_a, contract_a):
    add_rows(contract_a, FEW)
    url = reverse("devicekeys:user-keys-stop", kwargs=first_user_id(contract_a))
    few = queries(admin_client_a, url, {})
    add_rows(contract_a, MANY - FEW)  # the first user ID gets as many keys more
    assert queries(admin_client_a, url, {}) == few <= MAX_QUERIES


def test_the_issue_page_costs_the_same_few_queries_at_999_login_ids(
    admin_client_a, contract_a, fill_contract
):
    url = reverse("devicekeys:key-issue")
    chosen = {"login_id": f"bulk-{contract_a.pk}-0998"}
    searches = ({}, {"q": "bulk-"}, chosen)
    fill_contract(contract_a, 3)
    few = [queries(admin_client_a, url, query) for query in searches]
    User.objects.filter(contract=contract_a, role=Role.USER).delete()
    fill_contract(contract_a, 999)
    many = [queries(admin_client_a, url, query) for query in searches]
    assert many == few and max(few) <= MAX_QUERIES
    page = admin_client_a.get(url, chosen).text
    assert page.count('type="radio"') == 51  # the first 50, and the one chosen


SUPPORT_LISTS = [
    "admin:accounts_user_changelist",
    "admin:devicekeys_devicekey_changelist",
    "admin:audit_auditentry_changelist",
]


@pytest.mark.parametrize("name", SUPPORT_LISTS)
def test_support_lists_cost_the_same_few_queries_whatever_the_rows(
    client, support_staff, contract_a, name
):
    login_verified(client, support_staff)
    url = reverse(name)
    add_rows(contract_a, FEW)
    few = queries(client, url, {})
    add_rows(contract_a, MANY - FEW)
    assert queries(client, url, {}) == few <= MAX_QUERIES
